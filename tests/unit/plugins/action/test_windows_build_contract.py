# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract of registry_image on a Windows host for each image source, with `build` in full.

The real action plugin runs with a real Task on a PowerShell-shell connection; the recorded host of
``recorder.py`` answers the stock modules and a model of the docker CLI. The Dockerfiles are the role's own,
rendered by Ansible (tests/unit/roles/role_vars.py). Expectations from the documentation:
- ``docker image build [--isolation process|hyperv] --tag T --label K=V <context>`` (docs.docker.com, "docker
  buildx build" / legacy builder options; ``--isolation`` is Windows-only);
- ``docker image inspect`` prints ``Id`` and ``RepoDigests``; a moved tag pulled anew has a new ``Id``;
- ansible.windows.win_tempfile returns ``path``; win_copy takes ``content`` and ``dest``; win_command takes ``argv``;
  modules that do not support check mode are answered "skipped" by Ansible.
"""

from __future__ import annotations

import re

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.dockerwin.registry.plugins.action import registry_image
from ansible_collections.dockerwin.registry.tests.unit.plugins.action.recorder import Call, FakeHost, make_action
from ansible_collections.dockerwin.registry.tests.unit.roles.role_vars import (
    LINUX_FACTS,
    WINDOWS_FACTS,
    Role,
    collection_loader,
)

IMAGE = "dockerwin/registry:3.0.0-nanoserver-ltsc2022"
GOLANG = "golang:1.23-windowsservercore-ltsc2022"
NANO = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
TEMP = "C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\dockerwin-registry-abc"
LABEL = "io.dockerwin.registry.build-digest"
WIN_COMMAND = "ansible.windows.win_command"


@pytest.fixture(scope="module", autouse=True)
def _loader(collection_root):
    with collection_loader(collection_root):
        yield


def run(monkeypatch, host, args, check_mode=False):
    action = make_action(registry_image, "dockerwin.registry.registry_image", args, host, check_mode=check_mode, monkeypatch=monkeypatch)
    result = action.run(task_vars={"inventory_hostname": "win2022"})
    assert action._task.check_mode == check_mode
    return result


def cmd(*argv):
    return Call("module", WIN_COMMAND, {"argv": ["docker", *argv]}, False)


def build_args(host_version="2022", isolation="", **overrides):
    role = Role("Windows", WINDOWS_FACTS[host_version], windows_registry_image_source="build", **overrides)
    return {
        "name": role.expr("__windows_registry_image"),
        "source": "build",
        "dockerfile": role.render("Dockerfile.build.windows.j2"),
        "context_files": {"config.yml": role.render("config-default.yml.j2")},
        "isolation": isolation,
    }


# -- build ------------------------------------------------------------------------------------------------------
def test_build_on_a_fresh_windows_host_pulls_the_bases_then_builds_from_the_rendered_context(monkeypatch):
    host = FakeHost(windows=True)
    args = build_args()
    assert args["name"] == IMAGE
    result = run(monkeypatch, host, args)
    digest = result["build_digest"]
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert host.calls == [
        cmd("image", "inspect", IMAGE),
        cmd("image", "inspect", GOLANG),
        cmd("image", "inspect", NANO),
        cmd("image", "pull", GOLANG),
        cmd("image", "inspect", GOLANG),
        cmd("image", "pull", NANO),
        cmd("image", "inspect", NANO),
        Call("module", "ansible.windows.win_tempfile", {"state": "directory", "prefix": "dockerwin-registry-"}, False),
        Call("action", "ansible.windows.win_copy", {"content": args["dockerfile"], "dest": TEMP + "\\Dockerfile"}, False),
        Call("action", "ansible.windows.win_copy", {"content": args["context_files"]["config.yml"], "dest": TEMP + "\\config.yml"}, False),
        cmd("image", "build", "--tag", IMAGE, "--label", "%s=%s" % (LABEL, digest), TEMP),
        Call("module", "ansible.windows.win_file", {"path": TEMP, "state": "absent"}, False),
        cmd("image", "inspect", IMAGE),
    ]
    # No binary travels: only the Dockerfile and config.yml are in the context.
    assert sorted(host.build_contexts[0]) == [host.key(TEMP + "\\config.yml"), host.key(TEMP + "\\Dockerfile")]
    assert result["changed"] is True
    assert result["actions"] == ["pull-base", "build"]
    assert result["base_images"] == {GOLANG: host.images[GOLANG]["Id"], NANO: host.images[NANO]["Id"]}
    assert host.images[IMAGE]["Config"]["Labels"][LABEL] == digest
    assert host.key(TEMP) not in host.dirs


def test_build_rerun_only_inspects_and_changes_nothing(monkeypatch):
    host = FakeHost(windows=True)
    args = build_args()
    first = run(monkeypatch, host, args)
    host.calls.clear()
    again = run(monkeypatch, host, args)
    assert host.calls == [cmd("image", "inspect", IMAGE), cmd("image", "inspect", GOLANG), cmd("image", "inspect", NANO)]
    assert again["changed"] is False
    assert again["build_digest"] == first["build_digest"]
    assert "actions" not in again


def test_the_monthly_base_image_patch_rebuilds(monkeypatch):
    host = FakeHost(windows=True)
    args = build_args()
    first = run(monkeypatch, host, args)
    # The operator pulls the patched Nano Server: the tag now names a new image ID.
    host.images[NANO] = dict(host.images[NANO], Id="sha256:" + "5" * 64, RepoDigests=[NANO.split(":", maxsplit=1)[0] + "@sha256:" + "6" * 64])
    host.calls.clear()
    rebuilt = run(monkeypatch, host, args)
    assert rebuilt["changed"] is True and rebuilt["actions"] == ["build"]
    assert rebuilt["build_digest"] != first["build_digest"]
    assert rebuilt["base_images"][NANO] == "sha256:" + "5" * 64
    assert [c.argv[1:3] for c in host.calls if c.argv].count(["image", "build"]) == 1
    assert not [c for c in host.calls if c.argv and c.argv[1:3] == ["image", "pull"]], "the base is not pulled again"


def test_nothing_but_the_base_image_ids_the_dockerfile_and_the_context_rebuilds(monkeypatch):
    host = FakeHost(windows=True)
    args = build_args()
    run(monkeypatch, host, args)
    # The same Nano Server pulled under a second name: RepoDigests grow, the ID stays.
    host.images[NANO]["RepoDigests"] = host.images[NANO]["RepoDigests"] + ["corp.example/nanoserver@sha256:" + "7" * 64]
    host.images[NANO]["RepoTags"] = [NANO, "corp.example/nanoserver:ltsc2022"]
    host.calls.clear()
    assert run(monkeypatch, host, args)["changed"] is False
    # A new version renders a new Dockerfile: rebuilt.
    newer = build_args(windows_registry_version="2.8.3")
    newer["name"] = IMAGE
    assert run(monkeypatch, host, newer)["changed"] is True


def test_hyperv_isolation_goes_to_docker_build(monkeypatch):
    host = FakeHost(windows=True)
    args = build_args("2025", isolation="hyperv", windows_registry_base_image_tag="ltsc2022", windows_registry_isolation="hyperv")
    result = run(monkeypatch, host, args)
    build = next(c.argv for c in host.calls if c.argv and c.argv[1:3] == ["image", "build"])
    assert build == ["docker", "image", "build", "--tag", IMAGE, "--label", "%s=%s" % (LABEL, result["build_digest"]),
                     "--isolation", "hyperv", TEMP]
    assert host.build_isolations == ["hyperv"]


def test_build_in_check_mode_on_a_fresh_host_only_inspects(monkeypatch):
    host = FakeHost(windows=True)
    result = run(monkeypatch, host, build_args(), check_mode=True)
    assert host.calls == [cmd("image", "inspect", IMAGE), cmd("image", "inspect", GOLANG), cmd("image", "inspect", NANO)]
    assert all(c.check_mode is False for c in host.calls), "inspects run for real in check mode"
    assert host.changing_calls() == []
    assert result["changed"] is True and result["actions"] == ["pull-base", "build"]
    assert host.images == {}


def test_build_in_check_mode_with_the_bases_present_reports_the_digest(monkeypatch):
    host = FakeHost(windows=True)
    host.add_image(GOLANG)
    host.add_image(NANO)
    result = run(monkeypatch, host, build_args(), check_mode=True)
    assert host.changing_calls() == []
    assert result["changed"] is True and result["actions"] == ["build"]
    assert re.fullmatch(r"[0-9a-f]{64}", result["build_digest"])


def test_a_failed_build_fails_with_dockers_words_and_removes_the_context(monkeypatch):
    host = FakeHost(windows=True)
    host.add_image(GOLANG)
    host.add_image(NANO)
    host.fail("image", "build", rc=1, stderr="fatal: Remote branch v3.0.0 not found in upstream origin\n")
    with pytest.raises(AnsibleActionFail, match="docker image build of %s failed \\(rc=1\\): fatal: Remote branch" % re.escape(IMAGE)):
        run(monkeypatch, host, build_args())
    assert Call("module", "ansible.windows.win_file", {"path": TEMP, "state": "absent"}, False) in host.calls
    assert IMAGE not in host.images


def test_a_dockerfile_with_a_build_argument_in_from_is_refused_before_any_call(monkeypatch):
    host = FakeHost(windows=True)
    args = build_args()
    args["dockerfile"] = "ARG BASE\nFROM $BASE\n"
    with pytest.raises(AnsibleActionFail, match=r"dockerfile: FROM with a build argument \(\$BASE\)"):
        run(monkeypatch, host, args)
    assert host.calls == []


def test_linux_twin_builds_with_ansible_builtin_modules_and_no_isolation(monkeypatch):
    host = FakeHost(windows=False)
    role = Role("Linux", LINUX_FACTS, windows_registry_image_source="build")
    args = {"name": role.expr("__windows_registry_image"), "source": "build",
            "dockerfile": role.render("Dockerfile.build.linux.j2"),
            "context_files": {"config.yml": role.render("config-default.yml.j2")}}
    assert args["name"] == "dockerwin/registry:3.0.0"
    result = run(monkeypatch, host, args)
    assert {c.module for c in host.calls} == {"ansible.builtin.command", "ansible.builtin.tempfile", "ansible.builtin.copy", "ansible.builtin.file"}
    assert result["base_images"] == {"golang:1.23-bookworm": host.images["golang:1.23-bookworm"]["Id"]}  # scratch is no image
    build = next(c.argv for c in host.calls if c.argv and c.argv[1:3] == ["image", "build"])
    assert "--isolation" not in build
    host.calls.clear()
    with pytest.raises(AnsibleActionFail, match="isolation='hyperv': isolation modes exist on Windows hosts only"):
        run(monkeypatch, host, dict(args, isolation="hyperv"))
    assert host.calls == []


# -- the other sources on Windows ----------------------------------------------------------------------------
def test_pull_of_an_absent_image_pulls_and_reports_the_new_id(monkeypatch):
    host = FakeHost(windows=True)
    result = run(monkeypatch, host, {"name": IMAGE, "source": "pull"})
    assert host.calls == [cmd("image", "inspect", IMAGE), cmd("image", "pull", IMAGE), cmd("image", "inspect", IMAGE)]
    assert result["changed"] is True and result["actions"] == ["pull"]
    assert result["image_id"] == host.images[IMAGE]["Id"]


def test_pull_of_a_present_image_only_inspects(monkeypatch):
    host = FakeHost(windows=True)
    host.add_image(IMAGE)
    result = run(monkeypatch, host, {"name": IMAGE, "source": "pull"})
    assert host.calls == [cmd("image", "inspect", IMAGE)]
    assert result["changed"] is False


def test_pull_in_check_mode_only_inspects(monkeypatch):
    host = FakeHost(windows=True)
    result = run(monkeypatch, host, {"name": IMAGE, "source": "pull"}, check_mode=True)
    assert host.calls == [cmd("image", "inspect", IMAGE)] and result["changed"] is True and host.images == {}


def test_binary_passes_hyperv_isolation_to_docker_build(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    role = Role("Windows", WINDOWS_FACTS["2022"], windows_registry_image_source="binary")
    exe = tmp_path / "registry.exe"
    exe.write_bytes(b"MZ fake registry.exe")
    args = {"name": IMAGE, "source": "binary", "binary": str(exe), "dockerfile": role.render("Dockerfile.binary.windows.j2"),
            "context_files": {"config.yml": role.render("config-default.yml.j2")}, "isolation": "hyperv"}
    result = run(monkeypatch, host, args)
    build = next(c.argv for c in host.calls if c.argv and c.argv[1:3] == ["image", "build"])
    assert build == ["docker", "image", "build", "--tag", IMAGE, "--label", "%s=%s" % (LABEL, result["build_digest"]),
                     "--isolation", "hyperv", TEMP]
    # `binary` keeps its digest inputs (binary, Dockerfile, context): its FROM images are not inspected.
    assert [c.argv for c in host.calls if c.argv and c.argv[1:3] == ["image", "inspect"]] == [["docker", "image", "inspect", IMAGE]] * 2
