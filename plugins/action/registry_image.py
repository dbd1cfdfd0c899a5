# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make sure the registry image is on the target: pull it, load an archive, or package a binary."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _image
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "source": {"type": "str", "default": "pull", "choices": ["pull", "load", "binary"]},
    "archive": {"type": "path"},
    "binary": {"type": "path"},
    "dockerfile": {"type": "str"},
    "context_files": {"type": "dict", "default": {}},
    "docker_cli": {"type": "str", "default": "docker"},
}
REQUIRED_IF = [("source", "load", ["archive"]), ("source", "binary", ["binary", "dockerfile"])]


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF)
        target = Target(self, task_vars, docker_cli=args["docker_cli"])
        image = _Image(target, args)
        try:
            result.update(getattr(image, args["source"])())
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


class _Image:
    def __init__(self, target, args):
        self.target = target
        self.args = args
        self.name = args["name"]

    def inspect(self):
        found = self.target.docker_json("image", "inspect", self.name)
        return found[0] if found else None

    def outcome(self, before, changed, **extra):
        after = self.inspect() if changed and not self.target.check_mode else before
        result = {"changed": changed, "image": self.name, "image_id": (after or {}).get("Id", "")}
        result["diff"] = {"before": {"image_id": (before or {}).get("Id", "")}, "after": {"image_id": result["image_id"] or "(new)"}}
        result.update(extra)
        return result

    def pull(self):
        """A local image is used as it is; otherwise it is pulled."""
        before = self.inspect()
        if before:
            return self.outcome(before, False)
        if not self.target.check_mode:
            self.target.docker_checked("image", "pull", self.name, what="docker image pull %s" % self.name)
        return self.outcome(before, True, actions=["pull"])

    def load(self):
        """Load a `docker save` archive from the controller unless the image is already there."""
        archive = self.args["archive"]
        if not os.path.isfile(archive):
            raise AnsibleActionFail("archive=%r: no such file on the controller (give the path of a `docker save` archive)" % archive)
        try:
            images = _image.archive_images(archive)
        except _image.ArchiveError as exc:
            raise AnsibleActionFail("archive=%r: %s" % (archive, exc)) from exc
        wanted = next((i for i in images if self.name in i["repo_tags"]), images[0] if len(images) == 1 else None)
        if wanted is None:
            raise AnsibleActionFail(
                "archive=%r holds %d images and none is tagged %r: name one of %s"
                % (archive, len(images), self.name, sorted(t for i in images for t in i["repo_tags"]))
            )
        before = self.inspect()
        if before and before["Id"] == wanted["id"]:
            return self.outcome(before, False)
        if not self.target.check_mode:
            work = self.target.work_dir()
            try:
                remote = self.target.path.join(work, "image.tar")
                copied = self.target.upload(archive, remote)
                if copied.get("failed"):
                    raise AnsibleActionFail("could not copy %s to the target: %s" % (archive, copied.get("msg")))
                self.target.docker_checked("image", "load", "--input", remote, what="docker image load")
            finally:
                self.target.remove(work)
            if self.name not in wanted["repo_tags"]:
                self.target.docker_checked("image", "tag", wanted["id"], self.name, what="docker image tag")
        return self.outcome(before, True, actions=["load"])

    def binary(self):
        """Package a registry binary from the controller into an image (Dockerfile given by the role)."""
        binary = self.args["binary"]
        if not os.path.isfile(binary):
            raise AnsibleActionFail("binary=%r: no such file on the controller (give the path of a registry executable)" % binary)
        dockerfile = self.args["dockerfile"]
        files = {str(k): str(v) for k, v in self.args["context_files"].items()}
        digest = _image.build_digest(dockerfile, files, _image.file_sha256(binary))
        before = self.inspect()
        labels = ((before or {}).get("Config") or {}).get("Labels") or {}
        if labels.get(_image.BUILD_DIGEST_LABEL) == digest:
            return self.outcome(before, False, build_digest=digest)
        if not self.target.check_mode:
            self.build_context_and_build(binary, dockerfile, files, digest)
        return self.outcome(before, True, build_digest=digest, actions=["build"])

    def build_context_and_build(self, binary, dockerfile, files, digest):
        target = self.target
        work = target.work_dir()
        try:
            exe = "registry.exe" if target.windows else "registry"
            steps = [target.upload(binary, target.path.join(work, exe), mode="0755"), target.write_file(target.path.join(work, "Dockerfile"), dockerfile)]
            steps += [target.write_file(target.path.join(work, name), text) for name, text in sorted(files.items())]
            failed = [s for s in steps if s.get("failed")]
            if failed:
                raise AnsibleActionFail("could not lay out the build context: %s" % failed[0].get("msg"))
            if not target.windows:  # Windows images carry registry.exe alone
                rootfs = target.path.join(work, "rootfs")
                target.ensure_dir(rootfs)
                self.copy_libraries(target.path.join(work, exe), rootfs)
            target.docker_checked(
                "image", "build", "--tag", self.name, "--label", "%s=%s" % (_image.BUILD_DIGEST_LABEL, digest), work,
                what="docker image build of %s" % self.name,
            )
        finally:
            target.remove(work)

    def copy_libraries(self, exe, rootfs):
        """A dynamically linked Linux binary takes its shared libraries (as `ldd` lists them) into the image."""
        listed = self.target.run(["ldd", exe], read_only=True)
        try:
            paths = _image.ldd_paths(listed.get("stdout", "")) if listed["rc"] == 0 else []  # rc 1: static binary
        except _image.MissingLibraryError as exc:
            raise AnsibleActionFail("binary=%r: %s" % (self.args["binary"], exc)) from exc
        if paths:
            copied = self.target.run(["cp", "--parents", "--dereference", *paths, rootfs])
            if copied["rc"] != 0:
                raise AnsibleActionFail("could not copy the binary's libraries %s: %s" % (paths, copied.get("stderr")))
