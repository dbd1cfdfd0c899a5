# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site `make docs` built, as a browser shows it: headless Chromium loads a module page, a role page and a
guide from build/docsite/html and dumps the DOM after its scripts ran; the DOM must hold the page's title and
its option table with every documented option (ansible-doc's list, from the installed collection).

Chromium is Debian's `chromium` package; without it the test skips, except under CI=true, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
SITE = CHECKOUT / "build" / "docsite" / "html"
PAGES = SITE / "collections" / "dockerwin" / "registry"


class Dom(HTMLParser):
    """What the tests look at: <title>, <h1>, ids inside option tables, table header cells, link targets."""

    def __init__(self, text):
        super().__init__()
        self.title = self.h1 = ""
        self.option_ids, self.headers, self.links = set(), [], []
        self._open = []  # (tag, classes) of the open elements that matter
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag in ("title", "h1", "th", "table"):
            self._open.append((tag, classes))
        if any(t == "table" and "ansible-option-table" in c for t, c in self._open) and attrs.get("id"):
            self.option_ids.add(attrs["id"])
        if tag == "th":
            self.headers.append("")
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        tags = [t for t, dummy in self._open]
        if tags and tags[-1] == "title":
            self.title += data
        elif "h1" in tags:
            self.h1 += data
        elif "th" in tags:
            self.headers[-1] += data


@pytest.fixture(scope="module")
def chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI=true): apt-get install -y chromium (.ci/run does)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


def render(chromium, page):
    assert page.is_file(), "%s is missing: run `make docs` first" % page
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return Dom(done.stdout)


def documented(plugin_type, name):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(CHECKOUT / ".collections"), ANSIBLE_NOCOLOR="1")
    done = subprocess.run([sys.executable, "-m", "ansible", "doc", "--json", "-t", plugin_type, name],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[name]


def test_module_page_has_its_title_and_every_option(chromium):
    dom = render(chromium, PAGES / "registry_info_module.html")
    doc = documented("module", "dockerwin.registry.registry_info")
    assert dom.title.startswith("dockerwin.registry.registry_info module – " + doc["doc"]["short_description"])
    assert dom.h1.startswith("dockerwin.registry.registry_info module")
    options = {"parameter-" + name for name in doc["doc"]["options"]}
    assert len(options) >= 10
    assert options <= dom.option_ids, sorted(options - dom.option_ids)
    returns = {"return-" + name for name in doc["return"]}
    assert returns <= dom.option_ids, sorted(returns - dom.option_ids)
    assert {"Parameter", "Comments"} <= {h.strip() for h in dom.headers}


def test_role_page_has_its_title_and_every_variable(chromium):
    dom = render(chromium, PAGES / "windows_registry_role.html")
    doc = documented("role", "dockerwin.registry.windows_registry")
    assert dom.h1.startswith("dockerwin.registry.windows_registry role")
    variables = {"parameter-main--" + name for name in doc["entry_points"]["main"]["options"]}
    assert len(variables) >= 30
    assert variables <= dom.option_ids, sorted(variables - dom.option_ids)


def test_guide_page_has_its_title_table_and_links_to_the_modules(chromium):
    dom = render(chromium, PAGES / "docsite" / "guide_secure_registry.html")
    assert dom.title.startswith("Secure registry: TLS and users")
    assert dom.h1.startswith("Secure registry: TLS and users")
    assert {"Host folder", "Content"} <= {h.strip() for h in dom.headers}
    assert "../registry_secrets_module.html#ansible-collections-dockerwin-registry-registry-secrets-module" in dom.links
