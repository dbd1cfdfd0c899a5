# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_daemon_config.py.

DOCUMENTATION = r"""
module: registry_daemon_config
short_description: Merge registry settings into the Docker daemon's daemon.json
version_added: 0.1.0
description:
  - Reads daemon.json from the target (M(ansible.builtin.slurp)), merges C(insecure-registries), C(registry-mirrors),
    C(allow-nondistributable-artifacts) and C(proxies) into it on the controller, and writes it back only when the
    bytes change, through M(ansible.windows.win_copy) or M(ansible.builtin.copy) with C(backup=true) (atomic).
  - Keeps every other key and the order of all keys, the file's encoding (UTF-8, UTF-8 with BOM, UTF-16 LE/BE as
    Windows PowerShell 5.1 writes it), its indentation and newlines. Creates the file and its folder when absent.
  - A file that is not valid JSON (or not a JSON object) fails the task naming the path and the parse error, and is not touched.
  - Does not reload Docker; P(dockerwin.registry.registry_daemon_reload#module) does, with the result of this module.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  path:
    description: daemon.json path. Default V(C:\\ProgramData\\Docker\\config\\daemon.json) on Windows, V(/etc/docker/daemon.json) elsewhere.
    type: str
    default: ""
  state:
    description: V(present) adds the entries given; V(absent) removes them (and a managed key it empties), nothing else.
    type: str
    choices: [present, absent]
    default: present
  insecure_registries:
    description: C(insecure-registries) entries, C(host:port) or CIDR, without a scheme. Each is added once.
    type: list
    elements: str
    default: []
  registry_mirrors:
    description: C(registry-mirrors) URLs (V(https://mirror.local:5000)); a trailing slash does not make another entry.
    type: list
    elements: str
    default: []
  allow_nondistributable_artifacts:
    description:
      - C(allow-nondistributable-artifacts) entries (Windows foreign layers). Written only when the engine
        (C(docker version)) is older than Docker 28, which ignores the key; from 28 they are left out and removed, with a warning.
    type: list
    elements: str
    default: []
  proxies:
    description: daemon.json C(proxies) (Docker 23+; the task fails before any change on an older engine). Empty values are not managed.
    type: dict
    default: {}
    suboptions:
      http_proxy:
        description: C(http-proxy).
        type: str
        default: ""
      https_proxy:
        description: C(https-proxy).
        type: str
        default: ""
      no_proxy:
        description: C(no-proxy).
        type: str
        default: ""
  validate:
    description: Run C(dockerd --validate --config-file) on the merged file (in a temporary folder on the target) before
      writing it; when dockerd has no C(--validate) (before Docker 23) the check is skipped with a warning.
    type: bool
    default: true
  dockerd_cli:
    description: dockerd binary for O(validate).
    type: str
    default: dockerd
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
notes:
  - Passwords in proxy URLs are masked in the diff and in RV(changes).
seealso:
  - module: dockerwin.registry.registry_daemon_reload
  - name: Docker daemon configuration file
    description: daemon.json keys, and which of them a reload (SIGHUP) applies.
    link: https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
"""

EXAMPLES = r"""
- name: Let this Windows host push to a plain-HTTP registry
  dockerwin.registry.registry_daemon_config:
    insecure_registries: [registry.local:5000]
    allow_nondistributable_artifacts: [registry.local:5000]
  register: daemon_json

- name: Reload Docker when it changed
  dockerwin.registry.registry_daemon_reload:
    path: "{{ daemon_json.path }}"
    backup_file: "{{ daemon_json.backup_file }}"
    created: "{{ daemon_json.created }}"
    expected: "{{ daemon_json.expected }}"
  when: daemon_json is changed
"""

RETURN = r"""
path:
  description: daemon.json path on the target.
  returned: always
  type: str
  sample: C:\ProgramData\Docker\config\daemon.json
created:
  description: Whether the file did not exist and was (or would be) created.
  returned: always
  type: bool
changes:
  description: The entries added or removed.
  returned: always
  type: list
  elements: str
  sample: ["insecure-registries: add registry.local:5000"]
encoding:
  description: Encoding the file is kept in (V(utf-8), V(utf-8-bom), V(utf-16-le-bom), ...).
  returned: always
  type: str
  sample: utf-16-le-bom
backup_file:
  description: Backup of the replaced file; empty when nothing was written or the file was new.
  returned: always
  type: str
  sample: /etc/docker/daemon.json.12345.2026-12-04@16:00:00~
expected:
  description: What C(docker info) shows once Docker has the file; give it to P(dockerwin.registry.registry_daemon_reload#module).
  returned: always
  type: dict
  sample: {insecure_present: [registry.local:5000], insecure_absent: [], mirrors_present: [], mirrors_absent: []}
validation:
  description: Outcome of O(validate).
  returned: always
  type: str
  sample: "skipped: this dockerd has no --validate (Docker 23+ has it)"
engine_version:
  description: Docker engine version, when it was needed.
  returned: when allow_nondistributable_artifacts or proxies are given
  type: str
  sample: 27.5.1
"""
