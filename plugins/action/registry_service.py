# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the registry's Docker Swarm service in its desired state through the docker CLI on a swarm manager."""

from __future__ import annotations

import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _service as S
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, validated_args

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str"},
    "state": {"type": "str", "default": "started", "choices": ["started", "stopped", "absent"]},
    "replicas": {"type": "int", "default": 2},
    "command": {"type": "list", "elements": "str", "default": []},
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
    "container_port": {"type": "int", "default": 5000},
    "published_port": {"type": "int", "default": 0},
    "labels": {"type": "dict", "default": {}},
    "timeout": {"type": "int", "default": 120},
    "docker_cli": {"type": "str", "default": "docker"},
    "docker_host": {"type": "str", "default": ""},
}
REQUIRED_IF = [("state", "started", ["image"]), ("state", "stopped", ["image"])]


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC, required_if=REQUIRED_IF)
        if args["replicas"] < 0 or not 0 <= args["published_port"] < 65536:
            raise AnsibleActionFail("replicas must be 0 or more and published_port 0 (Docker picks) to 65535")
        target = Target(self, task_vars, docker_cli=args["docker_cli"],
                        docker_options=["-H", args["docker_host"]] if args["docker_host"] else [])
        try:
            result.update(_Service(target, args).converge())
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


class _Service:
    def __init__(self, target, args):
        self.target = target
        self.args = args
        self.name = args["name"]

    def inspect(self):
        found = self.target.docker_json("service", "inspect", self.name)
        return found[0] if found else None

    def swarm_manager(self):
        info = self.target.docker_json("info", "--format", "{{json .Swarm}}") or {}
        if info.get("LocalNodeState") != "active" or not info.get("ControlAvailable"):
            raise AnsibleActionFail(
                "windows_registry_mode=swarm: this Docker engine is %s of a swarm (LocalNodeState %r): run the role on a "
                "swarm manager (docker swarm init, or join as a manager), or set windows_registry_docker_host to a "
                "manager's daemon. The role never initialises a swarm." % (
                    "a worker" if info.get("LocalNodeState") == "active" else "not part", info.get("LocalNodeState")))
        return info

    def image_id(self, image):
        found = self.target.docker_json("image", "inspect", image)
        if found:
            return found[0]["Id"]
        if self.target.check_mode:
            return ""
        raise AnsibleActionFail("image %r is not on the manager: get it first with dockerwin.registry.registry_image" % image)

    def converge(self):
        self.swarm_manager()
        current = self.inspect()
        state = self.args["state"]
        result = {"changed": False, "service": self.name, "actions": []}
        if state == "absent":
            result.update(changed=current is not None, actions=["remove"] if current else [])
            result["diff"] = {"before": {"service": self.name} if current else {}, "after": {}}
            if current and not self.target.check_mode:
                self.target.docker_checked("service", "rm", self.name, what="docker service rm")
            return result
        spec = S.ServiceSpec(
            name=self.name, image=self.args["image"], image_id=self.image_id(self.args["image"]), windows=self.target.windows,
            replicas=self.args["replicas"] if state == "started" else 0, command=self.args["command"],
            mounts=[(v["source"], v["target"], v["read_only"]) for v in self.args["volumes"]],
            target_port=self.args["container_port"], published_port=self.args["published_port"], labels=self.args["labels"])
        desired = S.desired_state(spec)
        actual = S.actual_state(current, desired, self.target.windows) if current else {}
        changes = S.differences(desired, actual) if current else ["created"]
        result.update(changes=changes, diff={"before": actual, "after": desired})
        if changes:
            result["changed"] = True
            if not current:
                action = "create"
            elif all(change in S.UPDATABLE for change in changes):
                action = "update"
            else:
                action = "recreate"
            result["actions"] = [action]
            if self.target.check_mode:
                return result
            if action == "recreate":
                self.target.docker_checked("service", "rm", self.name, what="docker service rm (to recreate it)")
                self.wait_removed()
            if action == "update":
                argv = spec.update_argv((current.get("Spec") or {}).get("Labels") or {})
            else:
                argv = spec.create_argv()
            self.target.docker_checked(*argv, what="docker %s" % " ".join(argv[:2]))
        if self.target.check_mode and result["changed"]:
            return result
        result["endpoints"] = self.wait_running(spec)
        return result

    def wait_removed(self):
        """A removed service's tasks (and their host ports) go away before the new one is made."""
        deadline = time.monotonic() + self.args["timeout"]
        while self.target.docker("container", "ls", "--quiet", "--filter", "label=com.docker.swarm.service.name=%s" % self.name,
                                 read_only=True).get("stdout", "").strip():
            if time.monotonic() > deadline:
                raise AnsibleActionFail("the tasks of the removed service %s did not stop within %ss" % (self.name, self.args["timeout"]))
            time.sleep(1)

    def tasks(self):
        listed = self.target.docker("service", "ps", "--quiet", "--no-trunc", self.name, read_only=True)
        ids = (listed.get("stdout") or "").split()
        return (self.target.docker_json("inspect", "--type", "task", *ids) or []) if ids else []

    def wait_running(self, spec):
        """host:port of each running replica, once `replicas` tasks run and a rolling update is done; fails with the
        tasks' errors after timeout."""
        deadline = time.monotonic() + self.args["timeout"]
        nodes = {}
        while True:
            update = (self.inspect() or {}).get("UpdateStatus") or {}
            if update.get("State") in ("paused", "rollback_started", "rollback_paused", "rollback_completed"):
                raise AnsibleActionFail("the rolling update of service %s stopped (%s): %s" % (
                    self.name, update.get("State"), update.get("Message") or "see docker service ps %s" % self.name))
            tasks = self.tasks()
            running = S.running_tasks(tasks)
            if update.get("State") in (None, "completed") and len(running) >= spec.replicas and all(
                    S.task_ports(t, spec.target_port) for t in running):
                endpoints = []
                for task in running:
                    node = task.get("NodeID")
                    if node not in nodes:
                        found = self.target.docker_json("node", "inspect", node) or [{}]
                        nodes[node] = ((found[0].get("Status") or {}).get("Addr")) or ""
                    endpoints += ["%s:%d" % (nodes[node], port) for port in S.task_ports(task, spec.target_port)]
                return sorted(endpoints)
            if time.monotonic() > deadline:
                raise AnsibleActionFail("service %s runs %d of %d replicas after %ss: %s" % (
                    self.name, len(running), spec.replicas, self.args["timeout"],
                    "; ".join(S.task_errors(tasks)) or "no task error reported (see docker service ps %s)" % self.name))
            time.sleep(1)
