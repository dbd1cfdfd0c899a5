# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_catalog_info run as Ansible runs it, in a subprocess (module JSON on stdin, or through
``ansible`` / ``ansible-playbook``), against real registries on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ansible_collections.dockerwin.registry.tests.support.registry_api import push_images
from ansible_collections.dockerwin.registry.tests.support.registry_process import (
    TEST_PASSWORD,
    TEST_PASSWORD_HASH,
    TEST_USER,
    RegistryProcess,
    free_port,
    make_tls_files,
)

MODULE = "ansible_collections.dockerwin.registry.plugins.modules.registry_catalog_info"
FQCN = "dockerwin.registry.registry_catalog_info"
REPOSITORIES = sorted(["base/nanoserver", "base/servercore"] + ["team/app%03d" % i for i in range(118)])


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    with RegistryProcess(tmp_path_factory.mktemp("populated")) as registry:
        push_images(registry.url, REPOSITORIES)
        yield registry


@pytest.fixture(scope="module")
def small_pages(tmp_path_factory, populated):
    """Same storage as ``populated``, behind catalog.maxentries: 30."""
    config = {"catalog": {"maxentries": 30}, "storage": {"filesystem": {"rootdirectory": str(populated.root)}}}
    with RegistryProcess(tmp_path_factory.mktemp("small-pages"), config=config) as registry:
        yield registry


@pytest.fixture(scope="module")
def run_module(collection_env, tmp_path_factory):
    """Run the module file as Ansible does: a new Python, the arguments as JSON on stdin."""
    cwd = tmp_path_factory.mktemp("module-cwd")

    def run(check_mode=False, **args):
        if check_mode:
            args["_ansible_check_mode"] = True
        process = subprocess.run([sys.executable, "-m", MODULE], input=json.dumps({"ANSIBLE_MODULE_ARGS": args}),
                                 capture_output=True, text=True, env=collection_env, cwd=cwd, timeout=180, check=False)
        try:
            result = json.loads(process.stdout)
        except ValueError:
            pytest.fail("module printed no JSON (rc %d):\n%s\n%s" % (process.returncode, process.stdout, process.stderr))
        assert process.returncode == (1 if result.get("failed") else 0), process.stderr
        result["_stdout"] = process.stdout
        return result

    return run


