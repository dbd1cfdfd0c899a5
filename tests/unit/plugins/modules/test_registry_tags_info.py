# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tags_info run as Ansible runs it: a real registry (v2 tag lists, hundreds of repositories in the
thread pool, a missing repository), a token-auth registry, and v3-style tag pages from a scripted server."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse

import pytest

from ansible_collections.dockerwin.registry.tests.support.registry_api import RegistryAPI, push_images
from ansible_collections.dockerwin.registry.tests.support.registry_process import TEST_PASSWORD, TEST_USER, RegistryProcess
from ansible_collections.dockerwin.registry.tests.support.token_server import TokenServer

from _run_module import run_registry_module  # noqa: F401 pylint: disable=unused-import

REPOSITORIES = sorted("team/app%03d" % i for i in range(300))
TAGS = ["1.0", "1.1", "latest"]


@pytest.fixture
def run(run_registry_module):
    return lambda **args: run_registry_module("registry_tags_info", **args)


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    with RegistryProcess(tmp_path_factory.mktemp("tags")) as registry:
        push_images(registry.url, REPOSITORIES)
        api = RegistryAPI(registry.url)
        for tag in TAGS:
            api.push_image("base/multi", tag)
        yield registry


def test_one_repository(populated, run):
    result = run(url=populated.url, repositories=["base/multi"], check_mode=True)
    assert "failed" not in result, result.get("msg")
    assert result["tags"] == {"base/multi": TAGS}
    assert (result["repository_count"], result["tag_count"], result["missing_repositories"]) == (1, 3, [])
    assert result["changed"] is False


@pytest.mark.parametrize("concurrency", [1, 8])
def test_hundreds_of_repositories(populated, run, concurrency):
    result = run(url=populated.url, repositories=REPOSITORIES + ["base/multi"], concurrency=concurrency)
    assert "failed" not in result, result.get("msg")
    assert list(result["tags"]) == REPOSITORIES + ["base/multi"]
    assert all(result["tags"][r] == ["latest"] for r in REPOSITORIES)
    assert result["tag_count"] == 303


def test_missing_repository_is_listed(populated, run):
    result = run(url=populated.url, repositories=["base/multi", "absent/one", "base/multi"])
    assert "failed" not in result
    assert result["missing_repositories"] == ["absent/one"]
    assert list(result["tags"]) == ["base/multi"]


def test_missing_repository_fails_when_asked(populated, run):
    result = run(url=populated.url, repositories=["absent/one", "base/multi"], fail_on_missing=True)
    assert result["failed"] is True
    assert result["msg"] == "%s has no repository absent/one" % populated.url
    assert result["tags"] == {"base/multi": TAGS}


@pytest.mark.parametrize("args, message", [
    ({"concurrency": 0}, "concurrency must be 1 to 16, got 0"),
    ({"concurrency": 17}, "concurrency must be 1 to 16, got 17"),
    ({"page_size": 0}, "page_size must be a positive integer, got 0"),
])
def test_invalid_options(populated, run, args, message):
    result = run(url=populated.url, repositories=["base/multi"], **args)
    assert result["failed"] is True and result["msg"] == message


def test_invalid_repository_name(populated, run):
    result = run(url=populated.url, repositories=["Base/Multi:1"])
    assert result["failed"] is True and "'Base/Multi:1' is not a valid repository name" in result["msg"]


def test_token_auth_registry(tmp_path, run):
    with RegistryProcess(tmp_path / "fill") as plain:
        push_images(plain.url, ["private/a", "private/b"])
    with TokenServer(tmp_path / "tokens", users={TEST_USER: TEST_PASSWORD}) as tokens:
        config = dict(tokens.registry_config(), storage={"filesystem": {"rootdirectory": str(plain.root)}})
        with RegistryProcess(tmp_path / "registry", config=config) as registry:
            result = run(url=registry.url, url_username=TEST_USER, url_password=TEST_PASSWORD,
                         repositories=["private/a", "private/b"])
            anonymous = run(url=registry.url, repositories=["private/a"])
    assert result["tags"] == {"private/a": ["latest"], "private/b": ["latest"]}
    assert sorted(s for r in tokens.requests for s in r["query"].get("scope", [])) == [
        "repository:private/a:pull", "repository:private/a:pull", "repository:private/b:pull"]
    assert anonymous["failed"] is True and "insufficient_scope" in anonymous["msg"]
    assert TEST_PASSWORD not in result["_stdout"]


@pytest.fixture
def v3_registry():
    """distribution v3's tag pages (n after last, Link to the next), with a 5xx on the first try of page 2."""
    all_tags = ["v%03d" % i for i in range(45)]
    failed_once = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            headers = {"Docker-Distribution-API-Version": "registry/2.0", "Content-Type": "application/json"}
            status, body = 200, {}
            if parts.path == "/v2/team/app/tags/list":
                if "last" in query and not failed_once:
                    failed_once.append(self.path)
                    status, body = 503, {"errors": [{"code": "UNAVAILABLE", "message": "try again"}]}
                else:
                    n = int(query.get("n", 1000))
                    rest = [t for t in all_tags if t > query.get("last", "")]
                    body = {"name": "team/app", "tags": rest[:n]}
                    if len(rest) > n:
                        headers["Link"] = '</v2/team/app/tags/list?%s>; rel="next"' % urllib.parse.urlencode({"last": rest[n - 1], "n": n})
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1], all_tags, failed_once
    server.shutdown()
    server.server_close()
    thread.join()


def test_v3_tag_pages_with_a_retried_server_error(v3_registry, run):
    url, all_tags, failed_once = v3_registry
    result = run(url=url, repositories=["team/app"], page_size=20)
    assert "failed" not in result, result.get("msg")
    assert result["tags"]["team/app"] == all_tags
    assert failed_once == ["/v2/team/app/tags/list?last=v019&n=20"]


def test_v3_tag_pages_server_error_without_retries(v3_registry, run):
    url, dummy, dummy = v3_registry
    result = run(url=url, repositories=["team/app"], page_size=20, retries=0)
    assert result["failed"] is True
    assert "answered 503 Service Unavailable" in result["msg"] and "UNAVAILABLE: try again" in result["msg"]
