# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The windows_registry role on the Linux twin: playbooks/site.yml against a real dockerd.

Each step is paired: check mode, apply, idempotent re-run, and assertions on the real state
(containers, folders, the registry's own answers, docker push/pull).
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
import uuid

import pytest

from conftest import container
import images
import playbook

HOST_TASK = "Create the data and config folders"
IMAGE_TASK = "Get the registry image ("
CONTAINER_TASK = "Run the registry container "
HEALTH_TASK = "Wait for /v2/"


def docker(*args, check=True):
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True)


def push(hello, registry, repository, tag="1"):
    ref = "%s/%s:%s" % (registry, repository, tag)
    docker("image", "tag", hello, ref)
    pushed = docker("image", "push", ref, check=False)
    assert pushed.returncode == 0, pushed.stderr
    return ref


def pull_fresh(ref):
    """Pull ref after removing the local copy, so the bytes come from the registry."""
    docker("image", "rm", ref, check=False)
    pulled = docker("image", "pull", ref, check=False)
    assert pulled.returncode == 0, pulled.stderr
    return images.image_id(ref)


def catalog(url):
    with urllib.request.urlopen(url + "/v2/_catalog", timeout=10) as response:
        return json.load(response)["repositories"]


def assert_ok(run):
    assert not run.failed, "%r\n%s" % (run, run.stderr[-2000:])
    return run


