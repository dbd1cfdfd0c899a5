# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract of the Windows path: what the real action plugins ask a Windows host to do.

The action plugins (registry_config, registry_image, registry_container) run for real, with a real Task and
a connection whose shell is ansible's PowerShell shell plugin (SHELL_FAMILY "powershell", as on a WinRM or
PSRP host). ``ActionBase._execute_module`` and the copy sub-action lookup are replaced by the recorded host
of ``recorder.py``, which answers as the stock modules document and records every call.

Expectations come from the documentation, not from the code's output:
- ``docker run -v`` on Windows takes ``C:\\host\\folder:C:\\container\\folder`` (docs.docker.com, "Mount volume
  (-v)" for Windows; Microsoft, "Persistent storage in containers": ``docker run -v c:\\ContainerData:c:\\data``);
- Windows NAT publishes on every host address, so ``--publish 5000:5000/tcp`` carries no host IP;
- ansible.windows.win_command runs an ``argv`` list (win_command docs, ``argv`` since 1.11.0), win_tempfile
  returns ``path`` like ``C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\...``, win_copy takes ``src``/``content``
  and ``dest``; modules that do not support check mode are answered "skipped" by Ansible.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import types
from pathlib import Path

import jinja2
import jinja2.meta
import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.dockerwin.registry.plugins.action import registry_config, registry_container, registry_image
from ansible_collections.dockerwin.registry.plugins.filter.windows_base_tag import windows_base_tag
from ansible_collections.dockerwin.registry.tests.unit.plugins.action.recorder import (
    Call,
    FakeHost,
    Publish,
    Volume,
    make_action,
    parse_publish,
    parse_run,
    parse_volume,
)

CHECKOUT = Path(__file__).resolve().parents[4]
ROLE = CHECKOUT / "roles" / "windows_registry"
GOLDEN = CHECKOUT / "tests" / "unit" / "plugins" / "plugin_utils" / "golden"

DATA = "C:\\registry-data"
CONFIG = "C:\\registry-data-config"
IMAGE = "dockerwin/registry:3.0.0-nanoserver-ltsc2022"
TEMP = "C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\dockerwin-registry-abc"
DIGEST_LABEL = "io.dockerwin.registry.config-digest"
BUILD_LABEL = "io.dockerwin.registry.build-digest"
WIN_COMMAND = "ansible.windows.win_command"
WIN_FILE = "ansible.windows.win_file"
WIN_COPY = "ansible.windows.win_copy"
WIN_TEMPFILE = "ansible.windows.win_tempfile"


# -- helpers -----------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """registry_container's clock: time only moves when the plugin sleeps, so no test sleeps for real."""
    fake = types.SimpleNamespace(now=0.0, sleeps=[])

    def sleep(seconds):
        fake.sleeps.append(seconds)
        fake.now += seconds

    fake.monotonic = lambda: fake.now
    fake.sleep = sleep
    monkeypatch.setattr(registry_container, "time", fake)
    return fake


def run(monkeypatch, host, module, args, check_mode=False):
    fqcn = "dockerwin.registry." + module.__name__.rsplit(".", 1)[1]
    action = make_action(module, fqcn, args, host, check_mode=check_mode, monkeypatch=monkeypatch)
    result = action.run(task_vars={"inventory_hostname": "win2022"})
    assert action._task.check_mode == check_mode, "the task's check mode must be restored after read-only calls"
    return result


def cmd(*argv):
    return Call("module", WIN_COMMAND, {"argv": ["docker", *argv]}, False)


def golden_windows():
    return (GOLDEN / "config-v3-windows.yml").read_text()


def config_args(**extra):
    args = {
        "data_dir": DATA,
        "config_dir": CONFIG,
        "version": "3.0.0",
        "container_data_dir": "C:\\data",
        "storage_delete": True,
        "extra": {},
    }
    args.update(extra)
    return args


def container_args(config_file, digest, **extra):
    """The arguments roles/windows_registry/tasks/container.yml passes on Windows."""
    args = {
        "name": "registry",
        "image": IMAGE,
        "state": "started",
        "command": ["C:\\config\\" + config_file],
        "published_ports": [{"host_port": 5000, "container_port": 5000, "host_ip": ""}],
        "volumes": [
            {"source": DATA, "target": "C:\\data"},
            {"source": CONFIG, "target": "C:\\config", "read_only": True},
        ],
        "restart_policy": "unless-stopped",
        "labels": {DIGEST_LABEL: digest, "io.dockerwin.registry.version": "3.0.0"},
        "isolation": "",
        "user": "ContainerAdministrator",
        "docker_cli": "docker",
        "prune_replaced_config": True,
        "start_grace": 0,
    }
    args.update(extra)
    return args


def sha256_text(text):
    return hashlib.sha256(text.encode()).hexdigest()


def save_archive(path, tags, windows=True):
    """A `docker save` archive in the legacy layout: manifest.json, <hex>.json config, <layer>/layer.tar."""
    config = json.dumps({"architecture": "amd64", "os": "windows" if windows else "linux", "config": {"Cmd": ["x"]},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    layer = b"layer bytes"
    manifest = json.dumps([{"Config": config_hex + ".json", "RepoTags": tags, "Layers": ["l1/layer.tar"]}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in ((config_hex + ".json", config), ("l1/layer.tar", layer), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return "sha256:" + config_hex


def role_vars(platform, facts, **overrides):
    """The role's variables for `platform` (defaults, vars/<platform>.yml, vars/main.yml), resolved with Jinja2
    the way Ansible would, on demand. The collection's filter is registered under its FQCN."""
    values = {}
    for part in ("defaults/main.yml", "vars/%s.yml" % platform, "vars/main.yml"):
        values.update(yaml.safe_load((ROLE / part).read_text()))
    values.update(overrides)
    values["ansible_facts"] = facts
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["dockerwin.registry.windows_base_tag"] = windows_base_tag

    def resolve(name):
        value = values[name]
        if isinstance(value, str) and "{{" in value:
            refs = jinja2.meta.find_undeclared_variables(env.parse(value))
            value = env.from_string(value).render(**{r: resolve(r) for r in refs if r in values})
            values[name] = value
        return value

    def render(template_name):
        source = (ROLE / "templates" / template_name).read_text()
        refs = jinja2.meta.find_undeclared_variables(env.parse(source))
        return env.from_string(source).render(**{r: resolve(r) for r in refs if r in values})

    return resolve, render


def dockerfile_instructions(text):
    """Instructions of a Dockerfile (comments and parser directives left out), as (KEYWORD, rest)."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, dummy, rest = line.strip().partition(" ")
        out.append((keyword.upper(), rest))
    return out


# -- Docker's parsing, as used below ------------------------------------------------------------------------
def test_volume_parsing_follows_docker_on_windows():
    assert parse_volume("C:\\registry-data:C:\\data", True) == Volume("C:\\registry-data", "C:\\data", False)
    assert parse_volume("C:\\registry-data-config:C:\\config:ro", True) == Volume("C:\\registry-data-config", "C:\\config", True)
    assert parse_volume("c:\\program files\\reg:d:", True) == Volume("c:\\program files\\reg", "d:", False)
    assert parse_volume("C:\\data", True) == Volume("", "C:\\data", False)  # a path alone: an anonymous volume there
    with pytest.raises(AssertionError):
        parse_volume("registry-data:data", True)  # the container side must be an absolute Windows path
    assert parse_volume("/srv/registry-data:/var/lib/registry", False) == Volume("/srv/registry-data", "/var/lib/registry", False)
    assert parse_publish("5000:5000/tcp") == Publish("", "5000", "5000", "tcp")
    assert parse_publish("127.0.0.1:5000:5000") == Publish("127.0.0.1", "5000", "5000", "tcp")
    assert parse_publish("[::1]:5000:5000/tcp") == Publish("::1", "5000", "5000", "tcp")


# -- registry_config -----------------------------------------------------------------------------------------
def test_config_on_a_fresh_windows_host_makes_both_folders_and_writes_the_config(monkeypatch):
    host = FakeHost(windows=True)
    result = run(monkeypatch, host, registry_config, config_args())
    text = golden_windows()
    digest = sha256_text(text)
    path = CONFIG + "\\config-%s.yml" % digest[:12]
    assert host.calls == [
        Call("module", WIN_FILE, {"path": DATA, "state": "directory"}, False),
        Call("module", WIN_FILE, {"path": CONFIG, "state": "directory"}, False),
        Call("action", WIN_COPY, {"content": text, "dest": path}, False),
    ]
    assert result["changed"] is True
    assert result["path"] == path
    assert result["digest"] == digest
    assert result["major_version"] == 3
    assert host.files[host.key(path)][0] == text


def test_config_rerun_changes_nothing(monkeypatch):
    host = FakeHost(windows=True)
    run(monkeypatch, host, registry_config, config_args())
    host.calls.clear()
    result = run(monkeypatch, host, registry_config, config_args())
    assert result["changed"] is False
    assert [c.module for c in host.calls] == [WIN_FILE, WIN_FILE, WIN_COPY]


def test_a_run_leaves_the_plugins_argument_spec_as_it_was(monkeypatch):
    """Validation fills sub-option defaults into the value it is given: never into the module-wide spec's defaults."""
    spec = copy.deepcopy(registry_config.ARGUMENT_SPEC)
    run(monkeypatch, FakeHost(windows=True), registry_config, config_args())
    assert registry_config.ARGUMENT_SPEC == spec


def test_config_check_mode_passes_check_mode_to_every_call_and_changes_nothing(monkeypatch):
    host = FakeHost(windows=True)
    result = run(monkeypatch, host, registry_config, config_args(), check_mode=True)
    assert result["changed"] is True
    assert [(c.module, c.check_mode) for c in host.calls] == [(WIN_FILE, True), (WIN_FILE, True), (WIN_COPY, True)]
    assert host.dirs == set() and host.files == {}


def test_config_refuses_a_bad_version_before_touching_the_host(monkeypatch):
    host = FakeHost(windows=True)
    with pytest.raises(AnsibleActionFail, match=r"windows_registry_version='latest'"):
        run(monkeypatch, host, registry_config, config_args(version="latest"))
    assert host.calls == []


# -- registry_container: the fresh-host converge ---------------------------------------------------------------
def converge_fresh_windows_host(monkeypatch, tmp_path):
    """registry_config, registry_image (load) and registry_container in the role's order."""
    host = FakeHost(windows=True)
    config = run(monkeypatch, host, registry_config, config_args())
    archive = tmp_path / "registry.tar"
    image_id = save_archive(archive, [IMAGE])
    image = run(monkeypatch, host, registry_image, {"name": IMAGE, "source": "load", "archive": str(archive)})
    host.calls.clear()
    container = run(monkeypatch, host, registry_container, container_args(config["file"], config["digest"]))
    return host, config, image, container, image_id


def test_fresh_windows_host_runs_the_registry_with_the_documented_docker_run(monkeypatch, tmp_path):
    host, config, image, result, image_id = converge_fresh_windows_host(monkeypatch, tmp_path)
    config_file = "C:\\config\\config-%s.yml" % config["digest"][:12]
    run_argv = [
        "docker", "container", "run", "--detach", "--name", "registry", "--restart", "unless-stopped",
        "--publish", "5000:5000/tcp",
        "--volume", "C:\\registry-data:C:\\data",
        "--volume", "C:\\registry-data-config:C:\\config:ro",
        "--label", "%s=%s" % (DIGEST_LABEL, config["digest"]),
        "--label", "io.dockerwin.registry.managed=true",
        "--label", "io.dockerwin.registry.version=3.0.0",
        "--user", "ContainerAdministrator",
        IMAGE, config_file,
    ]
    assert host.calls == [
        cmd("container", "inspect", "registry"),
        cmd("image", "inspect", IMAGE),
        Call("module", WIN_COMMAND, {"argv": run_argv}, False),
        cmd("container", "inspect", "registry"),  # still running after the start grace?
        cmd("container", "inspect", "registry"),  # its id for the result
    ]
    assert result["changed"] is True
    assert result["actions"] == ["create"]
    assert result["image_id"] == image_id == image["image_id"]
    assert result["container_id"] == host.containers["registry"]["Id"]


def test_fresh_windows_host_mounts_and_ports_as_docker_reads_them(monkeypatch, tmp_path):
    host, config, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    argv = next(c.argv for c in host.calls if c.argv and c.argv[1:3] == ["container", "run"])
    spec = parse_run(argv, windows=True)
    mounts = sorted((v.source.lower(), v.destination.lower(), v.read_only) for v in spec["volume"])
    assert mounts == [("c:\\registry-data", "c:\\data", False), ("c:\\registry-data-config", "c:\\config", True)]
    assert spec["publish"] == [Publish(host_ip="", host_port="5000", container_port="5000", protocol="tcp")]
    assert spec["restart"] == "unless-stopped"
    assert spec["user"] == "ContainerAdministrator"
    assert spec["isolation"] == ""  # Docker's default (process on Windows Server)
    assert spec["command"] == ["C:\\config\\config-%s.yml" % config["digest"][:12]]
    # The config the container is told to read is the file registry_config wrote, seen through the mount.
    assert host.key(CONFIG + "\\" + config["file"]) in host.files
    assert spec["label"][DIGEST_LABEL] == config["digest"]


def test_every_windows_call_uses_ansible_windows_modules_and_argv(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    config = run(monkeypatch, host, registry_config, config_args())
    archive = tmp_path / "registry.tar"
    save_archive(archive, [IMAGE])
    run(monkeypatch, host, registry_image, {"name": IMAGE, "source": "load", "archive": str(archive)})
    run(monkeypatch, host, registry_container, container_args(config["file"], config["digest"]))
    modules = {c.module for c in host.calls}
    assert modules == {WIN_FILE, WIN_COPY, WIN_TEMPFILE, WIN_COMMAND}
    for call in host.module_calls(WIN_COMMAND):
        assert set(call.args) == {"argv"}, "win_command must get an argv list, never cmd or a free-form string"
        assert all(isinstance(a, str) for a in call.argv)


def test_unchanged_container_gets_no_change_calls(monkeypatch, tmp_path):
    host, config, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    before = json.dumps(host.containers, sort_keys=True)
    host.calls.clear()
    result = run(monkeypatch, host, registry_container, container_args(config["file"], config["digest"]))
    assert host.calls == [cmd("container", "inspect", "registry"), cmd("image", "inspect", IMAGE)]
    assert result["changed"] is False
    assert result["changes"] == []
    assert json.dumps(host.containers, sort_keys=True) == before


def test_check_mode_on_a_fresh_host_only_inspects(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    host.add_image(IMAGE)
    result = run(monkeypatch, host, registry_container, container_args("config-0123456789ab.yml", "d" * 64), check_mode=True)
    assert host.calls == [cmd("container", "inspect", "registry"), cmd("image", "inspect", IMAGE)]
    # Read-only calls run for real (check mode off for them), or win_command would answer "skipped".
    assert all(c.check_mode is False for c in host.calls)
    assert host.changing_calls() == []
    assert host.containers == {}
    assert result["changed"] is True
    assert result["actions"] == ["create"]


def test_check_mode_with_a_new_config_reports_the_recreate_and_only_inspects(monkeypatch, tmp_path):
    host, config, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    before = json.dumps(host.containers, sort_keys=True)
    host.calls.clear()
    result = run(monkeypatch, host, registry_container, container_args("config-fedcba987654.yml", "e" * 64), check_mode=True)
    assert host.changing_calls() == []
    assert result["changed"] is True
    assert result["actions"] == ["recreate"]
    assert sorted(result["changes"]) == ["command", "labels"]
    assert json.dumps(host.containers, sort_keys=True) == before


def test_config_digest_change_replaces_the_container_keeping_the_old_one_until_the_new_runs(monkeypatch, tmp_path):
    host, config, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    old_file = config["file"]
    new = run(monkeypatch, host, registry_config, config_args(storage_delete=False))
    assert new["file"] != old_file
    host.calls.clear()
    result = run(monkeypatch, host, registry_container, container_args(new["file"], new["digest"]))
    calls = host.calls
    assert calls[:5] == [
        cmd("container", "inspect", "registry"),
        cmd("image", "inspect", IMAGE),
        cmd("container", "inspect", "registry-previous"),
        cmd("container", "stop", "registry"),
        cmd("container", "rename", "registry", "registry-previous"),
    ]
    assert calls[5].argv[:3] == ["docker", "container", "run"]
    assert "%s=%s" % (DIGEST_LABEL, new["digest"]) in calls[5].argv
    assert calls[5].argv[-1] == "C:\\config\\" + new["file"]
    assert calls[6:] == [
        cmd("container", "inspect", "registry"),
        cmd("container", "rm", "--force", "registry-previous"),
        # prune_replaced_config: the replaced container's own file, found through its bind mount
        Call("module", WIN_FILE, {"path": CONFIG + "\\" + old_file, "state": "absent"}, False),
        cmd("container", "inspect", "registry"),
    ]
    assert result["changed"] is True and result["actions"] == ["recreate"]
    assert sorted(result["changes"]) == ["command", "labels"]
    assert set(host.containers) == {"registry"}
    assert host.containers["registry"]["Config"]["Labels"][DIGEST_LABEL] == new["digest"]
    assert host.key(CONFIG + "\\" + new["file"]) in host.files
    assert host.key(CONFIG + "\\" + old_file) not in host.files


WINDOWS_OS_MISMATCH = (
    "docker: Error response from daemon: hcs::CreateComputeSystem 5a1b: The container operating system does not match "
    "the host operating system.\n"
)


def test_failed_run_rolls_back_to_the_old_container_and_fails_with_dockers_message(monkeypatch, tmp_path):
    host, config, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    old = json.loads(json.dumps(host.containers["registry"]))
    new = run(monkeypatch, host, registry_config, config_args(storage_delete=False))
    host.calls.clear()
    host.fail("container", "run", rc=125, stderr=WINDOWS_OS_MISMATCH)
    with pytest.raises(AnsibleActionFail) as failure:
        run(monkeypatch, host, registry_container, container_args(new["file"], new["digest"]))
    assert "The container operating system does not match the host operating system" in str(failure.value)
    assert "was restored" in str(failure.value)
    calls = host.calls
    assert calls[5].argv[:3] == ["docker", "container", "run"]
    assert calls[:5] == [
        cmd("container", "inspect", "registry"),
        cmd("image", "inspect", IMAGE),
        cmd("container", "inspect", "registry-previous"),
        cmd("container", "stop", "registry"),
        cmd("container", "rename", "registry", "registry-previous"),
    ]
    assert calls[6:] == [
        cmd("container", "inspect", "registry"),  # Docker created it before the start failed
        cmd("container", "rm", "--force", "registry"),
        cmd("container", "rename", "registry-previous", "registry"),
        cmd("container", "start", "registry"),
    ]
    assert set(host.containers) == {"registry"}
    restored = host.containers["registry"]
    assert restored["Id"] == old["Id"]
    assert restored["State"]["Running"] is True
    # The restored container still finds its own config file: nothing was pruned.
    assert host.key(CONFIG + "\\" + config["file"]) in host.files


def test_a_rollback_that_fails_too_says_so_and_what_to_do(monkeypatch, tmp_path):
    host, dummy, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    new = run(monkeypatch, host, registry_config, config_args(storage_delete=False))
    host.fail("container", "run", rc=125, stderr="port is already allocated")
    host.fail("container", "start", rc=1, stderr="hcs::CreateComputeSystem: The requested resource is in use.")
    with pytest.raises(AnsibleActionFail) as failure:
        run(monkeypatch, host, registry_container, container_args(new["file"], new["digest"]))
    message = str(failure.value)
    assert "was restored" not in message
    assert "Restoring the previous container failed too (hcs::CreateComputeSystem" in message
    assert "start it" in message


def test_new_container_that_exits_during_the_grace_period_is_rolled_back(monkeypatch, tmp_path, clock):
    host, config, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    old_id = host.containers["registry"]["Id"]
    new = run(monkeypatch, host, registry_config, config_args(storage_delete=False))
    host.calls.clear()
    # "registry" answers running to three inspects (the current container, then the new one twice), then exits.
    host.crash_after_inspects["registry"] = 3
    host.logs["registry"] = 'level=fatal msg="configuration error: open C:\\\\config\\\\x.yml: The system cannot find the file"\n'
    with pytest.raises(AnsibleActionFail) as failure:
        run(monkeypatch, host, registry_container, container_args(new["file"], new["digest"], start_grace=2.0))
    message = str(failure.value)
    assert "the new registry container did not start" in message
    assert "configuration error" in message
    assert host.containers["registry"]["Id"] == old_id
    assert host.containers["registry"]["State"]["Running"] is True
    assert clock.sleeps, "the plugin waited for the grace period (on the fake clock)"


def test_host_ip_on_windows_is_refused_naming_windows_nat(monkeypatch):
    host = FakeHost(windows=True)
    host.add_image(IMAGE)
    args = container_args("config-0123456789ab.yml", "d" * 64)
    args["published_ports"] = [{"host_port": 5000, "container_port": 5000, "host_ip": "192.0.2.10"}]
    with pytest.raises(AnsibleActionFail, match="Windows NAT") as failure:
        run(monkeypatch, host, registry_container, args)
    assert "192.0.2.10" in str(failure.value)
    assert host.changing_calls() == []


def test_stopped_container_without_changes_is_only_started(monkeypatch, tmp_path):
    host, config, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    host.containers["registry"]["State"].update(Running=False, Status="exited")
    host.calls.clear()
    result = run(monkeypatch, host, registry_container, container_args(config["file"], config["digest"]))
    assert host.calls == [cmd("container", "inspect", "registry"), cmd("image", "inspect", IMAGE), cmd("container", "start", "registry")]
    assert result["changed"] is True and result["actions"] == ["start"]


def test_absent_removes_the_container_only(monkeypatch, tmp_path):
    host, dummy, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    host.calls.clear()
    result = run(monkeypatch, host, registry_container, {"name": "registry", "state": "absent"})
    assert host.calls == [cmd("container", "inspect", "registry"), cmd("container", "rm", "--force", "registry")]
    assert result["changed"] is True
    assert host.containers == {}
    assert host.key(DATA) in host.dirs, "the data folder stays"


# -- registry_image: load -----------------------------------------------------------------------------------
def test_load_uploads_into_the_tempfile_folder_and_loads_from_there(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    archive = tmp_path / "registry.tar"
    image_id = save_archive(archive, [IMAGE])
    result = run(monkeypatch, host, registry_image, {"name": IMAGE, "source": "load", "archive": str(archive)})
    remote = TEMP + "\\image.tar"
    assert host.calls == [
        cmd("image", "inspect", IMAGE),
        Call("module", WIN_TEMPFILE, {"state": "directory", "prefix": "dockerwin-registry-"}, False),
        Call("action", WIN_COPY, {"src": str(archive), "dest": remote}, False),
        cmd("image", "load", "--input", remote),
        Call("module", WIN_FILE, {"path": TEMP, "state": "absent"}, False),
        cmd("image", "inspect", IMAGE),
    ]
    assert result["changed"] is True
    assert result["image_id"] == image_id
    assert host.key(TEMP) not in host.dirs


def test_load_of_an_image_the_host_has_sends_nothing(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    archive = tmp_path / "registry.tar"
    image_id = save_archive(archive, [IMAGE])
    host.add_image(IMAGE, image_id=image_id)
    result = run(monkeypatch, host, registry_image, {"name": IMAGE, "source": "load", "archive": str(archive)})
    assert host.calls == [cmd("image", "inspect", IMAGE)]
    assert result["changed"] is False


def test_load_in_check_mode_only_inspects(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    archive = tmp_path / "registry.tar"
    save_archive(archive, [IMAGE])
    result = run(monkeypatch, host, registry_image, {"name": IMAGE, "source": "load", "archive": str(archive)}, check_mode=True)
    assert host.calls == [cmd("image", "inspect", IMAGE)]
    assert result["changed"] is True
    assert host.images == {}


def test_load_of_an_archive_tagged_otherwise_tags_the_loaded_image(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    archive = tmp_path / "registry.tar"
    image_id = save_archive(archive, ["localbuild/registry:dev"])
    result = run(monkeypatch, host, registry_image, {"name": IMAGE, "source": "load", "archive": str(archive)})
    assert cmd("image", "tag", image_id, IMAGE) in host.calls
    assert result["image_id"] == image_id


def test_load_of_something_else_than_an_archive_fails_on_the_controller(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    bogus = tmp_path / "registry.exe"
    bogus.write_bytes(b"MZ\x90\x00 not a tar")
    with pytest.raises(AnsibleActionFail, match="registry.exe"):
        run(monkeypatch, host, registry_image, {"name": IMAGE, "source": "load", "archive": str(bogus)})
    assert host.calls == []


# -- registry_image: binary ---------------------------------------------------------------------------------
def windows_binary_inputs(tmp_path, kernel="10.0.20348.0"):
    dummy, render = role_vars("Windows", {"kernel": kernel, "os_family": "Windows", "system": "Win32NT"})
    exe = tmp_path / "registry.exe"
    exe.write_bytes(b"MZ fake registry.exe")
    return exe, render("Dockerfile.binary.windows.j2"), render("config-default.yml.j2")


@pytest.mark.parametrize("kernel, tag", [("10.0.17763.0", "ltsc2019"), ("10.0.20348.0", "ltsc2022"), ("10.0.26100.0", "ltsc2025")])
def test_windows_binary_dockerfile_uses_the_nano_server_of_the_host_build(tmp_path, kernel, tag):
    dummy, dockerfile, dummy = windows_binary_inputs(tmp_path, kernel)
    assert dockerfile.splitlines()[0] == "# escape=`"
    instructions = dockerfile_instructions(dockerfile)
    assert instructions[0] == ("FROM", "mcr.microsoft.com/windows/nanoserver:" + tag)


def test_windows_binary_dockerfile_runs_registry_exe_serve_with_the_config_path(tmp_path):
    dummy, dockerfile, config_text = windows_binary_inputs(tmp_path)
    instructions = dict(dockerfile_instructions(dockerfile))
    assert 'ENTRYPOINT ["C:\\\\registry\\\\registry.exe", "serve"]' in dockerfile.splitlines()
    assert json.loads(instructions["ENTRYPOINT"]) == ["C:\\registry\\registry.exe", "serve"]
    assert json.loads(instructions["CMD"]) == ["C:\\registry\\config.yml"]
    assert instructions["USER"] == "ContainerAdministrator"
    assert instructions["EXPOSE"] == "5000"
    assert yaml.safe_load(config_text)["storage"]["filesystem"]["rootdirectory"] == "C:\\data"
    assert yaml.safe_load(config_text)["version"] == 0.1


def test_binary_builds_on_windows_without_ldd_or_cp(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    exe, dockerfile, config_text = windows_binary_inputs(tmp_path)
    args = {"name": IMAGE, "source": "binary", "binary": str(exe), "dockerfile": dockerfile, "context_files": {"config.yml": config_text}}
    result = run(monkeypatch, host, registry_image, args)
    digest = result["build_digest"]
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert host.calls == [
        cmd("image", "inspect", IMAGE),
        Call("module", WIN_TEMPFILE, {"state": "directory", "prefix": "dockerwin-registry-"}, False),
        Call("action", WIN_COPY, {"src": str(exe), "dest": TEMP + "\\registry.exe"}, False),
        Call("action", WIN_COPY, {"content": dockerfile, "dest": TEMP + "\\Dockerfile"}, False),
        Call("action", WIN_COPY, {"content": config_text, "dest": TEMP + "\\config.yml"}, False),
        cmd("image", "build", "--tag", IMAGE, "--label", "%s=%s" % (BUILD_LABEL, digest), TEMP),
        Call("module", WIN_FILE, {"path": TEMP, "state": "absent"}, False),
        cmd("image", "inspect", IMAGE),
    ]
    assert not [argv for argv in host.commands() if argv[0] in ("ldd", "cp")]
    context = host.build_contexts[0]
    assert context[host.key(TEMP + "\\registry.exe")][1] == str(exe)
    assert context[host.key(TEMP + "\\Dockerfile")][0] == dockerfile
    assert result["changed"] is True
    assert result["image_id"] == host.images[IMAGE]["Id"]


def test_binary_with_unchanged_inputs_is_not_rebuilt_and_a_new_binary_is(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    exe, dockerfile, config_text = windows_binary_inputs(tmp_path)
    args = {"name": IMAGE, "source": "binary", "binary": str(exe), "dockerfile": dockerfile, "context_files": {"config.yml": config_text}}
    first = run(monkeypatch, host, registry_image, args)
    host.calls.clear()
    again = run(monkeypatch, host, registry_image, args)
    assert host.calls == [cmd("image", "inspect", IMAGE)]
    assert again["changed"] is False and again["build_digest"] == first["build_digest"]
    exe.write_bytes(b"MZ fake registry.exe, v3.0.1")
    host.calls.clear()
    rebuilt = run(monkeypatch, host, registry_image, args)
    assert rebuilt["changed"] is True
    assert rebuilt["build_digest"] != first["build_digest"]
    assert [argv[1:3] for argv in host.commands()].count(["image", "build"]) == 1


def test_binary_in_check_mode_only_inspects(monkeypatch, tmp_path):
    host = FakeHost(windows=True)
    exe, dockerfile, config_text = windows_binary_inputs(tmp_path)
    args = {"name": IMAGE, "source": "binary", "binary": str(exe), "dockerfile": dockerfile, "context_files": {"config.yml": config_text}}
    result = run(monkeypatch, host, registry_image, args, check_mode=True)
    assert host.calls == [cmd("image", "inspect", IMAGE)]
    assert result["changed"] is True and host.images == {}


# -- the Linux twin: the same logic through ansible.builtin ----------------------------------------------------
LINUX_IMAGE = "registry:3.0.0"


def linux_converge(monkeypatch, tmp_path):
    host = FakeHost(windows=False)
    config = run(monkeypatch, host, registry_config, {
        "data_dir": "/srv/registry-data", "config_dir": "/srv/registry-data-config", "version": "3.0.0",
        "container_data_dir": "/var/lib/registry", "storage_delete": False, "extra": {},
    })
    archive = tmp_path / "registry-linux.tar"
    save_archive(archive, [LINUX_IMAGE], windows=False)
    run(monkeypatch, host, registry_image, {"name": LINUX_IMAGE, "source": "load", "archive": str(archive)})
    container = run(monkeypatch, host, registry_container, {
        "name": "registry", "image": LINUX_IMAGE, "command": ["/etc/distribution/" + config["file"]],
        "published_ports": [{"host_port": 5000, "container_port": 5000, "host_ip": "127.0.0.1"}],
        "volumes": [{"source": "/srv/registry-data", "target": "/var/lib/registry"},
                    {"source": "/srv/registry-data-config", "target": "/etc/distribution", "read_only": True}],
        "labels": {DIGEST_LABEL: config["digest"], "io.dockerwin.registry.version": "3.0.0"},
        "prune_replaced_config": True, "start_grace": 0,
    })
    return host, config, container


def test_linux_twin_converges_with_ansible_builtin_modules_and_argv(monkeypatch, tmp_path):
    host, config, container = linux_converge(monkeypatch, tmp_path)
    assert {c.module for c in host.calls} == {"ansible.builtin.file", "ansible.builtin.copy", "ansible.builtin.tempfile", "ansible.builtin.command"}
    assert host.calls[:3] == [
        Call("module", "ansible.builtin.file", {"path": "/srv/registry-data", "state": "directory"}, False),
        Call("module", "ansible.builtin.file", {"path": "/srv/registry-data-config", "state": "directory"}, False),
        Call("action", "ansible.builtin.copy", {"content": (GOLDEN / "config-v3.yml").read_text(),
                                                "dest": "/srv/registry-data-config/config-%s.yml" % config["digest"][:12]}, False),
    ]
    argv = next(c.argv for c in host.calls if c.argv and c.argv[1:3] == ["container", "run"])
    spec = parse_run(argv, windows=False)
    assert spec["volume"] == [Volume("/srv/registry-data", "/var/lib/registry", False), Volume("/srv/registry-data-config", "/etc/distribution", True)]
    assert spec["publish"] == [Publish("127.0.0.1", "5000", "5000", "tcp")]
    assert spec["user"] == ""
    assert container["changed"] is True


def test_linux_and_windows_share_the_same_steps(monkeypatch, tmp_path):
    """Same converge on both: the same kinds of calls and docker sub-commands in the same order."""
    win, dummy, dummy, dummy, dummy = converge_fresh_windows_host(monkeypatch, tmp_path)
    windows_calls = list(win.calls)
    linux, dummy, dummy = linux_converge(monkeypatch, tmp_path)
    container_part = linux.calls[-len(windows_calls):]

    def shape(call):
        kind = call.module.rsplit(".", 1)[1].replace("win_", "")
        return (call.kind, kind, tuple(call.argv[1:3]) if call.argv else None)

    assert [shape(c) for c in container_part] == [shape(c) for c in windows_calls]
    assert all(c.module.startswith("ansible.builtin.") for c in linux.calls)


# -- documentation stubs (plugins/modules/*.py) match the action plugins ------------------------------------------
PLUGINS = {"registry_config": registry_config, "registry_image": registry_image, "registry_container": registry_container}


def _spec_from_arguments(spec):
    out = {}
    for name, option in spec.items():
        entry = {
            "type": option.get("type", "str"),
            "required": bool(option.get("required", False)),
            "default": option.get("default"),
            "choices": option.get("choices"),
            "elements": option.get("elements"),
        }
        if "options" in option:
            entry["options"] = _spec_from_arguments(option["options"])
        out[name] = entry
    return out


def _spec_from_docs(options):
    out = {}
    for name, option in options.items():
        entry = {
            "type": option.get("type", "str"),
            "required": bool(option.get("required", False)),
            "default": option.get("default"),
            "choices": option.get("choices"),
            "elements": option.get("elements"),
        }
        if "suboptions" in option:
            entry["options"] = _spec_from_docs(option["suboptions"])
        out[name] = entry
    return out


@pytest.fixture(scope="module")
def ansible_doc(collection_env):
    """The docs as ansible-doc builds them (doc fragments merged), for the three action plugins."""
    names = ["dockerwin.registry." + name for name in PLUGINS]
    completed = subprocess.run([sys.executable, "-m", "ansible", "doc", "--json", "-t", "module", *names],
                               env=collection_env, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.parametrize("name", list(PLUGINS))
def test_documented_options_are_the_argument_spec(ansible_doc, name):
    doc = ansible_doc["dockerwin.registry." + name]["doc"]
    assert _spec_from_docs(doc["options"]) == _spec_from_arguments(PLUGINS[name].ARGUMENT_SPEC)


@pytest.mark.parametrize("name", list(PLUGINS))
def test_documented_attributes_and_header(ansible_doc, name):
    doc = ansible_doc["dockerwin.registry." + name]["doc"]
    attributes = doc["attributes"]
    assert attributes["check_mode"]["support"] == "full"
    assert attributes["diff_mode"]["support"] == "full"
    assert attributes["platform"]["platforms"] == ["posix", "windows"]
    assert attributes["action"]["support"] == "full"
    assert attributes["async"]["support"] == "none"
    assert attributes["bypass_host_loop"]["support"] == "none"
    assert all(a.get("description") for a in attributes.values())
    assert doc["version_added"] == "0.1.0"
    assert doc["author"] == ["dockerwin.registry contributors (!UNKNOWN)"]  # the form validate-modules accepts
    assert PLUGINS[name].ActionModule._supports_check_mode is True
    assert PLUGINS[name].ActionModule._supports_async is False
    source = (CHECKOUT / "plugins" / "modules" / (name + ".py")).read_text()
    assert "# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)\n" in source


@pytest.mark.parametrize("name", list(PLUGINS))
def test_examples_are_yaml_tasks_with_valid_arguments(ansible_doc, name):
    tasks = yaml.safe_load(ansible_doc["dockerwin.registry." + name]["examples"])
    plugin = PLUGINS[name]
    validator = ArgumentSpecValidator(plugin.ARGUMENT_SPEC, required_if=getattr(plugin, "REQUIRED_IF", None))
    seen = 0
    for task in tasks:
        assert task.get("name"), "every example task has a name"
        modules = [k for k in task if "." in k]
        assert modules and all(m.startswith(("dockerwin.registry.", "ansible.")) for m in modules), "FQCNs only"
        if "dockerwin.registry." + name in task:
            seen += 1
            result = validator.validate(task["dockerwin.registry." + name])
            assert result.error_messages == [], task
    assert seen >= 2
