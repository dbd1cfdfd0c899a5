# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what ansible-core sends to a PowerShell host: the bootstrap input and the exec manifest.

ansible-core (2.20, 2.21: lib/ansible/executor/powershell/module_manifest.py) pipes to bootstrap_wrapper.ps1:

    <bootstrap JSON: name exec_wrapper, script, params MinOSVersion/MinPSVersion/TempPath[/PwshPath]>
    \\n\\0\\0\\0\\0\\n
    <exec manifest JSON: scripts {name: {path, script (base64)}}, actions [{name, params, secure_params}],
     signed_hashlist>

A module run ends with the action module_wrapper.ps1, whose params name the module script (`Script`, the
module's FQN plus .ps1) and carry the arguments (`Variables`: complex_args). Helper runs (a temporary folder,
`~` expansion) are one action of their own script. The format is internal to ansible-core: anything else
fails with PayloadError naming what was expected, never with a guess.
"""

from __future__ import annotations

import base64
import dataclasses
import json

SEPARATOR = b"\n\0\0\0\0\n"
# The exec-wrapper parameters each known ansible-core sends (2.21 added PwshPath).
KNOWN_BOOTSTRAP_PARAMS = (
    frozenset({"MinOSVersion", "MinPSVersion", "TempPath"}),  # ansible-core 2.20
    frozenset({"MinOSVersion", "MinPSVersion", "TempPath", "PwshPath"}),  # ansible-core 2.21
)
HELPER_SCRIPTS = ("powershell_mkdtemp.ps1", "powershell_expand_user.ps1")
UNSUPPORTED_ACTIONS = {
    "become_wrapper.ps1": "become (runas)",
    "async_wrapper.ps1": "async",
    "async_watchdog.ps1": "async",
    "coverage_wrapper.ps1": "coverage collection",
}


class PayloadError(Exception):
    """The input is not an exec-wrapper payload this simulator can read."""


@dataclasses.dataclass
class Payload:
    kind: str  # "module" or the helper script's name
    module: str = ""  # FQCN of the module, e.g. ansible.windows.win_file
    module_path: str = ""  # the module's file on the controller (its docs sit beside it)
    args: dict = dataclasses.field(default_factory=dict)
    environment: dict = dataclasses.field(default_factory=dict)
    params: dict = dataclasses.field(default_factory=dict)  # helper script parameters
    bootstrap_params: dict = dataclasses.field(default_factory=dict)


def _fail(what, core_version=None):
    version = " (ansible-core %s)" % core_version if core_version else ""
    raise PayloadError(
        "simulated Windows host: cannot read the PowerShell payload this ansible-core%s sent: %s. The exec wrapper "
        "format is internal to ansible-core; tests/integration/simwin/payload.py reads the 2.20 and 2.21 formats "
        "(bootstrap JSON, NUL separator line, exec manifest JSON with actions and module_wrapper.ps1): extend it for "
        "this version." % (version, what)
    )


def _json(part, what, core_version):
    try:
        value = json.loads(part.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        _fail("%s is not JSON (%s)" % (what, exc), core_version)
    if not isinstance(value, dict):
        _fail("%s is not a JSON object" % what, core_version)
    return value


def fqcn_from_script(script_name):
    """'ansible_collections.ansible.windows.plugins.modules.win_file.ps1' -> 'ansible.windows.win_file'."""
    name = script_name[:-4] if script_name.lower().endswith(".ps1") else script_name
    parts = name.split(".")
    if len(parts) == 6 and parts[0] == "ansible_collections" and parts[3:5] == ["plugins", "modules"]:
        return "%s.%s.%s" % (parts[1], parts[2], parts[5])
    if name.startswith("ansible.modules."):
        return "ansible.builtin.%s" % name.rsplit(".", 1)[1]
    return name


def parse(in_data, core_version=None):
    """The Payload in `in_data` (bytes piped to bootstrap_wrapper.ps1)."""
    if not in_data:
        _fail("no input (pipelining must be on: the connection declares always_pipeline_modules)", core_version)
    if SEPARATOR not in in_data:
        _fail("no NUL separator line between the bootstrap JSON and the exec manifest", core_version)
    head, dummy, rest = in_data.partition(SEPARATOR)
    # Input after a second separator is data for the script (has_input); none of the helpers used here sends any.
    manifest_part = rest.partition(SEPARATOR)[0]
    bootstrap = _json(head, "the bootstrap part", core_version)
    if bootstrap.get("name") != "exec_wrapper" or "script" not in bootstrap:
        _fail("the bootstrap part does not name exec_wrapper (keys: %s)" % sorted(bootstrap), core_version)
    bootstrap_params = bootstrap.get("params") or {}
    if frozenset(bootstrap_params) not in KNOWN_BOOTSTRAP_PARAMS:
        _fail("unknown exec_wrapper parameters %s" % sorted(bootstrap_params), core_version)
    manifest = _json(manifest_part, "the exec manifest", core_version)
    scripts, actions = manifest.get("scripts"), manifest.get("actions")
    if not isinstance(scripts, dict) or not isinstance(actions, list) or not actions:
        _fail("the exec manifest has no scripts/actions (keys: %s)" % sorted(manifest), core_version)
    for action in actions:
        if not isinstance(action, dict) or "name" not in action or "params" not in action:
            _fail("an exec manifest action lacks name/params: %r" % (action,), core_version)
        if action["name"] in UNSUPPORTED_ACTIONS:
            raise PayloadError("simulated Windows host: %s is not simulated (action %s in the exec manifest)"
                               % (UNSUPPORTED_ACTIONS[action["name"]], action["name"]))
    last = actions[-1]
    if last["name"] in HELPER_SCRIPTS:
        return Payload(kind=last["name"], params=dict(last["params"]), bootstrap_params=bootstrap_params)
    if last["name"] != "module_wrapper.ps1":
        _fail("the last action is %r, expected module_wrapper.ps1 or a known helper" % last["name"], core_version)
    params = last["params"]
    script = params.get("Script")
    if not script or script not in scripts:
        _fail("module_wrapper.ps1 names no script in the manifest (Script=%r)" % (script,), core_version)
    if not params.get("ForModule"):
        raise PayloadError("simulated Windows host: only modules run here, not scripts (%s)" % script)
    args = None
    for variable in params.get("Variables") or []:
        if variable.get("Name") == "complex_args":
            args = variable.get("Value")
    if not isinstance(args, dict):
        _fail("module_wrapper.ps1 carries no complex_args variable for %s" % script, core_version)
    info = scripts[script]
    try:
        base64.b64decode(info["script"], validate=True)
    except (KeyError, ValueError, TypeError):
        _fail("the module script %s is not base64" % script, core_version)
    return Payload(
        kind="module",
        module=fqcn_from_script(script),
        module_path=info.get("path", ""),
        args=args,
        environment=dict(params.get("Environment") or {}),
        bootstrap_params=bootstrap_params,
    )
