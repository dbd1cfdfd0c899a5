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


def build_digest(dockerfile, context_files, binary_sha256=""):
    """Identity of a build's inputs; stored as an image label so unchanged inputs never rebuild."""
    digest = hashlib.sha256()
    for part in [RECIPE_VERSION, dockerfile, binary_sha256] + ["%s\0%s" % item for item in sorted(context_files.items())]:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


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
