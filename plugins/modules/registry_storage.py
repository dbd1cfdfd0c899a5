# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_storage.py.

DOCUMENTATION = r"""
module: registry_storage
short_description: Refuse or migrate a change of a registry's storage backend
version_added: 0.2.0
description:
  - Reads the configuration file the running registry container O(name) uses (the first argument of its command,
    through its bind mounts) and compares where it keeps its data (storage driver, bucket, endpoint, region, Azure
    account and container, root directory) with O(storage), the new configuration's, as
    P(dockerwin.registry.registry_config#module) returns it. A change of credentials is not a change of backend.
  - When the backend changes and the registry holds images (a tag in any repository of C(/v2/_catalog), read from the
    controller at O(url)), the task fails unless O(migrate=true).
  - With O(migrate=true), a temporary container C(<name>-migrate) of the new configuration (O(image), O(command),
    O(volumes); so the same TLS, users and C(http.secret)) runs on O(migrate_port), every tag of every repository is
    copied to it through the registry API by digest (blobs, then manifests with their exact bytes, as
    M(dockerwin.registry.registry_copy) does), the source is listed again and every tag, manifest and blob is checked
    at the destination by digest (what is missing or was pushed meanwhile is copied again, three rounds at most), and
    the temporary container is removed. The registry container itself is not touched; the role's next task switches it.
  - Manifests that no tag names (pulled only by digest) are not copied; the API cannot list them. The old backend
    keeps its data.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
    details: Compares and lists the images; reports the migration it would run.
  diff_mode:
    support: none
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  name:
    description: Name of the registry container.
    type: str
    required: true
  storage:
    description: The new configuration's storage, the RV(dockerwin.registry.registry_config#module:storage) it returned.
    type: dict
    required: true
  migrate:
    description: Copy the images to the new backend (and verify them) instead of refusing the change.
    type: bool
    default: false
  image:
    description: Image of the temporary registry (the one the registry will run).
    type: str
    default: ""
  command:
    description: Command of the temporary registry, the new configuration file as the container sees it.
    type: list
    elements: str
    default: []
  volumes:
    description: Bind mounts of the temporary registry (C(source), C(target), C(read_only)), as for the registry container.
    type: list
    elements: dict
    default: []
  migrate_port:
    description: Host port of the temporary registry.
    type: int
    default: 0
  bind_address:
    description: Host address the temporary registry's port is published on (Linux); empty is every address.
    type: str
    default: ""
  isolation:
    description: Isolation of the temporary container on Windows.
    type: str
    default: ""
  user:
    description: User of the temporary container.
    type: str
    default: ""
  url:
    description: Base URL of the registry as the controller reaches it; the temporary registry is reached at the same URL with O(migrate_port).
    type: str
    required: true
  url_username:
    description: User for both registries.
    type: str
    default: ""
  url_password:
    description: Password of O(url_username).
    type: str
    default: ""
  ca_cert:
    description: PEM text of the CA that signed the registry's certificate.
    type: str
    default: ""
  connect_address:
    description: C(host:port) to connect to instead of the host of O(url) (the certificate is checked for the name in O(url)).
    type: str
    default: ""
  wait_timeout:
    description: Seconds to wait for each registry to answer C(/v2/).
    type: int
    default: 60
  docker_cli:
    description: The docker CLI on the target.
    type: str
    default: docker
"""

EXAMPLES = r"""
- name: Move a registry from its data folder to S3, copying its images first
  dockerwin.registry.registry_storage:
    name: registry
    storage: "{{ config_result.storage }}"
    migrate: true
    image: registry:3.0.0
    command: [/etc/distribution/config-0123456789ab.yml]
    volumes:
      - {source: /srv/registry-data, target: /var/lib/registry}
      - {source: /srv/registry-data-config, target: /etc/distribution, read_only: true}
    migrate_port: 5001
    url: http://registry.example.com:5000
"""

RETURN = r"""
backend_changed:
  description: Whether the new configuration keeps its data elsewhere than the running one.
  returned: always
  type: bool
storage:
  description: The new storage (driver and location).
  returned: always
  type: dict
previous_storage:
  description: The running container's storage, or null when there is no container or its config file is unreadable.
  returned: always
  type: dict
repositories:
  description: Repositories with at least one tag in the running registry (when the backend changes).
  returned: when the backend changes
  type: int
tags:
  description: Tags in the running registry (when the backend changes).
  returned: when the backend changes
  type: int
digests:
  description: Every C(repository:tag) and its digest, as verified at the new backend.
  returned: after a migration
  type: dict
verified_manifests:
  description: Manifests checked by digest at the new backend.
  returned: after a migration
  type: int
verified_blobs:
  description: Blobs checked by digest at the new backend.
  returned: after a migration
  type: int
blobs_copied:
  description: Blobs uploaded to the new backend.
  returned: after a migration
  type: int
bytes_copied:
  description: Bytes uploaded to the new backend.
  returned: after a migration
  type: int
"""
