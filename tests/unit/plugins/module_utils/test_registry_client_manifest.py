# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Manifests from a real registry: Docker schema 2 images and manifest lists, OCI images and indexes,
foreign (Windows base) and OCI non-distributable layers, by tag and by digest, and what is missing."""

from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    MANIFEST_ACCEPT,
    RegistryClient,
    RegistryDigestError,
    RegistryNotFoundError,
    RegistryOptionError,
    split_reference,
)
from ansible_collections.dockerwin.registry.tests.support import registry_api
from ansible_collections.dockerwin.registry.tests.support.registry_api import RegistryAPI
from ansible_collections.dockerwin.registry.tests.support.registry_process import RegistryProcess

from _scripted import registry_answer, scripted_server  # noqa: F401 pylint: disable=unused-import

FOREIGN = {"mediaType": registry_api.FOREIGN_LAYER, "size": 1234567,
           "digest": "sha256:" + "ab" * 32, "urls": ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:" + "ab" * 32]}
NONDISTRIBUTABLE = dict(FOREIGN, mediaType=registry_api.OCI_NONDISTRIBUTABLE_LAYER, digest="sha256:" + "cd" * 32)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    # distribution refuses manifests with layer URLs unless validation.manifests.urls.allow admits them
    config = {"validation": {"manifests": {"urls": {"allow": ["^https://mcr\\.microsoft\\.com/"]}}}}
    with RegistryProcess(tmp_path_factory.mktemp("manifests"), config=config) as registry:
        api = RegistryAPI(registry.url)
        pushed = {
            "plain": api.push_image("team/app", "1.0"),
            "oci": api.push_image("team/oci", "1.0", oci=True),
            "windows": api.push_image("base/servercore", "ltsc2022", os_name="windows", foreign_layers=[FOREIGN]),
            "oci-windows": api.push_image("base/oci-servercore", "ltsc2022", os_name="windows", oci=True,
                                          foreign_layers=[NONDISTRIBUTABLE]),
            "list": api.push_manifest_list("team/multi", "1", [("linux", "amd64"), ("windows", "amd64", "10.0.20348.2655")]),
            "index": api.push_manifest_list("team/multi-oci", "1", [("linux", "arm64"), ("linux", "amd64")], oci=True),
        }
        yield registry, pushed


def test_schema2_image(images):
    registry, pushed = images
    manifest = RegistryClient(registry.url).manifest("team/app", "1.0")
    assert manifest["digest"] == pushed["plain"]
    assert manifest["media_type"] == registry_api.MANIFEST_V2
    assert len(manifest["data"]["layers"]) == 1


def test_by_digest(images):
    registry, pushed = images
    manifest = RegistryClient(registry.url).manifest("team/app", pushed["plain"])
    assert manifest["digest"] == pushed["plain"]
    assert "sha256:" + hashlib.sha256(json.dumps(manifest["data"], sort_keys=True).encode()).hexdigest() == pushed["plain"]


def test_manifest_list(images):
    registry, pushed = images
    manifest = RegistryClient(registry.url).manifest("team/multi", "1")
    assert manifest["digest"] == pushed["list"][0]
    assert manifest["media_type"] == registry_api.MANIFEST_LIST_V2
    assert [m["digest"] for m in manifest["data"]["manifests"]] == pushed["list"][1]


def test_oci_index_and_image(images):
    registry, pushed = images
    client = RegistryClient(registry.url)
    assert client.manifest("team/multi-oci", "1")["media_type"] == registry_api.OCI_INDEX
    assert client.manifest("team/oci", "1.0")["media_type"] == registry_api.OCI_MANIFEST


def test_foreign_layers_are_kept_with_their_urls(images):
    registry, dummy = images
    data = RegistryClient(registry.url).manifest("base/servercore", "ltsc2022")["data"]
    assert data["layers"][0] == FOREIGN


def test_missing_tag_and_repository(images):
    registry, dummy = images
    client = RegistryClient(registry.url)
    with pytest.raises(RegistryNotFoundError) as error:
        client.manifest("team/app", "9.9")
    assert error.value.codes == ["MANIFEST_UNKNOWN"]
    with pytest.raises(RegistryNotFoundError) as error:
        client.manifest("absent/repo", "1.0")
    assert error.value.status == 404  # distribution 2.8 says MANIFEST_UNKNOWN here too, v3 NAME_UNKNOWN
    assert error.value.codes[0] in ("NAME_UNKNOWN", "MANIFEST_UNKNOWN")


def test_accept_header_names_the_four_types(scripted_server):
    body = json.dumps({"schemaVersion": 2, "mediaType": registry_api.MANIFEST_V2, "config": {}, "layers": []}).encode()
    server = scripted_server(lambda path: registry_answer(body, headers={"Content-Type": registry_api.MANIFEST_V2}))
    manifest = RegistryClient(server.url).manifest("team/app", "1")
    assert server.headers[0]["Accept"] == MANIFEST_ACCEPT
    assert sorted(MANIFEST_ACCEPT.split(", ")) == sorted([registry_api.MANIFEST_V2, registry_api.MANIFEST_LIST_V2,
                                                         registry_api.OCI_MANIFEST, registry_api.OCI_INDEX])
    # no Docker-Content-Digest header: the digest is that of the body
    assert manifest["digest"] == "sha256:" + hashlib.sha256(body).hexdigest()


def test_oci_manifest_without_media_type_field_uses_content_type(scripted_server):
    body = json.dumps({"schemaVersion": 2, "config": {}, "layers": []}).encode()
    server = scripted_server(lambda path: registry_answer(body, headers={"Content-Type": registry_api.OCI_MANIFEST}))
    assert RegistryClient(server.url).manifest("team/app", "1")["media_type"] == registry_api.OCI_MANIFEST


def test_body_that_does_not_match_the_digest_asked_for(scripted_server):
    server = scripted_server(lambda path: registry_answer({"schemaVersion": 2, "layers": []}))
    with pytest.raises(RegistryDigestError, match="whose digest is sha256:.*not the sha256:0000"):
        RegistryClient(server.url).manifest("team/app", "sha256:" + "0" * 64)


@pytest.mark.parametrize("value, expected", [
    ("team/app:1.0", ("team/app", "1.0", None)),
    ("team/app", ("team/app", "latest", None)),
    ("app@sha256:" + "a" * 64, ("app", None, "sha256:" + "a" * 64)),
    ("team/app:1@sha256:" + "a" * 64, ("team/app", None, "sha256:" + "a" * 64)),
    ("a/b/c:ltsc2022", ("a/b/c", "ltsc2022", None)),
])
def test_split_reference(value, expected):
    assert split_reference(value) == expected


@pytest.mark.parametrize("value, message", [
    ("Team/App:1", "not a valid repository name"),
    ("registry.test:5000/team/app:1", "not a valid repository name"),
    ("team/app:-x", "not a valid tag"),
    ("team/app@sha256:xyz", "not a valid digest"),
    (":1", "not a valid repository name"),
])
def test_split_reference_refuses(value, message):
    with pytest.raises(RegistryOptionError, match=message):
        split_reference(value)
