# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the registry's TLS material, htpasswd users and http.secret on the registry host.

The files are read back from the host on every run (slurp, inside this plugin: nothing read is returned), so a
fresh controller never makes a new CA, server key or http.secret. What must change is decided on the controller
(plugins/plugin_utils/_secrets.py) and only changed files are written, with owner-only access. The result holds
public facts only: names, fingerprints, expiry, user names, the CA certificate, and a digest for the container label.

New TLS material comes from community.crypto, which runs on the controller (Windows hosts run no Python modules):
``step: plan`` only reads the host and says what to mint (its result holds the kept keys that must sign, so it is
no_log); the role mints (tasks/secrets_mint.yml) and ``step: apply`` takes the PEMs as ``minted``, checks and writes them.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _secrets as S
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, validated_args

MINTED = ("ca_key", "ca_cert", "server_key", "server_cert")
ARGUMENT_SPEC = {
    "step": {"type": "str", "default": "apply", "choices": ["plan", "apply"]},
    "minted": {
        "type": "dict",
        # No default: validation fills suboption defaults into the given dict, and a shared {} would keep them.
        "options": {name: {"type": "str", "default": "", "no_log": name.endswith("_key")} for name in MINTED},
    },
    "config_dir": {"type": "str", "required": True},
    "ca_dir": {"type": "str", "required": True},
    "tls": {"type": "str", "default": "none", "choices": list(S.TLS_MODES)},
    "tls_names": {"type": "list", "elements": "str", "default": []},
    "tls_valid_days": {"type": "int", "default": 365},
    "tls_renew_days": {"type": "int", "default": 30},
    "tls_certificate": {"type": "str", "default": "", "no_log": False},
    "tls_certificate_src": {"type": "str", "default": ""},
    "tls_chain": {"type": "str", "default": ""},
    "tls_chain_src": {"type": "str", "default": ""},
    "tls_key": {"type": "str", "default": "", "no_log": True},
    "tls_key_src": {"type": "str", "default": "", "no_log": False},
    "tls_ca": {"type": "str", "default": ""},
    "tls_ca_src": {"type": "str", "default": ""},
    "auth": {"type": "str", "default": "none", "choices": list(S.AUTH_MODES)},
    "users": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {"name": {"type": "str", "required": True}, "password": {"type": "str", "required": True, "no_log": True}},
    },
    "realm": {"type": "str", "default": "Registry"},
    "principals": {"type": "list", "elements": "str", "default": []},
    "readers": {"type": "list", "elements": "str", "default": []},
    "http_secret": {"type": "str", "default": "", "no_log": True},
}
EXCLUSIVE = [("tls_certificate", "tls_certificate_src"), ("tls_chain", "tls_chain_src"), ("tls_key", "tls_key_src"),
             ("tls_ca", "tls_ca_src")]


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC)
        if S.CRYPTOGRAPHY_IMPORT_ERROR is not None:
            raise AnsibleActionFail(
                "registry_secrets needs the Python package cryptography on the controller (pip install cryptography): %s"
                % S.CRYPTOGRAPHY_IMPORT_ERROR
            )
        for content, src in EXCLUSIVE:  # empty strings are the role's "not given", so not validate_argument_spec's check
            if args[content] and args[src]:
                raise AnsibleActionFail("%s and %s are both given: give the content or the file on the controller" % (content, src))
        target = Target(self, task_vars)
        try:
            secrets = _Secrets(self, target, args)
            result.update(secrets.mint_plan() if args["step"] == "plan" else secrets.converge())
        except S.SecretsError as exc:
            raise AnsibleActionFail(str(exc)) from None
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def controller_file(self, option, path):
        """Text of a controller file (Vault-encrypted files are decrypted), for the *_src options."""
        try:
            found = self._find_needle("files", path)
            real = self._loader.get_real_file(found, decrypt=True)
        except Exception as exc:  # AnsibleFileNotFound, vault errors: all end the same way
            raise AnsibleActionFail("%s=%s: cannot read it on the controller: %s" % (option, path, exc)) from None
        try:
            with open(real, "rb") as handle:
                return to_text(handle.read(), errors="surrogate_or_strict")
        finally:
            if real != found:
                self._loader.cleanup_tmp_file(real)


