# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Day-2 playbooks against a registry with TLS (self_signed) and htpasswd users: their registry API calls take the
role's first user and TLS name (connect_address) and the CA given in registry_ops_connection."""

from __future__ import annotations

import ssl
import uuid

import playbook
from registry_api import RegistryAPI
from test_day2_upgrade_gc import assert_ok


def test_upgrade_snapshot_and_verify_over_tls_with_users(make_instance):
    name = "dwr-%s.test" % uuid.uuid4().hex[:8]
    user = {"name": "ci", "password": "ci-%s" % uuid.uuid4().hex}
    reg = make_instance(windows_registry_tls="self_signed", windows_registry_tls_names=[name, "127.0.0.1"],
                        windows_registry_auth="htpasswd", windows_registry_users=[user], windows_registry_health_timeout=60)
    assert_ok(reg.deploy())
    ca = reg.config_dir / "tls" / "ca.crt"
    context = ssl.create_default_context(cafile=str(ca))
    api = RegistryAPI("https://127.0.0.1:%d" % reg.port, auth=(user["name"], user["password"]), context=context)
    digest = api.push_image("team/secure", "1")
    list_digest, dummy = api.push_manifest_list("multi", "1", [("linux", "amd64"), ("windows", "amd64")])

    without_ca = playbook.run_playbook("playbooks/upgrade.yml", reg.inventory)
    assert without_ca.rc != 0 and "certificate" in without_ca.failure_message().lower()

    run = assert_ok(playbook.run_playbook("playbooks/upgrade.yml", reg.inventory,
                                          extra_vars={"registry_ops_connection": {"ca_path": str(ca)}}))
    assert run.changed == 0, run.changed_tasks()
    assert "2 tags checked, same digests" in run.result("Report the upgrade")["msg"]
    snapshot = run.result("Snapshot - keep repository:tag")["ansible_facts"]["registry_snapshot"]
    assert snapshot == {"team/secure:1": digest, "multi:1": list_digest}
    assert user["password"] not in run.stderr and user["password"] not in str(run.data)
