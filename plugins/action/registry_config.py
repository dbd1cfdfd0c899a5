# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lay out the registry's host folders and write its config.yml (Windows and Linux alike)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _config, _storage
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, validated_args

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
    # Storage backend (#9 storage): filesystem | s3 | azure; the S3 secret key / Azure account key are no_log.
    "storage": {"type": "str", "default": "filesystem", "choices": list(_storage.STORAGE_BACKENDS)},
    "storage_redirect": {"type": "bool", "default": False},
    "storage_s3": {"type": "dict", "default": {}, "options": {
        "bucket": {"type": "str", "default": ""},
        "region": {"type": "str", "default": ""},
        "regionendpoint": {"type": "str", "default": ""},
        "accesskey": {"type": "str", "default": ""},
        "secretkey": {"type": "str", "default": "", "no_log": True},
        "secure": {"type": "bool", "default": True},
        "skipverify": {"type": "bool", "default": False},
        "forcepathstyle": {"type": "bool", "default": True},
        "rootdirectory": {"type": "str", "default": ""},
        "ca": {"type": "str", "default": ""},
    }},
    "storage_azure": {"type": "dict", "default": {}, "options": {
        "accountname": {"type": "str", "default": ""},
        "accountkey": {"type": "str", "default": "", "no_log": True},
        "container": {"type": "str", "default": ""},
        "realm": {"type": "str", "default": ""},
        "rootdirectory": {"type": "str", "default": ""},
    }},
}
REQUIRED_TOGETHER = [("tls_certificate", "tls_key")]
REDACTED = "VALUE_REDACTED (kept in %s on the host)"
# Each configuration gets its own file (config-<digest>.yml): the running container keeps reading its
# own file until a new container has started with the new one, so a failed replacement that restores
# the old container also finds the old configuration in place.
CONFIG_FILE = "config-%s.yml"
# Sub-folder of the config folder with the S3 endpoint's CA certificate (#9 storage).
STORAGE_CA_DIR = "storage-ca"


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC, required_together=REQUIRED_TOGETHER)
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
            driver = _storage.storage_driver(args["storage"], args["version"], args["container_data_dir"],
                                             s3=args["storage_s3"], azure=args["storage_azure"], redirect=args["storage_redirect"])
            config = _config.build_config(args["version"], args["container_data_dir"], args["storage_delete"], extra, driver=driver)
        except _config.ConfigError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        if target.path.normcase(target.path.normpath(args["data_dir"])) == target.path.normcase(target.path.normpath(args["config_dir"])):
            raise AnsibleActionFail("data_dir and config_dir are both %r: the config folder must be its own folder" % args["data_dir"])
        text = _config.render(config)
        # The storage secrets make the file a secret file too (owner-only, no diff), like http.secret (#9 storage).
        redacted_text = _config.render(_config.redact(config, REDACTED % args["http_secret_file"]))
        secret_file = secret_file or redacted_text != text
        digest = _config.digest(text)
        name = CONFIG_FILE % digest[:12]
        path = target.path.join(args["config_dir"], name)
        try:
            # A config that holds http.secret is written owner-only and without the copy's diff or log.
            steps = [target.ensure_dir(args["data_dir"]), target.ensure_dir(args["config_dir"])]
            steps.append(target.write_file(path, text, mode="0600", secret=True) if secret_file else target.write_file(path, text))
            steps += self._storage_ca(target, args)
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
            storage=_storage.storage_identity(config),
        )
        if secret_file:
            if steps[2].get("changed"):
                redacted = _config.render(_config.redact(config, REDACTED % args["http_secret_file"]))
                result["diff"] = {"before": "", "after": redacted, "before_header": path, "after_header": path}
        elif steps[2].get("diff"):
            result["diff"] = steps[2]["diff"]
        return result

    @staticmethod
    def _storage_ca(target, args):
        """The S3 endpoint's CA certificate in <config>/storage-ca (the container mounts it into its trust folder on
        Linux) (#9 storage). Without a CA nothing is asked of the host: a certificate left from earlier is public and
        no longer mounted."""
        ca = args["storage_s3"].get("ca") or "" if args["storage"] == "s3" else ""
        if not ca:
            return []
        ca_dir = target.path.join(args["config_dir"], STORAGE_CA_DIR)
        return [target.ensure_dir(ca_dir), target.write_file(target.path.join(ca_dir, "storage-ca.crt"), ca.strip() + "\n")]

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
