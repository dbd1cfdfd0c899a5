# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`docker login` to a registry on the target, with the password on stdin; skipped when the docker client
config already holds a login of the same user with the same password (the `auth` entry of config.json, or the
credential helper's answer). When the stored password cannot be read (a helper that does not answer, an identity
token), the login runs and reports a change. Nothing read here (config.json, helper output) is returned."""

from __future__ import annotations

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _client as C
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error, validated_args

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
        args = validated_args(self, ARGUMENT_SPEC, required_if=REQUIRED_IF)
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

    def _stored_login(self, target, args):
        """(user, secret) the docker client holds for the registry, each None when unknown; never returned."""
        if not args["docker_config"]:
            return None, None
        data = target.read_file(target.path.join(args["docker_config"], "config.json"))
        try:
            config = json.loads((data or b"{}").decode("utf-8-sig") or "{}")
        except ValueError:
            return None, None
        user, secret, helper = C.stored_login(config, args["registry"])
        if user or not helper:
            return user, secret
        found = target.run(["docker-credential-" + helper, "get"], read_only=True, stdin=args["registry"])
        try:
            stored = json.loads(found.get("stdout") or "{}") if found["rc"] == 0 else {}
        except ValueError:
            return None, None
        return stored.get("Username"), stored.get("Secret")

    def _converge(self, target, args):
        registry = args["registry"]
        user, secret = self._stored_login(target, args)
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
        if user == args["username"] and secret == args["password"]:
            result["user"] = user
            return result
        # A new user, a new password, or a stored password that cannot be compared: log in.
        result.update(changed=True, user=args["username"])
        if target.check_mode:
            return result
        out = target.docker("login", "--username", args["username"], "--password-stdin", registry, stdin=args["password"])
        if out["rc"] != 0:
            raise AnsibleActionFail("docker login %s as %s failed: %s" % (registry, args["username"], command_error(out)))
        return result
