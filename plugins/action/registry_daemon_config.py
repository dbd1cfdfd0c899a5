# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge the registry client's settings into the Docker daemon's daemon.json (Windows and Linux alike)."""

from __future__ import annotations

import json
import os
import re
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _client
from ansible_collections.dockerwin.registry.plugins.plugin_utils import _daemon_json as D
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error, validated_args

ARGUMENT_SPEC = {
    "path": {"type": "str", "default": ""},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "insecure_registries": {"type": "list", "elements": "str", "default": []},
    "registry_mirrors": {"type": "list", "elements": "str", "default": []},
    "allow_nondistributable_artifacts": {"type": "list", "elements": "str", "default": []},
    "proxies": {
        "type": "dict",
        "default": {},
        "options": {
            "http_proxy": {"type": "str", "default": ""},
            "https_proxy": {"type": "str", "default": ""},
            "no_proxy": {"type": "str", "default": ""},
        },
    },
    "validate": {"type": "bool", "default": True},
    "dockerd_cli": {"type": "str", "default": "dockerd"},
    "docker_cli": {"type": "str", "default": "docker"},
    "docker_host": {"type": "str", "default": ""},
}
UNKNOWN_FLAG = re.compile(r"unknown (flag|shorthand flag).*validate", re.IGNORECASE)
_USERINFO = re.compile(r"(://[^/@:\s]*:)[^@/\s]*@")


def mask(text):
    """Hide passwords in proxy URLs (http://user:secret@proxy) from diffs and messages."""
    return _USERINFO.sub(r"\1********@", text)


def docker_options(docker_host):
    return ["-H", docker_host] if docker_host else []


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_diff = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC)
        target = Target(self, task_vars, docker_cli=args["docker_cli"], docker_options=docker_options(args["docker_host"]))
        try:
            result.update(_DaemonConfig(target, args).converge())
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


