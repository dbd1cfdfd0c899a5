# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a Docker client of the registry: `docker info` (JSON) lists the insecure registries and mirrors
configured, and optionally a push/pull round trip of a small image through the registry."""

from __future__ import annotations

import json
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _daemon_json as D
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error, validated_args

ARGUMENT_SPEC = {
    "expected": {"type": "dict", "default": {}},
    "timeout": {"type": "int", "default": 0},
    "smoke_test": {
        "type": "dict",
        "options": {
            "source_image": {"type": "str", "required": True},
            "registry": {"type": "str", "required": True},
            "account": {"type": "str", "default": "dockerwin"},
            "image": {"type": "str", "default": "smoke"},
            "tag": {"type": "str", "default": "latest"},
        },
    },
    "docker_config": {"type": "str", "default": ""},
    "docker_cli": {"type": "str", "default": "docker"},
    "docker_host": {"type": "str", "default": ""},
}


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC)
        options = (["-H", args["docker_host"]] if args["docker_host"] else []) + (
            ["--config", args["docker_config"]] if args["docker_config"] else [])
        target = Target(self, task_vars, docker_cli=args["docker_cli"], docker_options=options)
        try:
            result.update(changed=False, **self._info(target, args))
            if args["smoke_test"]:
                result["smoke_test"] = self._smoke(target, args["smoke_test"])
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    @staticmethod
    def _info(target, args):
        deadline = time.monotonic() + args["timeout"]
        while True:
            found = target.docker("info", "--format", "{{json .}}", read_only=True)
            problem = command_error(found) if found["rc"] else None
            info = {}
            if problem is None:
                try:
                    info = json.loads(found.get("stdout") or "null") or {}
                except ValueError as exc:
                    problem = "docker info printed no JSON: %s" % exc
            if problem is None:
                problem = "; ".join(D.unmet(info, args["expected"])) or None
            if problem is None or time.monotonic() >= deadline:
                break
            time.sleep(1)
        if problem:
            raise AnsibleActionFail("docker info does not show the registry client settings: %s" % problem)
        registry = info.get("RegistryConfig") or {}
        return {
            "server_version": info.get("ServerVersion", ""),
            "insecure_registries": sorted(name for name, index in (registry.get("IndexConfigs") or {}).items()
                                          if index.get("Secure") is False) + list(registry.get("InsecureRegistryCIDRs") or []),
            "mirrors": list(registry.get("Mirrors") or []),
        }

    @staticmethod
    def _smoke(target, smoke):
        """Tag, push, drop the local tag, pull back and compare image IDs (skipped in check mode)."""
        ref = "%s/%s/%s:%s" % (smoke["registry"], smoke["account"], smoke["image"], smoke["tag"])
        if target.check_mode:
            return {"image": ref, "skipped": True, "msg": "check mode: no push/pull"}

        def docker(*argv, what):
            out = target.docker(*argv)
            if out["rc"] != 0:
                raise AnsibleActionFail("smoke test: %s failed: %s" % (what, command_error(out)))
            return out

        source = target.docker("image", "inspect", "--format", "{{.Id}}", smoke["source_image"], read_only=True)
        if source["rc"] != 0:
            docker("image", "pull", smoke["source_image"], what="docker image pull %s" % smoke["source_image"])
            source = target.docker("image", "inspect", "--format", "{{.Id}}", smoke["source_image"], read_only=True)
        image_id = (source.get("stdout") or "").strip()
        docker("image", "tag", smoke["source_image"], ref, what="docker image tag")
        try:
            docker("image", "push", ref, what="docker image push %s" % ref)
        finally:
            target.docker("image", "rm", ref)
        docker("image", "pull", ref, what="docker image pull %s" % ref)
        pulled = target.docker("image", "inspect", "--format", "{{.Id}}", ref, read_only=True)
        target.docker("image", "rm", ref)
        pulled_id = (pulled.get("stdout") or "").strip()
        if pulled_id != image_id:
            raise AnsibleActionFail("smoke test: %s came back as %s, pushed %s" % (ref, pulled_id, image_id))
        return {"image": ref, "image_id": image_id, "pushed": True, "pulled": True}
