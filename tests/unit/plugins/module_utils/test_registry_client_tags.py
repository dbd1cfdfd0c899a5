# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tags and pagination at scale: a real registry with thousands of repositories (catalog pages, tags of all
of them in a thread pool), v2 tag lists (one page, Debian's 2.8 binary), v3-style tag pages with Link
headers from a scripted server, and the Link failure paths (another host, a loop, too many pages)."""

from __future__ import annotations

import pytest

from ansible_collections.dockerwin.registry.plugins.module_utils import _registry_client
from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    RegistryClient,
    RegistryNotFoundError,
    RegistryOptionError,
    RegistryPaginationError,
    RegistryServerError,
)
from ansible_collections.dockerwin.registry.tests.support.registry_api import RegistryAPI, push_images
from ansible_collections.dockerwin.registry.tests.support.registry_process import RegistryProcess

from _scripted import registry_answer, scripted_server  # noqa: F401 pylint: disable=unused-import

MANY = 2000
MANY_REPOSITORIES = sorted("load/r%05d" % i for i in range(MANY))
TAGS = sorted(["1.0", "1.1", "2.0", "latest", "ltsc2022"])


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A registry holding MANY repositories (one tag each) and team/app with TAGS."""
    with RegistryProcess(tmp_path_factory.mktemp("many")) as registry:
        push_images(registry.url, MANY_REPOSITORIES, workers=16)
        api = RegistryAPI(registry.url)
        for tag in TAGS:
            api.push_image("team/app", tag, content=b"same layer for every tag\n")
        yield registry


def test_catalog_of_thousands_at_the_default_page_size(many):
    client = RegistryClient(many.url)
    assert list(client.catalog()) == MANY_REPOSITORIES + ["team/app"]
    assert client.warnings == []


def test_catalog_of_thousands_in_small_pages(many):
    client = RegistryClient(many.url)
    repositories = list(client.catalog(page_size=250))
    assert repositories == MANY_REPOSITORIES + ["team/app"]
    assert len(set(repositories)) == MANY + 1


def test_v2_tags_one_page(many):
    assert sorted(RegistryClient(many.url).tags("team/app")) == TAGS  # 2.8 answers in storage order


def test_tags_of_thousands_in_a_thread_pool_equal_the_sequential_answers(many):
    client = RegistryClient(many.url)
    repositories = MANY_REPOSITORIES + ["team/app"]
    parallel = client.tags_many(repositories, workers=8)
    assert list(parallel) == repositories
    assert all(parallel[r] == ["latest"] for r in MANY_REPOSITORIES)
    assert sorted(parallel["team/app"]) == TAGS
    assert client.tags_many(repositories[:200], workers=1) == {r: parallel[r] for r in repositories[:200]}


def test_missing_repository_is_not_found(many):
    client = RegistryClient(many.url)
    with pytest.raises(RegistryNotFoundError) as error:
        client.tags("absent/repo")
    assert error.value.status == 404
    assert error.value.codes == ["NAME_UNKNOWN"]
    assert "/v2/absent/repo/tags/list answered 404 Not Found (NAME_UNKNOWN: repository name not known to registry)" in str(error.value)
    answers = client.tags_many(["team/app", "absent/repo"], workers=2)
    assert sorted(answers["team/app"]) == TAGS
    assert isinstance(answers["absent/repo"], RegistryNotFoundError)


@pytest.mark.parametrize("name", ["Team/App", "team/app:1", "/team", "team//app", "", "registry.test:5000/team/app"])
def test_invalid_repository_names(name):
    with pytest.raises(RegistryOptionError, match="not a valid repository name"):
        RegistryClient("http://127.0.0.1:1").tags(name)


def test_concurrency_bounds():
    client = RegistryClient("http://127.0.0.1:1")
    for workers in (0, _registry_client.MAX_WORKERS + 1):
        with pytest.raises(RegistryOptionError, match="concurrency must be 1 to 16"):
            client.tags_many(["a"], workers=workers)


# --- v3-style tag pages, from a scripted server -------------------------------------------------------------


def v3_tags(all_tags, name="team/app"):
    """distribution v3's tags/list: n tags after ``last``, with a Link to the next page when more remain."""
    import urllib.parse

    def respond(path):
        parts = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        n = int(query.get("n", len(all_tags)))
        rest = [t for t in all_tags if t > query["last"]] if "last" in query else all_tags
        page = rest[:n]
        link = None
        if len(rest) > n:
            link = '</v2/%s/tags/list?%s>; rel="next"' % (name, urllib.parse.urlencode({"last": page[-1], "n": n}))
        return registry_answer({"name": name, "tags": page}, link=link)

    return respond


def test_v3_tag_pages_are_followed(scripted_server):
    all_tags = ["t%03d" % i for i in range(25)]
    server = scripted_server(v3_tags(all_tags))
    assert RegistryClient(server.url).tags("team/app", page_size=10) == all_tags
    assert server.paths == ["/v2/team/app/tags/list?n=10", "/v2/team/app/tags/list?last=t009&n=10",
                            "/v2/team/app/tags/list?last=t019&n=10"]


def test_v3_tags_without_page_size_ask_without_n(scripted_server):
    server = scripted_server(v3_tags(["a", "b"]))
    assert RegistryClient(server.url).tags("team/app") == ["a", "b"]
    assert server.paths == ["/v2/team/app/tags/list"]


def test_tags_null_is_an_empty_list(scripted_server):
    server = scripted_server(lambda path: registry_answer({"name": "team/app", "tags": None}))
    assert RegistryClient(server.url).tags("team/app") == []


def test_tag_link_to_another_host_is_refused(scripted_server):
    server = scripted_server(lambda path: registry_answer(
        {"name": "team/app", "tags": ["a"]}, link='<http://evil.test/v2/team/app/tags/list?last=a>; rel="next"'))
    with pytest.raises(RegistryPaginationError) as error:
        RegistryClient(server.url).tags("team/app")
    assert "answered a Link to http://evil.test/v2/team/app/tags/list?last=a, which is not on %s" % server.url in str(error.value)
    assert server.paths == ["/v2/team/app/tags/list"]


def test_tag_link_loop_stops_with_a_warning(scripted_server, monkeypatch):
    monkeypatch.setattr(_registry_client, "MAX_PAGES", 10)

    def respond(path):
        if "last=" not in path:
            return registry_answer({"tags": ["a"]}, link='</v2/team/app/tags/list?last=a>; rel="next"')
        return registry_answer({"tags": ["b"]}, link='</v2/team/app/tags/list?last=a>; rel="next"')

    server = scripted_server(respond)
    client = RegistryClient(server.url)
    assert client.tags("team/app") == ["a", "b"]
    assert len(server.paths) == 2
    assert client.warnings == ["%s/v2/team/app/tags/list?last=a answered a Link to %s/v2/team/app/tags/list?last=a, a page "
                               "already listed; stopped there" % (server.url, server.url)]


def test_tag_pages_are_bounded(scripted_server, monkeypatch):
    monkeypatch.setattr(_registry_client, "MAX_PAGES", 4)

    def respond(path):
        page = len(server.paths)
        return registry_answer({"tags": ["t%d" % page]}, link='</v2/team/app/tags/list?last=t%d>; rel="next"' % page)

    server = scripted_server(respond)
    with pytest.raises(RegistryPaginationError, match="tags/list has more than 4 pages"):
        RegistryClient(server.url).tags("team/app")
    assert len(server.paths) == 4


def test_tag_page_size_refused_is_halved(scripted_server):
    invalid = {"errors": [{"code": "PAGINATION_NUMBER_INVALID", "message": "invalid number of results requested"}]}

    def respond(path):
        if "n=1000" in path or "n=500" in path:
            return registry_answer(invalid, status=400)
        return registry_answer({"tags": ["a"]})

    server = scripted_server(respond)
    assert RegistryClient(server.url).tags("team/app", page_size=1000) == ["a"]
    assert server.paths == ["/v2/team/app/tags/list?n=%d" % n for n in (1000, 500, 250)]


def test_a_failing_repository_in_the_pool_is_answered_with_its_error(scripted_server):
    def respond(path):
        if path.startswith("/v2/bad/"):
            return registry_answer({"errors": [{"code": "UNKNOWN", "message": "boom"}]}, status=500)
        return registry_answer({"tags": ["x"]})

    server = scripted_server(respond)
    answers = RegistryClient(server.url).tags_many(["good/one", "bad/one", "good/two"], workers=3)
    assert answers["good/one"] == answers["good/two"] == ["x"]
    assert isinstance(answers["bad/one"], RegistryServerError)
