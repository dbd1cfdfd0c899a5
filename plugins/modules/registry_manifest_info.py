#!/usr/bin/python
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_manifest_info
short_description: Describe an image manifest of a Docker registry (digest, platforms, layers, foreign layers)
version_added: 0.1.0
description:
  - Reads the manifest of V(repository:tag) or V(repository@digest) with the HTTP API v2
    (C(GET /v2/<name>/manifests/<reference>)), asking for Docker image manifests (schema 2) and manifest lists,
    and OCI image manifests and indexes.
  - Reports its digest, media type, and for an image its layer count, the sum of the layer sizes and its foreign
    layers (Windows base layers that registries need not hold, C(application/vnd.docker.image.rootfs.foreign.diff.tar.gzip)
    and the OCI C(nondistributable) layer types, with the URLs they are fetched from).
  - For a manifest list or OCI index, reports its platforms, and by default reads each platform's manifest for the
    same layer figures (O(platform_details)).
  - A reference the registry does not have returns RV(exists=false); it does not fail.
  - Runs where the task runs, usually the controller (C(delegate_to) another host to test from there).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.registry_connection
  - dockerwin.registry.attributes.read_only_api
options:
  name:
    description:
      - The image in the registry, without the registry host, as V(repository:tag), V(repository@sha256:<digest>) or
        V(repository) (tag V(latest)).
      - A manifest read by digest must have that digest, or the module fails.
    type: str
    required: true
    aliases: [image]
  platform_details:
    description:
      - For a manifest list or OCI index, also read each platform's manifest, for its layer count, size and foreign layers.
    type: bool
    default: true
seealso:
  - module: dockerwin.registry.registry_tags_info
  - name: Docker Image Manifest V2, Schema 2
    description: Manifests and manifest lists, foreign layers.
    link: https://distribution.github.io/distribution/spec/manifest-v2-2/
  - name: OCI image index
    description: The OCI counterpart of the manifest list.
    link: https://github.com/opencontainers/image-spec/blob/main/image-index.md
"""

EXAMPLES = r"""
- name: Describe the image a tag points to
  dockerwin.registry.registry_manifest_info:
    url: https://registry.example.com
    name: base/servercore:ltsc2022
  register: image

- name: Warn about Windows foreign layers, which clients fetch from Microsoft rather than from this registry
  ansible.builtin.debug:
    msg: "{{ item.digest }} comes from {{ item.urls | join(', ') }}"
  loop: "{{ image.foreign_layers | default([]) }}"

- name: Platforms of a multi-platform image
  ansible.builtin.debug:
    msg: "{{ image.platforms | map(attribute='os') | list }}"
  when: image.platforms is defined
"""

RETURN = r"""
url:
  description: The registry's base URL, normalized.
  returned: always
  type: str
  sample: https://registry.example.com
exists:
  description: Whether the registry has the repository and the tag or digest (V(false) after a 404).
  returned: success
  type: bool
  sample: true
repository:
  description: The repository part of O(name).
  returned: success
  type: str
  sample: base/servercore
tag:
  description: The tag part of O(name) (V(latest) when O(name) has neither tag nor digest), or V(null) for a digest.
  returned: success
  type: str
  sample: ltsc2022
digest:
  description: The manifest's digest (the C(Docker-Content-Digest) header, else the SHA-256 of the manifest as served).
  returned: when RV(exists)
  type: str
  sample: sha256:4b8c5d3d...
media_type:
  description: The manifest's media type (its C(mediaType) field, else the C(Content-Type) of the answer).
  returned: when RV(exists)
  type: str
  sample: application/vnd.docker.distribution.manifest.list.v2+json
is_list:
  description: Whether the manifest is a manifest list or OCI index (one manifest per platform).
  returned: when RV(exists)
  type: bool
manifest_size:
  description: Size of the manifest itself, in bytes.
  returned: when RV(exists)
  type: int
config_digest:
  description: Digest of the image configuration.
  returned: when RV(exists) and not RV(is_list)
  type: str
layer_count:
  description: Number of layers.
  returned: when RV(exists) and not RV(is_list)
  type: int
  sample: 2
layers_size:
  description: Sum of the layer sizes (compressed, as stored and transferred), in bytes, foreign layers included.
  returned: when RV(exists) and not RV(is_list)
  type: int
  sample: 1532417
