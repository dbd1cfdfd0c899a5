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
    "tls_certificate": {"type": "str", "default": ""},
    "tls_key": {"type": "str", "default": ""},
    "htpasswd_path": {"type": "str", "default": ""},
    "htpasswd_realm": {"type": "str", "default": "Registry"},
    "http_secret_file": {"type": "str", "default": ""},
    # Pull-through cache mode (proxy section); the password makes the file a secret file (redact()).
    "proxy_remote_url": {"type": "str", "default": ""},
    "proxy_username": {"type": "str", "default": ""},
    "proxy_password": {"type": "str", "default": "", "no_log": True},
    # Scale-out (replicas): a Redis blob-descriptor cache shared by the replicas.
    "redis_addr": {"type": "str", "default": ""},
    "redis_password": {"type": "str", "default": "", "no_log": True},
    "redis_db": {"type": "int", "default": 0},
    "redis_tls": {"type": "bool", "default": False},
}
REQUIRED_TOGETHER = [("tls_certificate", "tls_key")]
REDACTED = "VALUE_REDACTED (kept in %s on the host)"
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
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_together=REQUIRED_TOGETHER)
        target = Target(self, task_vars)
        secret = self._http_secret(target, args["http_secret_file"])
        # A Redis password makes the config a secret file too (0600, no diff of its content).
        secret_file = bool(secret or args["redis_password"] or args["proxy_password"])
        try:
            extra = _config.deep_merge(_config.security_section(args["tls_certificate"], args["tls_key"], args["htpasswd_path"],
                                                                args["htpasswd_realm"], secret), args["extra"])
            extra = _config.deep_merge(_config.proxy_section(args["proxy_remote_url"], args["proxy_username"], args["proxy_password"]), extra)
            redis = _config.redis_cache_section(_config.major_version(args["version"]), args["redis_addr"],
                                                args["redis_password"], args["redis_db"], args["redis_tls"])
            extra = _config.deep_merge(redis, extra)
            config = _config.build_config(args["version"], args["container_data_dir"], args["storage_delete"], extra)
        except _config.ConfigError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        if target.path.normcase(target.path.normpath(args["data_dir"])) == target.path.normcase(target.path.normpath(args["config_dir"])):
            raise AnsibleActionFail("data_dir and config_dir are both %r: the config folder must be its own folder" % args["data_dir"])
        text = _config.render(config)
        digest = _config.digest(text)
        name = CONFIG_FILE % digest[:12]
        path = target.path.join(args["config_dir"], name)
        try:
            # A config that holds http.secret is written owner-only and without the copy's diff or log.
            steps = [target.ensure_dir(args["data_dir"]), target.ensure_dir(args["config_dir"])]
            steps.append(target.write_file(path, text, mode="0600", secret=True) if secret_file else target.write_file(path, text))
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
        if secret_file:
            if steps[2].get("changed"):
                redacted = _config.render(_config.redact(config, REDACTED % args["http_secret_file"]))
                result["diff"] = {"before": "", "after": redacted, "before_header": path, "after_header": path}
        elif steps[2].get("diff"):
            result["diff"] = steps[2]["diff"]
        return result

    @staticmethod
    def _http_secret(target, path):
        """http.secret from its file on the host (written by registry_secrets); never returned."""
        if not path:
            return ""
        data = target.read_file(path)
        if data is None:
            if target.check_mode:  # registry_secrets made it in check mode, so it is not there yet
                return "check-mode-placeholder"
            raise AnsibleActionFail("http_secret_file %s is not on the host: run dockerwin.registry.registry_secrets first" % path)
        return data.decode("ascii", "replace").strip()