@pytest.fixture(scope="module")
def run_ansible(collection_env, tmp_path_factory):
    """Run ``ansible`` or ``ansible-playbook`` (argv after the program) with the JSON callback;
    returns the result of each task on localhost, in order."""
    cwd = tmp_path_factory.mktemp("ansible-cwd")
    env = dict(collection_env, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")

    def run(program, *argv):
        process = subprocess.run([str(Path(sys.executable).with_name(program))] + list(argv), capture_output=True,
                                 text=True, env=env, cwd=cwd, timeout=300, check=False, stdin=subprocess.DEVNULL)
        try:
            output = json.loads(process.stdout)
        except ValueError:
            pytest.fail("%s printed no JSON (rc %d):\n%s\n%s" % (program, process.returncode, process.stdout, process.stderr))
        return [task["hosts"]["localhost"] for play in output["plays"] for task in play["tasks"]]

    return run, cwd


def test_lists_every_repository(populated, run_module):
    result = run_module(url=populated.url)
    assert "failed" not in result, result.get("msg")
    assert result["repositories"] == REPOSITORIES
    assert result["count"] == 120
    assert result["api_version"] == "registry/2.0"
    assert result["url"] == populated.url
    assert result["changed"] is False


def test_small_page_size_follows_links(populated, run_module):
    result = run_module(url=populated.url, page_size=50)
    assert result["repositories"] == REPOSITORIES


def test_page_size_above_the_registry_maximum(small_pages, run_module):
    result = run_module(url=small_pages.url, page_size=1000)
    assert result["repositories"] == REPOSITORIES
    assert result["count"] == 120


def test_missing_expected_repositories_fail_and_still_report(populated, run_module):
    result = run_module(url=populated.url, expected_repositories=["base/nanoserver", "team/zzz", "absent/one"])
    assert result["failed"] is True
    assert result["missing_repositories"] == ["absent/one", "team/zzz"]
    assert result["msg"] == "%s lists 120 repositories but not the expected: absent/one, team/zzz" % populated.url
    assert result["repositories"] == REPOSITORIES


def test_expected_repositories_present(populated, run_module):
    result = run_module(url=populated.url, expected_repositories=["base/nanoserver", "team/app117"])
    assert "failed" not in result
    assert "missing_repositories" not in result


def test_connection_refused(run_module):
    port = free_port()
    result = run_module(url="http://127.0.0.1:%d" % port)
    assert result["failed"] is True
    assert result["msg"].startswith("Cannot connect to http://127.0.0.1:%d/v2/ (address 127.0.0.1:%d): connection refused" % (port, port))


def test_invalid_connect_address_names_the_option(run_module):
    result = run_module(url="https://registry.test", connect_address="127.0.0.1:none")
    assert result["failed"] is True
    assert "connect_address '127.0.0.1:none' has an invalid port" in result["msg"]


def test_negative_wait_timeout(run_module):
    result = run_module(url="http://127.0.0.1:1", wait_timeout=-5)
    assert result["failed"] is True
    assert result["msg"] == "wait_timeout must be 0 or more seconds, got -5"


def test_waits_for_a_registry_that_starts_later(tmp_path, run_module):
    registry = RegistryProcess(tmp_path / "late")
    timer = threading.Timer(1.0, registry.start)
    timer.start()
    try:
        result = run_module(url=registry.url, wait_timeout=60)
    finally:
        timer.join()
        registry.stop()
    assert "failed" not in result, result.get("msg")
    assert result["repositories"] == []
    assert result["count"] == 0


# --- authentication ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_auth(tmp_path_factory):
    with RegistryProcess(tmp_path_factory.mktemp("auth"), htpasswd={TEST_USER: TEST_PASSWORD_HASH}) as registry:
        push_images(registry.url, ["private/app"], auth=(TEST_USER, TEST_PASSWORD))
        yield registry


def test_auth_missing_credentials(with_auth, run_module):
    result = run_module(url=with_auth.url)
    assert result["failed"] is True
    assert "401 Unauthorized: credentials are missing: set url_username and url_password" in result["msg"]


def test_auth_wrong_password_is_not_shown(with_auth, run_module):
    result = run_module(url=with_auth.url, url_username=TEST_USER, url_password="Wr0ng-pass")
    assert result["failed"] is True
    assert "credentials of user 'tester' were rejected" in result["msg"]
    assert "Wr0ng-pass" not in result["_stdout"]


def test_auth_right_credentials(with_auth, run_module):
    result = run_module(url=with_auth.url, url_username=TEST_USER, url_password=TEST_PASSWORD)
    assert result["repositories"] == ["private/app"]
    assert TEST_PASSWORD not in result["_stdout"]


def test_username_needs_password(with_auth, run_module):
    result = run_module(url=with_auth.url, url_username=TEST_USER)
    assert result["failed"] is True
    assert "url_username" in result["msg"] and "url_password" in result["msg"]


# --- TLS and not-a-registry ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_tls(tmp_path_factory):
    ca_path, chain_path, key_path = make_tls_files(tmp_path_factory.mktemp("tls"), "registry.test")
    with RegistryProcess(tmp_path_factory.mktemp("tls-registry"), tls=(chain_path, key_path)) as registry:
        yield registry, str(ca_path)


def test_tls_through_connect_address(with_tls, run_module):
    registry, ca_path = with_tls
    result = run_module(url="https://registry.test:%d" % registry.port, connect_address="127.0.0.1", ca_path=ca_path)
    assert "failed" not in result, result.get("msg")
    assert result["url"] == "https://registry.test:%d" % registry.port
    assert result["api_version"] == "registry/2.0"


def test_tls_unknown_ca(with_tls, run_module):
    registry, dummy = with_tls
    result = run_module(url="https://registry.test:%d" % registry.port, connect_address="127.0.0.1")
    assert result["failed"] is True
    assert "signed by an authority this host does not trust: set ca_path" in result["msg"]


def test_plain_web_server_is_not_a_registry(tmp_path, run_module):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        result = run_module(url="http://127.0.0.1:%d" % server.server_address[1], wait_timeout=30)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert result["failed"] is True
    assert "answered 404 Not Found without the Docker-Distribution-API-Version header" in result["msg"]
    assert "still failing" not in result["msg"]  # not retried: waiting does not turn a web server into a registry


# --- through ansible ----------------------------------------------------------------------------------


def test_ad_hoc_in_check_mode(populated, run_ansible):
    run, dummy = run_ansible
    (result,) = run("ansible", "localhost", "--check", "-m", FQCN, "-a", "url=%s page_size=40" % populated.url)
    assert result["changed"] is False
    assert result["repositories"] == REPOSITORIES


def test_playbook_with_module_defaults_group(populated, run_ansible):
    run, cwd = run_ansible
    playbook = cwd / "catalog.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/dockerwin.registry.registry:
      url: %s
  tasks:
    - name: Catalog with the group's url
      dockerwin.registry.registry_catalog_info:
        expected_repositories: [base/servercore]
      check_mode: true
""" % populated.url)
    (result,) = run("ansible-playbook", str(playbook))
    assert result.get("failed") is not True, result.get("msg")
    assert result["count"] == 120
