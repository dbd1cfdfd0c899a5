# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Copy images registry-to-registry by digest (private to the collection).

``Copier`` is the logic of the registry_copy module; the storage migration of the windows_registry role
(action registry_storage) uses it too, and ``verify()`` checks that a destination serves every manifest and
blob of a tag by digest.
"""

from __future__ import annotations

import json

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    FOREIGN_LAYER_MEDIA_TYPES,
    LIST_MEDIA_TYPES,
)


class Copier:
    def __init__(self, src, dest, check_mode):
        self.src = src
        self.dest = dest
        self.check_mode = check_mode
        self.same_registry = src.url == dest.url
        self.blobs_copied = 0
        self.bytes_copied = 0

    def copy_tag(self, repository, dest_repository, tag):
        body, media_type, digest = self.src.manifest_raw(repository, tag)
        entry = {"image": "%s:%s" % (repository, tag), "dest": "%s:%s" % (dest_repository, tag), "digest": digest}
        if self.dest.manifest_digest(dest_repository, tag) == digest:
            return entry, False
        if not self.check_mode:
            counts = {"manifests": 0, "blobs": 0}
            self.copy_manifest(repository, dest_repository, body, media_type, counts)
            self.dest.put_manifest(dest_repository, tag, body, media_type)
            entry.update(manifests=counts["manifests"] + 1, blobs=counts["blobs"])
        return entry, True

    def copy_manifest(self, repository, dest_repository, body, media_type, counts):
        """Everything a manifest references, at the destination (not the manifest itself)."""
        data = json.loads(body)
        if media_type in LIST_MEDIA_TYPES or isinstance(data.get("manifests"), list):
            for child in data.get("manifests") or []:
                digest = child["digest"]
                if self.dest.manifest_digest(dest_repository, digest) == digest:
                    continue
                child_body, child_type, dummy = self.src.manifest_raw(repository, digest)
                self.copy_manifest(repository, dest_repository, child_body, child_type or child.get("mediaType"), counts)
                self.dest.put_manifest(dest_repository, digest, child_body, child_type or child.get("mediaType"))
                counts["manifests"] += 1
            return
        descriptors = [data["config"]] if isinstance(data.get("config"), dict) else []
        descriptors += [layer for layer in data.get("layers") or [] if layer.get("mediaType") not in FOREIGN_LAYER_MEDIA_TYPES]
        for descriptor in descriptors:
            digest = descriptor["digest"]
            if self.dest.has_blob(dest_repository, digest):
                continue
            if self.same_registry and self.dest.mount_blob(dest_repository, digest, repository):
                pass
            else:
                blob = self.src.get_blob(repository, digest)
                self.dest.upload_blob(dest_repository, digest, blob)
                self.bytes_copied += len(blob)
            self.blobs_copied += 1
            counts["blobs"] += 1


def verify_tag(src, dest, repository, tag, counts=None):
    """(digest, problems) of ``repository:tag``: the digest the source gives the tag, and what the destination
    lacks — the tag resolving to another digest, a manifest or a blob under it not served by its digest.
    ``counts`` ({"manifests": n, "blobs": n}) adds up what was checked."""
    counts = counts if counts is not None else {"manifests": 0, "blobs": 0}
    body, media_type, digest = src.manifest_raw(repository, tag)
    problems = []
    got = dest.manifest_digest(repository, tag)
    if got != digest:
        problems.append("%s:%s resolves to %s at the destination, %s at the source" % (repository, tag, got or "nothing", digest))
    counts["manifests"] += 1
    _verify_manifest(src, dest, repository, body, media_type, problems, counts, set())
    return digest, problems


def _verify_manifest(src, dest, repository, body, media_type, problems, counts, seen):
    data = json.loads(body)
    if media_type in LIST_MEDIA_TYPES or isinstance(data.get("manifests"), list):
        for child in data.get("manifests") or []:
            digest = child["digest"]
            if digest in seen:
                continue
            seen.add(digest)
            counts["manifests"] += 1
            if dest.manifest_digest(repository, digest) != digest:
                problems.append("%s@%s: manifest missing at the destination" % (repository, digest))
                continue
            child_body, child_type, dummy = src.manifest_raw(repository, digest)
            _verify_manifest(src, dest, repository, child_body, child_type or child.get("mediaType"), problems, counts, seen)
        return
    descriptors = [data["config"]] if isinstance(data.get("config"), dict) else []
    descriptors += [layer for layer in data.get("layers") or [] if layer.get("mediaType") not in FOREIGN_LAYER_MEDIA_TYPES]
    for descriptor in descriptors:
        if descriptor["digest"] in seen:
            continue
        seen.add(descriptor["digest"])
        counts["blobs"] += 1
        if not dest.has_blob(repository, descriptor["digest"]):
            problems.append("%s@%s: blob missing at the destination" % (repository, descriptor["digest"]))
