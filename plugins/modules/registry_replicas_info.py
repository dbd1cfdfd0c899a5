#!/usr/bin/python
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_replicas_info
short_description: Compare the replicas of a scaled-out Docker registry and its balanced name
version_added: 0.2.0
description:
  - Reads every repository, tag and manifest digest from the balanced name (O(url)) and from each replica
    (O(replicas)) with the HTTP API v2, and reports the replicas that cannot be reached or that disagree.
  - Replicas on one shared store must answer the same catalog and the same digest for every tag; a replica
    that disagrees has its own storage or cache (a wrong C(storage) section, or a stale blob-descriptor cache).
  - Runs where the task runs, usually the controller. Never changes anything.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.registry_connection
  - dockerwin.registry.attributes.read_only_api
options:
  replicas:
    description:
      - The replicas, each a base URL (V(http://10.0.0.11:5000)) or a connect address (V(10.0.0.11:5000)).
      - A connect address is used as O(connect_address) for O(url), so TLS checks the certificate for the
        balanced name on every replica (replicas of one group share the certificate's names).
      - The connection options (user, CA, timeouts) are the same for every replica.
    type: list
    elements: str
    required: true
  fail_on_disagreement:
    description:
      - Fail when a replica or the balanced name cannot be reached, or when they disagree; the result still
        holds every finding.
    type: bool
    default: false
  concurrency:
    description: Manifest requests sent at a time to each endpoint (1 to 16).
    type: int
    default: 8
notes:
  - Each endpoint is read once, one after the other; a push that happens meanwhile can show as a disagreement
    that a second run no longer shows.
seealso:
  - module: dockerwin.registry.registry_tags_info
  - module: dockerwin.registry.registry_manifest_info
"""

EXAMPLES = r"""
- name: Compare three replicas behind registry.example.com
  dockerwin.registry.registry_replicas_info:
    url: https://registry.example.com
    ca_path: /etc/pki/registry/ca.crt
    replicas:
      - 10.0.0.11:5000
      - 10.0.0.12:5000
      - 10.0.0.13:5000
    fail_on_disagreement: true
  delegate_to: localhost
  register: replicas

- name: Show the replicas that disagree
  ansible.builtin.debug:
    var: replicas.disagreements
"""

RETURN = r"""
consistent:
  description: Every endpoint answered and all answered the same repositories, tags and digests.
  returned: always
  type: bool
  sample: true
endpoints:
  description:
    - One entry per endpoint, the balanced name first (C(name) V(balanced)), then the replicas in the given order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: V(balanced) or the replica as given.
      type: str
    url:
      description: The base URL asked.
      type: str
    reachable:
      description: Whether the endpoint answered every request.
      type: bool
    error:
      description: Why it did not, when it did not.
      type: str
    repositories:
      description: Number of repositories it lists.
      type: int
    tags:
      description: Number of tags it lists.
      type: int
  sample:
    - {name: balanced, url: "http://registry.example.com:5000", reachable: true, error: null, repositories: 2, tags: 3}
disagreements:
  description:
    - Each C(repository:tag) that not every reachable endpoint answers with the same digest, with the digest each
      endpoint answered (V(null) when it lists no such tag).
  returned: always
  type: list
  elements: dict
  sample:
    - {repository: team/app, tag: "1", digests: {balanced: "sha256:4a3f...", "10.0.0.12:5000": null}}
unreachable:
  description: Names of the endpoints that did not answer.
  returned: always
  type: list
  elements: str
  sample: ["10.0.0.13:5000"]
digests:
  description: C(repository:tag) to digest, as the balanced name answers them.
  returned: always
  type: dict
  sample: {"team/app:1": "sha256:4a3f..."}
"""

import concurrent.futures

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    MAX_WORKERS,
    REGISTRY_REQUIRED_TOGETHER,
    RegistryClient,
    RegistryError,
    check_common_params,
    registry_argument_spec,
)

BALANCED = "balanced"


def snapshot(client, workers):
    """{repository:tag -> digest} as one endpoint answers it."""
    client.ping(wait_timeout=0)
    repositories = sorted(set(client.catalog()))
    pairs = []
    for repository, tags in client.tags_many(repositories, workers=workers).items():
        if isinstance(tags, RegistryError):
            raise tags
        pairs += [(repository, tag) for tag in tags]

    def digest(pair):
        return "%s:%s" % pair, client.manifest(pair[0], pair[1])["digest"]

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        found = dict(pool.map(digest, pairs))
    return repositories, found


def compare(snapshots):
    """Disagreements between the reachable endpoints' snapshots ({name: {ref: digest}}), sorted by reference."""
    refs = sorted(set().union(*[set(s) for s in snapshots.values()])) if snapshots else []
    out = []
    for ref in refs:
        digests = {name: found.get(ref) for name, found in snapshots.items()}
        if len(set(digests.values())) > 1:
            repository, dummy, tag = ref.rpartition(":")
            out.append({"repository": repository, "tag": tag, "digests": digests})
    return out


def client_for(params, replica):
    options = dict(params)
    if "://" in replica:
        options.update(url=replica, connect_address=None)
    else:
        options["connect_address"] = replica
    return RegistryClient.from_params(options)


def main():
    argument_spec = registry_argument_spec()
    argument_spec.update(
        replicas=dict(type="list", elements="str", required=True),
        fail_on_disagreement=dict(type="bool", default=False),
        concurrency=dict(type="int", default=8),
    )
    module = AnsibleModule(argument_spec, required_together=REGISTRY_REQUIRED_TOGETHER, supports_check_mode=True)
    params = module.params
    error = check_common_params(params)
    if error is None and not 1 <= params["concurrency"] <= MAX_WORKERS:
        error = "concurrency must be 1 to %d, got %d" % (MAX_WORKERS, params["concurrency"])
    if error is None and not params["replicas"]:
        error = "replicas is empty: give the base URL or the address of each replica"
    if error:
        module.fail_json(msg=error)

    endpoints, snapshots, warnings = [], {}, []
    for name in [BALANCED] + list(params["replicas"]):
        entry = {"name": name, "url": None, "reachable": False, "error": None, "repositories": None, "tags": None}
        try:
            client = client_for(params, name) if name != BALANCED else RegistryClient.from_params(params)
            entry["url"] = client.url
            repositories, found = snapshot(client, params["concurrency"])
            warnings += client.warnings
        except RegistryError as e:
            entry["error"] = str(e)
        else:
            entry.update(reachable=True, repositories=len(repositories), tags=len(found))
            snapshots[name] = found
        endpoints.append(entry)
    for warning in sorted(set(warnings)):
        module.warn(warning)

    unreachable = [e["name"] for e in endpoints if not e["reachable"]]
    disagreements = compare(snapshots)
    result = dict(changed=False, endpoints=endpoints, unreachable=unreachable, disagreements=disagreements,
                  consistent=not unreachable and not disagreements, digests=snapshots.get(BALANCED, {}))
    if params["fail_on_disagreement"] and not result["consistent"]:
        problems = ["%s did not answer (%s)" % (e["name"], e["error"]) for e in endpoints if not e["reachable"]]
        problems += ["%s:%s differs (%s)" % (d["repository"], d["tag"], ", ".join(
            "%s=%s" % (k, (v or "missing")[:19]) for k, v in d["digests"].items())) for d in disagreements[:5]]
        if len(disagreements) > 5:
            problems.append("%d more references differ" % (len(disagreements) - 5))
        module.fail_json(msg="the replicas of %s disagree: %s" % (params["url"], "; ".join(problems)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
