# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""RegistryClient against real servers on 127.0.0.1: distribution's registry binary (plain, htpasswd,
TLS from a trustme CA, a small catalog.maxentries), closed and silent ports, a plain web server, and
scripted HTTP servers for the answers a registry does not give on demand (foreign Links, loops, 5xx)."""

from __future__ import annotations

import datetime
import http.client
import http.server
import socket
import ssl
import threading
import time

import pytest

from ansible_collections.dockerwin.registry.plugins.module_utils import _registry_client
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    NotARegistryError,
    Ping,
    RegistryAuthError,
    RegistryClient,
    RegistryConnectionError,
    RegistryError,
    RegistryHTTPError,
    RegistryOptionError,
    RegistryPaginationError,
    RegistryServerError,
    RegistryTimeoutError,
    RegistryTLSError,
)
from ansible_collections.dockerwin.registry.tests.support.registry_api import push_images
from ansible_collections.dockerwin.registry.tests.support.registry_process import (
    TEST_PASSWORD,
    TEST_PASSWORD_HASH,
    TEST_USER,
    RegistryProcess,
    free_port,
    make_tls_files,
)

from _scripted import API_HEADERS, registry_answer, scripted_server  # noqa: F401 pylint: disable=unused-import

REPOSITORIES = sorted(["base/nanoserver"] + ["team/app%03d" % i for i in range(119)])


def record_requests(client):
    """Make ``client`` note the URL of every request it sends; returns that list."""
    urls = []
    send = client._send

    def spy(method, url, *args):
        urls.append(url)
        return send(method, url, *args)

    client._send = spy
    return urls


def catalog_requests(urls):
    return [url for url in urls if "/v2/_catalog" in url]


# --- servers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A registry (default configuration) holding REPOSITORIES."""
    with RegistryProcess(tmp_path_factory.mktemp("populated")) as registry:
        push_images(registry.url, REPOSITORIES)
        yield registry


@pytest.fixture(scope="module")
def small_pages(tmp_path_factory, populated):
    """A second registry on the same storage, with catalog.maxentries: 30."""
    config = {"catalog": {"maxentries": 30}, "storage": {"filesystem": {"rootdirectory": str(populated.root)}}}
    with RegistryProcess(tmp_path_factory.mktemp("small-pages"), config=config) as registry:
        yield registry


@pytest.fixture(scope="module")
def with_auth(tmp_path_factory):
    with RegistryProcess(tmp_path_factory.mktemp("auth"), htpasswd={TEST_USER: TEST_PASSWORD_HASH}) as registry:
        push_images(registry.url, ["private/one", "private/two"], auth=(TEST_USER, TEST_PASSWORD))
        yield registry


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("tls"), "registry.test")


@pytest.fixture(scope="module")
def with_tls(tmp_path_factory, tls_files):
    ca_path, chain_path, key_path = tls_files
    with RegistryProcess(tmp_path_factory.mktemp("tls-registry"), tls=(chain_path, key_path)) as registry:
        context = ssl.create_default_context(cafile=str(ca_path))
        context.check_hostname = False  # the helper reaches it by IP; the client under test checks the name
        push_images(registry.url, ["secure/app"], context=context)
        yield registry


# --- a real registry ------------------------------------------------------------------------------


def test_ping(populated):
    assert RegistryClient(populated.url).ping() == Ping(200, "registry/2.0")


def test_catalog_default_page_size_takes_one_request(populated):
    client = RegistryClient(populated.url)
    urls = record_requests(client)
    assert list(client.catalog()) == REPOSITORIES
    assert catalog_requests(urls) == [populated.url + "/v2/_catalog?n=1000"]


def test_catalog_follows_link_pages(populated):
    client = RegistryClient(populated.url)
    urls = record_requests(client)
    assert list(client.catalog(page_size=50)) == REPOSITORIES
    assert len(catalog_requests(urls)) == 3
    assert client.warnings == []


@pytest.mark.parametrize("page_size", [1000, 50, 31])
def test_catalog_page_size_above_registry_maximum_lists_everything(small_pages, page_size):
    client = RegistryClient(small_pages.url)
    urls = record_requests(client)
    assert list(client.catalog(page_size=page_size)) == REPOSITORIES
    # the too-large sizes are refused on the first page only, then each page holds up to 30
    assert len(catalog_requests(urls)) <= 5 + 5


