# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/seed_images.yml (registry_copy) between two real registries (Debian's binary run directly):
exactly the listed tags, identical digests (a two-platform OCI index and a Docker manifest list included),
check mode lists, a re-run changes nothing."""

from __future__ import annotations

import urllib.error
import urllib.request

import playbook
from registry_api import FOREIGN_LAYER, RegistryAPI
from registry_process import registry_factory  # noqa: F401  (fixture)

ACCEPT = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"])


def digest(url, repository, reference):
    request = urllib.request.Request("%s/v2/%s/manifests/%s" % (url, repository, reference), method="HEAD",
                                     headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["Docker-Content-Digest"]
    except urllib.error.HTTPError as e:
        return "HTTP %d" % e.code


def catalog(url):
    import json
    with urllib.request.urlopen(url + "/v2/_catalog", timeout=10) as response:
        return sorted(json.load(response)["repositories"] or [])


def seed(tmp_path, dest, source, images, check=False, prefix=""):
    inventory = playbook.write_inventory(tmp_path / "seed.yml", {
        "windows_registry_health_url": dest.url,
        "windows_registry_port": dest.port,
    })
    return playbook.run_playbook("playbooks/seed_images.yml", inventory, check=check, extra_vars={
        "registry_seed_source_url": source.url, "registry_seed_images": images, "registry_seed_dest_prefix": prefix})


def test_seed_copies_exactly_the_listed_tags_with_identical_digests(tmp_path, registry_factory):  # noqa: F811
    # Registries accept manifests naming foreign layers only from allowed URLs (validation.manifests.urls.allow).
    allow = {"validation": {"manifests": {"urls": {"allow": ["^https://mcr\\.microsoft\\.com/"]}}}}
    source, dest = registry_factory(config=allow), registry_factory(config=allow)
    api = RegistryAPI(source.url)
    expected = {
        ("team/app", "1"): api.push_image("team/app", "1"),
        ("team/all", "a"): api.push_image("team/all", "a"),
        ("team/all", "b"): api.push_image("team/all", "b"),
    }
    api.push_image("team/app", "2")  # not listed
    api.push_image("team/other", "1")  # not listed
    index, children = api.push_manifest_list("multi/oci", "1", [("linux", "amd64"), ("windows", "amd64", "10.0.20348.2762")], oci=True)
    expected[("multi/oci", "1")] = index
    mlist, mchildren = api.push_manifest_list("multi/docker", "1", [("linux", "amd64"), ("linux", "arm64")])
    expected[("multi/docker", "1")] = mlist
    # A Windows base image: its foreign layer is not in the source registry and is not copied, only named.
    foreign = {"mediaType": FOREIGN_LAYER, "size": 1000000, "digest": "sha256:" + "ab" * 32,
               "urls": ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:" + "ab" * 32]}
    expected[("base/servercore", "ltsc2022")] = api.push_image("base/servercore", "ltsc2022", os_name="windows",
                                                               foreign_layers=[foreign])
    images = ["team/app:1", "team/all", "multi/oci:1", "multi/docker:1", "base/servercore:ltsc2022"]

    check = seed(tmp_path, dest, source, images, check=True)
    assert not check.failed, check
    result = check.result("Copy the images by digest")
    assert result["changed"] is True
    assert sorted(e["dest"] for e in result["copied"]) == sorted("%s:%s" % k for k in expected)
    assert catalog(dest.url) == [], "check mode must copy nothing"

    applied = seed(tmp_path, dest, source, images)
    assert not applied.failed, applied
    result = applied.result("Copy the images by digest")
    assert result["changed"] is True and result["present"] == []
    assert {(e["dest"].rsplit(":", 1)[0], e["dest"].rsplit(":", 1)[1]): e["digest"] for e in result["copied"]} == expected
    for (repository, tag), wanted in expected.items():
        assert digest(dest.url, repository, tag) == wanted
    for child in children:
        assert digest(dest.url, "multi/oci", child) == child
    for child in mchildren:
        assert digest(dest.url, "multi/docker", child) == child
    assert catalog(dest.url) == ["base/servercore", "multi/docker", "multi/oci", "team/all", "team/app"]
    assert digest(dest.url, "team/app", "2") == "HTTP 404"

    again = seed(tmp_path, dest, source, images)
    assert not again.failed, again
    result = again.result("Copy the images by digest")
    assert result["changed"] is False and result["copied"] == [] and len(result["present"]) == len(expected)

    # Within one registry: blobs are mounted from the source repository, digests unchanged.
    mounted = seed(tmp_path, dest, dest, ["team/app:1", "multi/oci:1"], prefix="mirror/")
    assert not mounted.failed, mounted
    result = mounted.result("Copy the images by digest")
    assert result["bytes_copied"] == 0 and result["blobs_copied"] > 0
    assert digest(dest.url, "mirror/team/app", "1") == expected[("team/app", "1")]
    assert digest(dest.url, "mirror/multi/oci", "1") == index
