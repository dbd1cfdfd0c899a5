# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guard a change of storage backend (#9 storage), and migrate the images when asked.

The running container's config file (named in its command, read on the host) says where its data is now; the
new config from registry_config says where it will be. When the backend changes and the running registry holds
images, the change is refused unless ``migrate``; then a temporary container of the NEW configuration (same image,
mounts and config folder, so the same TLS, users and http.secret) runs on ``migrate_port``, and every repository
and tag is copied to it through the registry API by digest (the Copier of registry_copy: blobs, then the exact
manifest bytes), verified by digest, and the temporary container removed. Only then does the role's container task
switch the registry to the new config.

Why the API and not the storage: it needs no S3 or Azure client anywhere (the registry's own drivers do the
writing, on Windows as on Linux), works for every pair of backends, and each blob is checked against its digest on
the way (the source read is hashed, the destination's PUT ?digest= is checked by the registry). What it cannot copy
is what the API cannot list: manifests that no tag names.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse

import yaml

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import RegistryError
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_copier import Copier, verify_tag
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_writer import RegistryWriter
from ansible_collections.dockerwin.registry.plugins.plugin_utils import _container as C
from ansible_collections.dockerwin.registry.plugins.plugin_utils import _storage
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, command_error, validated_args

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "storage": {"type": "dict", "required": True},
    "migrate": {"type": "bool", "default": False},
    "image": {"type": "str", "default": ""},
    "command": {"type": "list", "elements": "str", "default": []},
    "volumes": {"type": "list", "elements": "dict", "default": [], "options": {
        "source": {"type": "str", "required": True},
        "target": {"type": "str", "required": True},
        "read_only": {"type": "bool", "default": False},
    }},
    "migrate_port": {"type": "int", "default": 0},
    "bind_address": {"type": "str", "default": ""},
    "isolation": {"type": "str", "default": ""},
    "user": {"type": "str", "default": ""},
    "url": {"type": "str", "required": True},
    "url_username": {"type": "str", "default": ""},
    "url_password": {"type": "str", "default": "", "no_log": True},
    "ca_cert": {"type": "str", "default": ""},
    "connect_address": {"type": "str", "default": ""},
    "wait_timeout": {"type": "int", "default": 60},
    "docker_cli": {"type": "str", "default": "docker"},
}
MIGRATION_LABEL = "io.dockerwin.registry.migration"
VERIFY_ROUNDS = 3


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC)
        target = Target(self, task_vars, docker_cli=args["docker_cli"])
        ca_file = None
        try:
            if args["ca_cert"]:  # public; the controller's client checks the registry's certificate with it
                handle, ca_file = tempfile.mkstemp(prefix="dockerwin-registry-ca-", suffix=".crt")
                with os.fdopen(handle, "w") as out:
                    out.write(args["ca_cert"])
            result.update(_Storage(target, args, ca_file).converge())
        finally:
            if ca_file:
                os.unlink(ca_file)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


def _with_port(url, port):
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname if ":" not in (parts.hostname or "") else "[%s]" % parts.hostname
    return urllib.parse.urlunsplit((parts.scheme, "%s:%d" % (host, port), parts.path, "", ""))


def _address_with_port(address, port):
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 or address.startswith("[") else address
    return "%s:%d" % (host, port)


