# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Day-2 helpers: one-off containers of the registry's own image on its own data, and what they print.

Pure functions: unit tests feed them `docker container inspect` JSON and command output.
"""

from __future__ import annotations

import re

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _container as C
from ansible_collections.dockerwin.registry.plugins.plugin_utils._config import major_version

# Where the registry binary sits in the images this collection runs: the official Linux layout (and
# Dockerfile.binary.linux.j2) has /bin/registry; Dockerfile.binary/build.windows.j2 have C:\registry\registry.exe.
REGISTRY_BINARY = {False: "/bin/registry", True: "C:\\registry\\registry.exe"}

_SUMMARY_RE = re.compile(r"(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion")
_ELIGIBLE_RE = re.compile(r"blob eligible for deletion: (sha256:[0-9a-f]{64})")
# distribution's s3 driver (2.8) fails the mark phase on a store that never held a repository: nothing to collect.
_EMPTY_STORE_RE = re.compile(r"failed to mark: .*Path not found: \S*/docker/registry/v2/repositories\b")
_DELETING_RE = re.compile(r"[Dd]eleting blob: \S*?(sha256)/[0-9a-f]{2}/([0-9a-f]{64})")


def oneoff_spec(inspect, name, windows):
    """A ContainerSpec for a one-off run of the registry container's image with the same bind mounts, user and
    isolation (no ports, no restart policy): what `registry garbage-collect` needs to see the same data and config."""
    config = inspect.get("Config") or {}
    host = inspect.get("HostConfig") or {}
    mounts = [
        C.Mount(m.get("Source", ""), m.get("Destination", ""), not m.get("RW", True))
        for m in inspect.get("Mounts") or []
        if m.get("Type") == "bind"
    ]
    isolation = host.get("Isolation") or ""
    return C.ContainerSpec(
        name=name,
        image=inspect.get("Image", ""),
        windows=windows,
        mounts=mounts,
        restart_policy="no",
        isolation=isolation if isolation in ("process", "hyperv") else "",
        user=config.get("User") or "",
    )


def oneoff_argv(spec, entrypoint, args, docker=("docker",)):
    """`docker container run --rm --entrypoint <entrypoint> ... <image> <args>` for a spec from oneoff_spec()."""
    argv = list(docker) + ["container", "run", "--rm", "--name", spec.name]
    for mount in spec.mounts:
        argv += ["--volume", mount.volume_arg()]
    for key, value in sorted(spec.all_labels().items()):
        argv += ["--label", "%s=%s" % (key, value)]
    if spec.isolation:
        argv += ["--isolation", spec.isolation]
    if spec.user:
        argv += ["--user", spec.user]
    argv += ["--entrypoint", entrypoint, spec.image]
    return argv + list(args)


def config_path(inspect):
    """The config file the registry container runs with: the first argument of its command."""
    cmd = (inspect.get("Config") or {}).get("Cmd") or []
    return cmd[0] if cmd else ""


def gc_args(config, dry_run=False, delete_untagged=False):
    args = ["garbage-collect"]
    if dry_run:
        args.append("--dry-run")
    if delete_untagged:
        args.append("--delete-untagged")
    return args + [config]


def delete_untagged_refusal(version, force):
    """The refusal message for --delete-untagged on a registry below 3.0 (distribution #3178), or None."""
    if force or major_version(version) >= 3:
        return None
    return (
        "delete_untagged on registry %s: distribution before 3.0 deletes the platform manifests of manifest lists "
        "and OCI indexes, which no tag names directly (distribution issue #3178), and breaks multi-platform images. "
        "Upgrade to 3.0.0 or later, or set windows_registry_gc_force: true (force: true) to run it anyway." % version
    )


def empty_store(text):
    """True when garbage-collect failed only because the store holds no repository yet."""
    return bool(_EMPTY_STORE_RE.search(text or ""))


def parse_gc_output(text):
    """Counts from `registry garbage-collect` output (its log goes to stdout or stderr alike)."""
    summary = _SUMMARY_RE.search(text or "")
    eligible = sorted(set(_ELIGIBLE_RE.findall(text or "")))
    deleted = sorted(set("%s:%s" % m for m in _DELETING_RE.findall(text or "")))
    return {
        "blobs_marked": int(summary.group(1)) if summary else None,
        "blobs_eligible": int(summary.group(2)) if summary else len(eligible),
        "manifests_eligible": int(summary.group(3)) if summary else None,
        "eligible_blobs": eligible,
        "deleted_blobs": deleted,
    }


def parse_du(stdout):
    """Bytes from `du -sb <path>` output, or None."""
    match = re.match(r"\s*(\d+)\s", stdout or "")
    return int(match.group(1)) if match else None
