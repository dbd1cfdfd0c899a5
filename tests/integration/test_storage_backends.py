# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage backends (#9 storage) on the Linux twin: the role with windows_registry_storage: s3 on a real S3 API
server (moto's server mode, tests/support/s3_server.py, on the Docker bridge gateway so the registry container
reaches it), and a change of backend on a registry that holds images: refused, then migrated with every digest.

The registry is Debian's 2.8.2 binary in the official layout (its s3-aws driver; it has no azure driver, so azure is
covered by the rendering tests in tests/unit/plugins/plugin_utils/test_storage.py).
"""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

import playbook
from conftest import free_port
from registry_api import RegistryAPI
from registry_process import make_tls_files
from s3_server import ACCESS_KEY, SECRET_KEY, S3Server, bridge_gateway
from test_day2_upgrade_gc import digests
from test_windows_registry_role import CONTAINER_TASK, HEALTH_TASK, assert_ok, docker

STORAGE_TASK = "Compare the storage backend"


def s3_vars(server, bucket, root="/dwr", ca=""):
    return {
        "windows_registry_storage": "s3",
        "windows_registry_storage_s3_bucket": bucket,
        "windows_registry_storage_s3_regionendpoint": server.url,
        "windows_registry_storage_s3_secure": bool(server.tls),
        "windows_registry_storage_s3_ca": ca,
        "windows_registry_storage_s3_accesskey": ACCESS_KEY,
        "windows_registry_storage_s3_secretkey": SECRET_KEY,
        "windows_registry_storage_s3_rootdirectory": root,
    }


@pytest.fixture
def s3_tls(tmp_path):
    """moto over HTTPS on the bridge gateway, its certificate from a throwaway CA: (server, bucket, CA PEM text).
    The registry container trusts that CA only through windows_registry_storage_s3_ca (its image has no roots)."""
    gateway = bridge_gateway()
    ca_path, chain, key = make_tls_files(tmp_path / "s3-tls", gateway)
    server = S3Server(tmp_path / "s3", host=gateway, tls=(chain, key)).start()
    yield server, server.create_bucket(), ca_path.read_text()
    server.stop()


def config_file(reg):
    return reg.config_dir / reg.container()["Config"]["Cmd"][0].rsplit("/", 1)[1]


def verbose_deploy(reg):
    """site.yml at -vvv with --diff through the default callback: everything it prints (it must succeed)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(playbook.REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(playbook.ANSIBLE_PLAYBOOK), "-vvv", "--diff", "-i", reg.inventory, str(playbook.REPO / "playbooks/site.yml")],
                          cwd=playbook.REPO, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def test_filesystem_to_s3_refused_then_migrated_check_apply_rerun_no_secret(make_instance, s3_tls, hello_image):
    """One registry through the whole path (few playbook runs): filesystem with images; S3 over TLS (private CA)
    refused without migrate; with migrate: check mode, apply (-vvv --diff, no secret printed), re-run; then docker
    push/pull on S3."""
    s3_server, s3_bucket, ca_pem = s3_tls
    reg = make_instance()
    assert_ok(reg.deploy())
    api = RegistryAPI(reg.url)
    multi, platforms = api.push_manifest_list("base/multi", "1", [("linux", "amd64"), ("linux", "arm64")])
    pushed = {"team/app:1": api.push_image("team/app", "1"), "team/app:2": api.push_image("team/app", "2", content=b"second\n"),
              "base/multi:1": multi}
    before = reg.container()

    # Without windows_registry_storage_migrate: refused before anything changes.
    reg.write(**s3_vars(s3_server, s3_bucket, ca=ca_pem))
    refused = reg.deploy()
    assert refused.failed
    message = refused.result(STORAGE_TASK)["msg"]
    assert "holds 2 repositories (3 tags)" in message and "windows_registry_storage_migrate: true" in message, message
    assert "filesystem (rootdirectory=/var/lib/registry)" in message and "s3 (bucket=%s" % s3_bucket in message, message
    assert reg.container()["Id"] == before["Id"], "the registry keeps running on its data"
    assert [p.name for p in reg.config_dir.glob("config-*.yml")] == [config_file(reg).name], "the unused new config is removed"
    assert s3_server.keys(s3_bucket) == {}
    assert SECRET_KEY not in refused.stderr + repr(refused.data)

    # Check mode: the migration is announced, nothing is copied or replaced.
    reg.write(windows_registry_storage_migrate=True, windows_registry_storage_migrate_port=free_port())
    check = assert_ok(reg.deploy(check=True, diff=True))
    assert check.result(STORAGE_TASK)["changed"] is True and "would migrate 2 repositories" in check.result(STORAGE_TASK)["msg"]
    assert any(CONTAINER_TASK in name for name in check.changed_tasks())
    assert s3_server.keys(s3_bucket) == {} and reg.container()["Id"] == before["Id"], "check mode copies nothing"
    assert SECRET_KEY not in repr(check.data) + check.stderr, "the S3 secret key leaked into check mode's diff"

    # Apply at -vvv with --diff through the default callback: nothing it prints holds the secret key.
    output = verbose_deploy(reg)
    assert SECRET_KEY not in output, "the S3 secret key leaked into the -vvv --diff output"
    assert "VALUE_REDACTED" in output and "regionendpoint: %s" % s3_server.url in output, "the config diff is shown, redacted"
    assert "migrated 2 repositories (3 tags, 5 manifests" in output
    path = config_file(reg)
    assert SECRET_KEY in path.read_text() and "s3:" in path.read_text(), "the secret lives in the config file"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "and that file is owner-only"
    state = reg.container()
    assert state["Id"] != before["Id"]
    exposed = repr(state["Config"].get("Env")) + repr(state["Config"]["Labels"]) + repr(state["Config"]["Cmd"]) + repr(state["Args"])
    assert SECRET_KEY not in exposed, "never in env, labels or argv"
    assert subprocess.run(["docker", "container", "inspect", reg.name + "-migrate"], capture_output=True).returncode != 0
    binds = {m["Destination"]: (m["Source"], m["RW"]) for m in state["Mounts"]}
    assert binds["/etc/pki/tls/certs"] == (str(reg.config_dir / "storage-ca"), False), "the endpoint's CA, read-only"
    assert (reg.config_dir / "storage-ca" / "storage-ca.crt").read_text().strip() == ca_pem.strip()

    # Served from the bucket: every tag by the same digest, every platform manifest by digest, and pulls.
    assert digests(reg, list(pushed)) == pushed
    assert digests(reg, ["base/multi@" + d for d in platforms]) == {"base/multi@" + d: d for d in platforms}
    stored = s3_server.blob_digests(s3_bucket, "/dwr")
    assert set(pushed.values()) <= stored, "the manifests are blobs in the bucket"
    ref = "%s/team/app@%s" % (reg.registry, pushed["team/app:1"])
    pulled = docker("image", "pull", ref, check=False)
    assert pulled.returncode == 0, pulled.stderr
    docker("image", "rm", ref, check=False)

    again = assert_ok(reg.deploy())
    assert again.changed == 0, again.changed_tasks()
    assert again.result(STORAGE_TASK)["backend_changed"] is False, "migrate stays set: nothing is copied again"
    assert again.result(HEALTH_TASK)["repositories"] == ["base/multi", "team/app"]

    # New pushes land in the bucket and pull by digest.
    new = "%s/team/hello:1" % reg.registry
    docker("image", "tag", hello_image, new)
    pushed_new = docker("image", "push", new, check=False)
    assert pushed_new.returncode == 0, pushed_new.stderr
    digest = digests(reg, ["team/hello:1"])["team/hello:1"]
    assert digest in s3_server.blob_digests(s3_bucket, "/dwr")
    assert not list((reg.data_dir / "docker" / "registry" / "v2" / "repositories").glob("team/hello")), "not in the data folder"
    docker("image", "rm", new, check=False)
    by_digest = "%s/team/hello@%s" % (reg.registry, digest)
    pulled = docker("image", "pull", by_digest, check=False)
    assert pulled.returncode == 0, pulled.stderr
    docker("image", "rm", by_digest, check=False)
