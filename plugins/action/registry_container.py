# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the registry container in its desired state through the docker CLI on the target."""

from __future__ import annotations

import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _container as C
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error, validated_args

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str"},
    "state": {"type": "str", "default": "started", "choices": ["started", "stopped", "absent"]},
    "command": {"type": "list", "elements": "str", "default": []},
    "published_ports": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "host_port": {"type": "int", "required": True},
            "container_port": {"type": "int", "default": 5000},
            "host_ip": {"type": "str", "default": ""},
        },
    },
    "volumes": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "source": {"type": "str", "required": True},
            "target": {"type": "str", "required": True},
            "read_only": {"type": "bool", "default": False},
        },
    },
    "restart_policy": {"type": "str", "default": "unless-stopped", "choices": list(C.RESTART_POLICIES)},
    "labels": {"type": "dict", "default": {}},
    "isolation": {"type": "str", "default": "", "choices": ["", "process", "hyperv"]},
    "user": {"type": "str", "default": ""},
    "network_mode": {"type": "str", "default": ""},
    "docker_cli": {"type": "str", "default": "docker"},
    "docker_host": {"type": "str", "default": ""},
    "start_grace": {"type": "float", "default": 2.0},
    "prune_replaced_config": {"type": "bool", "default": False},
}
REQUIRED_IF = [("state", "started", ["image"]), ("state", "stopped", ["image"])]


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC, required_if=REQUIRED_IF)
        target = Target(self, task_vars, docker_cli=args["docker_cli"],
                        docker_options=["-H", args["docker_host"]] if args["docker_host"] else [])
        try:
            result.update(_Container(target, args).converge())
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