@pytest.mark.smoke
def test_fresh_host_check_apply_rerun_push(make_instance, hello_image):
    reg = make_instance()

    check = assert_ok(reg.deploy(check=True))
    assert reg.container() is None, "check mode must not create the container"
    assert not reg.data_dir.exists(), "check mode must not create the data folder"
    assert "Health check skipped" in check.result("check mode skips the health check")["msg"]
    assert check.result(HEALTH_TASK).get("skipped") is True

    applied = assert_ok(reg.deploy())
    assert sorted(applied.changed_tasks()) == sorted(check.changed_tasks()), "check mode must flag exactly what the run changes"
    assert any(CONTAINER_TASK in name for name in applied.changed_tasks())
    state = reg.container()
    assert state["State"]["Running"] is True
    assert state["HostConfig"]["PortBindings"] == {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(reg.port)}]}
    binds = {m["Destination"]: (m["Source"], m["RW"]) for m in state["Mounts"] if m["Type"] == "bind"}
    assert binds["/var/lib/registry"] == (str(reg.data_dir), True)
    assert binds["/etc/docker/registry"] == (str(reg.config_dir), False)
    assert state["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    config_files = list(reg.config_dir.glob("config-*.yml"))
    assert len(config_files) == 1 and state["Config"]["Cmd"] == ["/etc/docker/registry/" + config_files[0].name]
    assert applied.result(HEALTH_TASK)["repositories"] == []

    ref = push(hello_image, reg.registry, "team/hello")
    assert catalog(reg.url) == ["team/hello"]

    again = assert_ok(reg.deploy())
    assert again.changed == 0, again.changed_tasks()
    assert again.result(HEALTH_TASK)["repositories"] == ["team/hello"]
    assert reg.container()["Id"] == state["Id"]

    check_again = assert_ok(reg.deploy(check=True))
    assert check_again.changed == 0, check_again.changed_tasks()
    assert check_again.result(HEALTH_TASK)["count"] == 1, "the health check runs in check mode on a converged host"
    assert pull_fresh(ref) == images.image_id(hello_image)


def test_config_change_recreates_container_and_keeps_data(make_instance, hello_image):
    reg = make_instance()
    assert_ok(reg.deploy())
    ref = push(hello_image, reg.registry, "team/keep")
    before = reg.container()
    old_config = before["Config"]["Cmd"][0].rsplit("/", 1)[1]

    reg.write(windows_registry_storage_delete=True)
    check = assert_ok(reg.deploy(check=True, diff=True))
    changed = check.changed_tasks()
    assert any(HOST_TASK in n for n in changed) and any(CONTAINER_TASK in n for n in changed)
    assert reg.container()["Id"] == before["Id"], "check mode must not replace the container"
    assert "config-digest" in check.result(CONTAINER_TASK)["changes"][0] or "labels" in check.result(CONTAINER_TASK)["changes"]

    applied = assert_ok(reg.deploy())
    after = reg.container()
    assert after["Id"] != before["Id"]
    assert after["Config"]["Labels"]["io.dockerwin.registry.config-digest"] != before["Config"]["Labels"]["io.dockerwin.registry.config-digest"]
    assert "enabled: true" in (reg.config_dir / after["Config"]["Cmd"][0].rsplit("/", 1)[1]).read_text()
    assert not (reg.config_dir / old_config).exists(), "the replaced container's config file is removed"
    assert container(reg.name + "-previous") is None
    assert applied.result(HEALTH_TASK)["repositories"] == ["team/keep"]
    assert pull_fresh(ref) == images.image_id(hello_image), "data kept across the replacement"
    assert assert_ok(reg.deploy()).changed == 0


def test_failed_replacement_restores_previous_container(make_instance):
    reg = make_instance()
    assert_ok(reg.deploy())
    before = reg.container()
    # A v3 configuration (storage.tag) that this 2.8 binary refuses: the new container cannot start.
    reg.write(windows_registry_version="3.0.0")
    failed = reg.deploy()
    assert failed.failed
    message = failed.result(CONTAINER_TASK)["msg"]
    assert "did not start" in message and "must provide exactly one storage type" in message, message
    assert "was restored" in message
    restored = reg.container()
    assert restored["Id"] == before["Id"] and restored["State"]["Running"] is True
    assert container(reg.name + "-previous") is None
    assert catalog(reg.url) == []
    # The restored container still finds its own configuration file after a restart.
    docker("container", "restart", reg.name)
    assert reg.container()["State"]["Running"] is True


def test_state_absent_removes_container_keeps_data(make_instance, hello_image):
    reg = make_instance()
    assert_ok(reg.deploy())
    push(hello_image, reg.registry, "team/stay")
    reg.write(windows_registry_state="absent")
    check = assert_ok(reg.deploy(check=True))
    assert [n.split(" : ")[-1] for n in check.changed_tasks()] == [CONTAINER_TASK + reg.name]
    assert reg.container() is not None
    assert [n.split(" : ")[-1] for n in assert_ok(reg.deploy()).changed_tasks()] == [CONTAINER_TASK + reg.name]
    assert reg.container() is None
    assert (reg.data_dir / "docker/registry/v2/repositories/team/stay").is_dir(), "absent keeps the data"
    assert assert_ok(reg.deploy()).changed == 0
    # Back to started: the data serves again.
    reg.write(windows_registry_state="started")
    assert assert_ok(reg.deploy()).result(HEALTH_TASK)["repositories"] == ["team/stay"]


def test_load_source_from_archive(make_instance, registry_image, tmp_path):
    tag = "dwr-test/registry-loaded:%s" % uuid.uuid4().hex[:8]
    docker("image", "tag", registry_image, tag)
    archive = tmp_path / "registry.tar"
    docker("image", "save", "--output", str(archive), tag)
    docker("image", "rm", tag)
    try:
        reg = make_instance(windows_registry_image_source="load", windows_registry_image=tag, windows_registry_image_archive=str(archive))
        check = assert_ok(reg.deploy(check=True))
        assert any(IMAGE_TASK in n for n in check.changed_tasks())
        assert not images.image_exists(tag), "check mode must not load the archive"
        applied = assert_ok(reg.deploy())
        assert applied.result(IMAGE_TASK)["changed"] is True
        assert images.image_id(tag) == images.image_id(registry_image)
        assert reg.container()["Image"] == images.image_id(registry_image)
        again = assert_ok(reg.deploy())
        assert again.changed == 0 and again.result(IMAGE_TASK)["changed"] is False
    finally:
        docker("container", "rm", "--force", reg.name, check=False)
        docker("image", "rm", tag, check=False)


def test_binary_source_packages_debian_binary(make_instance):
    tag = "dwr-test/registry-binary:%s" % uuid.uuid4().hex[:8]
    try:
        reg = make_instance(windows_registry_image_source="binary", windows_registry_image=tag,
                            windows_registry_binary_path="/usr/bin/docker-registry")
        assert_ok(reg.deploy(check=True))
        assert not images.image_exists(tag)
        applied = assert_ok(reg.deploy())
        built = json.loads(docker("image", "inspect", tag).stdout)[0]
        assert built["Config"]["Entrypoint"] == ["/bin/registry", "serve"]
        assert built["Config"]["Labels"]["io.dockerwin.registry.build-digest"] == applied.result(IMAGE_TASK)["build_digest"]
        assert applied.result(HEALTH_TASK)["api_version"] == "registry/2.0"
        again = assert_ok(reg.deploy())
        assert again.changed == 0
        assert images.image_id(tag) == built["Id"], "unchanged inputs never rebuild"
    finally:
        docker("container", "rm", "--force", reg.name, check=False)
        docker("image", "rm", tag, check=False)


def test_two_instances_on_one_host(make_instance, hello_image):
    main = make_instance()
    cache = make_instance()
    assert_ok(main.deploy())
    assert_ok(cache.deploy())
    push(hello_image, main.registry, "only/main")
    assert catalog(main.url) == ["only/main"]
    assert catalog(cache.url) == []
    assert main.container()["State"]["Running"] and cache.container()["State"]["Running"]
    assert assert_ok(main.deploy()).changed == 0
    assert assert_ok(cache.deploy()).changed == 0


@pytest.mark.parametrize(
    "override, fragment",
    [
        ({"windows_registry_version": "latest"}, "windows_registry_version=latest"),
        ({"windows_registry_port": 70000}, "windows_registry_port=70000"),
        ({"windows_registry_image_source": "load"}, "needs windows_registry_image_archive"),
        ({"windows_registry_container_name": "-bad"}, "windows_registry_container_name=-bad"),
        ({"windows_registry_image_source": "copy"}, "windows_registry_image_source"),
    ],
)
def test_bad_input_fails_before_any_change(make_instance, override, fragment):
    reg = make_instance(**override)
    run = reg.deploy()
    assert run.failed
    messages = run.failure_message()
    assert fragment in messages, messages
    assert not reg.root.joinpath("registry-data").exists() and reg.container() is None


def test_registry_catalog_info_module_against_deployed_registry(make_instance, hello_image, tmp_path):
    reg = make_instance()
    assert_ok(reg.deploy())
    push(hello_image, reg.registry, "b/two")
    push(hello_image, reg.registry, "a/one")
    verify = tmp_path / "verify.yml"
    verify.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: Catalog\n      dockerwin.registry.registry_catalog_info:\n"
        "        url: %s\n        expected_repositories: [a/one, b/two, c/missing]\n" % reg.url
    )
    run = playbook.run_playbook(str(verify), reg.inventory)
    result = run.result("Catalog")
    assert result["failed"] is True and "c/missing" in result["msg"]
    assert result["repositories"] == ["a/one", "b/two"]
