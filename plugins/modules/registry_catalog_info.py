#!/usr/bin/python
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_catalog_info
short_description: List the repositories of a Docker registry
version_added: 0.1.0
description:
  - Lists every repository of a Docker registry (distribution) with the HTTP API v2 (C(GET /v2/_catalog)),
    following the registry's C(Link) headers page by page.
  - Can wait for a registry that is starting (O(wait_timeout)) and fail when expected repositories are
    missing (O(expected_repositories)), which makes it a health check after deploying a registry.
  - Runs where the task runs, usually the controller (C(delegate_to) another host to test from there).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.registry_connection
  - dockerwin.registry.attributes.read_only_api
options:
  page_size:
    description:
      - Repositories asked for per page (the C(n) parameter).
      - The default is the largest page distribution accepts by default (C(catalog.maxentries)).
        When the registry refuses the size as too large (HTTP 400 C(PAGINATION_NUMBER_INVALID)), the module
        halves it, then lets the registry choose, so a size above the registry's maximum still lists everything.
    type: int
    default: 1000
  expected_repositories:
    description:
      - Repositories that must be listed. The module fails naming those that are missing, and still returns
        what it found.
    type: list
    elements: str
    default: []
notes:
  - The catalog is read with a single sequence of requests; repositories pushed or deleted meanwhile may or may
    not be listed.
seealso:
  - name: Docker Registry HTTP API V2, listing repositories
    description: The catalog API and its pagination.
    link: https://distribution.github.io/distribution/spec/api/#listing-repositories
"""

EXAMPLES = r"""
- name: List the repositories of a local registry
  dockerwin.registry.registry_catalog_info:
    url: http://127.0.0.1:5000
  register: catalog

- name: Check a new TLS registry by its name before DNS points to it, with basic authentication
  dockerwin.registry.registry_catalog_info:
    url: https://registry.example.com
    connect_address: 192.0.2.10:443
    ca_path: /etc/pki/registry/ca.crt
    url_username: ci
    url_password: "{{ registry_ci_password }}"
    wait_timeout: 60
    expected_repositories:
      - base/nanoserver
      - team/app
  delegate_to: localhost

- name: Set the connection once for all registry modules
  module_defaults:
    group/dockerwin.registry.registry:
      url: https://registry.example.com
      ca_path: /etc/pki/registry/ca.crt
  block:
    - name: Read the catalog
      dockerwin.registry.registry_catalog_info:
      register: catalog

    - name: Show the count
      ansible.builtin.debug:
        msg: "{{ catalog.count }} repositories"
"""

RETURN = r"""
repositories:
  description: Names of all repositories, sorted, each listed once.
  returned: success, and when O(expected_repositories) are missing
  type: list
  elements: str
  sample: [base/nanoserver, team/app]
count:
  description: Number of repositories.
  returned: success, and when O(expected_repositories) are missing
  type: int
  sample: 2
api_version:
  description: The registry's C(Docker-Distribution-API-Version) header.
  returned: success, and when O(expected_repositories) are missing
  type: str
  sample: registry/2.0
url:
  description: The registry's base URL, normalized.
  returned: always
  type: str
  sample: https://registry.example.com
missing_repositories:
  description: Names of O(expected_repositories) that the registry does not list, sorted.
  returned: when O(expected_repositories) are missing
  type: list
  elements: str
  sample: [team/app]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    REGISTRY_REQUIRED_TOGETHER,
    RegistryClient,
    RegistryError,
    check_common_params,
    registry_argument_spec,
)


def main():
    argument_spec = registry_argument_spec()
    argument_spec.update(
        page_size=dict(type="int", default=1000),
        expected_repositories=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleModule(argument_spec, required_together=REGISTRY_REQUIRED_TOGETHER, supports_check_mode=True)
    params = module.params
    error = check_common_params(params)
    if error:
        module.fail_json(msg=error)

    result = dict(changed=False, url=params["url"])
    try:
        client = RegistryClient.from_params(params)
        result["url"] = client.url
        ping = client.ping(wait_timeout=params["wait_timeout"])
        repositories = sorted(set(client.catalog(params["page_size"])))
    except RegistryError as e:
        module.fail_json(msg=str(e), **result)
    for warning in client.warnings:
        module.warn(warning)

    result.update(repositories=repositories, count=len(repositories), api_version=ping.api_version)
    missing = sorted(set(params["expected_repositories"]) - set(repositories))
    if missing:
        module.fail_json(msg="%s lists %d repositories but not the expected: %s" % (client.url, len(repositories), ", ".join(missing)),
                         missing_repositories=missing, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
