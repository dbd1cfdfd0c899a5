# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run `registry garbage-collect` in a one-off container of the registry's own image, on its own data and config."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _maintenance as M
from ansible_collections.dockerwin.registry.plugins.plugin_utils._config import ConfigError
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error, validated_args

ARGUMENT_SPEC = {
    "container": {"type": "str", "required": True},
    "data_dir": {"type": "str", "default": ""},
    "version": {"type": "str", "default": ""},
    "dry_run": {"type": "bool", "default": False},
    "delete_untagged": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": False},
    "registry_binary": {"type": "str", "default": ""},
    "docker_cli": {"type": "str", "default": "docker"},
}
VERSION_LABEL = "io.dockerwin.registry.version"


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC)
        target = Target(self, task_vars, docker_cli=args["docker_cli"])
        try:
            result.update(collect(target, args))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


def collect(target, args):
    found = target.docker_json("container", "inspect", args["container"])
    if not found:
        raise AnsibleActionFail("container=%s: no such container on the host; deploy the registry first" % args["container"])
    inspect = found[0]
    version = args["version"] or ((inspect.get("Config") or {}).get("Labels") or {}).get(VERSION_LABEL, "")
    if args["delete_untagged"]:
        if not version:
            raise AnsibleActionFail("delete_untagged needs version (the container has no %s label)" % VERSION_LABEL)
        try:
            refusal = M.delete_untagged_refusal(version, args["force"])
        except ConfigError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        if refusal:
            raise AnsibleActionFail(refusal)
    config = M.config_path(inspect)
    if not config:
        raise AnsibleActionFail("container %s has no command: the config file path is unknown" % args["container"])
    spec = M.oneoff_spec(inspect, args["container"] + "-gc", target.windows)
    entrypoint = args["registry_binary"] or M.REGISTRY_BINARY[target.windows]
    argv = M.oneoff_argv(spec, entrypoint, M.gc_args(config, args["dry_run"], args["delete_untagged"]),
                         docker=[target.docker_cli, *target.docker_options])
    result = {"changed": not args["dry_run"], "cmd": argv, "dry_run": args["dry_run"], "config": config}
    if target.check_mode:
        result["msg"] = "check mode: garbage-collect not run"
        return result
    # A leftover of an interrupted run (--rm removes it otherwise) would block the name.
    if target.docker_json("container", "inspect", spec.name):
        target.docker_checked("container", "rm", "--force", spec.name, what="removing leftover %s" % spec.name)
    before = size(target, args["data_dir"])
    ran = target.run(argv)
    output = (ran.get("stdout") or "") + "\n" + (ran.get("stderr") or "")
    if ran["rc"] != 0 and M.empty_store(output):
        result.update(M.parse_gc_output(""), blobs_marked=0, manifests_eligible=0, changed=False,
                      msg="the storage holds no repository yet: nothing to collect")
        result.update(bytes_before=before, bytes_after=before, bytes_freed=0 if before is not None else None)
        return result
    if ran["rc"] != 0:
        raise AnsibleActionFail("registry garbage-collect failed (rc=%s): %s" % (ran["rc"], command_error(ran)),
                                result={"cmd": argv})
    after = size(target, args["data_dir"])
    result.update(M.parse_gc_output(output))
    result["output_lines"] = [line for line in output.splitlines() if line.strip()][-200:]
    result["bytes_before"] = before
    result["bytes_after"] = after
    result["bytes_freed"] = (before - after) if before is not None and after is not None else None
    result["changed"] = not args["dry_run"] and (bool(result["deleted_blobs"]) or bool(result["bytes_freed"]))
    return result


def size(target, path):
    """Bytes under path with `du -sb` on POSIX hosts; None on Windows (the GC output is the account there)."""
    if not path or target.windows:
        return None
    ran = target.run(["du", "-sb", path], read_only=True)
    return M.parse_du(ran.get("stdout")) if ran["rc"] == 0 else None
