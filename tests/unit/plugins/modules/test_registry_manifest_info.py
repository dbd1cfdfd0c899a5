# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_manifest_info run as Ansible runs it, against a real registry holding Docker and OCI images,
a two-platform manifest list, an OCI index, and Windows-like images with foreign layers."""

from __future__ import annotations

import pytest

from ansible_collections.dockerwin.registry.tests.support import registry_api
from ansible_collections.dockerwin.registry.tests.support.registry_api import RegistryAPI
from ansible_collections.dockerwin.registry.tests.support.registry_process import RegistryProcess

from _run_module import run_registry_module  # noqa: F401 pylint: disable=unused-import

FOREIGN = {"mediaType": registry_api.FOREIGN_LAYER, "size": 1000000, "digest": "sha256:" + "ab" * 32,
           "urls": ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:" + "ab" * 32]}
NONDISTRIBUTABLE = dict(FOREIGN, mediaType=registry_api.OCI_NONDISTRIBUTABLE_LAYER, digest="sha256:" + "cd" * 32)


@pytest.fixture
def run(run_registry_module):
    return lambda **args: run_registry_module("registry_manifest_info", **args)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    config = {"validation": {"manifests": {"urls": {"allow": ["^https://mcr\\.microsoft\\.com/"]}}}}
    with RegistryProcess(tmp_path_factory.mktemp("manifests"), config=config) as registry:
        api = RegistryAPI(registry.url)
        pushed = {
            "plain": api.push_image("team/app", "1.0"),
            "windows": api.push_image("base/servercore", "ltsc2022", os_name="windows", foreign_layers=[FOREIGN]),
            "oci-windows": api.push_image("base/oci", "ltsc2022", os_name="windows", oci=True, foreign_layers=[NONDISTRIBUTABLE]),
            "list": api.push_manifest_list("team/multi", "1", [("linux", "amd64"), ("windows", "amd64", "10.0.20348.2655")]),
            "index": api.push_manifest_list("team/multi-oci", "1", [("linux", "arm64"), ("linux", "amd64")], oci=True),
        }
        yield registry, pushed


def test_image_by_tag(images, run):
    registry, pushed = images
    result = run(url=registry.url, name="team/app:1.0", check_mode=True)
    assert "failed" not in result, result.get("msg")
    assert (result["exists"], result["digest"], result["media_type"], result["is_list"]) == (
        True, pushed["plain"], registry_api.MANIFEST_V2, False)
    assert result["layer_count"] == 1 and result["layers_size"] > 0
    assert result["foreign_layers"] == []
    assert result["config_digest"].startswith("sha256:")
    assert (result["repository"], result["tag"], result["changed"]) == ("team/app", "1.0", False)


def test_image_by_digest(images, run):
    registry, pushed = images
    result = run(url=registry.url, name="team/app@" + pushed["plain"])
    assert (result["exists"], result["digest"], result["tag"]) == (True, pushed["plain"], None)


def test_foreign_layers(images, run):
    registry, dummy = images
    result = run(url=registry.url, name="base/servercore:ltsc2022")
    assert result["layer_count"] == 2
    assert result["foreign_layers"] == [{"digest": FOREIGN["digest"], "size": 1000000, "media_type": registry_api.FOREIGN_LAYER,
                                         "urls": FOREIGN["urls"]}]
    assert result["layers_size"] > 1000000


def test_oci_nondistributable_layers(images, run):
    registry, dummy = images
    result = run(url=registry.url, name="base/oci:ltsc2022")
    assert result["media_type"] == registry_api.OCI_MANIFEST
    assert [layer["media_type"] for layer in result["foreign_layers"]] == [registry_api.OCI_NONDISTRIBUTABLE_LAYER]


def test_manifest_list_platforms(images, run):
    registry, pushed = images
    result = run(url=registry.url, name="team/multi:1")
    assert "failed" not in result, result.get("msg")
    assert (result["is_list"], result["digest"], result["media_type"]) == (True, pushed["list"][0], registry_api.MANIFEST_LIST_V2)
    platforms = result["platforms"]
    assert [(p["os"], p["architecture"], p["os_version"], p["digest"]) for p in platforms] == [
        ("linux", "amd64", None, pushed["list"][1][0]), ("windows", "amd64", "10.0.20348.2655", pushed["list"][1][1])]
    assert all(p["layer_count"] == 1 and p["layers_size"] > 0 and p["foreign_layers"] == [] for p in platforms)
    assert "layer_count" not in result


def test_oci_index_without_platform_details(images, run):
    registry, pushed = images
    result = run(url=registry.url, name="team/multi-oci:1", platform_details=False)
    assert result["media_type"] == registry_api.OCI_INDEX
    assert [(p["architecture"], p["media_type"]) for p in result["platforms"]] == [
        ("arm64", registry_api.OCI_MANIFEST), ("amd64", registry_api.OCI_MANIFEST)]
    assert "layer_count" not in result["platforms"][0]


@pytest.mark.parametrize("name", ["team/app:9.9", "absent/repo:1.0", "team/app@sha256:" + "0" * 64])
def test_missing_is_exists_false(images, run, name):
    registry, dummy = images
    result = run(url=registry.url, name=name)
    assert "failed" not in result, result.get("msg")
    assert result["exists"] is False and "digest" not in result


def test_invalid_name(images, run):
    registry, dummy = images
    result = run(url=registry.url, name="Team/App:1")
    assert result["failed"] is True
    assert result["msg"].startswith("name: 'Team/App' is not a valid repository name")
