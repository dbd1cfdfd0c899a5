# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_client_login.py.

DOCUMENTATION = r"""
module: registry_client_login
short_description: Log the docker client of a host in to a registry, password on stdin
version_added: 0.1.0
description:
  - Runs C(docker login --username <username> --password-stdin <registry>) with the password on stdin (never in argv).
  - Skipped when the docker client config (O(docker_config)/config.json, or its credential helper) already holds a login
    of O(username) for O(registry); the config and the helper's answer are read on the controller and never returned.
  - V(absent) runs C(docker logout <registry>) when a login is stored.
  - Use C(no_log) on the task.
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
  registry:
    description: C(host:port).
    type: str
    required: true
  username:
    description: User; required with V(present).
    type: str
    default: ""
  password:
    description: Password; required with V(present).
    type: str
    default: ""
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
  docker_config:
    description: Docker client config folder (C(--config)); without it the stored login cannot be read and V(present) always logs in.
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
- name: Log in
  dockerwin.registry.registry_client_login:
    registry: registry.local:5000
    username: ci
    password: "{{ vault_registry_password }}"
    docker_config: C:\Users\ci\.docker
  no_log: true
"""

RETURN = r"""
user:
  description: User logged in.
  returned: with V(present)
  type: str
  sample: ci
"""
