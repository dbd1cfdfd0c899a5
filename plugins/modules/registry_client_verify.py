# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_client_verify.py.

DOCUMENTATION = r"""
module: registry_client_verify
short_description: Check that a Docker host is a working client of a registry
version_added: 0.1.0
description:
  - Reads C(docker info --format '{{json .}}') and fails unless C(RegistryConfig) shows O(expected) (insecure
    registries in C(IndexConfigs) with C(Secure=false) or in C(InsecureRegistryCIDRs), mirrors in C(Mirrors)).
  - With O(smoke_test), tags a small image as C(<registry>/<account>/<image>:<tag>), pushes it, removes the tag,
    pulls it back and compares image IDs (not in check mode). Never reports a change.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  expected:
    description: RV(dockerwin.registry.registry_daemon_config#module:expected).
    type: dict
    default: {}
  timeout:
    description: Seconds to keep asking C(docker info).
    type: int
    default: 0
  smoke_test:
    description: Push/pull round trip; leave it out to skip it.
    type: dict
    suboptions:
      source_image:
        description: Image on the host (pulled when absent).
        type: str
        required: true
      registry:
        description: C(host:port).
        type: str
        required: true
      account:
        description: Account part of the name.
        type: str
        default: dockerwin
      image:
        description: Image part of the name.
        type: str
        default: smoke
      tag:
        description: Tag.
        type: str
        default: latest
  docker_config:
    description: Docker client config folder (C(--config)).
    type: str
    default: ""
  docker_cli:
    description: Docker CLI on the target (name on the PATH or full path).
    type: str
    default: docker
  docker_host:
    description:
      - Daemon the docker CLI talks to, put before the sub-command as C(-H <docker_host>) (argv, as
        M(ansible.windows.win_command) takes no environment), for example V(unix:///run/test-docker.sock). Empty is the default daemon.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: docker info lists the registry as insecure, and a push/pull works
  dockerwin.registry.registry_client_verify:
    expected: {insecure_present: [registry.local:5000]}
    smoke_test:
      source_image: mcr.microsoft.com/windows/nanoserver:ltsc2022
      registry: registry.local:5000
"""

RETURN = r"""
server_version:
  description: Docker engine version.
  returned: always
  type: str
  sample: 20.10.24
insecure_registries:
  description: Registries and CIDRs the daemon treats as insecure.
  returned: always
  type: list
  elements: str
mirrors:
  description: The daemon's registry mirrors.
  returned: always
  type: list
  elements: str
smoke_test:
  description: Image pushed and pulled, and its ID.
  returned: when O(smoke_test) is given
  type: dict
"""
