# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lay out the registry's host folders and write its config.yml (Windows and Linux alike)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _config
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target

ARGUMENT_SPEC = {
    "data_dir": {"type": "str", "required": True},
    "config_dir": {"type": "str", "required": True},
    "version": {"type": "str", "required": True},
    "container_data_dir": {"type": "str", "required": True},
    "storage_delete": {"type": "bool", "default": False},
    "extra": {"type": "dict", "default": {}},
}
# Each configuration gets its own file (config-<digest>.yml): the running container keeps reading its
# own file until a new container has started with the new one, so a failed replacement that restores
# the old container also finds the old configuration in place.
CONFIG_FILE = "config-%s.yml"


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            config = _config.build_config(args["version"], args["container_data_dir"], args["storage_delete"], args["extra"])
        except _config.ConfigError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        target = Target(self, task_vars)
        if target.path.normcase(target.path.normpath(args["data_dir"])) == target.path.normcase(target.path.normpath(args["config_dir"])):
            raise AnsibleActionFail("data_dir and config_dir are both %r: the config folder must be its own folder" % args["data_dir"])
        text = _config.render(config)
        digest = _config.digest(text)
        name = CONFIG_FILE % digest[:12]
        path = target.path.join(args["config_dir"], name)
        try:
            steps = [target.ensure_dir(args["data_dir"]), target.ensure_dir(args["config_dir"]), target.write_file(path, text)]
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        for step in steps:
            if step.get("failed"):
                raise AnsibleActionFail("could not lay out the registry folders: %s" % step.get("msg"), result=step)
        result.update(
            changed=any(step.get("changed") for step in steps),
            path=path,
            file=name,
            digest=digest,
            major_version=_config.major_version(args["version"]),
        )
        if steps[2].get("diff"):
            result["diff"] = steps[2]["diff"]
        return result
