# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract of registry_service (windows_registry_mode: swarm) on Windows, run for real against a recorded host
(recorder.py: PowerShell shell, ansible.windows.win_command argv lists) that answers like a swarm manager.

Expectations from Docker's documentation, not from the code:
- `docker service create --publish mode=host,target=5000[,published=P]` publishes on the node of each task, never
  through the ingress routing mesh; `--replicas-max-per-node 1` keeps two tasks of a fixed host port apart;
- `--mount type=bind,source=C:\\...,target=C:\\...,readonly` (Windows bind mounts of a service);
- `docker info --format '{{json .Swarm}}'`: LocalNodeState "active" and ControlAvailable true on a manager;
- a task's host-mode port is in `Status.PortStatus.Ports[].PublishedPort` of `docker inspect --type task`.
"""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.dockerwin.registry.plugins.action import registry_service
from ansible_collections.dockerwin.registry.tests.unit.plugins.action.recorder import FakeHost, make_action

WIN_COMMAND = "ansible.windows.win_command"
IMAGE = "dockerwin/registry:3.0.0"
ARGS = {
    "name": "registry", "image": IMAGE, "replicas": 2, "command": ["C:\\config\\config-0123456789ab.yml"],
    "volumes": [{"source": "C:\\registry-data", "target": "C:\\data"},
                {"source": "C:\\registry-data-config", "target": "C:\\config", "read_only": True}],
    "published_port": 5000, "labels": {"io.dockerwin.registry.config-digest": "d1"}, "timeout": 5,
}


class SwarmHost(FakeHost):
    """A Windows swarm manager: services and their tasks, as `docker service create` would make them."""

    def __init__(self, manager=True):
        super().__init__(windows=True)
        self.swarm = {"LocalNodeState": "active", "ControlAvailable": manager, "NodeID": "n1"}
        self.services = {}
        self.created = []

    def _command(self, module_name, args):
        argv = list(args["argv"])
        words = argv[1:3]
        if words == ["info", "--format"]:
            return self._answer(module_name, argv, 0, stdout=json.dumps(self.swarm))
        if words == ["service", "inspect"]:
            found = [self.services[n] for n in argv[3:] if n in self.services]
            if not found:
                return self._answer(module_name, argv, 1, stderr="Error: no such service: %s" % argv[3])
            return self._answer(module_name, argv, 0, stdout=json.dumps(found))
        if words == ["service", "create"]:
            self.created.append(argv)
            self.services[argv[argv.index("--name") + 1]] = self._service(argv)
            return self._answer(module_name, argv, 0, stdout="q1\n")
        if words == ["service", "ps"]:
            return self._answer(module_name, argv, 0, stdout="t1\nt2\n")
        if words == ["inspect", "--type"]:
            tasks = [{"ID": t, "NodeID": "n1", "DesiredState": "running", "Status": {"State": "running", "PortStatus": {
                "Ports": [{"Protocol": "tcp", "TargetPort": 5000, "PublishedPort": 5000, "PublishMode": "host"}]}}}
                for t in argv[4:]]
            return self._answer(module_name, argv, 0, stdout=json.dumps(tasks))
        if words == ["node", "inspect"]:
            return self._answer(module_name, argv, 0, stdout=json.dumps([{"ID": "n1", "Status": {"Addr": "10.0.0.11"}}]))
        return super()._command(module_name, args)

    @staticmethod
    def _service(argv):
        """What Docker records for a `docker service create` argv (the options this plugin uses)."""
        i, labels, mounts, ports, spec = 3, {}, [], [], {"MaxReplicas": 0}
        while argv[i].startswith("--"):
            flag = argv[i]
            if flag in ("--detach", "--no-resolve-image"):
                i += 1
                continue
            value = argv[i + 1]
            if flag == "--label":
                key, dummy, val = value.partition("=")
                labels[key] = val
            elif flag == "--mount":
                fields = dict(f.partition("=")[::2] for f in value.split(","))
                mounts.append({"Type": fields["type"], "Source": fields["source"], "Target": fields["target"],
                               "ReadOnly": "readonly" in value.split(",")})
            elif flag == "--publish":
                fields = dict(f.partition("=")[::2] for f in value.split(","))
                assert fields["mode"] == "host", "never the ingress mesh"
                ports.append({"Protocol": fields["protocol"], "TargetPort": int(fields["target"]),
                              "PublishedPort": int(fields.get("published", 0)), "PublishMode": "host"})
            elif flag == "--replicas":
                spec["Replicas"] = int(value)
            elif flag == "--replicas-max-per-node":
                spec["MaxReplicas"] = int(value)
            i += 2
        return {"ID": "q1", "Version": {"Index": 1}, "Spec": {
            "Name": argv[argv.index("--name") + 1], "Labels": labels,
            "TaskTemplate": {"ContainerSpec": {"Image": argv[i], "Args": argv[i + 1:], "Mounts": mounts},
                             "Placement": {"MaxReplicas": spec["MaxReplicas"]} if spec["MaxReplicas"] else {}},
            "Mode": {"Replicated": {"Replicas": spec["Replicas"]}}, "EndpointSpec": {"Mode": "vip", "Ports": ports}}}


def run(host, monkeypatch, check_mode=False, **changes):
    args = dict(ARGS, **changes)
    return make_action(registry_service, "dockerwin.registry.registry_service", args, host, check_mode, monkeypatch).run(task_vars={})


def test_check_create_rerun_on_a_windows_manager(monkeypatch):
    host = SwarmHost()
    host.add_image(IMAGE)
    checked = run(host, monkeypatch, check_mode=True)
    assert checked["changed"] is True and checked["actions"] == ["create"] and not host.created
    assert all(c.module == WIN_COMMAND for c in host.calls)

    created = run(host, monkeypatch)
    assert created["changed"] is True and created["endpoints"] == ["10.0.0.11:5000", "10.0.0.11:5000"]
    argv = host.created[0]
    assert argv[:8] == ["docker", "service", "create", "--detach", "--no-resolve-image", "--name", "registry", "--replicas"]
    assert argv[argv.index("--publish") + 1] == "mode=host,target=5000,published=5000,protocol=tcp"
    assert argv[argv.index("--replicas-max-per-node") + 1] == "1"
    mounts = [argv[i + 1] for i, a in enumerate(argv) if a == "--mount"]
    assert mounts == ["type=bind,source=C:\\registry-data,target=C:\\data",
                      "type=bind,source=C:\\registry-data-config,target=C:\\config,readonly"]
    assert argv[-2:] == [IMAGE, "C:\\config\\config-0123456789ab.yml"]
    assert "io.dockerwin.registry.image-id=%s" % host.images[IMAGE]["Id"] in argv

    again = run(host, monkeypatch)
    assert again["changed"] is False and again["changes"] == [] and len(host.created) == 1


def test_a_worker_or_a_standalone_engine_is_refused_before_anything_changes(monkeypatch):
    host = SwarmHost(manager=False)
    host.add_image(IMAGE)
    with pytest.raises(AnsibleActionFail, match="run the role on a swarm manager .* The role never initialises a swarm"):
        run(host, monkeypatch)
    assert not host.created
    host.swarm = {"LocalNodeState": "inactive"}
    with pytest.raises(AnsibleActionFail, match="not part of a swarm"):
        run(host, monkeypatch)
