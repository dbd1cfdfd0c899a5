# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The custom credential types of extensions/awx/credential_types/: AWX takes them, secrets are secret, and what
they inject is what the example inventory hands to the roles."""

from __future__ import annotations

import os

import pytest

import awx_rules
from awx_playbooks import CREDENTIAL_TYPES, PLAYBOOKS, REPO, accepted_inputs, load_yaml

FILES = sorted(CREDENTIAL_TYPES.glob("*.yml"))
GLUE = (REPO / "inventories" / "awx" / "group_vars" / "all" / "awx_credentials.yml").read_text()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_awx_takes_the_credential_type(path):
    assert awx_rules.credential_type_errors(load_yaml(path)) == []


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_injected_environment_is_read_by_the_inventory(path):
    for name in load_yaml(path)["injectors"].get("env", {}):
        assert "'%s'" % name in GLUE, "%s injects %s, which inventories/awx does not read" % (path.name, name)


# Credential types that inject extra variables, and the playbook whose inputs they are.
EXTRA_VARS_FOR = {"registry_seed_source.yml": "seed_images.yml"}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_injected_extra_vars_are_inputs_of_the_playbook(path):
    injected = load_yaml(path)["injectors"].get("extra_vars", {})
    if not injected:
        return
    accepted = accepted_inputs(PLAYBOOKS / EXTRA_VARS_FOR[path.name])
    for name in injected:
        assert name in accepted, "%s injects %s, which %s does not read" % (path.name, name, EXTRA_VARS_FOR[path.name])


@pytest.mark.parametrize("name", ["registry_user.yml", "registry_seed_source.yml"])
def test_password_and_keys_are_secret(name):
    user = load_yaml(CREDENTIAL_TYPES / name)
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


def test_seed_source_injects_extra_vars_and_the_ca_only_when_given(tmp_path):
    seed = load_yaml(CREDENTIAL_TYPES / "registry_seed_source.yml")
    env, extra, files = awx_rules.inject(seed, {"username": "mirror", "password": "pw", "ca_cert": "PEM"}, tmp_path)
    assert env == {} and extra == {"registry_seed_source_username": "mirror", "registry_seed_source_password": "pw",
                                   "registry_seed_source_ca_path": str(files[0])}
    assert files[0].read_text() == "PEM"
    (tmp_path / "other").mkdir()
    env, extra, files = awx_rules.inject(seed, {"username": "mirror", "password": "pw"}, tmp_path / "other")
    assert extra["registry_seed_source_ca_path"] == "", "no CA: seed_images.yml leaves src_ca_path out"
    path = awx_rules.write_extra_vars_file(extra, tmp_path)
    assert "!unsafe 'registry_seed_source_password': !unsafe 'pw'" in open(path).read()
    assert oct(os.stat(path).st_mode & 0o777) == "0o400"
    # ansible-core reads the file AWX writes; an empty !unsafe string comes back as None, which seed_images.yml
    # (`registry_seed_source_ca_path or omit`) takes as "no CA" too.
    assert {name: value or "" for name, value in load_yaml(path).items()} == extra


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
