# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""RegistryWriter against a real registry: chunked and monolithic uploads, cross-repository mounts, raw manifests
keeping their digest, DELETE by digest, and Basic authentication on writes."""

from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.dockerwin.registry.plugins.module_utils import _registry_writer
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import RegistryAuthError, RegistryNotFoundError
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_writer import RegistryWriter, scope_for_write
from ansible_collections.dockerwin.registry.tests.support.registry_api import RegistryAPI
from ansible_collections.dockerwin.registry.tests.support.registry_process import (
    TEST_PASSWORD,
    TEST_PASSWORD_HASH,
    TEST_USER,
    RegistryProcess,
)


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with RegistryProcess(tmp_path_factory.mktemp("writer")) as process:
        yield process


def test_chunked_upload_then_mount_then_read_back(registry, monkeypatch):
    monkeypatch.setattr(_registry_writer, "CHUNK_SIZE", 1000)
    writer = RegistryWriter(registry.url)
    blob = os.urandom(2500)  # two PATCH chunks, the rest with the PUT
    writer.upload_blob("team/src", digest_of(blob), blob)
    assert writer.get_blob("team/src", digest_of(blob)) == blob
    assert not writer.has_blob("team/dst", digest_of(blob))
    assert writer.mount_blob("team/dst", digest_of(blob), "team/src") is True
    assert writer.has_blob("team/dst", digest_of(blob))
    small = b"small blob"
    writer.upload_blob("team/src", digest_of(small), small)
    assert writer.get_blob("team/src", digest_of(small)) == small
    # a blob the source repository does not have: the registry opens an upload instead of mounting
    assert writer.mount_blob("team/dst", "sha256:" + "0" * 64, "team/src") is False


def test_raw_manifests_keep_their_digest_and_delete_by_digest(registry):
    api = RegistryAPI(registry.url)
    index, children = api.push_manifest_list("multi", "1", [("linux", "amd64"), ("windows", "amd64")], oci=True)
    writer = RegistryWriter(registry.url)
    body, media_type, digest = writer.manifest_raw("multi", "1")
    assert digest == index and digest_of(body) == index and media_type == "application/vnd.oci.image.index.v1+json"
    assert writer.put_manifest("multi", "2", body, media_type) == index
    assert writer.manifest_digest("multi", "2") == index
    writer.delete_manifest("multi", index)
    assert writer.manifest_digest("multi", "1") is None and writer.manifest_digest("multi", "2") is None
    with pytest.raises(RegistryNotFoundError):
        writer.manifest_raw("multi", index)
    assert writer.manifest_digest("multi", children[0]) == children[0]


def test_writes_authenticate_with_basic(tmp_path):
    with RegistryProcess(tmp_path, htpasswd={TEST_USER: TEST_PASSWORD_HASH}) as process:
        with pytest.raises(RegistryAuthError, match="url_username"):
            RegistryWriter(process.url).upload_blob("team/a", digest_of(b"x"), b"x")
        writer = RegistryWriter(process.url, username=TEST_USER, password=TEST_PASSWORD)
        writer.upload_blob("team/a", digest_of(b"x"), b"x")
        assert writer.has_blob("team/a", digest_of(b"x"))


def test_scopes():
    assert scope_for_write("/v2/team/app/blobs/uploads/", "POST") == "repository:team/app:pull,push"
    assert scope_for_write("/v2/team/app/manifests/sha256:ab", "DELETE") == "repository:team/app:delete"
    assert scope_for_write("/v2/team/app/manifests/1", "HEAD") == "repository:team/app:pull"
    assert scope_for_write("/v2/b/blobs/uploads/", "POST", mount_from="a") == "repository:b:pull,push repository:a:pull"
