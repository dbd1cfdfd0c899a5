# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of the registry's Docker Swarm service, compared with `docker service inspect`.

Pure functions (unit-tested with inspect JSON): the registry runs as a replicated service whose port is published
in host mode (on the node of each replica), never through the ingress routing mesh, which listens on every address.
"""

from __future__ import annotations

import ntpath
import posixpath
import shlex
from dataclasses import dataclass, field

MANAGED_LABEL = "io.dockerwin.registry.managed"
IMAGE_ID_LABEL = "io.dockerwin.registry.image-id"
# Changes that `docker service update` applies as a rolling update; the others recreate the service.
UPDATABLE = ("image", "command", "replicas", "labels")


@dataclass
class ServiceSpec:
    name: str
    image: str
    image_id: str = ""
    windows: bool = False
    replicas: int = 2
    command: list = field(default_factory=list)
    mounts: list = field(default_factory=list)  # (source, target, read_only)
    target_port: int = 5000
    published_port: int = 0  # 0: Docker picks a port on each node for each replica
    labels: dict = field(default_factory=dict)

    def all_labels(self):
        labels = {MANAGED_LABEL: "true"}
        if self.image_id:
            labels[IMAGE_ID_LABEL] = self.image_id
        labels.update({str(k): str(v) for k, v in self.labels.items()})
        return labels

    def publish_arg(self):
        published = ",published=%d" % self.published_port if self.published_port else ""
        return "mode=host,target=%d%s,protocol=tcp" % (self.target_port, published)

    def mount_args(self):
        out = []
        for source, target, read_only in self.mounts:
            out += ["--mount", "type=bind,source=%s,target=%s%s" % (source, target, ",readonly" if read_only else "")]
        return out

    def create_argv(self):
        argv = ["service", "create", "--detach", "--no-resolve-image", "--name", self.name,
                "--replicas", str(self.replicas), "--publish", self.publish_arg()]
        if self.published_port:
            # One host port per node: two replicas on one node would both bind it.
            argv += ["--replicas-max-per-node", "1"]
        argv += self.mount_args()
        for key, value in sorted(self.all_labels().items()):
            argv += ["--label", "%s=%s" % (key, value)]
        argv.append(self.image)
        argv += list(self.command)
        return argv

    def update_argv(self, current_labels):
        argv = ["service", "update", "--detach", "--no-resolve-image", "--image", self.image,
                "--replicas", str(self.replicas), "--args", " ".join(shlex.quote(a) for a in self.command)]
        wanted = self.all_labels()
        for key in sorted(set(current_labels) - set(wanted)):
            if key.startswith("io.dockerwin.registry."):
                argv += ["--label-rm", key]
        for key, value in sorted(wanted.items()):
            argv += ["--label-add", "%s=%s" % (key, value)]
        argv.append(self.name)
        return argv


def _norm(path, windows):
    if windows:
        return ntpath.normpath(path.replace("/", "\\")).rstrip("\\").lower()
    return posixpath.normpath(path)


def desired_state(spec):
    return {
        "image": spec.image,
        "command": list(spec.command),
        "replicas": int(spec.replicas),
        "labels": spec.all_labels(),
        "mounts": sorted((_norm(s, spec.windows), _norm(t, spec.windows), bool(ro)) for s, t, ro in spec.mounts),
        "ports": [("host", spec.target_port, spec.published_port, "tcp")],
        "max_per_node": 1 if spec.published_port else 0,
    }


def actual_state(inspect, desired, windows):
    """The same facts read from one `docker service inspect` object."""
    spec = inspect.get("Spec") or {}
    task = spec.get("TaskTemplate") or {}
    container = task.get("ContainerSpec") or {}
    labels = spec.get("Labels") or {}
    ports = []
    for port in (spec.get("EndpointSpec") or {}).get("Ports") or []:
        ports.append((port.get("PublishMode") or "ingress", int(port.get("TargetPort") or 0), int(port.get("PublishedPort") or 0),
                      port.get("Protocol") or "tcp"))
    mounts = [(_norm(m.get("Source", ""), windows), _norm(m.get("Target", ""), windows), bool(m.get("ReadOnly")))
              for m in container.get("Mounts") or [] if m.get("Type") == "bind"]
    image = container.get("Image") or ""
    if "@" in image and "@" not in desired["image"]:  # a resolved digest that the spec did not name
        image = image.split("@", 1)[0]
    return {
        "image": image,
        "command": list(container.get("Args") or []),
        "replicas": int(((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas") or 0),
        "labels": {k: labels[k] for k in desired["labels"] if k in labels},
        "mounts": sorted(mounts),
        "ports": sorted(ports),
        "max_per_node": int((task.get("Placement") or {}).get("MaxReplicas") or 0),
    }


def differences(desired, actual):
    return [key for key in desired if desired[key] != actual.get(key)]


def running_tasks(tasks):
    """The tasks (from `docker inspect` of the service's tasks) that run and are meant to."""
    return [t for t in tasks if (t.get("Status") or {}).get("State") == "running" and t.get("DesiredState") == "running"]


def task_ports(task, target_port=5000):
    """Host ports a task published for target_port (host mode: in its PortStatus)."""
    ports = ((task.get("Status") or {}).get("PortStatus") or {}).get("Ports") or []
    return [int(p["PublishedPort"]) for p in ports if int(p.get("TargetPort") or 0) == target_port and p.get("PublishedPort")]


def task_errors(tasks):
    """The latest error of each failed task, for the failure message."""
    out = []
    for task in tasks:
        status = task.get("Status") or {}
        if status.get("Err") or status.get("State") in ("failed", "rejected"):
            out.append("%s: %s" % (status.get("State"), status.get("Err") or status.get("Message")))
    return sorted(set(out))
