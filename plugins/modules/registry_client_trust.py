# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_client_trust.py.

DOCUMENTATION = r"""
module: registry_client_trust
short_description: Make a Docker host trust a registry's CA and resolve its name
version_added: 0.1.0
description:
  - Writes O(ca_cert) to C(certs.d) for O(registry) - Windows C(C:\\ProgramData\\docker\\certs.d\\<host><port>\\ca.crt)
    (no colon, Windows paths cannot hold one), Linux C(/etc/docker/certs.d/<host>:<port>/ca.crt) - and optionally
    imports it into the Windows LocalMachine Root store (M(ansible.windows.win_certificate_store)).
  - Adds a hosts-file name with M(ansible.windows.win_hosts) on Windows and a marked line
    (M(ansible.builtin.lineinfile)) on Linux.
  - V(absent) removes the ca.crt (the folder stays, as it may hold client certificates), the store entries by thumbprint
    and the hosts entry this module manages.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  registry:
    description: C(host:port) as clients name the registry.
    type: str
    required: true
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
  ca_cert:
    description: PEM text of the CA certificate(s). Empty leaves certs.d alone.
    type: str
    default: ""
  ca_pending:
    description:
      - Check mode only, with O(state=present) and no O(ca_cert) - the CA is expected from a registry host whose own
        check-mode run has not created it yet; the module reports the trust step as a change without writing anything.
    type: bool
    default: false
  certs_d_root:
    description: certs.d folder instead of the platform's.
    type: str
    default: ""
  root_store:
    description: Also import into (or remove from) LocalMachine\\Root. Windows only.
    type: bool
    default: false
  hosts_names:
    description: Names for the hosts file (the first is the canonical name).
    type: list
    elements: str
    default: []
  hosts_address:
    description: Address of O(hosts_names).
    type: str
    default: ""
  hosts_file:
    description: Linux hosts file (default V(/etc/hosts)); refused on Windows.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Trust the registry's CA and name it
  dockerwin.registry.registry_client_trust:
    registry: registry.local:5000
    ca_cert: "{{ lookup('ansible.builtin.file', 'files/registry-ca.pem') }}"
    root_store: true
    hosts_names: [registry.local]
    hosts_address: 10.0.0.5
"""

RETURN = r"""
ca_path:
  description: Path of ca.crt on the target.
  returned: always
  type: str
  sample: C:\ProgramData\docker\certs.d\registry.local5000\ca.crt
thumbprints:
  description: SHA-1 thumbprints of the certificates in O(ca_cert).
  returned: always
  type: list
  elements: str
steps:
  description: What changed.
  returned: always
  type: list
  elements: str
"""
