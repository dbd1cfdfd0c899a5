# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image sources: what the controller can know about an image before touching the target."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile

BUILD_DIGEST_LABEL = "io.dockerwin.registry.build-digest"
SOURCES = ("pull", "load", "binary", "build")
# Part of every build digest: bump it when the way this collection lays out a build context changes.
RECIPE_VERSION = "2"


class ArchiveError(ValueError):
    pass


def archive_images(path):
    """[{'id': 'sha256:…', 'repo_tags': [...]}] of a `docker save` archive (Docker or OCI layout, gzip or not)."""
    try:
        with tarfile.open(path, "r:*") as tar:
            names = set(tar.getnames())
            if "manifest.json" not in names:
                raise ArchiveError("%s has no manifest.json: it is not an archive written by `docker save`" % path)
            manifest = json.load(tar.extractfile("manifest.json"))
    except (OSError, tarfile.TarError, ValueError) as exc:
        if isinstance(exc, ArchiveError):
            raise
        raise ArchiveError("cannot read image archive %s: %s" % (path, exc)) from exc
    images = []
    for entry in manifest:
        # Docker before 25 names the config "<hex>.json"; the OCI layout "blobs/sha256/<hex>".
        match = re.search(r"([0-9a-f]{64})(?:\.json)?$", entry.get("Config", ""))
        if not match:
            raise ArchiveError("%s: manifest entry without an image config: %r" % (path, entry))
        images.append({"id": "sha256:" + match.group(1), "repo_tags": entry.get("RepoTags") or []})
    if not images:
        raise ArchiveError("%s holds no image" % path)
    return images


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_digest(dockerfile, context_files, binary_sha256="", base_images=None):
    """Identity of a build's inputs; stored as an image label so unchanged inputs never rebuild.

    `base_images` maps each FROM image of the Dockerfile to its image ID on the target: a base image pulled
    anew (the monthly Windows patch) has a new ID, so the digest changes and the image is rebuilt.
    """
    digest = hashlib.sha256()
    parts = [RECIPE_VERSION, dockerfile, binary_sha256] + ["%s\0%s" % item for item in sorted(context_files.items())]
    if base_images:  # absent for `binary`, so its digests stay what they were
        parts += ["FROM %s\0%s" % item for item in sorted(base_images.items())]
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def base_image_id(inspect):
    """What identifies a base image on the host: its image ID (a new pull of a moved tag changes it).

    RepoDigests are left out on purpose: they grow when the same image is pulled under another name, which
    must not rebuild anything. Engines with the containerd image store report the index digest as Id; that
    changes with a new pull as well.
    """
    return (inspect or {}).get("Id") or ",".join(sorted((inspect or {}).get("RepoDigests") or []))


class DockerfileError(ValueError):
    pass


_FROM = re.compile(r"^\s*FROM\s+(?P<rest>.+?)\s*$", re.IGNORECASE)


def dockerfile_base_images(dockerfile):
    """External images named by the FROM lines of a Dockerfile, in order, without duplicates.

    Stage names (`FROM builder`), `scratch` and `--platform=` flags are left out. FROM lines with build
    arguments (`FROM $IMAGE`) are refused: the role renders every image name, and an unresolved one could
    not be inspected.
    """
    images, stages = [], set()
    lines = dockerfile.replace("\r\n", "\n").split("\n")
    for line in lines:
        match = _FROM.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        words = [w for w in match.group("rest").split() if not w.startswith("--")]
        if not words:
            raise DockerfileError("FROM without an image: %r" % line.strip())
        image = words[0]
        if "$" in image:
            raise DockerfileError("FROM with a build argument (%s): render the image name into the Dockerfile" % image)
        if image.lower() != "scratch" and image.lower() not in stages and image not in images:
            images.append(image)
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())  # later FROM lines may name this stage
    if not images and not any(_FROM.match(line) for line in lines):
        raise DockerfileError("the Dockerfile has no FROM line")
    return images


class MissingLibraryError(ValueError):
    pass


def ldd_paths(stdout):
    """Absolute library paths from `ldd` output (empty for a static binary).

    A library `ldd` cannot find would make the image fail at run time: that is an error now.
    """
    paths = []
    missing = re.findall(r"^\s*(\S+)\s*=>\s*not found", stdout, re.M)
    if missing:
        raise MissingLibraryError("the binary needs libraries the host does not have: %s" % ", ".join(missing))
    for line in stdout.splitlines():
        line = line.strip()
        match = re.search(r"=>\s*(/\S+)", line) or re.match(r"^(/\S+)\s+\(", line)
        if match and match.group(1) not in paths:
            paths.append(match.group(1))
    return paths
