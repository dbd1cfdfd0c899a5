# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retries (5xx then success, refused connections, timeouts), what is never retried (401, 404), probe()
of plain and TLS registries (certificate details with and without validation), and client certificates."""

from __future__ import annotations

import datetime
import socket
import time

import pytest

from ansible_collections.dockerwin.registry.plugins.module_utils import _registry_client
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    RegistryAuthError,
    RegistryClient,
    RegistryConnectionError,
    RegistryNotFoundError,
    RegistryOptionError,
    RegistryServerError,
    RegistryTimeoutError,
    RegistryTLSError,
)
from ansible_collections.dockerwin.registry.tests.support.registry_process import (
    TEST_PASSWORD,
    TEST_PASSWORD_HASH,
    TEST_USER,
    RegistryProcess,
    free_port,
    make_tls_files,
)

from _scripted import registry_answer, scripted_server  # noqa: F401 pylint: disable=unused-import


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(_registry_client, "RETRY_BACKOFF", 0.01)


def test_server_errors_then_success_are_retried(scripted_server):
    def respond(path):
        if len(server.paths) <= 2:
            return registry_answer({"errors": [{"code": "UNAVAILABLE", "message": "starting"}]}, status=503)
        return registry_answer({"repositories": ["a"]})

    server = scripted_server(respond)
    assert list(RegistryClient(server.url, retries=2).catalog()) == ["a"]
    assert len(server.paths) == 3


def test_retries_are_bounded_and_counted_in_the_message(scripted_server):
    server = scripted_server(lambda path: (502, {"Content-Type": "text/plain"}, b"bad gateway"))
    with pytest.raises(RegistryServerError) as error:
        RegistryClient(server.url, retries=3).ping()
    assert len(server.paths) == 4
    assert "502 Bad Gateway" in str(error.value)
    assert "(tried 4 times)" in str(error.value)


def test_backoff_doubles(scripted_server, monkeypatch):
    slept = []
    monkeypatch.setattr(_registry_client.time, "sleep", slept.append)
    monkeypatch.setattr(_registry_client, "RETRY_BACKOFF", 0.5)
    server = scripted_server(lambda path: (500, {}, b""))
    with pytest.raises(RegistryServerError):
        RegistryClient(server.url, retries=6).ping()
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_refused_connections_are_retried():
    port = free_port()
    with pytest.raises(RegistryConnectionError, match=r"connection refused.*\(tried 3 times\)"):
        RegistryClient("http://127.0.0.1:%d" % port, retries=2).ping()


def test_timeouts_are_retried():
    with socket.socket() as listener:  # accepts (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        with pytest.raises(RegistryTimeoutError, match=r"did not answer within 1 seconds \(timeout\) \(tried 2 times\)"):
            RegistryClient("http://127.0.0.1:%d" % listener.getsockname()[1], timeout=1, retries=1).ping()


@pytest.mark.parametrize("status, error", [(401, RegistryAuthError), (404, RegistryNotFoundError)])
def test_client_errors_are_not_retried(scripted_server, status, error):
    headers = {"WWW-Authenticate": 'Basic realm="r"'} if status == 401 else {}
    server = scripted_server(lambda path: registry_answer({"errors": []}, status=status, headers=headers))
    with pytest.raises(error):
        RegistryClient(server.url, retries=3).tags("team/app")
    assert len(server.paths) == 1


def test_negative_retries_refused():
    with pytest.raises(RegistryOptionError, match="retries must be 0 or more"):
        RegistryClient("http://127.0.0.1:1", retries=-1)


# --- probe --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    with RegistryProcess(tmp_path_factory.mktemp("plain")) as registry:
        yield registry


@pytest.fixture(scope="module")
def with_auth(tmp_path_factory):
    with RegistryProcess(tmp_path_factory.mktemp("auth"), htpasswd={TEST_USER: TEST_PASSWORD_HASH}) as registry:
        yield registry


def test_probe_plain_http(plain):
    probe = RegistryClient(plain.url).probe()
    assert (probe.status, probe.api_version, probe.authenticated, probe.challenge, probe.tls) == (200, "registry/2.0", True, None, None)
    assert probe.response_time > 0


def test_probe_basic_without_credentials_is_401_not_an_error(with_auth):
    probe = RegistryClient(with_auth.url).probe()
    assert (probe.status, probe.authenticated) == (401, False)
    assert probe.challenge == {"scheme": "basic", "realm": "dockerwin-test"}
    assert probe.api_version == "registry/2.0"


def test_probe_basic_with_credentials(with_auth):
    probe = RegistryClient(with_auth.url, username=TEST_USER, password=TEST_PASSWORD).probe()
    assert (probe.status, probe.authenticated, probe.challenge["scheme"]) == (200, True, "basic")


def test_probe_with_rejected_credentials_fails(with_auth):
    with pytest.raises(RegistryAuthError, match="credentials of user 'tester' were rejected"):
        RegistryClient(with_auth.url, username=TEST_USER, password="Wr0ng-pass").probe()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    ca_path, chain_path, key_path = make_tls_files(tmp_path_factory.mktemp("tls"), "registry.test", "127.0.0.1")
    with RegistryProcess(tmp_path_factory.mktemp("tls-registry"), tls=(chain_path, key_path)) as registry:
        yield registry, str(ca_path)


def days_left(path):
    from cryptography import x509

    with open(path, "rb") as chain:
        cert = x509.load_pem_x509_certificate(chain.read())
    return (cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days


def test_probe_tls_validated_reads_getpeercert(tls):
    registry, ca_path = tls
    probe = RegistryClient("https://registry.test:%d" % registry.port, connect_address="127.0.0.1", ca_path=ca_path).probe()
    details = probe.tls
    assert details["parsed_by"] == "ssl" and details["verified"] is True
    assert details["subject_alt_names"] == ["DNS:registry.test", "IP:127.0.0.1"]
    assert details["subject"].startswith("O=trustme")
    assert details["issuer"].startswith("O=trustme")
    assert details["days_to_expiry"] == days_left(registry.tls[0])
    assert details["version"].startswith("TLS")
    assert len(details["fingerprint_sha256"]) == 64


def test_probe_tls_unvalidated_decodes_the_der(tls):
    registry, ca_path = tls
    validated = RegistryClient("https://registry.test:%d" % registry.port, connect_address="127.0.0.1", ca_path=ca_path).probe().tls
    probe = RegistryClient("https://127.0.0.1:%d" % registry.port, validate_certs=False).probe()
    details = probe.tls
    assert details["parsed_by"] == "cryptography" and details["verified"] is False
    for key in ("subject", "issuer", "subject_alt_names", "not_after", "days_to_expiry", "fingerprint_sha256"):
        assert details[key] == validated[key], key


def test_probe_tls_without_cryptography_reports_what_it_can(tls, monkeypatch):
    registry, dummy = tls
    monkeypatch.setattr(_registry_client, "HAS_CRYPTOGRAPHY", False)
    details = RegistryClient("https://127.0.0.1:%d" % registry.port, validate_certs=False).probe().tls
    assert details["parsed_by"] is None and details["subject"] is None and details["days_to_expiry"] is None
    assert len(details["fingerprint_sha256"]) == 64 and details["version"].startswith("TLS")


def test_expired_certificate_details_without_validation(tmp_path):
    ca_path, chain_path, key_path = make_tls_files(tmp_path / "tls", "registry.test",
                                                   not_after=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    with RegistryProcess(tmp_path / "registry", tls=(chain_path, key_path)) as registry:
        details = RegistryClient("https://127.0.0.1:%d" % registry.port, validate_certs=False).probe().tls
    assert details["not_after"] == "2020-01-01T00:00:00Z"
    assert details["days_to_expiry"] < -300


# --- client certificates (mutual TLS) -------------------------------------------------------------------------------


class MutualTLSRegistry(RegistryProcess):
    """The readiness poll of RegistryProcess presents no client certificate: here, a TCP accept is enough."""

    def _wait_until_answering(self):
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("registry exited:\n%s" % self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("registry did not listen:\n%s" % self.log()) from None
                time.sleep(0.05)


@pytest.fixture(scope="module")
def mtls(tmp_path_factory):
    import trustme

    folder = tmp_path_factory.mktemp("mtls")
    ca_path, chain_path, key_path = make_tls_files(folder / "server", "registry.test")
    client_ca = trustme.CA()
    client_ca.cert_pem.write_to_path(str(folder / "client-ca.pem"))
    client = client_ca.issue_cert("client@dockerwin.test")
    client.cert_chain_pems[0].write_to_path(str(folder / "client.pem"))
    client.private_key_pem.write_to_path(str(folder / "client.key"))
    config = {"http": {"tls": {"clientcas": [str(folder / "client-ca.pem")]}}}
    with MutualTLSRegistry(folder / "registry", tls=(chain_path, key_path), config=config) as registry:
        yield registry, str(ca_path), str(folder / "client.pem"), str(folder / "client.key")


def test_client_certificate_is_presented(mtls):
    registry, ca_path, cert, key = mtls
    client = RegistryClient("https://registry.test:%d" % registry.port, connect_address="127.0.0.1", ca_path=ca_path,
                            client_cert=cert, client_key=key)
    assert client.ping().status == 200


def test_without_client_certificate_the_registry_refuses(mtls):
    registry, ca_path, dummy, dummy = mtls
    with pytest.raises((RegistryTLSError, RegistryConnectionError)):
        RegistryClient("https://registry.test:%d" % registry.port, connect_address="127.0.0.1", ca_path=ca_path).ping()


def test_unreadable_client_certificate(tmp_path):
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(RegistryOptionError, match="client_cert .*bad.pem.* cannot be loaded"):
        RegistryClient("https://registry.test", client_cert=str(tmp_path / "bad.pem"))
