# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Back up the registry's data folder to a tar.gz archive on the host, or restore it from one.

`tar` on both platforms (Windows Server 2019 and later ship bsdtar as C:\\Windows\\System32\\tar.exe), as an
argv list through Target. A JSON file beside the archive keeps the digests recorded at backup time, so a
restore can be verified the way upgrades are.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error, validated_args

ARGUMENT_SPEC = {
    "state": {"type": "str", "required": True, "choices": ["backup", "restore"]},
    "data_dir": {"type": "str", "required": True},
    "archive": {"type": "str", "required": True},
    "snapshot": {"type": "dict", "default": {}},
    "force": {"type": "bool", "default": False},
    "tar": {"type": "str", "default": "tar"},
}
SIDECAR = "%s.json"


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC)
        target = Target(self, task_vars)
        try:
            result.update(backup(target, args) if args["state"] == "backup" else restore(target, args))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


def backup_argv(tar, archive, data_dir):
    return [tar, "-czf", archive, "-C", data_dir, "."]


def restore_argv(tar, archive, data_dir):
    return [tar, "-xzf", archive, "-C", data_dir]


def exists(target, path):
    return target.read_file(SIDECAR % path) is not None


def backup(target, args):
    archive, sidecar = args["archive"], SIDECAR % args["archive"]
    result = {"archive": archive, "sidecar": sidecar, "cmd": backup_argv(args["tar"], archive, args["data_dir"])}
    if not args["force"] and exists(target, archive):
        result.update(changed=False, msg="%s exists (its %s too): nothing written; force: true replaces it" % (archive, sidecar))
        return result
    result["changed"] = True
    if target.check_mode:
        return result
    parent = target.path.dirname(archive)
    if parent:
        made = target.ensure_dir(parent)
        if made.get("failed"):
            raise AnsibleActionFail("could not make %s: %s" % (parent, made.get("msg")))
    ran = target.run(result["cmd"])
    if ran["rc"] != 0:
        raise AnsibleActionFail("tar failed (rc=%s): %s" % (ran["rc"], command_error(ran)), result={"cmd": result["cmd"]})
    # Written last: its presence says the archive is complete.
    written = target.write_file(sidecar, json.dumps({"digests": args["snapshot"], "data_dir": args["data_dir"]},
                                                    indent=2, sort_keys=True) + "\n")
    if written.get("failed"):
        raise AnsibleActionFail("could not write %s: %s" % (sidecar, written.get("msg")))
    result["tags"] = len(args["snapshot"])
    return result


def restore(target, args):
    archive, sidecar = args["archive"], SIDECAR % args["archive"]
    data = target.read_file(sidecar)
    if data is None:
        raise AnsibleActionFail("%s is missing: %s is not a complete backup of this collection (backup writes it last)"
                                % (sidecar, archive))
    try:
        snapshot = json.loads(data.decode("utf-8")).get("digests") or {}
    except ValueError as exc:
        raise AnsibleActionFail("%s is not JSON: %s" % (sidecar, exc)) from exc
    cmd = restore_argv(args["tar"], archive, args["data_dir"])
    result = {"changed": True, "archive": archive, "snapshot": snapshot, "cmd": cmd}
    if target.check_mode:
        return result
    # The registry keeps everything under <root>/docker; the folder itself (and its ACL on Windows) stays.
    for step in (target.remove(target.path.join(args["data_dir"], "docker")), target.ensure_dir(args["data_dir"])):
        if step.get("failed"):
            raise AnsibleActionFail("could not empty %s: %s" % (args["data_dir"], step.get("msg")))
    ran = target.run(cmd)
    if ran["rc"] != 0:
        raise AnsibleActionFail("tar failed (rc=%s): %s; %s is incomplete, restore again" % (ran["rc"], command_error(ran), args["data_dir"]),
                                result={"cmd": cmd})
    return result