class _Container:
    def __init__(self, target, args):
        self.target = target
        self.args = args
        self.name = args["name"]
        self.previous = args["name"] + "-previous"
        self.windows = target.windows

    def spec(self):
        ports = []
        for port in self.args["published_ports"]:
            if self.windows and port["host_ip"]:
                raise AnsibleActionFail(
                    "published_ports.host_ip=%r: Windows NAT networking publishes on every host address and takes no "
                    "host IP; leave host_ip empty and limit access with the Windows Firewall." % port["host_ip"]
                )
            ports.append(C.Port(host_port=port["host_port"], container_port=port["container_port"], host_ip=port["host_ip"]))
        return C.ContainerSpec(
            name=self.name,
            image=self.args["image"],
            windows=self.windows,
            command=self.args["command"],
            ports=ports,
            mounts=[C.Mount(v["source"], v["target"], v["read_only"]) for v in self.args["volumes"]],
            restart_policy=self.args["restart_policy"],
            labels=self.args["labels"],
            isolation=self.args["isolation"],
            user=self.args["user"],
            network_mode=self.args["network_mode"],
        )

    def inspect(self, name):
        found = self.target.docker_json("container", "inspect", name)
        return found[0] if found else None

    def converge(self):
        state = self.args["state"]
        current = self.inspect(self.name)
        if state == "absent":
            return self.remove(current)
        spec = self.spec()
        image_id = self.image_id(spec.image)
        desired = C.desired_state(spec, image_id)
        before = C.actual_state(current, desired, self.windows) if current else {}
        diff = {"before": C.for_diff(before) if current else {}, "after": C.for_diff(desired)}
        changes = C.differences(desired, before) if current else ["created"]
        result = {"changed": False, "container": self.name, "image_id": image_id, "changes": changes, "diff": diff}
        want_running = state == "started"
        if current and not changes:
            status = C.run_status(current)
            if want_running and status != "running":
                result.update(changed=True, changes=["started"], actions=["start"])
                if not self.target.check_mode:
                    self.target.docker_checked("container", "start", self.name, what="docker container start")
            elif not want_running and status != "stopped":
                result.update(changed=True, changes=["stopped"], actions=["stop"])
                if not self.target.check_mode:
                    self.target.docker_checked("container", "stop", self.name, what="docker container stop")
            return result
        result["changed"] = True
        result["actions"] = ["recreate" if current else "create"]
        if self.target.check_mode:
            return result
        if image_id.startswith("sha256:"):
            self.replace(spec, current, want_running)
        else:
            raise AnsibleActionFail("image %r is not on the host; run dockerwin.registry.registry_image first" % spec.image)
        result["container_id"] = (self.inspect(self.name) or {}).get("Id", "")
        return result

    def image_id(self, image):
        found = self.target.docker_json("image", "inspect", image)
        if found:
            return found[0]["Id"]
        if self.target.check_mode:
            return "(not on the host yet: %s)" % image
        raise AnsibleActionFail(
            "image %r is not on the host: get it first with dockerwin.registry.registry_image (source pull, load or binary)" % image
        )

    def remove(self, current):
        result = {"changed": current is not None, "container": self.name, "actions": ["remove"] if current else []}
        result["diff"] = {"before": {"container": self.name} if current else {}, "after": {}}
        if current and not self.target.check_mode:
            self.target.docker_checked("container", "rm", "--force", self.name, what="docker container rm")
        return result

    def replace(self, spec, current, want_running):
        """Run the new container; keep the old one (stopped, renamed) until the new one runs."""
        docker = self.target.docker_checked
        if current:
            if self.inspect(self.previous):  # left over by an interrupted run: the current container wins
                docker("container", "rm", "--force", self.previous, what="removing leftover %s" % self.previous)
            was_running = C.run_status(current) != "stopped"
            docker("container", "stop", self.name, what="docker container stop")
            docker("container", "rename", self.name, self.previous, what="docker container rename")
        argv = spec.run_argv(docker=self.target.docker_cli, detach=want_running)
        argv[1:1] = self.target.docker_options
        started = self.target.run(argv)
        error = None
        if started["rc"] != 0:
            error = command_error(started)
        elif want_running:
            error = self.wait_running()
        if error is None:
            if current:
                docker("container", "rm", "--force", self.previous, what="removing the replaced container")
                if self.args["prune_replaced_config"]:
                    self.prune_config(current, spec)
            return
        # Roll back: the old container comes back as it was, the new one goes.
        if self.inspect(self.name):
            self.target.docker("container", "rm", "--force", self.name)
        message = "the new registry container did not start: %s" % error
        if current:
            restored = self.target.docker("container", "rename", self.previous, self.name)
            if restored["rc"] == 0 and was_running:
                restored = self.target.docker("container", "start", self.name)
            if restored["rc"] == 0:
                message += " The previous container %s was restored." % self.name
            else:
                message += (
                    " Restoring the previous container failed too (%s): it is %s; rename it back to %s and start it."
                    % (command_error(restored), self.previous if self.inspect(self.previous) else self.name, self.name)
                )
        raise AnsibleActionFail(message, result={"cmd": argv})

    def prune_config(self, replaced, spec):
        """Remove the host file of the replaced container's config (its command's first argument) when it
        lives in a mounted folder and the new container does not use it."""
        old_cmd = ((replaced.get("Config") or {}).get("Cmd") or [None])[0]
        if not old_cmd or old_cmd in spec.command:
            return
        host_file = C.host_path(old_cmd, replaced.get("Mounts") or [], self.windows)
        if host_file:
            self.target.remove(host_file)

    def wait_running(self):
        """None when the new container keeps running for start_grace seconds, else Docker's account of why not."""
        deadline = time.monotonic() + self.args["start_grace"]
        while True:
            inspect = self.inspect(self.name) or {}
            state = inspect.get("State") or {}
            if C.run_status(inspect) != "running":
                logs = self.target.docker("container", "logs", "--tail", "20", self.name, read_only=True)
                return "state %s, exit code %s, error %r; last log lines: %s" % (
                    state.get("Status"), state.get("ExitCode"), state.get("Error", ""),
                    ((logs.get("stdout") or "") + (logs.get("stderr") or "")).strip()[-2000:],
                )
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.5)
