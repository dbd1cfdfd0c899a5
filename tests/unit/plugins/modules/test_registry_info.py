# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_info run as Ansible runs it, against real registries on 127.0.0.1: plain, htpasswd, TLS with a
CA, token auth (the test token server), one that starts late, and one that never answers."""

from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.dockerwin.registry.tests.support.registry_process import (
    TEST_PASSWORD,
    TEST_PASSWORD_HASH,
    TEST_USER,
    RegistryProcess,
    free_port,
    make_tls_files,
)
from ansible_collections.dockerwin.registry.tests.support.token_server import SERVICE, TokenServer

from _run_module import run_registry_module  # noqa: F401 pylint: disable=unused-import


@pytest.fixture
def run(run_registry_module):
    return lambda **args: run_registry_module("registry_info", **args)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    with RegistryProcess(tmp_path_factory.mktemp("plain")) as registry:
        yield registry


def test_plain_registry(plain, run):
    result = run(url=plain.url, check_mode=True)
    assert "failed" not in result, result.get("msg")
    assert result["changed"] is False
    assert (result["reachable"], result["status"], result["authenticated"]) == (True, 200, True)
    assert result["api_version"] == "registry/2.0"
    assert result["auth_scheme"] is None and "auth_realm" not in result
    assert result["tls"] is None
    assert isinstance(result["response_time"], float) and result["response_time"] > 0


def test_basic_auth_asked_without_credentials(tmp_path, run):
    with RegistryProcess(tmp_path / "auth", htpasswd={TEST_USER: TEST_PASSWORD_HASH}) as registry:
        anonymous = run(url=registry.url)
        with_credentials = run(url=registry.url, url_username=TEST_USER, url_password=TEST_PASSWORD)
        wrong = run(url=registry.url, url_username=TEST_USER, url_password="Wr0ng-pass")
    assert (anonymous["status"], anonymous["authenticated"], anonymous["auth_scheme"]) == (401, False, "basic")
    assert anonymous["auth_realm"] == "dockerwin-test"
    assert (with_credentials["status"], with_credentials["authenticated"], with_credentials["auth_scheme"]) == (200, True, "basic")
    assert TEST_PASSWORD not in with_credentials["_stdout"]
    assert wrong["failed"] is True and "credentials of user 'tester' were rejected" in wrong["msg"]
    assert "Wr0ng-pass" not in wrong["_stdout"]


def test_token_auth(tmp_path, run):
    with TokenServer(tmp_path / "tokens", users={TEST_USER: TEST_PASSWORD}) as tokens:
        realm = tokens.realm
        with RegistryProcess(tmp_path / "registry", config=tokens.registry_config()) as registry:
            result = run(url=registry.url, url_username=TEST_USER, url_password=TEST_PASSWORD)
    assert "failed" not in result, result.get("msg")
    assert (result["status"], result["auth_scheme"], result["auth_realm"], result["auth_service"]) == (200, "bearer", realm, SERVICE)
    assert [r["user"] for r in tokens.requests] == [TEST_USER]
    assert TEST_PASSWORD not in result["_stdout"]


def test_tls_details(tmp_path, run):
    ca_path, chain_path, key_path = make_tls_files(tmp_path / "tls", "registry.test")
    with RegistryProcess(tmp_path / "registry", tls=(chain_path, key_path)) as registry:
        url = "https://registry.test:%d" % registry.port
        validated = run(url=url, connect_address="127.0.0.1", ca_path=str(ca_path))
        unvalidated = run(url=url, connect_address="127.0.0.1", validate_certs=False)
        refused = run(url=url, connect_address="127.0.0.1")
    assert "failed" not in validated, validated.get("msg")
    tls = validated["tls"]
    assert tls["subject_alt_names"] == ["DNS:registry.test"]
    assert tls["verified"] is True and tls["parsed_by"] == "ssl"
    assert tls["days_to_expiry"] > 300  # trustme certificates last for centuries
    assert {k: v for k, v in unvalidated["tls"].items() if k not in ("verified", "parsed_by")} == \
        {k: v for k, v in tls.items() if k not in ("verified", "parsed_by")}
    assert refused["failed"] is True and refused["reachable"] is False
    assert "set ca_path" in refused["msg"]


def test_waits_for_a_registry_that_starts_later(tmp_path, run):
    registry = RegistryProcess(tmp_path / "late")
    timer = threading.Timer(1.5, registry.start)
    timer.start()
    try:
        result = run(url=registry.url, wait_timeout=60, retries=0)
    finally:
        timer.join()
        registry.stop()
    assert "failed" not in result, result.get("msg")
    assert result["status"] == 200


def test_unreachable_fails_with_reachable_false(run):
    port = free_port()
    result = run(url="http://127.0.0.1:%d" % port, retries=1)
    assert result["failed"] is True and result["reachable"] is False
    assert result["msg"].startswith("Cannot connect to http://127.0.0.1:%d/v2/ (address 127.0.0.1:%d): connection refused" % (port, port))
    assert "(tried 2 times)" in result["msg"]


def test_timeout(run):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        result = run(url="http://127.0.0.1:%d" % listener.getsockname()[1], timeout=1, retries=0)
    assert result["failed"] is True
    assert "did not answer within 1 seconds (timeout)" in result["msg"]


@pytest.mark.parametrize("args, message", [
    ({"retries": -1}, "retries must be 0 or more, got -1"),
    ({"wait_timeout": -2}, "wait_timeout must be 0 or more seconds, got -2"),
    ({"client_key": "/tmp/k.pem"}, "client_key needs client_cert (the certificate that goes with the key)"),
])
def test_invalid_options(run, args, message):
    result = run(url="http://127.0.0.1:1", **args)
    assert result["failed"] is True and result["msg"] == message
