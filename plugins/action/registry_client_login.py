# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`docker login` to a registry on the target, with the password on stdin; skipped when the docker client
config already holds a login of the same user. Nothing read here (config.json, helper output) is returned."""

from __future__ import annotations

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _client as C
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error

ARGUMENT_SPEC = {
    "registry": {"type": "str", "required": True},
    "username": {"type": "str", "default": ""},
    "password": {"type": "str", "default": "", "no_log": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "docker_config": {"type": "str", "default": ""},
    "docker_cli": {"type": "str", "default": "docker"},
    "docker_host": {"type": "str", "default": ""},
}
REQUIRED_IF = [("state", "present", ["username", "password"])]


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF)
        options = (["-H", args["docker_host"]] if args["docker_host"] else []) + (
            ["--config", args["docker_config"]] if args["docker_config"] else [])
        target = Target(self, task_vars, docker_cli=args["docker_cli"], docker_options=options)
        try:
            C.split_registry(args["registry"])
            result.update(self._converge(target, args))
        except C.ClientError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _stored_user(self, target, args):
        """User the docker client holds a login for (never the secret), or None."""
        if not args["docker_config"]:
            return None
        data = target.read_file(target.path.join(args["docker_config"], "config.json"))
        try:
            config = json.loads((data or b"{}").decode("utf-8-sig") or "{}")
        except ValueError:
            return None
        user, helper = C.logged_in_user(config, args["registry"])
        if user or not helper:
            return user
        found = target.run(["docker-credential-" + helper, "get"], read_only=True, stdin=args["registry"])
        try:
            return json.loads(found.get("stdout") or "{}").get("Username") if found["rc"] == 0 else None
        except ValueError:
            return None

    def _converge(self, target, args):
        registry = args["registry"]
        user = self._stored_user(target, args)
        result = {"registry": registry, "changed": False}
        if args["state"] == "absent":
            if user is None and args["docker_config"]:
                return result
            result["changed"] = True
            if not target.check_mode:
                out = target.docker("logout", registry)
                if out["rc"] != 0:
                    raise AnsibleActionFail("docker logout %s failed: %s" % (registry, command_error(out)))
                result["changed"] = "Removing login credentials" in (out.get("stdout") or "") or user is not None
            return result
        if user == args["username"]:
            result["user"] = user
            return result
        result.update(changed=True, user=args["username"])
        if target.check_mode:
            return result
        out = target.docker("login", "--username", args["username"], "--password-stdin", registry, stdin=args["password"])
        if out["rc"] != 0:
            raise AnsibleActionFail("docker login %s as %s failed: %s" % (registry, args["username"], command_error(out)))
        return result
