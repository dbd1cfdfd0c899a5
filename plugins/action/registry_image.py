# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make sure the registry image is on the target: pull it, load an archive, package a binary, or build it."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _image
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, validated_args

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "source": {"type": "str", "default": "pull", "choices": ["pull", "load", "binary", "build"]},
    "archive": {"type": "path"},
    "binary": {"type": "path"},
    "dockerfile": {"type": "str"},
    "context_files": {"type": "dict", "default": {}},
    "isolation": {"type": "str", "default": "", "choices": ["", "process", "hyperv"]},
    "docker_cli": {"type": "str", "default": "docker"},
    "docker_host": {"type": "str", "default": ""},
}
REQUIRED_IF = [("source", "load", ["archive"]), ("source", "binary", ["binary", "dockerfile"]), ("source", "build", ["dockerfile"])]


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC, required_if=REQUIRED_IF)
        target = Target(self, task_vars, docker_cli=args["docker_cli"],
                        docker_options=["-H", args["docker_host"]] if args["docker_host"] else [])
        if args["isolation"] and not target.windows:
            raise AnsibleActionFail(
                "isolation=%r: isolation modes exist on Windows hosts only; leave it empty on Linux" % args["isolation"]
            )
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
        return self.inspect_ref(self.name)

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
            self.docker_build(work, digest)
        finally:
            target.remove(work)

    def docker_build(self, context, digest):
        """`docker image build` of a context folder, with the digest label and the isolation mode (Windows)."""
        argv = ["image", "build", "--tag", self.name, "--label", "%s=%s" % (_image.BUILD_DIGEST_LABEL, digest)]
        if self.args["isolation"]:
            argv += ["--isolation", self.args["isolation"]]
        self.target.docker_checked(*argv, context, what="docker image build of %s" % self.name)

    def build(self):
        """Build the image from source with the multi-stage Dockerfile the role renders (no binary).

        The digest covers the Dockerfile, the context files and the image ID of every FROM image on the host,
        so a base image the operator pulls anew (the monthly Windows patch) triggers a rebuild and nothing else
        does. A base image the host does not have is pulled first, so the digest names what the build used.
        """
        dockerfile = self.args["dockerfile"]
        files = {str(k): str(v) for k, v in self.args["context_files"].items()}
        if "Dockerfile" in files:
            raise AnsibleActionFail("context_files: 'Dockerfile' is given by the dockerfile option; remove it from context_files")
        try:
            bases = _image.dockerfile_base_images(dockerfile)
        except _image.DockerfileError as exc:
            raise AnsibleActionFail("dockerfile: %s" % exc) from exc
        before = self.inspect()
        found = {ref: self.inspect_ref(ref) for ref in bases}
        missing = [ref for ref in bases if found[ref] is None]
        actions = []
        if missing:
            actions.append("pull-base")
            if self.target.check_mode:  # the digest needs the IDs of images that are not there yet: a build follows
                return self.outcome(before, True, actions=actions + ["build"], base_images={r: "" for r in missing})
            for ref in missing:
                self.target.docker_checked("image", "pull", ref, what="docker image pull %s (base image)" % ref)
                found[ref] = self.inspect_ref(ref)
                if found[ref] is None:
                    raise AnsibleActionFail("base image %s is still missing after docker image pull" % ref)
        base_ids = {ref: _image.base_image_id(found[ref]) for ref in bases}
        digest = _image.build_digest(dockerfile, files, base_images=base_ids)
        labels = ((before or {}).get("Config") or {}).get("Labels") or {}
        if labels.get(_image.BUILD_DIGEST_LABEL) == digest:
            return self.outcome(before, bool(actions), build_digest=digest, base_images=base_ids, **({"actions": actions} if actions else {}))
        if not self.target.check_mode:
            work = self.target.work_dir()
            try:
                steps = [self.target.write_file(self.target.path.join(work, "Dockerfile"), dockerfile)]
                steps += [self.target.write_file(self.target.path.join(work, name), text) for name, text in sorted(files.items())]
                failed = [s for s in steps if s.get("failed")]
                if failed:
                    raise AnsibleActionFail("could not lay out the build context: %s" % failed[0].get("msg"))
                self.docker_build(work, digest)
            finally:
                self.target.remove(work)
        return self.outcome(before, True, build_digest=digest, base_images=base_ids, actions=actions + ["build"])

    def inspect_ref(self, ref):
        found = self.target.docker_json("image", "inspect", ref)
        return found[0] if found else None

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
