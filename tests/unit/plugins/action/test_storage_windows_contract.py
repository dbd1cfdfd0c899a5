# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage backends (#9 storage) on a Windows host (recorded, tests/unit/plugins/action/recorder.py): registry_config
with s3/azure writes the config through win_copy with no_log and without the copy's diff, the result and diff hold
no secret; registry_storage reads the running container's config through its mounts and refuses a backend change
of a registry that holds images before any change call (the unused new config file is removed again).
"""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.dockerwin.registry.plugins.action import registry_config, registry_storage
from ansible_collections.dockerwin.registry.tests.unit.plugins.action.recorder import FakeHost
from ansible_collections.dockerwin.registry.tests.unit.plugins.action.test_windows_contract import CONFIG, config_args, run

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCOUNT_KEY = "c2VjcmV0LWFjY291bnQta2V5LWZvci10ZXN0cw=="
S3 = {"bucket": "registry-data", "region": "us-east-1", "regionendpoint": "https://minio.corp.example:9000",
      "accesskey": "AKIAEXAMPLE", "secretkey": SECRET}


class CopyHost(FakeHost):
    def __init__(self):
        super().__init__(windows=True)
        self.copies = []  # (dest, no_log, diff)

    def copy_action(self, name, task):
        self.copies.append((task.args["dest"], bool(task.no_log), bool(task.diff)))
        return super().copy_action(name, task)

    def text(self, path):
        return self.files[self.key(path)][0]


@pytest.mark.parametrize("storage, settings, secret", [
    ("s3", {"storage_s3": S3}, SECRET),
    ("azure", {"storage_azure": {"accountname": "acme", "accountkey": ACCOUNT_KEY, "container": "registry"}}, ACCOUNT_KEY),
])
def test_object_storage_config_is_written_no_log_and_redacted_on_windows(monkeypatch, storage, settings, secret):
    host = CopyHost()
    result = run(monkeypatch, host, registry_config, config_args(storage=storage, **settings))
    config = yaml.safe_load(host.text(result["path"]))
    assert secret in json.dumps(config["storage"][storage]), "the secret is in the file the registry reads"
    assert "filesystem" not in config["storage"] and config["storage"]["redirect"] == {"disable": True}
    assert host.copies == [(result["path"], True, False)], "written with no_log, without the copy's diff"
    assert secret not in json.dumps(result)
    assert "VALUE_REDACTED" in result["diff"]["after"]
    assert result["storage"]["driver"] == storage
    again = run(monkeypatch, host, registry_config, config_args(storage=storage, **settings))
    assert again["changed"] is False and "diff" not in again


def test_s3_config_error_names_the_variable_before_touching_the_host(monkeypatch):
    host = CopyHost()
    with pytest.raises(AnsibleActionFail, match="windows_registry_storage_s3_accesskey and windows_registry_storage_s3_secretkey"):
        run(monkeypatch, host, registry_config, config_args(storage="s3", storage_s3=dict(S3, secretkey="")))
    assert host.calls == []


def test_backend_change_with_images_is_refused_before_any_change_on_windows(monkeypatch):
    host = CopyHost()
    old = run(monkeypatch, host, registry_config, config_args())
    host.containers["registry"] = {  # the running registry, as `docker container inspect` shows it
        "Id": "f" * 64, "Name": "/registry", "Image": "sha256:" + "1" * 64,
        "Config": {"Cmd": ["C:\\config\\" + old["file"]], "Labels": {}},
        "State": {"Status": "running", "Running": True, "Restarting": False},
        "HostConfig": {}, "Mounts": [
            {"Type": "bind", "Source": "C:\\registry-data", "Destination": "c:\\data", "RW": True},
            {"Type": "bind", "Source": CONFIG, "Destination": "c:\\config", "RW": False}],
    }
    new = run(monkeypatch, host, registry_config, config_args(storage="s3", storage_s3=S3))
    monkeypatch.setattr(registry_storage._Storage, "tagged", staticmethod(lambda client: {"team/app": ["1", "2"]}))
    monkeypatch.setattr(registry_storage.RegistryWriter, "ping", lambda self, wait_timeout=0: None)
    host.calls.clear()
    args = {"name": "registry", "storage": new["storage"], "migrate": False, "command": ["C:\\config\\" + new["file"]],
            "url": "http://win2022:5000", "migrate_port": 5001}
    with pytest.raises(AnsibleActionFail) as error:
        run(monkeypatch, host, registry_storage, args)
    message = str(error.value)
    assert "holds 1 repositories (2 tags) in filesystem (rootdirectory=C:\\data)" in message, message
    assert "windows_registry_storage_migrate: true" in message and SECRET not in message
    reads = [(c.kind, c.module) for c in host.calls]
    assert reads[:2] == [("module", "ansible.windows.win_command"), ("module", "ansible.builtin.slurp")], reads
    assert host.calls[1].args["src"] == CONFIG + "\\" + old["file"], "the running config, read through the config mount"
    assert [c.args for c in host.changing_calls()] == [{"path": new["path"], "state": "absent"}], "only the unused new file goes"
    assert host.key(old["path"]) in host.files and host.key(new["path"]) not in host.files
