#!/usr/bin/python
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_copy
short_description: Copy images registry-to-registry by digest (seeding, mirroring)
version_added: 0.2.0
description:
  - Copies images from the registry at O(src_url) to the registry at O(url) with the HTTP API v2, where the task
    runs (usually the controller); blobs first, then manifests with their exact bytes, so every digest stays the same,
    a manifest list or OCI index included (its platform manifests are copied by digest before it).
  - Blobs the destination has are not sent again. Within one registry (same O(url) and O(src_url)), blobs are
    mounted from the source repository; otherwise they are read and uploaded (one PUT, or PATCH chunks above 32 MiB;
    a blob is held in memory while it is copied).
  - An image whose tag already resolves to the same digest at the destination is skipped.
  - Foreign (non-distributable) layers, such as Windows base layers, are not copied; clients fetch them from their
    C(urls); the destination must accept manifests naming them (distribution does).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.registry_connection
attributes:
  check_mode:
    description: Reads both registries and lists what would be copied; writes nothing.
    support: full
  diff_mode:
    description: No diff.
    support: none
  platform:
    description: Runs on POSIX hosts with Python.
    support: full
    platforms: posix
  action_group:
    description: Use C(group/dockerwin.registry.registry) in C(module_defaults) to set the destination's connection options.
    support: full
    membership:
      - dockerwin.registry.registry
options:
  images:
    description:
      - Images to copy, without the registry host. V(repository:tag) copies that tag; V(repository) alone copies
        every tag the source has (unlike C(docker pull), which would mean V(latest)).
    type: list
    elements: str
    required: true
  dest_prefix:
    description: Prefix put before each repository name at the destination (for example V(mirror/)).
    type: str
    default: ""
  src_url:
    description: Base URL of the source registry.
    type: str
    required: true
  src_username:
    description: User for the source registry.
    type: str
  src_password:
    description: Password for the source registry.
    type: str
  src_ca_path:
    description: CA certificate file for the source registry's TLS certificate.
    type: path
  src_validate_certs:
    description: Check the source registry's TLS certificate.
    type: bool
    default: true
seealso:
  - module: dockerwin.registry.registry_manifest_info
"""

EXAMPLES = r"""
- name: Seed the registry with chosen tags and every tag of one repository
  dockerwin.registry.registry_copy:
    url: https://registry.example.com
    src_url: https://upstream.example.com
    images:
      - base/nanoserver:ltsc2022
      - tools/build
  delegate_to: localhost
"""

RETURN = r"""
copied:
  description: Images copied (or that check mode would copy), with their digest.
  returned: always
  type: list
  elements: dict
  sample: [{"image": "base/app:1", "dest": "base/app:1", "digest": "sha256:...", "manifests": 3, "blobs": 5}]
present:
  description: Images whose tag already had the same digest at the destination.
  returned: always
  type: list
  elements: dict
blobs_copied:
  description: Blobs uploaded or mounted (0 in check mode).
  returned: always
  type: int
bytes_copied:
  description: Bytes uploaded (mounted blobs not counted).
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    REGISTRY_REQUIRED_TOGETHER,
    RegistryError,
    check_common_params,
    check_repository,
    registry_argument_spec,
    split_reference,
)
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_copier import Copier
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_writer import RegistryWriter


def parse_images(values):
    """[(repository, tag or None)] from repository:tag / repository (every tag)."""
    out = []
    for value in values:
        value = value.strip()
        last = value.rpartition("/")[2]
        if ":" in last or "@" in value:
            repository, tag, digest = split_reference(value)
            if digest:
                raise RegistryError("images: %r names a digest; give repository:tag or repository (every tag)" % value)
            out.append((repository, tag))
        else:
            out.append((check_repository(value), None))
    return out


def main():
    argument_spec = registry_argument_spec()
    argument_spec.update(
        images=dict(type="list", elements="str", required=True),
        dest_prefix=dict(type="str", default=""),
        src_url=dict(type="str", required=True),
        src_username=dict(type="str"),
        src_password=dict(type="str", no_log=True),
        src_ca_path=dict(type="path"),
        src_validate_certs=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec, required_together=REGISTRY_REQUIRED_TOGETHER + [("src_username", "src_password")],
                           supports_check_mode=True)
    params = module.params
    error = check_common_params(params)
    if error:
        module.fail_json(msg=error)
    result = dict(changed=False, copied=[], present=[], blobs_copied=0, bytes_copied=0)
    try:
        wanted = parse_images(params["images"])
        dest = RegistryWriter(params["url"], username=params["url_username"], password=params["url_password"],
                              ca_path=params["ca_path"], validate_certs=params["validate_certs"], timeout=params["timeout"],
                              connect_address=params["connect_address"], client_cert=params.get("client_cert"),
                              client_key=params.get("client_key"), retries=params.get("retries") or 0)
        src = RegistryWriter(params["src_url"], username=params["src_username"], password=params["src_password"],
                             ca_path=params["src_ca_path"], validate_certs=params["src_validate_certs"],
                             timeout=params["timeout"], retries=params.get("retries") or 0)
        dest.ping(wait_timeout=params["wait_timeout"])
        src.ping(wait_timeout=params["wait_timeout"])
        copier = Copier(src, dest, module.check_mode)
        for repository, tag in wanted:
            dest_repository = check_repository(params["dest_prefix"] + repository)
            tags = [tag] if tag else src.tags(repository)
            for one in tags:
                entry, copied = copier.copy_tag(repository, dest_repository, one)
                result["copied" if copied else "present"].append(entry)
        result.update(changed=bool(result["copied"]), blobs_copied=copier.blobs_copied, bytes_copied=copier.bytes_copied)
    except RegistryError as e:
        module.fail_json(msg=str(e), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
