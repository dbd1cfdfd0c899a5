# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection plugin of the simulated Windows host (test-only; see tests/README.md)."""

from __future__ import annotations

DOCUMENTATION = """
name: dockerwin_simwin
short_description: A simulated Windows Server host for the dockerwin.registry tests
description:
  - Presents itself to Ansible as a Windows host (PowerShell shell, C(.ps1) modules first, pipelining) and answers the
    stock Windows modules from tests/integration/simwin on a virtual C drive in a folder. Test-only, never shipped.
author: dockerwin.registry contributors (@dockerwin)
options:
  root:
    description: The simulated host's folder (made by simwin.vhost.create).
    type: str
    required: true
    vars:
      - name: dockerwin_simwin_root
    env:
      - name: DOCKERWIN_SIMWIN_ROOT
"""

import base64  # noqa: E402
import json  # noqa: E402
import ntpath  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402

from ansible.errors import AnsibleConnectionFailure, AnsibleError  # noqa: E402
from ansible.plugins.connection import ConnectionBase  # noqa: E402
from ansible.release import __version__ as CORE_VERSION  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from simwin import modules, payload  # noqa: E402  (tests/integration)
from simwin.vhost import Host, SimError  # noqa: E402


BOILERPLATE = {
    "Set-StrictMode -Version Latest",
    "If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) { exit $LASTEXITCODE } Else { exit 1 } }",
}


class Connection(ConnectionBase):
    transport = "dockerwin_simwin"
    module_implementation_preferences = (".ps1", ".exe", "")
    allow_executable = False
    has_pipelining = True
    always_pipeline_modules = True
    has_native_async = False
    allow_extras = False

    def __init__(self, *args, **kwargs):
        self._shell_type = "powershell"
        super().__init__(*args, **kwargs)
        self.host = None

    def _connect(self):
        if not self._connected:
            root = self.get_option("root")
            if not root or not os.path.isfile(os.path.join(root, "host.json")):
                raise AnsibleConnectionFailure("dockerwin_simwin: %r is no simulated host folder (no host.json)" % root)
            self.host = Host(root)
            self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        if in_data:
            try:
                sent = payload.parse(in_data, CORE_VERSION)
            except payload.PayloadError as exc:
                raise AnsibleError(str(exc)) from exc
            if sent.kind == "module":
                result = modules.execute(self.host, sent.module, sent.module_path, sent.args)
                return (1 if result.get("failed") else 0), json.dumps(result, default=str).encode(), b""
            try:
                return 0, (self._helper(sent) + "\r\n").encode(), b""
            except SimError as exc:
                return 1, b"", str(exc).encode()
        return self._command(cmd)

    def _helper(self, sent):
        if sent.kind == "powershell_mkdtemp.ps1":
            folder = ntpath.join(self.host.absolute(sent.params["Directory"]), sent.params["Name"])
            self.host.local(folder).mkdir(parents=True)
            return folder
        path = sent.params["Path"]  # powershell_expand_user.ps1
        return self.host.expand(path) if path == "~" or path.startswith("~\\") else path

    def _command(self, cmd):
        """A plain encoded PowerShell command (no payload): the shell plugin's Remove-Item of the tmp folder."""
        match = re.search(r"-EncodedCommand\s+(\S+)", cmd)
        if not match:
            raise AnsibleError("dockerwin_simwin: only encoded PowerShell commands reach a Windows host, got %r" % cmd[:200])
        script = base64.b64decode(match.group(1)).decode("utf-16-le").strip()
        # ansible-core 2.20 wraps it in its _encode_script boilerplate (strict mode first, the exit code last).
        body = [line.strip() for line in script.splitlines() if line.strip() and line.strip() not in BOILERPLATE]
        removed = re.match(r"^Remove-Item\s+(?:'((?:[^']|'')+)'|(\S+))\s+-Force(\s+-Recurse)?;?$", body[0]) if len(body) == 1 else None
        if removed:
            local = self.host.local((removed.group(1) or "").replace("''", "'") or removed.group(2))
            if local.is_dir():
                shutil.rmtree(local)
            elif local.exists():
                local.unlink()
            return 0, b"", b""
        raise AnsibleError("dockerwin_simwin: this PowerShell command is not simulated: %r" % script[:300])

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        self._connect()
        local = self.host.local(out_path)
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(in_path, local)

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        self._connect()
        shutil.copyfile(self.host.local(in_path), out_path)

    def close(self):
        self._connected = False