def test_catalog_page_size_within_registry_maximum_is_used(small_pages):
    client = RegistryClient(small_pages.url)
    urls = record_requests(client)
    assert list(client.catalog(page_size=30)) == REPOSITORIES
    assert catalog_requests(urls)[0] == small_pages.url + "/v2/_catalog?n=30"
    assert len(catalog_requests(urls)) in (4, 5)  # 4 full pages; distribution 2.8 may add an empty one


def test_url_with_trailing_slash_and_v2_is_the_base_url(populated):
    client = RegistryClient(populated.url + "/v2/")
    assert client.url == populated.url
    assert client.ping().status == 200


# --- connection failures ---------------------------------------------------------------------------


def test_connection_refused_names_url_and_address():
    port = free_port()
    with pytest.raises(RegistryConnectionError) as error:
        RegistryClient("http://127.0.0.1:%d" % port).ping()
    message = str(error.value)
    assert "http://127.0.0.1:%d/v2/" % port in message
    assert "address 127.0.0.1:%d" % port in message
    assert "connection refused" in message
    assert error.value.retryable


def test_connection_refused_through_connect_address_names_both():
    port = free_port()
    with pytest.raises(RegistryConnectionError) as error:
        RegistryClient("http://registry.test:5000", connect_address="127.0.0.1:%d" % port).ping()
    assert "http://registry.test:5000/v2/ (connect_address 127.0.0.1:%d)" % port in str(error.value)


def test_unknown_host_name():
    with pytest.raises(RegistryConnectionError, match="does not resolve"):
        RegistryClient("http://registry.invalid:5000").ping()


def test_silent_server_times_out():
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(RegistryTimeoutError) as error:
            RegistryClient("http://127.0.0.1:%d" % port, timeout=1).ping()
    assert time.monotonic() - started < 10
    assert "did not answer within 1 seconds" in str(error.value)


# --- authentication ----------------------------------------------------------------------------------


def test_missing_credentials(with_auth):
    with pytest.raises(RegistryAuthError) as error:
        RegistryClient(with_auth.url).ping()
    assert "401" in str(error.value)
    assert "credentials are missing" in str(error.value)
    assert "Basic" in str(error.value)
    assert error.value.scheme == "basic"


def test_wrong_password_is_rejected_and_not_shown(with_auth):
    with pytest.raises(RegistryAuthError) as error:
        RegistryClient(with_auth.url, username=TEST_USER, password="wrong-Pa55word").ping()
    assert "credentials of user 'tester' were rejected" in str(error.value)
    assert "wrong-Pa55word" not in str(error.value)


def test_right_credentials_list_the_catalog(with_auth):
    client = RegistryClient(with_auth.url, username=TEST_USER, password=TEST_PASSWORD)
    assert client.ping().status == 200
    assert list(client.catalog()) == ["private/one", "private/two"]


def test_bearer_challenge_asks_the_realm_and_never_sends_credentials_to_the_registry(scripted_server):
    challenge = 'Bearer realm="https://auth.invalid/token",service="registry.example"'
    server = scripted_server(lambda path: (401, dict(API_HEADERS, **{"WWW-Authenticate": challenge}), b"{}"))
    with pytest.raises(RegistryConnectionError) as error:
        RegistryClient(server.url, username=TEST_USER, password=TEST_PASSWORD).ping()
    assert "Cannot connect to https://auth.invalid/token?service=registry.example&account=tester: the host name does not resolve" in str(error.value)
    assert TEST_PASSWORD not in str(error.value)
    assert [h.get("Authorization") for h in server.headers] == [None]


def test_basic_credentials_are_sent_after_the_challenge_only(scripted_server):
    def respond(path):
        if server.headers[-1].get("Authorization"):
            return registry_answer({})
        return 401, dict(API_HEADERS, **{"WWW-Authenticate": 'Basic realm="r"'}), b"{}"

    server = scripted_server(respond)
    client = RegistryClient(server.url, username=TEST_USER, password=TEST_PASSWORD)
    assert client.ping().status == 200
    assert client.ping().status == 200
    sent = [h.get("Authorization") for h in server.headers]
    assert sent[0] is None
    assert sent[1] == sent[2] and sent[1].startswith("Basic ")


def test_auth_errors_are_not_retried(with_auth):
    started = time.monotonic()
    with pytest.raises(RegistryAuthError):
        RegistryClient(with_auth.url).ping(wait_timeout=60)
    assert time.monotonic() - started < 10


