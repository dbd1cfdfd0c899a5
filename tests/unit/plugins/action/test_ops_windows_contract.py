# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract of the day-2 action plugins on Windows: registry_gc and registry_archive, run for real against the
recorded host of recorder.py (PowerShell shell, ansible.windows modules, argv lists).

Expectations from the documentation, not from the code:
- `docker container run --rm --entrypoint <exe> ... <image> <args>` (docs.docker.com, "docker container run":
  --rm, --entrypoint overrides the image's ENTRYPOINT, arguments after the image go to it);
- `registry garbage-collect [--dry-run] [--delete-untagged] <config>` (distribution's `registry garbage-collect
  --help`: -d/--dry-run, -m/--delete-untagged, the config path as the argument);
- Windows bind mounts as `C:\\host:C:\\container[:ro]`; the registry.exe of the images this collection builds is
  C:\\registry\\registry.exe (Dockerfile.binary.windows.j2);
- Windows Server 2019+ ships bsdtar as tar.exe: `tar -czf <archive> -C <dir> .` and `tar -xzf <archive> -C <dir>`.
"""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.dockerwin.registry.plugins.action import registry_archive, registry_config, registry_gc
from ansible_collections.dockerwin.registry.tests.unit.plugins.action.recorder import FakeHost, make_action, parse_volume

WIN_COMMAND = "ansible.windows.win_command"
IMAGE_ID = "sha256:" + "ab" * 32
GC_OUTPUT = """team/a
marking manifest sha256:%s
marking blob sha256:%s
blob eligible for deletion: sha256:%s
time="2026-12-04T16:00:00Z" level=info msg="Deleting blob: /docker/registry/v2/blobs/sha256/%s/%s" go.version=go1.23
2 blobs marked, 1 blobs and 0 manifests eligible for deletion
""" % ("11" * 32, "22" * 32, "33" * 32, "33", "33" * 32)


class OpsHost(FakeHost):
    """recorder's FakeHost, plus the one-off `docker container run --rm --entrypoint` and tar."""

    def __init__(self, windows=True):
        super().__init__(windows=windows)
        self.oneoff = []
        self.tar = []
        self.gc_answer = (0, "", GC_OUTPUT)  # rc, stdout, stderr of the one-off garbage-collect
        sep = "\\" if windows else "/"
        data, config = ("C:\\registry-data", "C:\\registry-data-config") if windows else ("/srv/registry-data", "/srv/registry-data-config")
        cdata, cconfig = ("c:\\data", "c:\\config") if windows else ("/var/lib/registry", "/etc/distribution")
        self.containers["registry"] = {
            "Id": "c" * 64,
            "Image": IMAGE_ID,
            "Config": {"Cmd": [("C:\\config" if windows else cconfig) + sep + "config-0123456789ab.yml"], "User": "ContainerUser" if windows else "",
                       "Labels": {"io.dockerwin.registry.version": "3.0.0", "io.dockerwin.registry.managed": "true"}},
            "HostConfig": {"Isolation": "process" if windows else "", "RestartPolicy": {"Name": "unless-stopped"}},
            "Mounts": [
                {"Type": "bind", "Source": data, "Destination": cdata, "RW": True},
                {"Type": "bind", "Source": config, "Destination": cconfig, "RW": False},
                {"Type": "volume", "Name": "x" * 64, "Source": "", "Destination": "c:\\ignored", "RW": True},
            ],
            "State": {"Running": True, "Status": "running"},
        }

    def _command(self, module_name, args):
        argv = list(args["argv"])
        if argv[:4] == ["docker", "container", "run", "--rm"]:
            self.oneoff.append(argv)
            return self._answer(module_name, argv, *self.gc_answer)
        if argv[0] == "tar":
            self.tar.append(argv)
            return self._answer(module_name, argv, 0)
        if argv[0] == "du":
            return self._answer(module_name, argv, 0, stdout="%d\t%s\n" % (4096 if len(self.oneoff) else 8192, argv[-1]))
        return super()._command(module_name, args)


def parse_oneoff(argv, windows=True):
    """What Docker makes of `docker container run --rm` argv (options end at the image)."""
    assert argv[:4] == ["docker", "container", "run", "--rm"]
    rest, parsed, i = argv[4:], {"volume": [], "label": {}}, 0
    while rest[i].startswith("-"):
        flag, value = rest[i], rest[i + 1]
        assert flag in ("--name", "--volume", "--label", "--isolation", "--user", "--entrypoint"), flag
        if flag == "--volume":
            parsed["volume"].append(parse_volume(value, windows))
        elif flag == "--label":
            parsed["label"].__setitem__(*value.split("=", 1))
        else:
            parsed[flag[2:]] = value
        i += 2
    parsed["image"], parsed["args"] = rest[i], rest[i + 1:]
    return parsed


def run(monkeypatch, host, module, args, check_mode=False):
    fqcn = "dockerwin.registry." + module.__name__.rsplit(".", 1)[1]
    action = make_action(module, fqcn, args, host, check_mode=check_mode, monkeypatch=monkeypatch)
    result = action.run(task_vars={"inventory_hostname": "win2022"})
    assert action._task.check_mode == check_mode
    return result


def test_gc_runs_registry_exe_in_a_oneoff_container_with_the_same_mounts_and_config(monkeypatch):
    host = OpsHost()
    result = run(monkeypatch, host, registry_gc, {"container": "registry", "data_dir": "C:\\registry-data"})
    [argv] = host.oneoff
    run_spec = parse_oneoff(argv)
    assert run_spec["entrypoint"] == "C:\\registry\\registry.exe"
    assert run_spec["image"] == IMAGE_ID
    assert run_spec["args"] == ["garbage-collect", "C:\\config\\config-0123456789ab.yml"]
    assert [(v.source, v.destination.lower(), v.read_only) for v in run_spec["volume"]] == [
        ("C:\\registry-data", "c:\\data", False), ("C:\\registry-data-config", "c:\\config", True)]
    assert run_spec["isolation"] == "process" and run_spec["user"] == "ContainerUser"
    assert run_spec["name"] == "registry-gc"
    assert "--publish" not in argv and "--restart" not in argv
    # every call through ansible.windows modules with argv; no du on Windows: the GC output is the account
    assert all(c.module.startswith("ansible.windows.") or c.module == "ansible.builtin.slurp" for c in host.calls)
    assert not any(c.args.get("argv", [""])[0] == "du" for c in host.calls)
    assert result["deleted_blobs"] == ["sha256:" + "33" * 32] and result["blobs_marked"] == 2
    assert result["bytes_freed"] is None and result["changed"] is True


def test_gc_of_an_s3_store_without_repositories_collects_nothing_and_fails_on_other_errors(monkeypatch):
    host = OpsHost()
    host.gc_answer = (1, "", 'time="2026-12-04T20:15:00Z" level=info msg="..."\nfailed to garbage collect: failed to mark: '
                      's3aws: Path not found: /docker/registry/v2/repositories\n')
    result = run(monkeypatch, host, registry_gc, {"container": "registry"})
    assert result["changed"] is False and result["blobs_eligible"] == 0 and result["deleted_blobs"] == []
    assert "no repository yet" in result["msg"]
    host.gc_answer = (1, "", "failed to garbage collect: failed to mark: s3aws: AccessDenied\n")
    with pytest.raises(AnsibleActionFail, match="garbage-collect failed.*AccessDenied"):
        run(monkeypatch, host, registry_gc, {"container": "registry"})


def test_gc_dry_run_and_delete_untagged_flags(monkeypatch):
    host = OpsHost()
    run(monkeypatch, host, registry_gc, {"container": "registry", "dry_run": True, "delete_untagged": True})
    config = "C:\\config\\config-0123456789ab.yml"
    assert parse_oneoff(host.oneoff[0])["args"] == ["garbage-collect", "--dry-run", "--delete-untagged", config]


def test_gc_delete_untagged_refused_below_3_before_any_run(monkeypatch):
    host = OpsHost()
    host.containers["registry"]["Config"]["Labels"]["io.dockerwin.registry.version"] = "2.8.3"
    with pytest.raises(AnsibleActionFail, match="#3178|issue 3178"):
        run(monkeypatch, host, registry_gc, {"container": "registry", "delete_untagged": True})
    assert host.oneoff == []
    run(monkeypatch, host, registry_gc, {"container": "registry", "delete_untagged": True, "force": True})
    assert "--delete-untagged" in host.oneoff[0]


def test_gc_check_mode_runs_nothing(monkeypatch):
    host = OpsHost()
    result = run(monkeypatch, host, registry_gc, {"container": "registry"}, check_mode=True)
    assert host.oneoff == [] and result["changed"] is True
    assert parse_oneoff(result["cmd"])["entrypoint"] == "C:\\registry\\registry.exe"


def test_gc_on_linux_measures_the_data_folder(monkeypatch):
    host = OpsHost(windows=False)
    result = run(monkeypatch, host, registry_gc, {"container": "registry", "data_dir": "/srv/registry-data"})
    assert parse_oneoff(host.oneoff[0], windows=False)["entrypoint"] == "/bin/registry"
    assert result["bytes_before"] == 8192 and result["bytes_after"] == 4096 and result["bytes_freed"] == 4096


def test_backup_tars_the_data_folder_then_writes_the_digests_beside(monkeypatch):
    host = OpsHost()
    args = {"state": "backup", "data_dir": "C:\\registry-data", "archive": "D:\\backups\\registry.tar.gz",
            "snapshot": {"team/a:1": "sha256:" + "44" * 32}}
    result = run(monkeypatch, host, registry_archive, args)
    assert host.tar == [["tar", "-czf", "D:\\backups\\registry.tar.gz", "-C", "C:\\registry-data", "."]]
    writes = [c for c in host.calls if c.module == "ansible.windows.win_copy"]
    assert [c.args["dest"] for c in writes] == ["D:\\backups\\registry.tar.gz.json"]
    assert host.calls.index(writes[0]) > max(i for i, c in enumerate(host.calls) if c.module == WIN_COMMAND)
    assert json.loads(writes[0].args["content"])["digests"] == args["snapshot"]
    assert result["changed"] is True
    again = run(monkeypatch, host, registry_archive, args)
    assert again["changed"] is False and len(host.tar) == 1


def test_restore_empties_only_the_docker_folder_then_untars(monkeypatch):
    host = OpsHost()
    host.files[host.key("D:\\backups\\registry.tar.gz.json")] = (json.dumps({"digests": {"a:1": "sha256:" + "55" * 32}}), None)
    check = run(monkeypatch, host, registry_archive, {"state": "restore", "data_dir": "C:\\registry-data",
                                                      "archive": "D:\\backups\\registry.tar.gz"}, check_mode=True)
    assert host.tar == [] and check["changed"] is True
    result = run(monkeypatch, host, registry_archive, {"state": "restore", "data_dir": "C:\\registry-data",
                                                       "archive": "D:\\backups\\registry.tar.gz"})
    removed = [c.args["path"] for c in host.calls if c.module == "ansible.windows.win_file" and c.args.get("state") == "absent"]
    assert removed == ["C:\\registry-data\\docker"]
    assert host.tar == [["tar", "-xzf", "D:\\backups\\registry.tar.gz", "-C", "C:\\registry-data"]]
    assert result["snapshot"] == {"a:1": "sha256:" + "55" * 32}


def test_restore_without_the_digest_file_is_refused(monkeypatch):
    host = OpsHost()
    with pytest.raises(AnsibleActionFail, match="not a complete backup"):
        run(monkeypatch, host, registry_archive, {"state": "restore", "data_dir": "C:\\registry-data", "archive": "D:\\x.tar.gz"})
    assert host.tar == []


# -- pull-through cache instance (windows_registry_proxy_*) ---------------------------------------------------------
class CopyRecordingHost(FakeHost):
    """FakeHost that notes how each copy sub-action ran: (dest, no_log, diff)."""

    def __init__(self):
        super().__init__(windows=True)
        self.copies = []

    def copy_action(self, name, task):
        self.copies.append((task.args["dest"], bool(task.no_log), bool(task.diff)))
        return super().copy_action(name, task)


def test_proxy_instance_config_holds_the_upstream_password_owner_only_and_redacted(monkeypatch):
    host = CopyRecordingHost()
    args = {"data_dir": "C:\\registry-cache", "config_dir": "C:\\registry-cache-config", "version": "3.0.0", "container_data_dir": "C:\\data",
            "proxy_remote_url": "https://registry-1.docker.io", "proxy_username": "mirror", "proxy_password": "up-pw-1"}
    action = make_action(registry_config, "dockerwin.registry.registry_config", args, host, monkeypatch=monkeypatch)
    action._task.diff = True
    result = action.run(task_vars={"inventory_hostname": "win2022"})
    data = host.files[host.key(result["path"])][0]
    config = yaml.safe_load(data if isinstance(data, str) else data.decode())
    assert config["proxy"] == {"remoteurl": "https://registry-1.docker.io", "username": "mirror", "password": "up-pw-1"}
    assert host.copies == [(result["path"], True, False)], "written with no_log and without the copy's diff"
    assert "up-pw-1" not in json.dumps(result)
    assert "password: VALUE_REDACTED" in result["diff"]["after"] and "remoteurl: https://registry-1.docker.io" in result["diff"]["after"]
