# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated Windows host reads the PowerShell payload of the ansible-core that runs these tests.

The payloads are made by this ansible-core's own module_manifest (2.21 in .venv, 2.20 in .venv-core2.20 under
`make compat`, hence the smoke mark): a format change in a new ansible-core fails here first, with the
simulator's message, rather than deep inside a role run. No Docker, no playbook: milliseconds.
"""

from __future__ import annotations

import base64
import inspect
import json
import os

import pytest
from ansible.executor.powershell import module_manifest
from ansible.release import __version__ as CORE_VERSION

from simwin import payload
from simwin.payload import PayloadError

pytestmark = pytest.mark.smoke


def windows_module(name):
    """Path of an ansible.windows module's .ps1 (from the collections on sys.path, as ansible-core finds them)."""
    import ansible_collections.ansible.windows as collection  # noqa: PLC0415  (namespace package on sys.path)

    return os.path.join(list(collection.__path__)[0], "plugins", "modules", name + ".ps1")


def module_payload(name="slurp", args=None, **extra):
    """The bytes ansible-core pipes to bootstrap_wrapper.ps1 for module `name` of ansible.windows."""
    path = windows_module(name)
    with open(path, "rb") as handle:
        data = handle.read()
    kwargs = {
        "name": "ansible_collections.ansible.windows.plugins.modules.%s" % name, "module_data": data, "module_path": path,
        "module_args": dict(args or {"src": "C:\\x.txt", "_ansible_check_mode": True}), "environment": {"HELLO": "1"},
        "async_timeout": 0, "become_plugin": None, "substyle": "powershell", "task_vars": {}, "profile": "legacy",
        "pwsh_interpreter": "powershell",
    }
    kwargs.update(extra)
    accepted = inspect.signature(module_manifest._create_powershell_wrapper).parameters
    return module_manifest._create_powershell_wrapper(**{k: v for k, v in kwargs.items() if k in accepted})


def test_module_payload_names_module_and_carries_args():
    sent = payload.parse(module_payload(args={"src": "C:\\ProgramData\\x.json", "_ansible_check_mode": True}), CORE_VERSION)
    assert sent.kind == "module"
    assert sent.module == "ansible.windows.slurp"
    assert sent.module_path.endswith(os.path.join("ansible", "windows", "plugins", "modules", "slurp.ps1"))
    assert sent.args == {"src": "C:\\ProgramData\\x.json", "_ansible_check_mode": True}
    assert sent.environment == {"HELLO": "1"}
    assert set(sent.bootstrap_params) >= {"MinOSVersion", "MinPSVersion", "TempPath"}


def test_helper_payloads_are_read():
    dummy, stdin = module_manifest._bootstrap_powershell_script(
        "powershell_mkdtemp.ps1", {"Directory": "%TEMP%", "Name": "ansible-tmp-1"})
    sent = payload.parse(stdin, CORE_VERSION)
    assert (sent.kind, sent.params) == ("powershell_mkdtemp.ps1", {"Directory": "%TEMP%", "Name": "ansible-tmp-1"})
    dummy, stdin = module_manifest._bootstrap_powershell_script("powershell_expand_user.ps1", {"Path": "~\\x"})
    assert payload.parse(stdin, CORE_VERSION).params == {"Path": "~\\x"}


def _split(data):
    head, dummy, manifest = data.partition(payload.SEPARATOR)
    return json.loads(head), json.loads(manifest)


def _join(bootstrap, manifest):
    return json.dumps(bootstrap).encode() + payload.SEPARATOR + json.dumps(manifest).encode()


@pytest.mark.parametrize("mangle, message", [
    (lambda b, m: (b, m), None),
    (lambda b, m: (dict(b, params=dict(b["params"], NewParam=1)), m), "unknown exec_wrapper parameters"),
    (lambda b, m: (dict(b, name="other"), m), "does not name exec_wrapper"),
    (lambda b, m: (b, {"scripts": m["scripts"], "steps": m["actions"]}), "no scripts/actions"),
    (lambda b, m: (b, dict(m, actions=m["actions"][:-1] + [dict(m["actions"][-1], name="module_wrapper2.ps1")])),
     "expected module_wrapper.ps1"),
    (lambda b, m: (b, dict(m, actions=m["actions"][:-1] + [dict(m["actions"][-1], params=dict(
        m["actions"][-1]["params"], Variables=[]))])), "carries no complex_args"),
])
def test_unknown_formats_fail_with_a_clear_message(mangle, message):
    bootstrap, manifest = _split(module_payload())
    data = _join(*mangle(bootstrap, manifest))
    if message is None:
        assert payload.parse(data, CORE_VERSION).module == "ansible.windows.slurp"
        return
    with pytest.raises(PayloadError) as caught:
        payload.parse(data, CORE_VERSION)
    text = str(caught.value)
    assert message in text
    assert "ansible-core %s" % CORE_VERSION in text and "extend it for this version" in text


@pytest.mark.parametrize("data, message", [
    (b"", "no input"),
    (b"Write-Host hello", "no NUL separator"),
    (b"not json" + payload.SEPARATOR + b"{}", "the bootstrap part is not JSON"),
])
def test_garbage_fails_with_a_clear_message(data, message):
    with pytest.raises(PayloadError, match=message):
        payload.parse(data, CORE_VERSION)


def test_become_and_async_are_refused():
    bootstrap, manifest = _split(module_payload())
    manifest["actions"].insert(0, {"name": "become_wrapper.ps1", "params": {}, "secure_params": {}})
    with pytest.raises(PayloadError, match="become .runas. is not simulated"):
        payload.parse(_join(bootstrap, manifest), CORE_VERSION)


def test_module_script_is_base64():
    bootstrap, manifest = _split(module_payload())
    script = manifest["actions"][-1]["params"]["Script"]
    assert base64.b64decode(manifest["scripts"][script]["script"]).startswith(b"#!powershell")
    manifest["scripts"][script]["script"] = "#!powershell not base64"
    with pytest.raises(PayloadError, match="is not base64"):
        payload.parse(_join(bootstrap, manifest), CORE_VERSION)


def test_fqcn_from_script():
    assert payload.fqcn_from_script("ansible_collections.community.windows.plugins.modules.win_firewall_rule.ps1") == \
        "community.windows.win_firewall_rule"
    assert payload.fqcn_from_script("ansible.modules.ping.ps1") == "ansible.builtin.ping"
