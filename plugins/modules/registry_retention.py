#!/usr/bin/python
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_retention
short_description: Delete old tags of a Docker registry by a retention rule (keep the last N, or by age)
version_added: 0.2.0
description:
  - For each repository, orders the tags by the creation date of their image (the image config's C(created); for a
    manifest list or OCI index, the newest of its platform images), keeps the O(keep) newest and those matching
    O(keep_tags), and deletes the others by digest (C(DELETE /v2/<name>/manifests/<digest>)).
  - Deleting a digest removes every tag that points to it, so a digest is deleted only when all its tags go; a tag
    to delete that shares its digest with a kept tag stays, and is listed in RV(shared).
  - With O(older_than_days), only tags older than that go (and still only beyond the O(keep) newest).
  - Tags without a date (an image config without C(created)) are kept and listed in RV(undated).
  - The registry must allow deletes (C(storage.delete.enabled), the role's C(windows_registry_storage_delete));
    otherwise it answers 405 and the module fails saying so. The blobs stay on disk until garbage collection
    (C(playbooks/garbage_collect.yml)).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.registry_connection
attributes:
  check_mode:
    description: Lists exactly what would be deleted; deletes nothing.
    support: full
  diff_mode:
    description: No diff.
    support: none
  platform:
    description: Runs on POSIX hosts with Python.
    support: full
    platforms: posix
  action_group:
    description: Use C(group/dockerwin.registry.registry) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - dockerwin.registry.registry
options:
  repositories:
    description: Repositories to apply the rule to; empty means every repository of the catalog.
    type: list
    elements: str
    default: []
  keep:
    description: Number of newest tags kept in each repository.
    type: int
    required: true
  keep_tags:
    description: Regular expressions (matched against the whole tag) of tags always kept, such as V(latest).
    type: list
    elements: str
    default: []
  older_than_days:
    description: Delete only tags whose image is older than this many days. Unset means by count alone.
    type: int
seealso:
  - module: dockerwin.registry.registry_tags_info
"""

EXAMPLES = r"""
- name: Keep the 5 newest tags of every repository (and latest)
  dockerwin.registry.registry_retention:
    url: https://registry.example.com
    keep: 5
    keep_tags: [latest]
  delegate_to: localhost
"""

RETURN = r"""
deleted:
  description: Digests deleted (or that check mode would delete), with their repository, tags and date.
  returned: always
  type: list
  elements: dict
  sample: [{"repository": "team/app", "digest": "sha256:...", "tags": ["1.0"], "created": "2026-01-02T03:04:05Z"}]
kept:
  description: Tags kept, per repository.
  returned: always
  type: dict
shared:
  description: Tags the rule would delete that stay because a kept tag has the same digest.
  returned: always
  type: list
  elements: str
undated:
  description: Tags kept because their image has no creation date.
  returned: always
  type: list
  elements: str
"""

import datetime
import json
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    LIST_MEDIA_TYPES,
    REGISTRY_REQUIRED_TOGETHER,
    RegistryError,
    RegistryHTTPError,
    check_common_params,
    check_repository,
    registry_argument_spec,
)
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_writer import RegistryWriter


def parse_created(value):
    """An aware datetime from an RFC 3339 `created` (nanoseconds allowed), or None."""
    if not isinstance(value, str):
        return None
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", value.strip())
    if not match:
        return None
    fraction = (match.group(2) or ".0")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.datetime.fromisoformat(match.group(1) + fraction + zone)


def plan(tags, keep, keep_patterns, older_than, now):
    """tags: {tag: (digest, created datetime or None)}. Returns (delete {digest: [tags]}, kept [tags], shared, undated)."""
    undated = sorted(t for t, (d, c) in tags.items() if c is None)
    dated = sorted((t for t in tags if tags[t][1] is not None), key=lambda t: (tags[t][1], t), reverse=True)
    kept = set(undated) | set(dated[:keep]) | {t for t in tags if any(re.fullmatch(p, t) for p in keep_patterns)}
    candidates = [t for t in dated[keep:] if t not in kept]
    if older_than is not None:
        limit = now - datetime.timedelta(days=older_than)
        kept |= {t for t in candidates if tags[t][1] >= limit}
        candidates = [t for t in candidates if tags[t][1] < limit]
    kept_digests = {tags[t][0] for t in kept}
    shared = sorted(t for t in candidates if tags[t][0] in kept_digests)
    delete = {}
    for tag in candidates:
        if tag not in shared:
            delete.setdefault(tags[tag][0], []).append(tag)
    return delete, sorted(kept | set(shared)), shared, undated


def created_of(client, repository, body, media_type, cache):
    data = json.loads(body)
    if media_type in LIST_MEDIA_TYPES or isinstance(data.get("manifests"), list):
        dates = []
        for child in data.get("manifests") or []:
            child_body, child_type, dummy = client.manifest_raw(repository, child["digest"])
            dates.append(created_of(client, repository, child_body, child_type, cache))
        dates = [d for d in dates if d is not None]
        return max(dates) if dates else None
    config = data.get("config") if isinstance(data.get("config"), dict) else None
    if not config:
        return None
    if config["digest"] not in cache:
        cache[config["digest"]] = parse_created(json.loads(client.get_blob(repository, config["digest"])).get("created"))
    return cache[config["digest"]]


def main():
    argument_spec = registry_argument_spec()
    argument_spec.update(
        repositories=dict(type="list", elements="str", default=[]),
        keep=dict(type="int", required=True),
        keep_tags=dict(type="list", elements="str", default=[]),
        older_than_days=dict(type="int"),
    )
    module = AnsibleModule(argument_spec, required_together=REGISTRY_REQUIRED_TOGETHER, supports_check_mode=True)
    params = module.params
    error = check_common_params(params)
    if params["keep"] < 0:
        error = "keep=%d: give 0 or more tags to keep" % params["keep"]
    for pattern in params["keep_tags"]:
        try:
            re.compile(pattern)
        except re.error as e:
            error = "keep_tags: %r is not a regular expression: %s" % (pattern, e)
    if error:
        module.fail_json(msg=error)
    result = dict(changed=False, deleted=[], kept={}, shared=[], undated=[])
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        client = RegistryWriter(params["url"], username=params["url_username"], password=params["url_password"],
                                ca_path=params["ca_path"], validate_certs=params["validate_certs"], timeout=params["timeout"],
                                connect_address=params["connect_address"], client_cert=params.get("client_cert"),
                                client_key=params.get("client_key"), retries=params.get("retries") or 0)
        client.ping(wait_timeout=params["wait_timeout"])
        repositories = [check_repository(r) for r in params["repositories"]] or client.catalog()
        cache = {}
        for repository in repositories:
            tags = {}
            for tag in client.tags(repository):
                body, media_type, digest = client.manifest_raw(repository, tag)
                tags[tag] = (digest, created_of(client, repository, body, media_type, cache))
            delete, kept, shared, undated = plan(tags, params["keep"], params["keep_tags"], params["older_than_days"], now)
            result["kept"][repository] = kept
            result["shared"] += ["%s:%s" % (repository, t) for t in shared]
            result["undated"] += ["%s:%s" % (repository, t) for t in undated]
            for digest, gone in sorted(delete.items()):
                created = tags[gone[0]][1]
                result["deleted"].append(dict(repository=repository, digest=digest, tags=sorted(gone),
                                              created=created.isoformat() if created else None))
                if not module.check_mode:
                    try:
                        client.delete_manifest(repository, digest)
                    except RegistryHTTPError as e:
                        if e.status == 405:
                            module.fail_json(msg="%s: the registry refuses deletes (405): enable storage.delete.enabled "
                                             "(windows_registry_storage_delete: true) and run again" % e, **result)
                        raise
        result["changed"] = bool(result["deleted"])
    except RegistryError as e:
        module.fail_json(msg=str(e), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
