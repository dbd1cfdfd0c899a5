# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make Docker take a changed daemon.json (restart on Windows; SIGHUP or the service manager on Linux),
wait until `docker info` shows the change, and put the previous file back when it does not. Registry containers
of this collection (label io.dockerwin.registry.managed) that ran before are waited for until they run and answer
again: a restart of the engine stops them, their restart policy brings them back."""

from __future__ import annotations

import json
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _client
from ansible_collections.dockerwin.registry.plugins.plugin_utils._container import MANAGED_LABEL
from ansible_collections.dockerwin.registry.plugins.plugin_utils import _daemon_json as D
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error, validated_args

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
    "wait_registries": {"type": "bool", "default": True},
}


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC)
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
        registries = self.running_registries() if self.args["wait_registries"] else []
        error = self.reload()
        if error is None:
            error = self.wait(self.args["expected"])
        if error is None:
            result["registries"] = [r["name"] for r in registries]
            self.wait_registries(registries)
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

    # -- registry containers on this Docker host ----------------------------------------------------------
    def running_registries(self):
        """The running containers labelled by this collection: name, ID, restart policy, published ports."""
        listed = self.target.docker("container", "ls", "--quiet", "--no-trunc", "--filter", "label=%s=true" % MANAGED_LABEL,
                                    read_only=True)
        if listed["rc"] != 0:  # Docker does not answer now: nothing is known to run, and the reload may bring it back
            return []
        ids = (listed.get("stdout") or "").split()
        if not ids:
            return []
        return [{"id": c["Id"], "name": c["Name"].lstrip("/"),
                 "restart_policy": ((c.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name") or "no",
                 "urls": self.registry_urls(c)} for c in self.target.docker_json("container", "inspect", *ids) or []]

    @staticmethod
    def registry_urls(container):
        """/v2/ on the first published port, https before http, seen from the host (an any-address binding is
        reached on 127.0.0.1, which Windows NAT also forwards)."""
        for bindings in ((container.get("HostConfig") or {}).get("PortBindings") or {}).values():
            for binding in bindings or []:
                if binding.get("HostPort"):
                    address = binding.get("HostIp") or ""
                    address = "127.0.0.1" if address in ("", "0.0.0.0", "::") else address
                    address = "[%s]" % address if ":" in address else address
                    return ["%s://%s:%s/v2/" % (scheme, address, binding["HostPort"]) for scheme in ("https", "http")]
        return []

    def registry_state(self, registry):
        """None when the container runs (healthy, if it has a health check) and answers, else what is missing."""
        found = self.target.docker_json("container", "inspect", registry["id"])
        if not found:
            return "is gone"
        state = found[0].get("State") or {}
        if not state.get("Running") or state.get("Restarting"):
            return "does not run (status %s, exit code %s%s)" % (
                state.get("Status"), state.get("ExitCode"), (", error: %s" % state["Error"]) if state.get("Error") else "")
        health = (state.get("Health") or {}).get("Status")
        if health and health != "healthy":
            return "runs but is %s" % health
        if registry["urls"] and not any(self.target.http_answers(url) for url in registry["urls"]):
            return "runs but does not answer at %s" % " or ".join(registry["urls"])
        return None

    def wait_registries(self, registries):
        """Each registry container that ran before the reload runs and answers again within the timeout."""
        deadline = time.monotonic() + self.args["timeout"]
        for registry in registries:
            while True:
                missing = self.registry_state(registry)
                if missing is None:
                    break
                if time.monotonic() >= deadline:
                    raise AnsibleActionFail(
                        "Docker took the new %s (%s), but the registry container %s (label %s), which ran before, %s after %ss. "
                        "Its restart policy is %s; `docker logs %s` on the host shows why it did not come back."
                        % (self.path, self.method, registry["name"], MANAGED_LABEL, missing, self.args["timeout"],
                           registry["restart_policy"], registry["name"]),
                        result={"registry": registry["name"]},
                    )
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