class _DaemonConfig:
    def __init__(self, target, args):
        self.target = target
        self.args = args
        self.path = args["path"] or _client.default_daemon_json(target.windows)
        self.warnings = []

    def settings(self):
        args = self.args
        settings = {
            "insecure-registries": args["insecure_registries"],
            "registry-mirrors": args["registry_mirrors"],
            "allow-nondistributable-artifacts": args["allow_nondistributable_artifacts"],
            "proxies": {key.replace("_", "-"): value for key, value in (args["proxies"] or {}).items() if value},
        }
        for entry in args["insecure_registries"] + args["allow_nondistributable_artifacts"]:
            if "://" in entry:
                raise AnsibleActionFail(
                    "insecure_registries/allow_nondistributable_artifacts entry %r: Docker refuses a scheme here; "
                    "give host:port (or a CIDR such as 10.0.0.0/24)" % entry
                )
        for mirror in args["registry_mirrors"]:
            if not re.match(r"^https?://[^/\s]+/?$", mirror):
                raise AnsibleActionFail("registry_mirrors entry %r: give a URL such as https://mirror.local:5000" % mirror)
        return settings

    def engine(self):
        found = self.target.docker("version", "--format", "{{json .Server}}", read_only=True)
        try:
            return D.engine_major(json.loads(found.get("stdout") or "null")), json.loads(found["stdout"]).get("Version")
        except (ValueError, D.DaemonJsonError, AttributeError) as exc:
            raise AnsibleActionFail(
                "could not read the Docker engine version (`docker version`), needed for allow_nondistributable_artifacts "
                "and proxies: %s" % (command_error(found) if found.get("rc") else exc)
            ) from exc

    def adjust_for_engine(self, settings):
        """allow-nondistributable-artifacts only below Docker 28; proxies only from Docker 23.

        Returns (settings to merge, engine version or None, entries to remove: those Docker 28+ ignores)."""
        nondist = settings["allow-nondistributable-artifacts"]
        if self.args["state"] != "present" or (not nondist and not settings["proxies"]):
            return settings, None, []
        major, version = self.engine()
        if settings["proxies"] and major < D.PROXIES_FIRST_MAJOR:
            raise AnsibleActionFail(
                "proxies: the Docker engine here is %s; daemon.json takes `proxies` from Docker 23.0 and older engines "
                "refuse to start with it. Set the proxy in the service environment instead, or leave proxies empty." % version
            )
        if nondist and major > D.NONDISTRIBUTABLE_LAST_MAJOR:
            self.warnings.append(
                "allow_nondistributable_artifacts: Docker %s ignores allow-nondistributable-artifacts (deprecated from 28) "
                "and a later engine refuses it; these entries are left out (and removed if this role added them)." % version
            )
            return dict(settings, **{"allow-nondistributable-artifacts": []}), version, nondist
        return settings, version, []

    def converge(self):
        state = self.args["state"]
        settings = self.settings()
        settings, version, ignored = self.adjust_for_engine(settings)
        data = self.target.read_file(self.path)
        try:
            config, style = D.parse(data, self.path)
            new, changes = D.merge(config, settings, state)
            if ignored:
                new, dropped = D.merge(new, {"allow-nondistributable-artifacts": ignored}, "absent")
                changes += dropped
        except D.DaemonJsonError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        if data is None:
            changed = bool(new)
        else:
            changed = new != config
        after = D.render(new, style) if changed else data
        result = {
            "changed": changed,
            "path": self.path,
            "created": changed and data is None,
            "changes": [mask(c) for c in changes],
            "encoding": style.encoding + ("-bom" if style.bom else ""),
            "expected": self.expected(settings, state),
            "backup_file": "",
            "validation": "",
        }
        if version:
            result["engine_version"] = version
        if self.warnings:
            result["warnings"] = self.warnings
        if changed:
            before_text = D.decode(data, self.path)[0] if data is not None else ""
            after_text = D.decode(after, self.path)[0]
            result["diff"] = {
                "before_header": self.path, "after_header": self.path,
                "before": mask(before_text), "after": mask(after_text),
            }
        if not changed or self.target.check_mode:
            return result
        local = self.local_copy(after)
        try:
            if self.args["validate"]:
                result["validation"] = self.validate(local)
            folder = self.target.path.dirname(self.path)
            made = self.target.ensure_dir(folder)
            if made.get("failed"):
                raise AnsibleActionFail("could not create %s: %s" % (folder, made.get("msg")))
            written = self.target.upload(local, self.path, backup=True)
        finally:
            os.unlink(local)
        if written.get("failed"):
            raise AnsibleActionFail("could not write %s: %s" % (self.path, written.get("msg")))
        result["backup_file"] = written.get("backup_file") or ""
        return result

    @staticmethod
    def expected(settings, state):
        """What `docker info` must show once the daemon has the file (registry_daemon_reload waits for it)."""
        insecure = [e for e in settings["insecure-registries"] if e]
        mirrors = [e for e in settings["registry-mirrors"] if e]
        if state == "present":
            return {"insecure_present": insecure, "mirrors_present": mirrors, "insecure_absent": [], "mirrors_absent": []}
        return {"insecure_present": [], "mirrors_present": [], "insecure_absent": insecure, "mirrors_absent": mirrors}

    @staticmethod
    def local_copy(data):
        handle, local = tempfile.mkstemp(prefix="dockerwin-daemon-", suffix=".json")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return local

    def validate(self, local):
        """`dockerd --validate --config-file` on the candidate file, in a work folder on the target."""
        folder = self.target.work_dir()
        try:
            candidate = self.target.path.join(folder, "daemon.json")
            sent = self.target.upload(local, candidate)
            if sent.get("failed"):
                raise AnsibleActionFail("could not send the candidate daemon.json: %s" % sent.get("msg"))
            checked = self.target.run([self.args["dockerd_cli"], "--validate", "--config-file", candidate])
        finally:
            self.target.remove(folder)
        output = command_error(checked)
        if checked["rc"] == 0:
            return "valid (dockerd --validate)"
        if UNKNOWN_FLAG.search(output):
            note = "skipped: this dockerd has no --validate (Docker 23+ has it)"
            self.warnings.append("daemon.json not validated before the reload: " + note)
            return note
        raise AnsibleActionFail(
            "dockerd --validate refuses the merged daemon.json, so %s was not changed: %s" % (self.path, mask(output))
        )