class _Secrets:
    def __init__(self, action, target, args):
        self.action = action
        self.target = target
        self.args = args
        path = target.path
        self.dirs = {
            "ca": args["ca_dir"],
            "tls": path.join(args["config_dir"], "tls"),
            "auth": path.join(args["config_dir"], "auth"),
        }
        self.paths = {name: path.join(self.dirs[folder], file) for name, (folder, file) in S.LAYOUT.items()}

    def inputs(self):
        args = self.args
        given = {}
        for option in ("tls_certificate", "tls_chain", "tls_key", "tls_ca"):
            src = args[option + "_src"]
            given[option] = self.action.controller_file(option + "_src", src) if src else args[option]
        return S.Inputs(
            tls=args["tls"], names=args["tls_names"], valid_days=args["tls_valid_days"], renew_days=args["tls_renew_days"],
            certificate=given["tls_certificate"], chain=given["tls_chain"], key=given["tls_key"], ca=given["tls_ca"],
            auth=args["auth"], users=args["users"], realm=args["realm"], http_secret=args["http_secret"],
        )

    def managed(self):
        """The logical files this run manages (others on the host are left alone)."""
        names = [S.HTTP_SECRET]
        if self.args["tls"] != "none":
            names += [S.SERVER_KEY, S.SERVER_CERT, S.TLS_CA]
        if self.args["tls"] == "self_signed":
            names += [S.CA_KEY, S.CA_CERT]
        if self.args["auth"] == "htpasswd":
            names.append(S.HTPASSWD)
        return names

    def mint_plan(self):
        """step=plan: read the CA and server files and say what community.crypto must mint. Changes nothing."""
        names = [S.CA_KEY, S.CA_CERT, S.SERVER_KEY, S.SERVER_CERT] if self.args["tls"] == "self_signed" else []
        existing = {name: self.target.read_file(self.paths[name]) for name in names}
        plan = S.mint_plan(existing, self.inputs())
        return {
            "changed": False,
            "mint": plan.mint,
            "reasons": plan.reasons,
            "sources": {name: data.decode("ascii") for name, data in plan.sources.items()},
            # The sources are the kept CA and server keys: censored in every output, even without the task's no_log.
            "_ansible_no_log": bool(plan.sources),
        }

    def converge(self):
        inputs = self.inputs()
        managed = self.managed()
        existing = {name: self.target.read_file(self.paths[name]) for name in managed}
        plan = S.plan(existing, inputs, minted=self.args["minted"] or {})
        if plan.mint:
            raise AnsibleActionFail(
                "registry_secrets: the host needs a new %s, which community.crypto mints on the controller: run this "
                "module with step=plan, mint what its result asks for (roles/windows_registry/tasks/secrets_mint.yml) "
                "and pass the PEMs as minted" % ", ".join(sorted(plan.mint)).replace("_", " "))
        steps = self.folders(managed)
        for name in managed:
            if name in plan.files:
                steps.append(("write %s" % self.paths[name], self.target.write_file(
                    self.paths[name], plan.files[name].decode("ascii"), mode="0600", secret=True)))
        failed = [(what, step) for what, step in steps if step.get("failed")]
        if failed:
            what, step = failed[0]
            # The step ran with no_log: its msg is Ansible's "censored" notice or the module's own error.
            raise AnsibleActionFail("could not %s on the registry host: %s" % (what, step.get("msg", "failed")))
        changed_files = sorted(self.paths[name] for name in plan.files if name in managed)
        result = dict(plan.facts)
        result.update(
            changed=any(step.get("changed") for dummy, step in steps),
            changed_files=changed_files,
            reasons=plan.reasons,
            secrets_digest=plan.digest(),
            paths={name: self.paths[name] for name in managed},
        )
        if plan.warnings:
            result["warnings"] = plan.warnings
        return result

    def folders(self, managed):
        """Config folder (it will hold http.secret in config.yml), tls/, auth/ and the CA folder: made and
        restricted to the owner (Windows: Administrators and SYSTEM, and read for the container's run identity)."""
        wanted = [self.args["config_dir"]]
        for folder in ("tls", "auth", "ca"):
            if any(S.LAYOUT[name][0] == folder for name in managed):
                wanted.append(self.dirs[folder])
        steps = []
        for folder in wanted:
            made = self.target.ensure_dir(folder, mode="0700")
            steps.append(("create %s" % folder, made))
            # Windows: tls\ and auth\ inherit the config folder's entries; POSIX: mode 0700 above.
            if not self.target.windows or folder not in (self.args["config_dir"], self.dirs["ca"]):
                continue
            if self.target.check_mode and made.get("changed"):
                steps.append(("restrict access to %s" % folder, {"changed": True}))  # not there yet to set ACLs on
                continue
            for result in self.target.restrict_dir(
                    folder, self.args["principals"], self.args["readers"] if folder == self.args["config_dir"] else ()):
                steps.append(("restrict access to %s" % folder, result))
        return steps
