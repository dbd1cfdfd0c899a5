# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of the registry container, compared with `docker container inspect`.

Pure functions: no Ansible objects, so unit tests feed them inspect JSON as Docker documents it.
"""

from __future__ import annotations

import ntpath
import posixpath
from dataclasses import dataclass, field

MANAGED_LABEL = "io.dockerwin.registry.managed"
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


@dataclass(frozen=True)
class Port:
    host_port: int
    container_port: int = 5000
    host_ip: str = ""
    protocol: str = "tcp"

    def publish_arg(self):
        prefix = "%s:" % self.host_ip if self.host_ip else ""
        return "%s%d:%d/%s" % (prefix, self.host_port, self.container_port, self.protocol)


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    read_only: bool = False

    def volume_arg(self):
        return "%s:%s%s" % (self.source, self.target, ":ro" if self.read_only else "")


@dataclass
class ContainerSpec:
    name: str
    image: str
    windows: bool = False
    command: list = field(default_factory=list)
    ports: list = field(default_factory=list)
    mounts: list = field(default_factory=list)
    restart_policy: str = "unless-stopped"
    labels: dict = field(default_factory=dict)
    isolation: str = ""
    user: str = ""
    network_mode: str = ""  # "host" for the load balancer (it reaches replicas on the host's addresses)

    def all_labels(self):
        labels = {MANAGED_LABEL: "true"}
        labels.update({str(k): str(v) for k, v in self.labels.items()})
        return labels

    def run_argv(self, docker="docker", detach=True):
        """argv of `docker container run` (or `create` when detach is False) for this spec."""
        argv = [docker, "container", "run" if detach else "create"]
        if detach:
            argv.append("--detach")
        argv += ["--name", self.name, "--restart", self.restart_policy]
        for port in self.ports:
            argv += ["--publish", port.publish_arg()]
        for mount in self.mounts:
            argv += ["--volume", mount.volume_arg()]
        for key, value in sorted(self.all_labels().items()):
            argv += ["--label", "%s=%s" % (key, value)]
        if self.isolation:
            argv += ["--isolation", self.isolation]
        if self.user:
            argv += ["--user", self.user]
        if self.network_mode:
            argv += ["--network", self.network_mode]
        argv.append(self.image)
        argv += list(self.command)
        return argv


def _norm_path(path, windows):
    if windows:
        return ntpath.normpath(path.replace("/", "\\")).rstrip("\\").lower()
    return posixpath.normpath(path)


def _norm_ip(ip):
    return "" if ip in ("", "0.0.0.0", "::") else ip


def desired_state(spec, image_id):
    """The comparable facts the container must have, in the same shape as actual_state()."""
    labels = spec.all_labels()
    state = {
        "image": image_id,
        "ports": sorted((_norm_ip(p.host_ip), int(p.host_port), int(p.container_port), p.protocol) for p in spec.ports),
        "mounts": sorted(
            (_norm_path(m.source, spec.windows), _norm_path(m.target, spec.windows), bool(m.read_only)) for m in spec.mounts
        ),
        "restart_policy": spec.restart_policy,
        "labels": labels,
    }
    if spec.command:  # no command: the image's CMD, which Docker copies into Config.Cmd
        state["command"] = list(spec.command)
    if spec.isolation:
        state["isolation"] = spec.isolation
    if spec.user:
        state["user"] = spec.user
    if spec.network_mode:
        state["network_mode"] = spec.network_mode
    return state


def actual_state(inspect, desired, windows):
    """Facts read from one `docker container inspect` object, limited to what `desired` cares about."""
    config = inspect.get("Config") or {}
    host = inspect.get("HostConfig") or {}
    ports = []
    for key, bindings in sorted((host.get("PortBindings") or {}).items()):
        container_port, dummy, protocol = key.partition("/")
        for binding in bindings or []:
            ports.append((_norm_ip(binding.get("HostIp") or ""), int(binding.get("HostPort") or 0), int(container_port), protocol or "tcp"))
    mounts = [
        (_norm_path(m.get("Source", ""), windows), _norm_path(m.get("Destination", ""), windows), not m.get("RW", True))
        for m in inspect.get("Mounts") or []
        if m.get("Type") == "bind"
    ]
    labels = config.get("Labels") or {}
    state = {
        "image": inspect.get("Image", ""),
        "ports": sorted(ports),
        "mounts": sorted(mounts),
        "restart_policy": (host.get("RestartPolicy") or {}).get("Name") or "no",
        # Image labels show up here too: compare only the labels this collection sets.
        "labels": {k: labels[k] for k in desired["labels"] if k in labels},
    }
    if "command" in desired:
        state["command"] = list(config.get("Cmd") or [])
    if "isolation" in desired:
        state["isolation"] = host.get("Isolation") or "default"
    if "user" in desired:
        state["user"] = config.get("User") or ""
    if "network_mode" in desired:
        state["network_mode"] = host.get("NetworkMode") or "default"
    return state


def differences(desired, actual):
    """Names of the facts that differ; an empty list means the container can stay."""
    return [key for key in desired if desired[key] != actual.get(key)]


def host_path(container_path, mounts, windows):
    """The host path behind a path inside the container, through its bind mounts; None when not mounted."""
    flavour = ntpath if windows else posixpath
    # Normalised but case-kept, so the part below the mount point keeps its spelling.
    path = flavour.normpath(container_path.replace("/", "\\") if windows else container_path)
    for mount in mounts:
        if mount.get("Type") != "bind":
            continue
        dest = _norm_path(mount.get("Destination", ""), windows)
        sep = "\\" if windows else "/"
        if _norm_path(path, windows).startswith(dest + sep):
            return flavour.join(mount.get("Source", ""), path[len(dest) + 1:])
    return None


def run_status(inspect):
    state = (inspect or {}).get("State") or {}
    if state.get("Restarting"):
        return "restarting"
    return "running" if state.get("Running") else "stopped"


def for_diff(state):
    """A readable rendering of desired/actual state for --diff."""
    out = dict(state)
    out["ports"] = [":".join(str(x) for x in p[:3]) + "/" + p[3] for p in state.get("ports", [])]
    out["mounts"] = ["%s -> %s%s" % (m[0], m[1], " (ro)" if m[2] else "") for m in state.get("mounts", [])]
    return out
