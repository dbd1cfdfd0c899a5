# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""registry_retention against a real registry (Debian's binary): keep the N newest tags by the image config's
`created`, check mode lists exactly what goes, a shared digest is kept, a registry without deletes is refused."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import yaml

import playbook
from registry_api import RegistryAPI
from registry_process import registry_factory  # noqa: F401  (fixture)


def tags(url, repository):
    with urllib.request.urlopen("%s/v2/%s/tags/list" % (url, repository), timeout=10) as response:
        return sorted(json.load(response)["tags"] or [])


def retention(tmp_path, url, check=False, **options):
    book = tmp_path / "retention.yml"
    book.write_text(yaml.safe_dump([{
        "name": "Retention", "hosts": "all", "gather_facts": False,
        "tasks": [{"name": "Apply the retention rule",
                   "dockerwin.registry.registry_retention": dict({"url": url}, **options)}],
    }]))
    inventory = playbook.write_inventory(tmp_path / "inventory.yml", {}, group="all_hosts")
    return playbook.run_playbook(str(book), inventory, check=check)


def test_keep_last_n_tags_by_created(tmp_path, registry_factory):  # noqa: F811
    registry = registry_factory()
    api = RegistryAPI(registry.url)
    digests = {}
    for day, tag in enumerate(["1.0", "1.1", "1.2", "1.3", "2.0"], start=1):
        digests[tag] = api.push_image("team/app", tag, created="2026-01-%02dT10:00:00.123456789Z" % day)
    # latest points at the oldest image, so 1.0 must stay although the rule drops it
    api.push_manifest("team/app", "latest", *api.image_manifest("team/app", "1.0", created="2026-01-01T10:00:00.123456789Z"))
    index, dummy = api.push_manifest_list("multi", "old", [("linux", "amd64"), ("windows", "amd64")], created="2025-06-01T00:00:00Z")
    api.push_manifest_list("multi", "new", [("linux", "amd64"), ("linux", "arm64")], created="2026-06-01T00:00:00Z")
    api.push_image("undated/app", "x")
    api.push_image("undated/app", "y")
    options = {"keep": 2, "keep_tags": ["latest"]}

    check = retention(tmp_path, registry.url, check=True, **options)
    assert not check.failed, check
    result = check.result("Apply the retention rule")
    assert result["changed"] is True
    assert sorted((d["repository"], tuple(d["tags"]), d["digest"]) for d in result["deleted"]) == sorted([
        ("team/app", ("1.1",), digests["1.1"]), ("team/app", ("1.2",), digests["1.2"]),
    ])
    assert result["shared"] == ["team/app:1.0"]
    assert result["undated"] == ["undated/app:x", "undated/app:y"]
    assert tags(registry.url, "team/app") == ["1.0", "1.1", "1.2", "1.3", "2.0", "latest"], "check mode deletes nothing"

    applied = retention(tmp_path, registry.url, **options)
    assert not applied.failed, applied
    assert applied.result("Apply the retention rule")["deleted"] == result["deleted"]
    assert tags(registry.url, "team/app") == ["1.0", "1.3", "2.0", "latest"]
    assert tags(registry.url, "multi") == ["new", "old"]  # two tags: both kept

    again = retention(tmp_path, registry.url, **options)
    assert not again.failed and again.result("Apply the retention rule")["changed"] is False

    by_age = retention(tmp_path, registry.url, keep=0, older_than_days=365, repositories=["multi"])
    assert not by_age.failed, by_age
    gone = by_age.result("Apply the retention rule")["deleted"]
    assert [(d["tags"], d["digest"]) for d in gone] == [(["old"], index)]
    assert tags(registry.url, "multi") == ["new"]


def test_registry_without_deletes_is_refused(tmp_path, registry_factory):  # noqa: F811
    registry = registry_factory(config={"storage": {"delete": {"enabled": False}}})
    api = RegistryAPI(registry.url)
    api.push_image("team/app", "1", created="2026-01-01T00:00:00Z")
    api.push_image("team/app", "2", created="2026-01-02T00:00:00Z")
    refused = retention(tmp_path, registry.url, keep=1)
    assert refused.rc != 0
    assert "storage.delete.enabled" in refused.failure_message()
    assert tags(registry.url, "team/app") == ["1", "2"]
