# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/plugin_utils/_secrets.py: what each secret file must hold, from the files on the host, and what
community.crypto must mint for it.

``mint()`` stands in for the role's community.crypto tasks (roles/windows_registry/tasks/secrets_mint.yml, which
tests/unit/plugins/action/test_tls_windows_contract.py runs for real): it makes what ``mint_plan()`` asks for, with
the profile those tasks use, so that these tests stay pure and quick.
"""

from __future__ import annotations

import datetime
import ipaddress

import bcrypt
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _secrets as S

NOW = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.timezone.utc)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _certificate(subject, issuer, public_key, signer, now, days, extensions):
    builder = x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key) \
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1)) \
        .not_valid_after(now + datetime.timedelta(days=days))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _san(entry):
    kind, value = entry.split(":", 1)
    return x509.IPAddress(ipaddress.ip_address(value)) if kind == "IP" else x509.DNSName(value)


def mint(planned, now=NOW):
    """PEMs (str) for what planned.mint asks, signed with planned.sources where the host keeps the CA or the key."""
    minted, request = {}, planned.mint
    ca_key = ca_cert = None
    if "ca" in request:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, request["ca"]["organization_name"]),
                          x509.NameAttribute(NameOID.COMMON_NAME, request["ca"]["common_name"])])
        minted[S.CA_KEY] = _key_pem(key).decode()
        minted[S.CA_CERT] = _certificate(name, name, key.public_key(), key, now, request["ca"]["valid_days"], [
            (x509.BasicConstraints(ca=True, path_length=0), True)]).decode()
    if "server_key" in request:
        minted[S.SERVER_KEY] = _key_pem(ec.generate_private_key(ec.SECP256R1())).decode()
    if "server_cert" in request:
        wanted = request["server_cert"]
        ca_key = serialization.load_pem_private_key(
            (minted.get(S.CA_KEY) or planned.sources[S.CA_KEY].decode()).encode(), None)
        ca_cert = x509.load_pem_x509_certificate((minted.get(S.CA_CERT) or planned.sources[S.CA_CERT].decode()).encode())
        key = serialization.load_pem_private_key(
            (minted.get(S.SERVER_KEY) or planned.sources[S.SERVER_KEY].decode()).encode(), None)
        minted[S.SERVER_CERT] = _certificate(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, wanted["common_name"])]), ca_cert.subject, key.public_key(),
            ca_key, now, wanted["valid_days"], [
                (x509.BasicConstraints(ca=False, path_length=None), True),
                (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
                (x509.SubjectAlternativeName([_san(e) for e in wanted["subject_alt_name"]]), False),
            ]).decode()
    return minted


def full_plan(existing, inputs, now=NOW):
    """What the role does: plan the minting, mint, then plan the files with the minted PEMs."""
    planned = S.mint_plan(existing, inputs, now)
    result = S.plan(existing, inputs, now, minted=mint(planned, now))
    assert result.mint == {}, "nothing left to mint"
    return result


def self_signed(**extra):
    values = {"tls": "self_signed", "names": ["Registry.Example.com", "192.0.2.10", "192.0.2.10"], "auth": "htpasswd",
              "users": [{"name": "ci", "password": "one"}, {"name": "ro", "password": "two"}]}
    values.update(extra)
    return S.Inputs(**values)


def host_after(plan, existing=None):
    files = dict(existing or {})
    files.update(plan.files)
    return files


def test_first_plan_asks_community_crypto_for_everything_then_a_second_keeps_it():
    planned = S.mint_plan({}, self_signed(), NOW)
    assert planned.mint == {
        "ca": {"common_name": "dockerwin.registry CA registry.example.com", "organization_name": "dockerwin.registry",
               "valid_days": S.CA_DAYS},
        "server_key": {},
        "server_cert": {"common_name": "registry.example.com", "subject_alt_name": ["DNS:registry.example.com", "IP:192.0.2.10"],
                        "key_usage": ["digitalSignature"], "valid_days": 365},
    }
    assert planned.sources == {}, "a fresh host has no key to hand over"
    # Without the minted PEMs, plan() writes no TLS file and still says what is missing.
    unminted = S.plan({}, self_signed(), NOW)
    assert set(unminted.mint) == {"ca", "server_key", "server_cert"}
    assert not {S.CA_KEY, S.CA_CERT, S.SERVER_KEY, S.SERVER_CERT} & set(unminted.files)
    first = full_plan({}, self_signed())
    assert sorted(first.files) == sorted(S.LAYOUT)
    assert first.facts["names"] == ["registry.example.com", "192.0.2.10"]
    assert first.reasons[:3] == ["CA: created", "server key: created", "server certificate: created"]
    assert S.load_key(first.files[S.CA_KEY]) is not None and first.files[S.TLS_CA] == first.files[S.CA_CERT]
    second = S.plan(host_after(first), self_signed(), NOW)
    assert second.files == {} and second.reasons == [] and second.mint == {} and second.digest() == first.digest()
    assert S.mint_plan(host_after(first), self_signed(), NOW).mint == {}


def test_htpasswd_keeps_unchanged_hashes_replaces_changed_and_drops_removed():
    existing = host_after(full_plan({}, self_signed()))
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
    existing = host_after(full_plan({}, self_signed()))
    later = NOW + datetime.timedelta(days=340)
    planned = S.mint_plan(existing, self_signed(), later)
    # Only a certificate to sign, with the CA and the server key that stay on the host.
    assert list(planned.mint) == ["server_cert"]
    assert planned.sources == {S.CA_KEY: existing[S.CA_KEY], S.CA_CERT: existing[S.CA_CERT], S.SERVER_KEY: existing[S.SERVER_KEY]}
    renewed = S.plan(existing, self_signed(), later, minted=mint(planned, later))
    assert list(renewed.files) == [S.SERVER_CERT] and "within 30 days; renewed" in renewed.reasons[0]
    assert S.signed_by(S.load_certs(renewed.files[S.SERVER_CERT])[0], S.load_certs(existing[S.CA_CERT])[0])
    renamed = full_plan(existing, self_signed(names=["registry.example.com"]))
    assert list(renamed.files) == [S.SERVER_CERT] and "names" in renamed.reasons[0]
    assert renamed.digest() != S.plan(existing, self_signed(), NOW).digest()


def test_a_broken_ca_on_the_host_is_replaced_and_said_so():
    existing = host_after(full_plan({}, self_signed()))
    existing[S.CA_KEY] = b"not a key"
    planned = S.mint_plan(existing, self_signed(), NOW)
    assert set(planned.mint) == {"ca", "server_cert"} and S.CA_KEY not in planned.sources
    assert planned.sources == {S.SERVER_KEY: existing[S.SERVER_KEY]}, "the server key stays"
    plan = S.plan(existing, self_signed(), NOW, minted=mint(planned))
    assert "unreadable or they do not match" in plan.reasons[0]
    assert "server certificate: issued by the new CA" in plan.reasons
    assert {S.CA_KEY, S.CA_CERT, S.TLS_CA, S.SERVER_CERT} <= set(plan.files) and S.SERVER_KEY not in plan.files


def test_minted_material_that_does_not_fit_is_refused():
    planned = S.mint_plan({}, self_signed(), NOW)
    good = mint(planned)
    other = mint(planned)
    # A certificate signed by another CA than the one handed over, or for other names, or a CA that is no CA.
    with pytest.raises(S.SecretsError, match="does not fit: not signed by the registry's CA"):
        S.plan({}, self_signed(), NOW, minted=dict(good, server_cert=other[S.SERVER_CERT]))
    with pytest.raises(S.SecretsError, match="does not fit: names registry.example.com, 192.0.2.10 become x.test"):
        S.plan({}, self_signed(names=["x.test"]), NOW, minted=good)
    with pytest.raises(S.SecretsError, match="not a pair"):
        S.plan({}, self_signed(), NOW, minted=dict(good, ca_key=other[S.CA_KEY]))
    leaf = trustme.CA().issue_cert("ca.test")
    with pytest.raises(S.SecretsError, match="not a CA certificate"):
        S.plan({}, self_signed(), NOW, minted=dict(good, ca_key=leaf.private_key_pem.bytes().decode(),
                                                   ca_cert=leaf.cert_chain_pems[0].bytes().decode()))
    with pytest.raises(S.SecretsError, match="server key minted by community.crypto is not"):
        S.plan({}, self_signed(), NOW, minted=dict(good, server_key="garbage"))


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
