# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fill a test registry through the HTTP API v2, without docker: blobs and schema2 image manifests.

    push_images("http://127.0.0.1:5000", ["team/app%03d" % i for i in range(120)])
    digest = push_image(url, "hello", tag="v1", auth=(TEST_USER, TEST_PASSWORD), context=ssl_context)
    RegistryAPI(url).push_manifest_list("multi", "1", [("linux", "amd64"), ("windows", "amd64")])

Each image is a real one (a gzipped tar layer holding ``/hello.txt`` and a config whose diff_id
matches), so a docker engine could pull it too. Independent of the collection's own client on purpose:
the tests must not use the code under test to prepare their data.
"""

from __future__ import annotations

import base64
import concurrent.futures
import gzip
import hashlib
import io
import json
import tarfile
import urllib.error
import urllib.parse
import urllib.request

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_V1 = "application/vnd.docker.container.image.v1+json"
LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MANIFEST_LIST_V2 = "application/vnd.docker.distribution.manifest.list.v2+json"
FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_NONDISTRIBUTABLE_LAYER = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"


class RegistryAPIError(Exception):
    pass


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryAPI:
    """Minimal write access to one registry. ``auth``: (user, password) for basic auth;
    ``context``: ssl.SSLContext for https."""

    def __init__(self, url, auth=None, context=None):
        self.url = url.rstrip("/")
        self.headers = {}
        if auth:
            self.headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                                  urllib.request.ProxyHandler({}))

    def request(self, method, url, data=None, headers=None, expect=(200,)):
        request = urllib.request.Request(urllib.parse.urljoin(self.url, url), data=data, method=method,
                                         headers=dict(self.headers, **(headers or {})))
        try:
            with self.opener.open(request, timeout=30) as response:
                status, answer_headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            with e:
                status, answer_headers, body = e.code, e.headers, e.read()
        if status not in expect:
            raise RegistryAPIError("%s %s answered %d: %s" % (method, url, status, body[:500].decode(errors="replace")))
        return answer_headers, body

    def push_blob(self, repository, data):
        """Monolithic upload: POST an upload session, then PUT the bytes with their digest."""
        digest = sha256(data)
        headers, dummy = self.request("POST", "/v2/%s/blobs/uploads/" % repository, data=b"", expect=(202,))
        location = headers["Location"]
        location += ("&" if "?" in location else "?") + urllib.parse.urlencode({"digest": digest})
        self.request("PUT", location, data=data, headers={"Content-Type": "application/octet-stream"}, expect=(201,))
        return digest

    def push_image(self, repository, tag="latest", content=None, os_name="linux", architecture="amd64",
                   foreign_layers=(), oci=False, created=None):
        """Push a one-layer image; returns the manifest digest. ``tag`` may be a digest (``sha256:...``):
        the manifest is then pushed by digest only (it must be that manifest's digest, see ``image_manifest``).
        ``foreign_layers``: descriptors put before the layer, as Windows base layers are (not uploaded:
        clients fetch them from their ``urls``). ``oci``: an OCI image manifest instead of Docker schema 2.
        ``created``: the image config's creation date (RFC 3339 text); none by default."""
        manifest, media_type = self.image_manifest(repository, tag, content, os_name, architecture, foreign_layers, oci,
                                                   created)
        return self.push_manifest(repository, tag, manifest, media_type)

    def image_manifest(self, repository, tag="latest", content=None, os_name="linux", architecture="amd64",
                       foreign_layers=(), oci=False, created=None):
        """Upload the blobs of a one-layer image: returns (manifest bytes, media type), not pushed yet."""
        tar = _tar_with_file("hello.txt", content if content is not None else ("%s:%s\n" % (repository, tag)).encode())
        layer = gzip.compress(tar, mtime=0)
        config = {
            "architecture": architecture,
            "os": os_name,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha256(tar)]},
        }
        if created is not None:
            config["created"] = created
        config = json.dumps(config, sort_keys=True).encode()
        media_type = OCI_MANIFEST if oci else MANIFEST_V2
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": OCI_CONFIG if oci else CONFIG_V1, "size": len(config),
                       "digest": self.push_blob(repository, config)},
            "layers": list(foreign_layers) + [
                {"mediaType": OCI_LAYER if oci else LAYER_TAR_GZIP, "size": len(layer), "digest": self.push_blob(repository, layer)}],
        }, sort_keys=True).encode()
        return manifest, media_type

    def delete_manifest(self, repository, digest):
        """DELETE a manifest by digest (the registry must allow deletes)."""
        self.request("DELETE", "/v2/%s/manifests/%s" % (repository, digest), expect=(202,))

    def push_manifest(self, repository, reference, manifest, media_type):
        """PUT a manifest (bytes) under a tag or its digest; returns its digest."""
        self.request("PUT", "/v2/%s/manifests/%s" % (repository, reference), data=manifest,
                     headers={"Content-Type": media_type}, expect=(201,))
        return sha256(manifest)

    def push_manifest_list(self, repository, tag, platforms, oci=False, created=None):
        """Push one image per (os, architecture[, os_version]) by digest, then a manifest list (``oci``: an OCI
        index) naming them under ``tag``. Returns (list digest, [image digests]). ``created``: as for push_image."""
        entries, digests = [], []
        for platform in platforms:
            os_name, architecture = platform[0], platform[1]
            content = ("%s:%s %s/%s\n" % (repository, tag, os_name, architecture)).encode()
            manifest, media_type = self.image_manifest(repository, tag, content, os_name, architecture, oci=oci,
                                                       created=created)
            digest = self.push_manifest(repository, sha256(manifest), manifest, media_type)
            description = {"os": os_name, "architecture": architecture}
            if len(platform) > 2:
                description["os.version"] = platform[2]
            entries.append({"mediaType": media_type, "size": len(manifest), "digest": digest, "platform": description})
            digests.append(digest)
        list_type = OCI_INDEX if oci else MANIFEST_LIST_V2
        body = json.dumps({"schemaVersion": 2, "mediaType": list_type, "manifests": entries}, sort_keys=True).encode()
        return self.push_manifest(repository, tag, body, list_type), digests


def _tar_with_file(name, data):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def push_image(url, repository, tag="latest", auth=None, context=None, **kwargs):
    return RegistryAPI(url, auth, context).push_image(repository, tag, **kwargs)


def push_images(url, repositories, tag="latest", auth=None, context=None, workers=8):
    """Push one image per repository, ``workers`` at a time; returns {repository: manifest digest}."""
    api = RegistryAPI(url, auth, context)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        digests = pool.map(lambda repository: api.push_image(repository, tag), repositories)
        return dict(zip(repositories, digests))