class _Storage:
    def __init__(self, target, args, ca_file):
        self.target = target
        self.args = args
        self.ca_file = ca_file
        self.name = args["name"]
        self.temp_name = args["name"] + "-migrate"
        self.new = {"driver": args["storage"].get("driver", ""), "location": dict(args["storage"].get("location") or {})}

    def client(self, url, connect_address):
        return RegistryWriter(url, username=self.args["url_username"] or None, password=self.args["url_password"] or None,
                              ca_path=self.ca_file, connect_address=connect_address or None, timeout=30)

    def current(self):
        """(inspect, storage identity) of the running configuration, or (inspect or None, None) when unknown.
        A container that already runs the new config file has the new storage (no file read)."""
        found = self.target.docker_json("container", "inspect", self.name)
        if not found:
            return None, None
        inspect = found[0]
        cmd = (inspect.get("Config") or {}).get("Cmd") or []
        if cmd and self.args["command"] and cmd[0] == self.args["command"][0]:
            return inspect, self.new
        path = C.host_path(cmd[0], inspect.get("Mounts") or [], self.target.windows) if cmd else None
        data = self.target.read_file(path) if path else None
        if data is None:
            return inspect, None
        try:
            return inspect, _storage.storage_identity(yaml.safe_load(data.decode("utf-8", "replace")) or {})
        except yaml.YAMLError:
            return inspect, None

    def converge(self):
        new = self.new
        inspect, old = self.current()
        result = {"changed": False, "storage": new, "previous_storage": old, "backend_changed": False}
        if inspect is None:
            result["msg"] = "no container %s yet: nothing to compare or migrate" % self.name
            return result
        if old is None:
            result["msg"] = "the config file of container %s is not readable: storage not compared" % self.name
            return result
        if old == new:
            result["msg"] = "storage unchanged: %s" % _storage.describe(new)
            return result
        result["backend_changed"] = True
        if C.run_status(inspect) != "running":
            raise AnsibleActionFail(
                "windows_registry_storage: the backend changes from %s to %s, but container %s is not running, so the role "
                "cannot tell whether it holds images. Start it with its current settings first (or remove it if its data "
                "may be left behind)." % (_storage.describe(old), _storage.describe(new), self.name))
        source = self.client(self.args["url"], self.args["connect_address"])
        try:
            source.ping(wait_timeout=self.args["wait_timeout"])
            repositories = self.tagged(source)
        except RegistryError as exc:
            raise AnsibleActionFail("windows_registry_storage: could not list the images of %s at %s to decide on the backend "
                                    "change: %s" % (self.name, self.args["url"], exc)) from exc
        tags = sum(len(t) for t in repositories.values())
        result.update(repositories=len(repositories), tags=tags)
        if not repositories:
            result["msg"] = "storage changes from %s to %s; the registry holds no images, nothing to migrate" % (
                _storage.describe(old), _storage.describe(new))
            return result
        if not self.args["migrate"]:
            self.drop_new_config(inspect)
            raise AnsibleActionFail(
                "windows_registry_storage: registry %s holds %d repositories (%d tags) in %s; switching it to %s would leave "
                "them behind. Set windows_registry_storage_migrate: true to copy every image to the new backend first "
                "(verified by digest), or keep the current storage settings." % (
                    self.name, len(repositories), tags, _storage.describe(old), _storage.describe(new)))
        result["changed"] = True
        if self.target.check_mode:
            result["msg"] = "check mode: would migrate %d repositories (%d tags) from %s to %s" % (
                len(repositories), tags, _storage.describe(old), _storage.describe(new))
            return result
        result.update(self.migrate(source, repositories))
        result["msg"] = "migrated %d repositories (%d tags, %d manifests, %d blobs verified) from %s to %s" % (
            len(repositories), tags, result["verified_manifests"], result["verified_blobs"],
            _storage.describe(old), _storage.describe(new))
        return result

    @staticmethod
    def tagged(client):
        """{repository: [tags]} of every repository with at least one tag."""
        found = {}
        for repository in client.catalog():
            tags = client.tags(repository)
            if tags:
                found[repository] = sorted(tags)
        return found

    # -- the migration ------------------------------------------------------------------------
    def migrate(self, source, repositories):
        port = self.args["migrate_port"]
        if not self.args["image"] or not self.args["command"] or not port:
            raise AnsibleActionFail("migrate needs image, command and migrate_port (the new configuration to run)")
        spec = C.ContainerSpec(
            name=self.temp_name, image=self.args["image"], windows=self.target.windows, command=self.args["command"],
            ports=[C.Port(port, 5000, "" if self.target.windows else self.args["bind_address"])],
            mounts=[C.Mount(v["source"], v["target"], v["read_only"]) for v in self.args["volumes"]],
            restart_policy="no", labels={MIGRATION_LABEL: self.name}, isolation=self.args["isolation"], user=self.args["user"])
        self.remove_temp()
        ran = self.target.docker(*spec.run_argv(docker="")[1:])
        if ran["rc"] != 0:
            raise AnsibleActionFail("windows_registry_storage_migrate: the temporary registry %s on port %d did not start: %s "
                                    "(choose a free port with windows_registry_storage_migrate_port)" % (
                                        self.temp_name, port, command_error(ran)))
        try:
            dest = self.client(_with_port(self.args["url"], port),
                               _address_with_port(self.args["connect_address"], port) if self.args["connect_address"] else "")
            try:
                dest.ping(wait_timeout=self.args["wait_timeout"])
                return self.copy_and_verify(source, dest, repositories)
            except RegistryError as exc:
                logs = self.target.docker("container", "logs", "--tail", "20", self.temp_name, read_only=True)
                raise AnsibleActionFail("windows_registry_storage_migrate: copying to the new backend failed, the registry "
                                        "still runs on the old one: %s\nlast lines of %s: %s" % (
                                            exc, self.temp_name, (logs.get("stderr") or "") + (logs.get("stdout") or ""))) from exc
        finally:
            self.remove_temp()

    def copy_and_verify(self, source, dest, repositories):
        """Copy every tag, then list the source again and check every tag, manifest and blob at the destination;
        what is missing (or was pushed meanwhile) is copied again, VERIFY_ROUNDS times at most."""
        copier = Copier(source, dest, check_mode=False)
        todo = repositories
        problems = []
        for dummy in range(VERIFY_ROUNDS):
            for repository, tags in sorted(todo.items()):
                for tag in tags:
                    copier.copy_tag(repository, repository, tag)
            counts = {"manifests": 0, "blobs": 0}
            todo, problems, digests = {}, [], {}
            for repository, tags in sorted(self.tagged(source).items()):
                for tag in tags:
                    digest, missing = verify_tag(source, dest, repository, tag, counts)
                    digests["%s:%s" % (repository, tag)] = digest
                    if missing:
                        todo.setdefault(repository, []).append(tag)
                        problems += missing
            if not problems:
                return {"digests": digests, "verified_manifests": counts["manifests"], "verified_blobs": counts["blobs"],
                        "blobs_copied": copier.blobs_copied, "bytes_copied": copier.bytes_copied}
        raise AnsibleActionFail("windows_registry_storage_migrate: after %d rounds the new backend still lacks: %s" % (
            VERIFY_ROUNDS, "; ".join(problems[:20])))

    def drop_new_config(self, inspect):
        """Remove the config file written for the refused change (registry_config wrote it just before): the host
        is left as it was. Never the file the container runs with."""
        cmd = (inspect.get("Config") or {}).get("Cmd") or []
        if not self.args["command"] or (cmd and cmd[0] == self.args["command"][0]):
            return
        path = C.host_path(self.args["command"][0], inspect.get("Mounts") or [], self.target.windows)
        if path and not self.target.check_mode:
            self.target.remove(path)

    def remove_temp(self):
        if self.target.docker_json("container", "inspect", self.temp_name):
            self.target.docker_checked("container", "rm", "--force", self.temp_name, what="removing %s" % self.temp_name)
