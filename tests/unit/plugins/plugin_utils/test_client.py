# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side paths and facts: certs.d (no colon on Windows), thumbprints, stored logins."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _client as C


@pytest.mark.parametrize("registry, windows, expected", [
    ("registry.local:5000", True, "C:\\ProgramData\\docker\\certs.d\\registry.local5000\\ca.crt"),
    ("registry.local", True, "C:\\ProgramData\\docker\\certs.d\\registry.local\\ca.crt"),
    ("registry.local:5000", False, "/etc/docker/certs.d/registry.local:5000/ca.crt"),
    ("198.18.0.1:443", False, "/etc/docker/certs.d/198.18.0.1:443/ca.crt"),
])
def test_certs_d_paths(registry, windows, expected):
    assert C.certs_d_ca(registry, windows) == expected


def test_certs_d_root_override():
    assert C.certs_d_ca("r.local:5000", False, "/tmp/x/certs.d") == "/tmp/x/certs.d/r.local:5000/ca.crt"
    assert C.certs_d_dir("r.local:5000", True, "D:\\docker\\certs.d") == "D:\\docker\\certs.d\\r.local5000"


@pytest.mark.parametrize("bad", ["http://registry.local:5000", "registry.local:5000/team", "registry.local:99999", "", "[::1]:5000"])
def test_registry_must_be_host_port(bad):
    with pytest.raises(C.ClientError, match="host:port"):
        C.split_registry(bad)


def test_thumbprint_is_sha1_of_der_upper_hex():
    der = b"0\x82 fake der"
    pem = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % base64.b64encode(der).decode()
    assert C.pem_certificates(pem) == [der]
    assert C.thumbprint(der) == hashlib.sha1(der).hexdigest().upper()
    with pytest.raises(C.ClientError, match="no PEM certificate"):
        C.pem_certificates("not a cert")


def test_logged_in_user_reads_auth_and_never_returns_the_password():
    auth = base64.b64encode(b"ci:s3cret").decode()
    config = {"auths": {"registry.local:5000": {"auth": auth}}}
    assert C.logged_in_user(config, "registry.local:5000") == ("ci", None)
    assert C.logged_in_user(config, "other:5000") == (None, None)
    helper = {"auths": {"registry.local:5000": {}}, "credsStore": "wincred"}
    assert C.logged_in_user(helper, "registry.local:5000") == (None, "wincred")
    assert C.logged_in_user({"credHelpers": {"registry.local:5000": "ecr-login"}}, "registry.local:5000") == (None, "ecr-login")


def test_stored_login_gives_the_secret_to_compare_unless_an_identity_token_stands_for_it():
    auth = base64.b64encode(b"ci:s3c:ret").decode()
    assert C.stored_login({"auths": {"https://registry.local:5000": {"auth": auth}}}, "registry.local:5000") == ("ci", "s3c:ret", None)
    token = {"auths": {"registry.local:5000": {"auth": base64.b64encode(b"ci:").decode(), "identitytoken": "t0ken"}}}
    assert C.stored_login(token, "registry.local:5000") == ("ci", None, None)
    helper = {"auths": {"registry.local:5000": {}}, "credsStore": "wincred"}
    assert C.stored_login(helper, "registry.local:5000") == (None, None, "wincred")
    assert C.stored_login({"auths": {"registry.local:5000": {"auth": "!!not base64"}}}, "registry.local:5000") == (None, None, None)


def test_hosts_line_carries_the_marker():
    line = C.hosts_line("198.18.0.1", ["registry.local", "registry"])
    assert line == "198.18.0.1 registry.local registry # dockerwin.registry registry_client registry.local"
    assert re.search(C.hosts_regexp(["registry.local"]), line)
    assert not re.search(C.hosts_regexp(["registry.localx"]), line)
