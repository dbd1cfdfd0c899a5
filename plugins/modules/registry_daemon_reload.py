# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_daemon_reload.py.

DOCUMENTATION = r"""
module: registry_daemon_reload
short_description: Make Docker take a changed daemon.json, and put the previous one back if it does not
version_added: 0.1.0
description:
  - Windows restarts the O(service_name) service (M(ansible.windows.win_service)). Linux sends SIGHUP to the pid in
    O(pidfile) (C(kill -s HUP)), or reloads or restarts the service (M(ansible.builtin.service)).
  - Then waits until C(docker info) answers and shows O(expected). When it does not within O(timeout), copies
    O(backup_file) back (or removes a file that was O(created)), reloads again, and fails with Docker's error
    (from O(daemon_log), or the service journal on Linux).
  - Then, with O(wait_registries), waits until each registry container of this collection (label
    C(io.dockerwin.registry.managed)) that ran before the reload runs again (healthy, if it has a health check) and
    answers C(/v2/) on its published port (HTTP 200 or 401, https or http, from the host), within O(timeout) more seconds;
    a restart of the engine stops them and their restart policy brings them back. Fails naming the container if one does not.
  - Meant as a handler after P(dockerwin.registry.registry_daemon_config#module); always reports a change.
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
  path:
    description: daemon.json path (platform default as in P(dockerwin.registry.registry_daemon_config#module)).
    type: str
    default: ""
  backup_file:
    description: Backup to restore when Docker refuses the file.
    type: str
    default: ""
  created:
    description: The file was new; remove it when Docker refuses it.
    type: bool
    default: false
  method:
    description: V(restart) (the default and only choice on Windows), V(signal) (the Linux default), V(service) (service reload).
    type: str
    choices: ["", signal, service, restart]
    default: ""
  service_name:
    description:
      - Docker's service for V(restart) and V(service), driven by M(ansible.builtin.service) on Linux (systemd, or an
        init script where systemd does not run) and M(ansible.windows.win_service) on Windows.
    type: str
    default: docker
  pidfile:
    description: dockerd pidfile for V(signal).
    type: str
    default: /var/run/docker.pid
  expected:
    description: RV(dockerwin.registry.registry_daemon_config#module:expected).
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for C(docker info).
    type: int
    default: 60
  daemon_log:
    description: File dockerd logs to, quoted in the failure message.
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
  wait_registries:
    description: Wait for the registry containers that ran before the reload (see above).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Reload Docker (handler)
  dockerwin.registry.registry_daemon_reload:
    path: "{{ daemon_json.path }}"
    backup_file: "{{ daemon_json.backup_file }}"
    created: "{{ daemon_json.created }}"
    expected: "{{ daemon_json.expected }}"
"""

RETURN = r"""
method:
  description: How Docker was reloaded.
  returned: always
  type: str
  sample: signal
registries:
  description: Registry containers (label C(io.dockerwin.registry.managed)) that ran before the reload and run and answer again.
  returned: success, not in check mode
  type: list
  elements: str
  sample: [registry]
"""
