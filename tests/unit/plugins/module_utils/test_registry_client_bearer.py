# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bearer-token flow end to end: distribution's registry with ``auth.token`` pointing at the test token
server (JWTs signed by a key made for the run), and the client asking it for tokens."""

from __future__ import annotations

import pytest

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    RegistryAuthError,
    RegistryClient,
    RegistryConnectionError,
    RegistryNotFoundError,
    parse_challenge,
    scope_for,
)
from ansible_collections.dockerwin.registry.tests.support.registry_api import RegistryAPI, push_images
from ansible_collections.dockerwin.registry.tests.support.registry_process import TEST_PASSWORD, TEST_USER, RegistryProcess
from ansible_collections.dockerwin.registry.tests.support.token_server import SERVICE, TokenServer

from _scripted import API_HEADERS, scripted_server  # noqa: F401 pylint: disable=unused-import

REPOSITORIES = ["private/one", "private/two", "team/multi"]


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    """Images pushed through a plain registry, whose storage the token registry then serves."""
    with RegistryProcess(tmp_path_factory.mktemp("fill")) as registry:
        push_images(registry.url, REPOSITORIES[:2])
        RegistryAPI(registry.url).push_manifest_list("team/multi", "1", [("linux", "amd64"), ("windows", "amd64")])
        yield registry.root


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory, storage):
    with TokenServer(tmp_path_factory.mktemp("tokens"), users={TEST_USER: TEST_PASSWORD}) as tokens:
        config = dict(tokens.registry_config(), storage={"filesystem": {"rootdirectory": str(storage)}})
        with RegistryProcess(tmp_path_factory.mktemp("token-registry"), config=config) as registry:
            yield registry, tokens


def test_challenge_names_realm_service_and_scope(token_registry):
    registry, tokens = token_registry
    client = RegistryClient(registry.url, username=TEST_USER, password=TEST_PASSWORD)
    client.ping()
    assert client.challenge == {"scheme": "bearer", "realm": tokens.realm, "service": SERVICE}


def test_catalog_tags_and_manifest_with_tokens(token_registry):
    registry, tokens = token_registry
    before = len(tokens.requests)
    client = RegistryClient(registry.url, username=TEST_USER, password=TEST_PASSWORD)
    assert client.ping().status == 200
    assert list(client.catalog()) == REPOSITORIES
    assert client.tags("private/one") == ["latest"]
    assert client.manifest("team/multi", "1")["media_type"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    asked = tokens.requests[before:]
    assert [r["query"].get("scope") for r in asked] == [
        None, ["registry:catalog:*"], ["repository:private/one:pull"], ["repository:team/multi:pull"]]
    assert all(r["user"] == TEST_USER and r["accepted"] for r in asked)
    assert all(r["query"]["service"] == [SERVICE] for r in asked)


def test_token_is_cached_per_scope(token_registry):
    registry, tokens = token_registry
    client = RegistryClient(registry.url, username=TEST_USER, password=TEST_PASSWORD)
    before = len(tokens.requests)
    for dummy in range(3):
        assert client.tags("private/two") == ["latest"]
        client.manifest("private/two", "latest")
    assert [r["query"].get("scope") for r in tokens.requests[before:]] == [["repository:private/two:pull"]]


def test_anonymous_token_reaches_v2_but_not_the_catalog(token_registry):
    registry, dummy = token_registry
    client = RegistryClient(registry.url)
    assert client.ping().status == 200  # a token without access is enough for /v2/
    with pytest.raises(RegistryAuthError) as error:
        list(client.catalog())
    assert error.value.scheme == "bearer"
    assert "anonymous token" in str(error.value) and "insufficient_scope" in str(error.value)
    assert "set url_username and url_password" in str(error.value)


def test_wrong_password_is_rejected_by_the_token_server_and_not_shown(token_registry):
    registry, tokens = token_registry
    with pytest.raises(RegistryAuthError) as error:
        RegistryClient(registry.url, username=TEST_USER, password="Wr0ng-pass").ping()
    assert "the token server %s" % tokens.realm in str(error.value)
    assert "credentials of user 'tester' were rejected" in str(error.value)
    assert "Wr0ng-pass" not in str(error.value)
    assert error.value.api_version == "registry/2.0"


def test_missing_repository_is_404_not_401(token_registry):
    registry, dummy = token_registry
    client = RegistryClient(registry.url, username=TEST_USER, password=TEST_PASSWORD)
    with pytest.raises(RegistryNotFoundError) as error:
        client.tags("absent/repo")
    assert error.value.codes == ["NAME_UNKNOWN"]


def test_probe_without_credentials_reports_the_scheme(token_registry):
    registry, tokens = token_registry
    probe = RegistryClient(registry.url).probe()
    assert probe.status == 200 and probe.api_version == "registry/2.0"
    assert probe.challenge["scheme"] == "bearer" and probe.challenge["realm"] == tokens.realm


def test_token_server_down(scripted_server):
    challenge = 'Bearer realm="http://127.0.0.1:1/token",service="s"'
    server = scripted_server(lambda path: (401, dict(API_HEADERS, **{"WWW-Authenticate": challenge}), b"{}"))
    with pytest.raises(RegistryConnectionError) as error:
        RegistryClient(server.url, username=TEST_USER, password=TEST_PASSWORD).ping()
    assert "Cannot connect to http://127.0.0.1:1/token?service=s&account=tester: connection refused" in str(error.value)
    assert [h.get("Authorization") for h in server.headers] == [None]


def test_token_server_without_token(scripted_server):
    def respond(path):
        if path.startswith("/token"):
            return 200, {"Content-Type": "application/json"}, b'{"nothing": 1}'
        return 401, dict(API_HEADERS, **{"WWW-Authenticate": 'Bearer realm="%s/token",service="s"' % server.url}), b"{}"

    server = scripted_server(respond)
    with pytest.raises(RegistryAuthError, match="answered without a token"):
        RegistryClient(server.url).ping()


@pytest.mark.parametrize("values, expected", [
    (['Bearer realm="https://a/t",service="reg",scope="repository:x/y:pull,push"'],
     {"scheme": "bearer", "realm": "https://a/t", "service": "reg", "scope": "repository:x/y:pull,push"}),
    (['Basic realm="r"', 'Bearer realm="https://a/t"'], {"scheme": "bearer", "realm": "https://a/t"}),
    (['Basic realm="a \\"quoted\\" realm"'], {"scheme": "basic", "realm": 'a "quoted" realm'}),
    (["Bearer realm=https://a/t,error=invalid_token"], {"scheme": "bearer", "realm": "https://a/t", "error": "invalid_token"}),
    ([], None),
])
def test_parse_challenge(values, expected):
    import http.client

    headers = http.client.HTTPMessage()
    for value in values:
        headers["WWW-Authenticate"] = value
    assert parse_challenge(headers) == expected


@pytest.mark.parametrize("path, scope", [
    ("/v2/", ""),
    ("/v2/_catalog", "registry:catalog:*"),
    ("/v2/team/app/tags/list", "repository:team/app:pull"),
    ("/v2/a/b/c/manifests/sha256:abc", "repository:a/b/c:pull"),
])
def test_scope_for(path, scope):
    assert scope_for(path) == scope
