#!/usr/bin/python
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_tags_info
short_description: List the tags of repositories of a Docker registry
version_added: 0.1.0
description:
  - Lists the tags of one or more repositories with the HTTP API v2 (C(GET /v2/<name>/tags/list)), following the
    registry's C(Link) headers where it paginates tags (distribution v3, Harbor, cloud registries).
  - Several repositories are read in parallel, O(concurrency) requests at a time, so thousands of repositories
    (for example the RV(dockerwin.registry.registry_catalog_info#module:repositories) of a catalog) take seconds.
  - Repositories the registry does not have are listed in RV(missing_repositories); other errors fail the task.
  - Runs where the task runs, usually the controller (C(delegate_to) another host to test from there).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.registry_connection
  - dockerwin.registry.attributes.read_only_api
options:
  repositories:
    description:
      - Names of the repositories, without the registry host or a tag (V(team/app)).
      - Each is read once, even when listed twice.
    type: list
    elements: str
    required: true
    aliases: [repository]
  page_size:
    description:
      - Tags asked for per page (the C(n) parameter).
      - By default none is asked for and the registry answers its default page (distribution v2 answers every tag
        at once; v3 pages only when asked). A size the registry refuses as too large (HTTP 400
        C(PAGINATION_NUMBER_INVALID)) is halved, then left to the registry.
    type: int
  concurrency:
    description:
      - How many repositories are read at the same time (1 to 16). V(1) reads them one after the other.
    type: int
    default: 8
  fail_on_missing:
    description:
      - Fail when a repository does not exist, naming those missing (the result still holds the others' tags).
    type: bool
    default: false
seealso:
  - module: dockerwin.registry.registry_catalog_info
  - module: dockerwin.registry.registry_manifest_info
  - name: Docker Registry HTTP API V2, listing image tags
    description: The tags API and its pagination.
    link: https://distribution.github.io/distribution/spec/api/#listing-image-tags
"""

EXAMPLES = r"""
- name: Tags of one repository
  dockerwin.registry.registry_tags_info:
    url: https://registry.example.com
    repositories: team/app
  register: app

- name: Show them
  ansible.builtin.debug:
    msg: "{{ app.tags['team/app'] }}"

- name: Inventory of a whole registry
  module_defaults:
    group/dockerwin.registry.registry:
      url: https://registry.example.com
      ca_path: /etc/pki/registry/ca.crt
  block:
    - name: Read the catalog
      dockerwin.registry.registry_catalog_info:
      register: catalog

    - name: Read the tags of every repository, eight at a time
      dockerwin.registry.registry_tags_info:
        repositories: "{{ catalog.repositories }}"
      register: inventory
"""

RETURN = r"""
url:
  description: The registry's base URL, normalized.
  returned: always
  type: str
  sample: https://registry.example.com
tags:
  description: Tags of each repository found, sorted.
  returned: success, and when O(fail_on_missing) fails
  type: dict
  sample: {"team/app": ["1.0", "1.1", "latest"], "base/nanoserver": ["ltsc2022"]}
missing_repositories:
  description: Repositories the registry does not have (HTTP 404 C(NAME_UNKNOWN)), in the order given.
  returned: success, and when O(fail_on_missing) fails
  type: list
  elements: str
  sample: [team/old]
repository_count:
  description: Number of repositories in RV(tags).
  returned: success
  type: int
  sample: 2
tag_count:
  description: Number of tags in RV(tags), all repositories together.
  returned: success
  type: int
  sample: 4
api_version:
  description: The registry's C(Docker-Distribution-API-Version) header.
  returned: success
  type: str
  sample: registry/2.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    MAX_WORKERS,
    REGISTRY_REQUIRED_TOGETHER,
    RegistryClient,
    RegistryError,
    RegistryNotFoundError,
    check_common_params,
    registry_argument_spec,
)


def main():
    argument_spec = registry_argument_spec()
    argument_spec.update(
        repositories=dict(type="list", elements="str", required=True, aliases=["repository"]),
        page_size=dict(type="int"),
        concurrency=dict(type="int", default=8),
        fail_on_missing=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec, required_together=REGISTRY_REQUIRED_TOGETHER, supports_check_mode=True)
    params = module.params
    error = check_common_params(params)
    if error:
        module.fail_json(msg=error)
    if not 1 <= params["concurrency"] <= MAX_WORKERS:
        module.fail_json(msg="concurrency must be 1 to %d, got %d" % (MAX_WORKERS, params["concurrency"]))
    if params["page_size"] is not None and params["page_size"] < 1:
        module.fail_json(msg="page_size must be a positive integer, got %d" % params["page_size"])
    repositories = list(dict.fromkeys(r.strip() for r in params["repositories"]))

    result = dict(changed=False, url=params["url"])
    try:
        client = RegistryClient.from_params(params)
        result["url"] = client.url
        ping = client.ping(wait_timeout=params["wait_timeout"])
        answers = client.tags_many(repositories, page_size=params["page_size"], workers=params["concurrency"])
    except RegistryError as e:
        module.fail_json(msg=str(e), **result)
    for warning in client.warnings:
        module.warn(warning)

    tags, missing, failed = {}, [], []
    for repository in repositories:
        answer = answers[repository]
        if isinstance(answer, RegistryNotFoundError):
            missing.append(repository)
        elif isinstance(answer, RegistryError):
            failed.append(answer)
        else:
            tags[repository] = sorted(answer)
    result.update(tags=tags, missing_repositories=missing, api_version=ping.api_version)
    if failed:
        more = " (and %d more repositories failed)" % (len(failed) - 1) if len(failed) > 1 else ""
        module.fail_json(msg="%s%s" % (failed[0], more), **result)
    result.update(repository_count=len(tags), tag_count=sum(len(t) for t in tags.values()))
    if missing and params["fail_on_missing"]:
        module.fail_json(msg="%s has no repository %s" % (client.url, ", ".join(missing)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
