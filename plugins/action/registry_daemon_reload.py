# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make Docker take a changed daemon.json (restart on Windows; SIGHUP or the service manager on Linux),
wait until `docker info` shows the change, and put the previous file back when it does not."""

from __future__ import annotations

import json
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _client
from ansible_collections.dockerwin.registry.plugins.plugin_utils import _daemon_json as D
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error

ARGUMENT_SPEC = {
    "path": {"type": "str", "default": ""},
    "backup_file": {"type": "str", "default": ""},
    "created": {"type": "bool", "default": False},
    "method": {"type": "str", "default": "", "choices": ["", "signal", "service", "restart"]},
    "service_name": {"type": "str", "default": "docker"},
    "pidfile": {"type": "str", "default": "/var/run/docker.pid"},
    "expected": {"type": "dict", "default": {}},
    "timeout": {"type": "int", "default": 60},
    "daemon_log": {"type": "str", "default": ""},
    "docker_cli": {"type": "str", "default": "docker"},
    "docker_host": {"type": "str", "default": ""},
}


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        options = ["-H", args["docker_host"]] if args["docker_host"] else []
        target = Target(self, task_vars, docker_cli=args["docker_cli"], docker_options=options)
        try:
            result.update(_Reload(target, args).run())
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


class _Reload:
    def __init__(self, target, args):
        self.target = target
        self.args = args
        self.path = args["path"] or _client.default_daemon_json(target.windows)
        method = args["method"] or ("restart" if target.windows else "signal")
        if target.windows and method != "restart":
            raise AnsibleActionFail(
                "method=%s: Docker on Windows takes a new daemon.json on a restart of the %s service only; use restart"
                % (method, args["service_name"])
            )
        self.method = method

    def run(self):
        result = {"changed": True, "method": self.method, "path": self.path}
        if self.target.check_mode:
            return result
        log_mark = self.log_size()
        error = self.reload()
        if error is None:
            error = self.wait(self.args["expected"])
        if error is None:
            return result
        # Docker did not take the file: put the previous one back and reload again.
        daemon_says = self.log_since(log_mark)
        restored = self.restore()
        again = self.reload() or self.wait({})
        message = "Docker did not take the new %s (%s): %s." % (self.path, self.method, error)
        if daemon_says:
            message += " The daemon says: %s." % daemon_says
        message += " %s" % restored
        message += " Docker answers again with the previous file." if again is None else " Docker does not answer after that either: %s." % again
        raise AnsibleActionFail(message, result={"restored": True})

    # -- steps ---------------------------------------------------------------------------------
    def reload(self):
        """None when the reload was sent, else why not."""
        if self.method == "signal":
            data = self.target.read_file(self.args["pidfile"])
            pid = (data or b"").decode("ascii", "replace").strip()
            if not pid.isdigit():
                return "no dockerd pid in %s (pidfile): %r" % (self.args["pidfile"], pid)
            sent = self.target.run(["kill", "-s", "HUP", pid])
            return None if sent["rc"] == 0 else "kill -s HUP %s: %s" % (pid, command_error(sent))
        state = "reloaded" if self.method == "service" else "restarted"
        done = self.target.module("service", {"name": self.args["service_name"], "state": state})
        return "service %s %s: %s" % (self.args["service_name"], state, done.get("msg")) if done.get("failed") else None

    def info(self):
        found = self.target.docker("info", "--format", "{{json .}}", read_only=True)
        if found["rc"] != 0:
            return None, command_error(found)
        try:
            return json.loads(found.get("stdout") or "null") or {}, None
        except ValueError as exc:
            return None, "docker info printed no JSON: %s" % exc

    def wait(self, expected):
        """None once `docker info` answers and shows `expected`, else what was missing at the timeout."""
        deadline = time.monotonic() + self.args["timeout"]
        while True:
            info, error = self.info()
            if info is not None:
                error = "; ".join(D.unmet(info, expected)) or None
                if error is None and info.get("ServerErrors"):
                    error = "; ".join(info["ServerErrors"])
                if error is None:
                    return None
            if time.monotonic() >= deadline:
                return "after %ss, %s" % (self.args["timeout"], error)
            time.sleep(1)

    def restore(self):
        if self.args["backup_file"]:
            # copy/win_copy modules with remote_src: the backup lies beside the file on the target.
            back = self.target.module("copy", {"src": self.args["backup_file"], "dest": self.path, "remote_src": True})
            if back.get("failed"):
                return "Restoring %s from %s failed: %s." % (self.path, self.args["backup_file"], back.get("msg"))
            return "%s was restored from %s." % (self.path, self.args["backup_file"])
        if self.args["created"]:
            self.target.remove(self.path)
            return "%s did not exist before and was removed." % self.path
        return "No backup of %s was given, so it stays as it is." % self.path

    # -- the daemon's own words -------------------------------------------------------------------
    def log_size(self):
        if not self.args["daemon_log"]:
            return None
        data = self.target.read_file(self.args["daemon_log"])
        return len(data or b"")

    def log_since(self, mark):
        """Error lines the daemon logged since `mark` (daemon_log), or the service journal on Linux."""
        if self.args["daemon_log"]:
            data = (self.target.read_file(self.args["daemon_log"]) or b"")[mark or 0:]
            lines = data.decode("utf-8", "replace").splitlines()
        elif not self.target.windows:
            found = self.target.run(["journalctl", "--unit", self.args["service_name"], "--lines", "20", "--no-pager",
                                     "--output", "cat"], read_only=True)
            lines = (found.get("stdout") or "").splitlines() if found["rc"] == 0 else []
        else:
            return ""
        errors = [line.strip() for line in lines if "level=error" in line or "level=fatal" in line or "error" in line.lower()]
        return " | ".join(errors[-5:])[-2000:]
