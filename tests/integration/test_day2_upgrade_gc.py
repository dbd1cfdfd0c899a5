# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Day-2 on the Linux twin, one deployed registry for the module: upgrade.yml (image replacement, failed
replacement rolled back) then garbage_collect.yml (read-only window, blobs of a deleted manifest freed, nothing else).

The tests run in file order and share the registry; each leaves it serving every recorded digest.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import Instance, container
import images
import playbook
from registry_api import RegistryAPI

ROLE_CONTAINER_TASK = "Run the registry container "


def docker(*args, check=True):
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True)


def assert_ok(run):
    assert not run.failed, "%r\n%s" % (run, run.stderr[-3000:])
    return run


def run(name, reg, check=False, **extra):
    return playbook.run_playbook("playbooks/%s" % name, reg.inventory, check=check, extra_vars=extra or None)


def digests(reg, refs):
    """{ref (repository:tag or repository@digest): digest} as the registry answers now (HEAD-like GET with every manifest type accepted)."""
    out = {}
    for ref in refs:
        repository, tag = ref.split("@", 1) if "@" in ref else ref.rsplit(":", 1)
        request = urllib.request.Request("%s/v2/%s/manifests/%s" % (reg.url, repository, tag), method="HEAD", headers={
            "Accept": ", ".join([
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"])})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                out[ref] = response.headers["Docker-Content-Digest"]
        except urllib.error.HTTPError as e:
            out[ref] = "HTTP %d" % e.code
    return out


def pull_fresh(ref):
    docker("image", "rm", ref, check=False)
    pulled = docker("image", "pull", ref, check=False)
    assert pulled.returncode == 0, pulled.stderr
    return images.image_id(ref)


@pytest.fixture(scope="module")
def reg(registry_image, tmp_path_factory):
    """A registry of the role (deletes enabled) holding a docker-pushed image, two API images and a 2-platform list."""
    instance = Instance(tmp_path_factory.mktemp("day2"), registry_image, windows_registry_storage_delete=True)
    try:
        assert_ok(instance.deploy())
        hello = "dwr-test/hello:%s" % instance.id
        images.hello_image(hello, text="hello %s\n" % instance.id)
        instance.hello_ref = "%s/app/hello:1" % instance.registry
        docker("image", "tag", hello, instance.hello_ref)
        pushed = docker("image", "push", instance.hello_ref, check=False)
        assert pushed.returncode == 0, pushed.stderr
        instance.hello_id = images.image_id(hello)
        api = RegistryAPI(instance.url)
        instance.api = api
        instance.doomed = api.push_image("team/a", "2", content=b"only in team/a:2\n")
        api.push_image("team/a", "1", content=b"team/a:1\n")
        instance.list_digest, instance.children = api.push_manifest_list("multi", "1", [("linux", "amd64"), ("windows", "amd64")])
        instance.refs = ["app/hello:1", "team/a:1", "team/a:2", "multi:1"]
        instance.before = digests(instance, instance.refs)
        assert all(d.startswith("sha256:") for d in instance.before.values()), instance.before
        yield instance
    finally:
        instance.cleanup()
        docker("image", "rm", "--force", "dwr-test/hello:%s" % instance.id, check=False)
        docker("image", "rm", "--force", "%s/app/hello:1" % instance.registry, check=False)


@pytest.fixture(scope="module")
def relabelled_image(registry_image):
    """The test registry image rebuilt with one more label: same binary, another image ID."""
    ref = "dockerwin-test/registry:relabelled-%s" % uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as context:
        Path(context, "Dockerfile").write_text("FROM %s\nLABEL io.dockerwin.test.rebuild=%s\n" % (registry_image, ref))
        docker("image", "build", "--quiet", "--tag", ref, context)
    assert images.image_id(ref) != images.image_id(registry_image)
    yield ref
    docker("image", "rm", "--force", ref, check=False)


def test_upgrade_to_another_image_keeps_every_digest(reg, relabelled_image, registry_image):
    old = container(reg.name)

    check = assert_ok(run("upgrade.yml", reg, check=True, registry_upgrade_image=relabelled_image))
    assert any(ROLE_CONTAINER_TASK in name for name in check.changed_tasks())
    assert container(reg.name)["Id"] == old["Id"], "check mode must not replace the container"
    assert "4 tags recorded, to be checked on the real run" in check.result("Report the upgrade")["msg"]

    applied = assert_ok(run("upgrade.yml", reg, registry_upgrade_image=relabelled_image))
    new = container(reg.name)
    assert new["Image"] == images.image_id(relabelled_image) and new["Id"] != old["Id"]
    assert container(reg.name + "-previous") is None
    assert "4 tags checked, same digests" in applied.result("Report the upgrade")["msg"]
    assert digests(reg, reg.refs) == reg.before
    assert pull_fresh(reg.hello_ref) == reg.hello_id, "the pushed image must pull back with the same ID"

    again = assert_ok(run("upgrade.yml", reg, registry_upgrade_image=relabelled_image))
    assert again.changed == 0, again.changed_tasks()
    assert container(reg.name)["Id"] == new["Id"]
    reg.write(windows_registry_image=relabelled_image)  # the operator records the new image in the inventory


def test_failed_upgrade_rolls_back_and_serves_the_same_digests(reg):
    old = container(reg.name)
    failed = run("upgrade.yml", reg, registry_upgrade_version="3.0.0")  # v3 config: the 2.8 binary refuses it
    assert failed.rc != 0
    report = failed.result("Report the rollback")["msg"]
    assert "ROLLED BACK to version 2.8.2" in report and "did not start" in report, report
    assert "all 4 tags resolve to their recorded digests" in report, report
    now = container(reg.name)
    assert now["Id"] == old["Id"] and now["State"]["Running"] is True
    assert container(reg.name + "-previous") is None
    assert digests(reg, reg.refs) == reg.before
    assert pull_fresh(reg.hello_ref) == reg.hello_id
    assert_ok(run("upgrade.yml", reg))  # nothing to upgrade: verifies and changes nothing
    assert container(reg.name)["Id"] == old["Id"]


def blob_files(reg):
    root = reg.data_dir / "docker" / "registry" / "v2" / "blobs" / "sha256"
    return {"sha256:" + p.name for p in root.glob("*/*") if (p / "data").exists()}


def manifest_blobs(reg, digest, repository):
    """The config and layer digests of an image manifest, read from the data folder."""
    hexpart = digest.split(":", 1)[1]
    data = json.loads((reg.data_dir / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data").read_text())
    return {data["config"]["digest"]} | {layer["digest"] for layer in data["layers"]}


def test_push_while_read_only_is_refused_without_damage(reg):
    readonly = {"storage": {"maintenance": {"readonly": {"enabled": True}}}}
    assert_ok(reg.deploy(windows_registry_config_extra=readonly))
    try:
        ref = "%s/team/late:1" % reg.registry
        docker("image", "tag", reg.hello_ref, ref)
        pushed = docker("image", "push", ref, check=False)
        assert pushed.returncode != 0
        # The registry's read-only answer: 405 to every write (distribution's readonly middleware), plain text.
        assert "405" in pushed.stderr and "method not allowed" in pushed.stderr.lower(), pushed.stderr
        docker("image", "rm", ref, check=False)
        assert digests(reg, reg.refs) == reg.before
    finally:
        assert_ok(reg.deploy())
    assert digests(reg, ["team/late:1"]) == {"team/late:1": "HTTP 404"}


def test_gc_frees_the_blobs_of_a_deleted_manifest_and_nothing_else(reg):
    doomed_blobs = manifest_blobs(reg, reg.doomed, "team/a")
    reg.api.request("DELETE", "/v2/team/a/manifests/%s" % reg.doomed, expect=(202,))
    kept = {ref: d for ref, d in reg.before.items() if ref != "team/a:2"}
    shared = set()
    for ref, digest in kept.items():
        if ref != "multi:1":
            shared |= manifest_blobs(reg, digest, ref.split(":")[0])
    for child in reg.children:
        shared |= manifest_blobs(reg, child, "multi")
    doomed_only = (doomed_blobs | {reg.doomed}) - shared
    on_disk = blob_files(reg)
    assert doomed_only <= on_disk

    old = container(reg.name)
    check = assert_ok(run("garbage_collect.yml", reg, check=True))
    assert container(reg.name)["Id"] == old["Id"] and blob_files(reg) == on_disk
    assert check.result("Run registry garbage-collect")["changed"] is True

    dry = assert_ok(run("garbage_collect.yml", reg, registry_gc_dry_run=True))
    result = dry.result("Run registry garbage-collect")
    assert result["changed"] is False and result["deleted_blobs"] == []
    assert set(result["eligible_blobs"]) == doomed_only, result["output_lines"][-20:]
    assert blob_files(reg) == on_disk

    applied = assert_ok(run("garbage_collect.yml", reg))
    result = applied.result("Run registry garbage-collect")
    assert result["changed"] is True
    assert set(result["deleted_blobs"]) == doomed_only
    assert blob_files(reg) == on_disk - doomed_only
    assert result["bytes_freed"] > 0
    assert "bytes freed" in applied.result("Report the space freed")["msg"]
    now = container(reg.name)
    assert now["State"]["Running"] is True
    assert "readonly" not in (reg.config_dir / now["Config"]["Cmd"][0].rsplit("/", 1)[1]).read_text()
    assert digests(reg, kept) == kept
    for child in reg.children:
        assert digests(reg, ["multi@%s" % child]) == {"multi@%s" % child: child}
    assert pull_fresh(reg.hello_ref) == reg.hello_id

    again = assert_ok(run("garbage_collect.yml", reg))
    result = again.result("Run registry garbage-collect")
    assert result["changed"] is False and result["deleted_blobs"] == [] and result["blobs_eligible"] == 0


def test_delete_untagged_refused_below_3(reg):
    old = container(reg.name)
    refused = run("garbage_collect.yml", reg, registry_gc_delete_untagged=True)
    assert refused.rc != 0
    assert "distribution issue #3178" in refused.failure_message()
    assert container(reg.name)["Id"] == old["Id"], "the refusal comes before anything changes"
