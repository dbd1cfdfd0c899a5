# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The custom credential types of extensions/awx/credential_types/: AWX takes them, secrets are secret, and what
they inject is what the example inventory hands to the roles."""

from __future__ import annotations

import pytest

import awx_rules
from awx_playbooks import CREDENTIAL_TYPES, REPO, load_yaml

FILES = sorted(CREDENTIAL_TYPES.glob("*.yml"))
GLUE = (REPO / "inventories" / "awx" / "group_vars" / "all" / "awx_credentials.yml").read_text()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_awx_takes_the_credential_type(path):
    assert awx_rules.credential_type_errors(load_yaml(path)) == []


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_injected_environment_is_read_by_the_inventory(path):
    for name in load_yaml(path)["injectors"].get("env", {}):
        assert "'%s'" % name in GLUE, "%s injects %s, which inventories/awx does not read" % (path.name, name)


def test_password_and_keys_are_secret():
    user = load_yaml(CREDENTIAL_TYPES / "registry_user.yml")
    fields = {field["id"]: field for field in user["inputs"]["fields"]}
    assert fields["password"].get("secret") is True and not fields["username"].get("secret")


def test_injection_as_a_job_gets_it(tmp_path):
    user = load_yaml(CREDENTIAL_TYPES / "registry_user.yml")
    env, extra, files = awx_rules.inject(user, {"username": "ci", "password": "pw"}, tmp_path)
    assert env == {"DOCKERWIN_REGISTRY_USERNAME": "ci", "DOCKERWIN_REGISTRY_PASSWORD": "pw"} and extra == {} and files == []
    tls = load_yaml(CREDENTIAL_TYPES / "registry_tls.yml")
    env, extra, files = awx_rules.inject(tls, {"ca_cert": "PEM"}, tmp_path)
    assert files[0].read_text() == "PEM" and env["DOCKERWIN_REGISTRY_CA_FILE"] == str(files[0])
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("change, message", [
    ({"kind": "ssh"}, "custom credential types"),
    ({"injectors": {"env": {"ANSIBLE_CONFIG": "{{ username }}"}}}, "may not be set"),
    ({"injectors": {"env": {"X": "{{ nothing }}"}}}, "undefined field"),
    ({"injectors": {"env": {"X": "{{ tower.filename }}"}}}, "undefined field"),
    ({"inputs": {"fields": [{"id": "a"}]}}, "'label' is a required property"),
    ({"inputs": {"fields": [{"id": "a", "label": "A", "type": "boolean", "secret": True}]}}, "only for strings"),
])
def test_checker_refuses_what_awx_refuses(change, message):
    definition = dict(load_yaml(CREDENTIAL_TYPES / "registry_user.yml"), **change)
    assert any(message in error for error in awx_rules.credential_type_errors(definition)), awx_rules.credential_type_errors(definition)
