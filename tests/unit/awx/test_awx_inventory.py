# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""inventories/awx/ parses as AWX's inventory import does (ansible-inventory --list) and has the groups the
playbooks target: a Windows registry host, Windows and Linux clients."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from awx_playbooks import REPO


def inventory_list():
    proc = subprocess.run([str(Path(sys.executable).with_name("ansible-inventory")), "-i", "inventories/awx/hosts.yml", "--list"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "WARNING" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_groups_and_connections():
    data = inventory_list()
    hostvars = data["_meta"]["hostvars"]
    servers = data["registry_servers"]["hosts"]
    clients = data["registry_clients"]["hosts"]
    assert len(servers) == 1 and hostvars[servers[0]]["ansible_connection"] == "psrp"
    assert {hostvars[host]["ansible_connection"] for host in clients} == {"psrp", "ssh"}, "a Windows and a Linux client"
    for host in clients:
        assert hostvars[host]["registry_client_registry"] == "{{ dockerwin_registry_host }}:{{ dockerwin_registry_port }}"
    for host in hostvars:
        assert not any("password" in name and not str(value).startswith("{{ lookup('ansible.builtin.env'")
                       for name, value in hostvars[host].items()), "no secrets in the inventory"


def ops_connection(env):
    proc = subprocess.run([str(Path(sys.executable).with_name("ansible")), "registry01.corp.example", "-i", "inventories/awx/hosts.yml",
                           "-m", "ansible.builtin.debug", "-a", "var=registry_ops_connection", "-o"],
                          cwd=REPO, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.split("=>", 1)[1])["registry_ops_connection"]


def test_day2_playbooks_trust_the_injected_ca(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERWIN_")}
    assert ops_connection(env) == {}, "no CA credential: the registry API options stay as they are"
    ca = tmp_path / "credential_ca_cert"
    ca.write_text("PEM")
    assert ops_connection(dict(env, DOCKERWIN_REGISTRY_CA_FILE=str(ca))) == {"ca_path": str(ca)}
