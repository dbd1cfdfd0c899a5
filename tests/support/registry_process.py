# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real registry (distribution's ``registry serve``) as a process on 127.0.0.1, for tests.

    with RegistryProcess(tmp_path, config={"catalog": {"maxentries": 30}}) as registry:
        registry.url        # http://127.0.0.1:<free port>

or, in a test module or conftest, the ``registry_factory`` fixture (imported from here):

    def test_x(registry_factory):
        registry = registry_factory(htpasswd={TEST_USER: TEST_PASSWORD_HASH})

The binary is ``$DOCKERWIN_TEST_REGISTRY_BINARY``, else ``docker-registry`` (Debian's package) or
``registry`` on PATH; tests that need it are skipped when there is none.
"""

from __future__ import annotations

import copy
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import yaml

REGISTRY_BINARY = (
    os.environ.get("DOCKERWIN_TEST_REGISTRY_BINARY") or shutil.which("docker-registry") or shutil.which("registry")
)
needs_registry_binary = pytest.mark.skipif(not REGISTRY_BINARY, reason="no registry binary (apt-get install docker-registry)")

# htpasswd wants bcrypt; a precomputed hash (cost 4) keeps bcrypt/htpasswd out of the test requirements.
TEST_USER = "tester"
TEST_PASSWORD = "s3cret-pw"
TEST_PASSWORD_HASH = "$2b$04$NlBfcpoRhM54OqFxB0zdEuBc97tu8tAvH4Ce/FsDE3PnDZ6YHvPmC"

START_TIMEOUT = 30


def free_port():
    """A TCP port that nothing listens on at the moment on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


class BackgroundProcess:
    """A server process of a test: ``start()`` sets ``process`` (Popen) and returns self; ``log_path`` holds its output."""

    process = None
    log_path = None

    def start(self):
        raise NotImplementedError

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class RegistryProcess(BackgroundProcess):
    """One ``registry serve`` process with its own config, storage and log under ``workdir``.

    ``config``: merged into the base config (filesystem storage, deletes enabled, 127.0.0.1:port).
    ``tls``: (certificate chain file, key file) to serve HTTPS. ``htpasswd``: {user: bcrypt hash}
    to require basic auth. ``port``: defaults to a free port (known before start(), so a test can
    point a client at a registry that is not started yet).
    """

    def __init__(self, workdir, config=None, tls=None, htpasswd=None, port=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.root = self.workdir / "data"
        self.config_path = self.workdir / "config.yml"
        self.log_path = self.workdir / "registry.log"
        self.tls = tls
        self.process = None
        self.config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.root)}, "delete": {"enabled": True}},
            "http": {"addr": "127.0.0.1:%d" % self.port, "secret": "dockerwin-test-secret"},
        }
        if tls:
            self.config["http"]["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
        if htpasswd:
            path = self.workdir / "htpasswd"
            path.write_text("".join("%s:%s\n" % item for item in htpasswd.items()))
            self.config["auth"] = {"htpasswd": {"realm": "dockerwin-test", "path": str(path)}}
        _merge(self.config, config or {})

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def start(self):
        if not REGISTRY_BINARY:
            pytest.skip("no registry binary (apt-get install docker-registry)")
        self.config_path.write_text(yaml.safe_dump(self.config))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self):
        """Poll GET /v2/ until any HTTP answer (401 included) comes back."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("registry exited with %s:\n%s" % (self.process.returncode, self.log()))
            if self.tls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # any answer will do: the tests check certificates
                conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2, context=context)
            else:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/v2/")
                conn.getresponse().read()
                return
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise RuntimeError("registry did not answer on port %d within %d s:\n%s"
                                       % (self.port, START_TIMEOUT, self.log())) from None
                time.sleep(0.05)
            finally:
                conn.close()


def make_tls_files(directory, *names, not_after=None):
    """A new CA (trustme) and a certificate for ``names`` (default: registry.test), written to
    ``directory``: returns (ca_path, certificate_chain_path, key_path). ``not_after`` (a datetime)
    makes an expired certificate."""
    import trustme  # a test requirement; imported here so tests without TLS do not need it

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert(*(names or ("registry.test",)), not_after=not_after)
    ca_path, chain_path, key_path = directory / "ca.pem", directory / "chain.pem", directory / "key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    leaf.private_key_pem.write_to_path(str(key_path))
    with open(chain_path, "wb") as chain:
        for blob in leaf.cert_chain_pems:
            chain.write(blob.bytes())
    return ca_path, chain_path, key_path


@pytest.fixture
def registry_factory(tmp_path):
    """Start registries: ``registry_factory(**RegistryProcess kwargs)``; all are stopped after the test."""
    started = []

    def factory(**kwargs):
        registry = RegistryProcess(tmp_path / ("registry%d" % len(started)), **kwargs)
        started.append(registry)
        return registry.start()

    yield factory
    for registry in started:
        registry.stop()
