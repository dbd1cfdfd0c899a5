# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/plugin_utils/_secrets.py: what each secret file must hold, from the files on the host."""

from __future__ import annotations

import datetime

import bcrypt
import pytest
import trustme

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _secrets as S

NOW = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.timezone.utc)


def self_signed(**extra):
    values = {"tls": "self_signed", "names": ["Registry.Example.com", "192.0.2.10", "192.0.2.10"], "auth": "htpasswd",
              "users": [{"name": "ci", "password": "one"}, {"name": "ro", "password": "two"}]}
    values.update(extra)
    return S.Inputs(**values)


def host_after(plan, existing=None):
    files = dict(existing or {})
    files.update(plan.files)
    return files


def test_first_plan_makes_everything_and_a_second_keeps_it():
    first = S.plan({}, self_signed(), NOW)
    assert sorted(first.files) == sorted(S.LAYOUT)
    assert first.facts["names"] == ["registry.example.com", "192.0.2.10"]
    assert first.reasons[:2] == ["CA: created", "server key: created"]
    second = S.plan(host_after(first), self_signed(), NOW)
    assert second.files == {} and second.reasons == [] and second.digest() == first.digest()


def test_htpasswd_keeps_unchanged_hashes_replaces_changed_and_drops_removed():
    existing = host_after(S.plan({}, self_signed(), NOW))
    before = S.parse_htpasswd(existing[S.HTPASSWD])
    plan = S.plan(existing, self_signed(users=[{"name": "ci", "password": "one"}, {"name": "new", "password": "three"},
                                               {"name": "ro", "password": "TWO"}]), NOW)
    after = S.parse_htpasswd(plan.files[S.HTPASSWD])
    assert list(after) == ["ci", "new", "ro"]
    assert after["ci"] == before["ci"] and after["ro"] != before["ro"]
    assert bcrypt.checkpw(b"TWO", after["ro"].encode())
    assert (plan.facts["users_added"], plan.facts["users_changed"], plan.facts["users_removed"]) == (["new"], ["ro"], [])
    removed = S.plan(host_after(plan, existing), self_signed(users=[{"name": "ci", "password": "one"}]), NOW)
    assert S.parse_htpasswd(removed.files[S.HTPASSWD]) == {"ci": before["ci"]}
    assert removed.facts["users_removed"] == ["new", "ro"]


def test_renewal_and_name_change_reissue_with_the_same_ca_and_key():
    existing = host_after(S.plan({}, self_signed(), NOW))
    later = NOW + datetime.timedelta(days=340)
    renewed = S.plan(existing, self_signed(), later)
    assert list(renewed.files) == [S.SERVER_CERT] and "within 30 days; renewed" in renewed.reasons[0]
    renamed = S.plan(existing, self_signed(names=["registry.example.com"]), NOW)
    assert list(renamed.files) == [S.SERVER_CERT] and "names" in renamed.reasons[0]
    assert renamed.digest() != S.plan(existing, self_signed(), NOW).digest()


def test_a_broken_ca_on_the_host_is_replaced_and_said_so():
    existing = host_after(S.plan({}, self_signed(), NOW))
    existing[S.CA_KEY] = b"not a key"
    plan = S.plan(existing, self_signed(), NOW)
    assert "unreadable or they do not match" in plan.reasons[0]
    assert {S.CA_KEY, S.CA_CERT, S.TLS_CA, S.SERVER_CERT} <= set(plan.files)


@pytest.mark.parametrize("inputs, message", [
    (dict(names=[]), "needs windows_registry_tls_names"),
    (dict(names=["bad name!"]), "neither a DNS name nor an IP address"),
    (dict(renew_days=400), "must be less than windows_registry_tls_valid_days"),
    (dict(users=[]), "needs at least one user"),
    (dict(users=[{"name": "ci", "password": "a"}, {"name": "ci", "password": "b"}]), "names 'ci' twice"),
    (dict(users=[{"name": "ci", "password": ""}]), "has no password"),
])
def test_bad_inputs_are_refused_with_the_option_named(inputs, message):
    with pytest.raises(S.SecretsError, match=message):
        S.plan({}, self_signed(**inputs), NOW)


def test_provided_certificate_checks_key_ca_and_names():
    ca = trustme.CA()
    leaf = ca.issue_cert("registry.example.com")
    chain = "".join(blob.bytes().decode() for blob in leaf.cert_chain_pems)
    key = leaf.private_key_pem.bytes().decode()
    inputs = S.Inputs(tls="provided", certificate=chain, key=key, ca=ca.cert_pem.bytes().decode(),
                      names=["registry.example.com", "other.example.com"])
    plan = S.plan({}, inputs, datetime.datetime.now(datetime.timezone.utc))
    assert plan.files[S.TLS_CA] == ca.cert_pem.bytes()
    assert any("not valid for other.example.com" in w for w in plan.warnings)
    assert S.CA_KEY not in plan.files
    other = trustme.CA()
    with pytest.raises(S.SecretsError, match="does not belong to"):
        S.plan({}, S.Inputs(tls="provided", certificate=chain, key=other.issue_cert("x.test").private_key_pem.bytes().decode()))
    with pytest.raises(S.SecretsError, match="did not sign the certificate chain"):
        S.plan({}, S.Inputs(tls="provided", certificate=chain, key=key, ca=other.cert_pem.bytes().decode()))