foreign_layers:
  description: Layers with a foreign or non-distributable media type, which clients fetch from their URLs.
  returned: when RV(exists) and not RV(is_list)
  type: list
  elements: dict
  contains:
    digest:
      description: Layer digest.
      type: str
    size:
      description: Layer size in bytes.
      type: int
    media_type:
      description: Layer media type.
      type: str
    urls:
      description: Where the layer is fetched from.
      type: list
      elements: str
platforms:
  description:
    - One entry per manifest of a list or index, with its C(digest), C(media_type), C(size) (of that manifest), C(os),
      C(architecture), C(variant), C(os_version), and, with O(platform_details), C(layer_count), C(layers_size),
      C(foreign_layers) as for an image.
  returned: when RV(is_list)
  type: list
  elements: dict
  sample:
    - {"os": "windows", "architecture": "amd64", "os_version": "10.0.20348.2655", "variant": null, "digest": "sha256:...",
       "media_type": "application/vnd.docker.distribution.manifest.v2+json", "size": 1161, "layer_count": 2,
       "layers_size": 1532417, "foreign_layers": []}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    FOREIGN_LAYER_MEDIA_TYPES,
    LIST_MEDIA_TYPES,
    REGISTRY_REQUIRED_TOGETHER,
    RegistryClient,
    RegistryError,
    RegistryNotFoundError,
    check_common_params,
    registry_argument_spec,
    split_reference,
)


def image_figures(data):
    """Layer count, size and foreign layers of an image manifest (schema 2, OCI, or schema 1)."""
    if data.get("schemaVersion") == 1:  # schema 1 lists layers without sizes
        layers = data.get("fsLayers") or []
        return dict(config_digest=None, layer_count=len(layers), layers_size=None, foreign_layers=[])
    layers = [layer for layer in data.get("layers") or [] if isinstance(layer, dict)]
    foreign = [dict(digest=layer.get("digest"), size=layer.get("size"), media_type=layer.get("mediaType"), urls=layer.get("urls") or [])
               for layer in layers if layer.get("mediaType") in FOREIGN_LAYER_MEDIA_TYPES]
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    return dict(config_digest=config.get("digest"), layer_count=len(layers),
                layers_size=sum(layer.get("size") or 0 for layer in layers), foreign_layers=foreign)


def platform_entry(entry):
    platform = entry.get("platform") if isinstance(entry.get("platform"), dict) else {}
    return dict(digest=entry.get("digest"), media_type=entry.get("mediaType"), size=entry.get("size"),
                os=platform.get("os"), architecture=platform.get("architecture"), variant=platform.get("variant"),
                os_version=platform.get("os.version"))


def main():
    argument_spec = registry_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True, aliases=["image"]),
        platform_details=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec, required_together=REGISTRY_REQUIRED_TOGETHER, supports_check_mode=True)
    params = module.params
    error = check_common_params(params)
    if error:
        module.fail_json(msg=error)

    result = dict(changed=False, url=params["url"])
    try:
        repository, tag, digest = split_reference(params["name"])
    except RegistryError as e:
        module.fail_json(msg="name: %s" % e, **result)
    result.update(repository=repository, tag=tag)
    try:
        client = RegistryClient.from_params(params)
        result["url"] = client.url
        client.ping(wait_timeout=params["wait_timeout"])
        try:
            manifest = client.manifest(repository, digest or tag)
        except RegistryNotFoundError:
            result["exists"] = False
            module.exit_json(**result)
        data = manifest["data"]
        is_list = manifest["media_type"] in LIST_MEDIA_TYPES or isinstance(data.get("manifests"), list)
        result.update(exists=True, digest=manifest["digest"], media_type=manifest["media_type"], is_list=is_list,
                      manifest_size=manifest["size"])
        if is_list:
            platforms = [platform_entry(entry) for entry in data.get("manifests") or [] if isinstance(entry, dict)]
            if params["platform_details"]:
                for platform in platforms:
                    if not isinstance(platform["digest"], str):
                        continue
                    child = client.manifest(repository, platform["digest"])
                    figures = image_figures(child["data"])
                    figures.pop("config_digest")
                    platform.update(figures)
            result["platforms"] = platforms
        else:
            result.update(image_figures(data))
    except RegistryError as e:
        module.fail_json(msg=str(e), **result)
    for warning in client.warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