# --- not a registry ----------------------------------------------------------------------------------


@pytest.fixture
def plain_web_server(tmp_path):
    """http.server serving a folder, like any web server that is not a registry."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield tmp_path, "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def test_plain_web_server_404_is_not_a_registry(plain_web_server):
    dummy, url = plain_web_server
    with pytest.raises(NotARegistryError) as error:
        RegistryClient(url).ping()
    assert "answered 404 Not Found without the Docker-Distribution-API-Version header" in str(error.value)


def test_plain_web_server_200_is_not_a_registry(plain_web_server):
    folder, url = plain_web_server
    (folder / "v2").mkdir()  # a folder listing for /v2/
    with pytest.raises(NotARegistryError, match="answered 200 OK without the Docker-Distribution-API-Version"):
        RegistryClient(url).ping()


def test_catalog_that_is_not_json(scripted_server):
    def respond(path):
        if path == "/v2/_catalog?n=1000":
            return 200, API_HEADERS, b"<html>hello</html>"
        return registry_answer({})

    server = scripted_server(respond)
    with pytest.raises(NotARegistryError, match="not JSON"):
        list(RegistryClient(server.url).catalog())


def test_catalog_json_without_repositories(scripted_server):
    server = scripted_server(lambda path: registry_answer({"tags": []}))
    with pytest.raises(NotARegistryError, match="without a list of repositories"):
        list(RegistryClient(server.url).catalog())


def test_other_400_is_not_taken_for_a_page_size_problem(scripted_server):
    error_body = {"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]}
    server = scripted_server(lambda path: registry_answer(error_body, status=400))
    with pytest.raises(RegistryHTTPError) as error:
        list(RegistryClient(server.url).catalog())
    assert error.value.status == 400
    assert error.value.codes == ["UNSUPPORTED"]
    assert "UNSUPPORTED: The operation is unsupported." in str(error.value)
    assert server.paths == ["/v2/_catalog?n=1000"]


def test_page_size_refused_down_to_the_registry_default(scripted_server):
    """A registry whose maximum is below every halved size: the last try lets it choose (no n)."""
    invalid = {"errors": [{"code": "PAGINATION_NUMBER_INVALID", "message": "invalid number of results requested"}]}

    def respond(path):
        if "n=" in path:
            return registry_answer(invalid, status=400)
        return registry_answer({"repositories": ["a", "b"]})

    server = scripted_server(respond)
    assert list(RegistryClient(server.url).catalog()) == ["a", "b"]
    assert server.paths == ["/v2/_catalog?n=%d" % n for n in (1000, 500, 250, 125)] + ["/v2/_catalog"]


# --- TLS -----------------------------------------------------------------------------------------------


def test_tls_name_checked_through_connect_address(with_tls, tls_files):
    client = RegistryClient("https://registry.test:%d" % with_tls.port, connect_address="127.0.0.1", ca_path=str(tls_files[0]))
    assert client.ping() == Ping(200, "registry/2.0")
    assert list(client.catalog()) == ["secure/app"]
    assert client.url == "https://registry.test:%d" % with_tls.port


def test_connect_address_port_replaces_the_url_port(with_tls, tls_files):
    client = RegistryClient("https://registry.test", connect_address="127.0.0.1:%d" % with_tls.port, ca_path=str(tls_files[0]))
    assert client.ping().status == 200


def test_tls_unknown_ca(with_tls):
    with pytest.raises(RegistryTLSError) as error:
        RegistryClient("https://registry.test:%d" % with_tls.port, connect_address="127.0.0.1").ping()
    assert error.value.reason == "unknown_ca"
    assert "set ca_path" in str(error.value)


@pytest.mark.parametrize("url_host, connect_address", [("other.test", "127.0.0.1"), ("127.0.0.1", None)])
def test_tls_name_mismatch(with_tls, tls_files, url_host, connect_address):
    with pytest.raises(RegistryTLSError) as error:
        RegistryClient("https://%s:%d" % (url_host, with_tls.port), connect_address=connect_address,
                       ca_path=str(tls_files[0])).ping()
    assert error.value.reason == "name_mismatch"
    assert "not valid for the host name" in str(error.value)
    assert url_host in str(error.value)


def test_tls_validate_certs_false_skips_the_checks(with_tls):
    client = RegistryClient("https://other.test:%d" % with_tls.port, connect_address="127.0.0.1", validate_certs=False)
    assert client.ping().status == 200


def test_tls_expired_certificate(tmp_path):
    ca_path, chain_path, key_path = make_tls_files(tmp_path / "tls", "registry.test",
                                                   not_after=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    with RegistryProcess(tmp_path / "registry", tls=(chain_path, key_path)) as registry:
        with pytest.raises(RegistryTLSError) as error:
            RegistryClient("https://registry.test:%d" % registry.port, connect_address="127.0.0.1", ca_path=str(ca_path)).ping()
    assert error.value.reason == "expired"
    assert "expired" in str(error.value)


def test_https_url_on_a_plain_http_registry(populated):
    with pytest.raises(RegistryTLSError, match="use http://"):
        RegistryClient(populated.url.replace("http://", "https://")).ping()


def test_http_url_on_a_tls_registry(with_tls):
    with pytest.raises(NotARegistryError, match="use https://"):
        RegistryClient("http://127.0.0.1:%d" % with_tls.port).ping()


# --- Link headers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("link, target", [
    ("http://other.test:{port}/v2/_catalog?last=a", "http://other.test:{port}/v2/_catalog?last=a"),
    ("//other.test:{port}/v2/_catalog?last=a", "http://other.test:{port}/v2/_catalog?last=a"),
    ("https://127.0.0.1:{port}/v2/_catalog?last=a", "https://127.0.0.1:{port}/v2/_catalog?last=a"),
    ("http://127.0.0.1:1/v2/_catalog?last=a", "http://127.0.0.1:1/v2/_catalog?last=a"),
])
def test_link_to_another_origin_is_refused(scripted_server, link, target):
    def respond(path):
        return registry_answer({"repositories": ["a"]}, link='<%s>; rel="next"' % link.format(port=server.port))

    server = scripted_server(respond)
    with pytest.raises(RegistryPaginationError) as error:
        list(RegistryClient(server.url).catalog())
    assert "answered a Link to %s, which is not on %s" % (target.format(port=server.port), server.url) in str(error.value)
    assert "refusing to follow" in str(error.value)
    assert server.paths == ["/v2/_catalog?n=1000"]


def test_absolute_link_on_the_same_origin_is_followed(scripted_server):
    def respond(path):
        if path == "/v2/_catalog?n=1000":
            return registry_answer({"repositories": ["a"]}, link="<%s/v2/_catalog?last=a&n=1000>; rel=\"next\"" % server.url)
        return registry_answer({"repositories": ["b"]})

    server = scripted_server(respond)
    assert list(RegistryClient(server.url).catalog()) == ["a", "b"]


def test_link_loop_stops_with_a_warning(scripted_server, monkeypatch):
    monkeypatch.setattr(_registry_client, "MAX_PAGES", 10)  # a missed loop fails fast instead of looping long

    def respond(path):
        if path == "/v2/_catalog?n=1000":
            return registry_answer({"repositories": ["a"]}, link="</v2/_catalog?last=a&n=1000>; rel=\"next\"")
        return registry_answer({"repositories": ["b"]}, link="</v2/_catalog?n=1000>; rel=\"next\"")

    server = scripted_server(respond)
    client = RegistryClient(server.url)
    assert list(client.catalog()) == ["a", "b"]
    assert server.paths == ["/v2/_catalog?n=1000", "/v2/_catalog?last=a&n=1000"]
    assert len(client.warnings) == 1
    assert "already listed" in client.warnings[0]


def test_more_pages_than_the_bound(scripted_server, monkeypatch):
    monkeypatch.setattr(_registry_client, "MAX_PAGES", 5)

    def respond(path):  # 50 pages, each with a new Link
        page = len(server.paths)
        link = "</v2/_catalog?last=r%d>; rel=\"next\"" % page if page < 50 else None
        return registry_answer({"repositories": ["r%d" % page]}, link=link)

    server = scripted_server(respond)
    with pytest.raises(RegistryPaginationError, match="more than 5 pages"):
        list(RegistryClient(server.url).catalog())
    assert len(server.paths) == 5


def test_as_many_pages_as_the_bound(scripted_server, monkeypatch):
    monkeypatch.setattr(_registry_client, "MAX_PAGES", 5)

    def respond(path):
        page = len(server.paths)
        link = "</v2/_catalog?last=r%d>; rel=\"next\"" % page if page < 5 else None
        return registry_answer({"repositories": ["r%d" % page]}, link=link)

    server = scripted_server(respond)
    assert list(RegistryClient(server.url).catalog()) == ["r1", "r2", "r3", "r4", "r5"]


@pytest.mark.parametrize("value, expected", [
    ('</v2/_catalog?last=b&n=2>; rel="next"', "/v2/_catalog?last=b&n=2"),
    ('</v2/_catalog?last=a>; rel="prev", </v2/_catalog?last=c>; rel="next"', "/v2/_catalog?last=c"),
    ('<http://h/x>; title="a"; REL=next', "http://h/x"),
    ('<http://h/x>; rel="prev"', None),
    ("", None),
])
def test_next_link_parsing(value, expected):
    headers = http.client.HTTPMessage()
    if value:
        headers["Link"] = value
    assert _registry_client._next_link(headers) == expected


# --- waiting for a registry that starts ------------------------------------------------------------------------


def test_server_errors_are_retried_until_the_registry_answers(scripted_server):
    def respond(path):
        if len(server.paths) <= 2:
            return 503, {"Content-Type": "text/plain"}, b"starting"
        return registry_answer({})

    server = scripted_server(respond)
    assert RegistryClient(server.url).ping(wait_timeout=30) == Ping(200, "registry/2.0")
    assert len(server.paths) == 3


def test_server_error_without_wait(scripted_server):
    server = scripted_server(lambda path: (502, {"Content-Type": "text/plain"}, b"bad gateway"))
    with pytest.raises(RegistryServerError) as error:
        RegistryClient(server.url).ping()
    assert error.value.status == 502
    assert "502 Bad Gateway" in str(error.value)
    assert server.paths == ["/v2/"]


def test_refused_connections_are_retried_until_the_registry_listens(scripted_server):
    port = free_port()
    timer = threading.Timer(1.0, lambda: scripted_server(lambda path: registry_answer({}), port=port))
    timer.start()
    try:
        assert RegistryClient("http://127.0.0.1:%d" % port).ping(wait_timeout=30).status == 200
    finally:
        timer.join()


def test_wait_timeout_gives_up_naming_the_wait():
    with pytest.raises(RegistryConnectionError, match=r"connection refused.*still failing after waiting 1 seconds"):
        RegistryClient("http://127.0.0.1:%d" % free_port()).ping(wait_timeout=1)


# --- options --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, message", [
    ("ftp://127.0.0.1:5000", "expected http://host"),
    ("127.0.0.1:5000", "expected http://host"),
    ("http://127.0.0.1:5000/somewhere", "without a path"),
    ("http://127.0.0.1:5000/?x=1", "without a path"),
    ("http://127.0.0.1:99999", "invalid port"),
])
def test_invalid_url(url, message):
    with pytest.raises(RegistryOptionError, match=message):
        RegistryClient(url)


def test_credentials_in_url_are_refused_without_showing_them():
    with pytest.raises(RegistryOptionError) as error:
        RegistryClient("http://user:hunter2@127.0.0.1:5000")
    assert "url_username" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize("value, expected", [
    ("127.0.0.1", ("127.0.0.1", 443)),
    ("127.0.0.1:5443", ("127.0.0.1", 5443)),
    ("node1.example", ("node1.example", 443)),
    ("[::1]:5000", ("::1", 5000)),
    ("[::1]", ("::1", 443)),
    ("::1", ("::1", 443)),
])
def test_connect_address_forms(value, expected):
    assert _registry_client._parse_connect_address(value, 443) == expected


@pytest.mark.parametrize("value", ["127.0.0.1:0", "127.0.0.1:http", ":5000", "[::1", "[::1]5000", "h:70000"])
def test_invalid_connect_address(value):
    with pytest.raises(RegistryOptionError, match="connect_address"):
        RegistryClient("https://registry.test", connect_address=value)


@pytest.mark.parametrize("page_size", [0, -1])
def test_invalid_page_size(page_size):
    client = RegistryClient("http://127.0.0.1:1")
    with pytest.raises(RegistryOptionError, match="page_size"):
        list(client.catalog(page_size))


def test_errors_share_one_base_class():
    for cls in (RegistryOptionError, RegistryConnectionError, RegistryTimeoutError, RegistryTLSError, RegistryAuthError,
                NotARegistryError, RegistryHTTPError, RegistryServerError, RegistryPaginationError):
        assert issubclass(cls, RegistryError)
