# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An S3 API server (moto's server mode, a real HTTP server) on this machine, for registries with storage s3.

    with S3Server(tmp_path) as s3:              # 127.0.0.1:<free port>, plain HTTP
        s3.create_bucket("registry")
        s3.url, s3.keys("registry")

or the fixtures ``s3_server`` (one per test module, on the Docker bridge gateway so registry containers reach
it) and ``s3_bucket`` (a new bucket per test in that server).

``host``: the address to listen on; registry *containers* cannot reach the host's 127.0.0.1, so give
``bridge_gateway()`` (the host's address on Docker's default bridge: local to this machine, reachable from the
host and from containers) and use ``s3.url`` in both. ``tls``: (certificate chain file, key file) to serve HTTPS
(``registry_process.make_tls_files`` makes them with a throwaway CA).

moto runs as a subprocess of this .venv's Python (``python -m moto.server``), so a test process running
under another venv (ansible-core 2.20's) needs no moto of its own. moto accepts any access key and secret
and does not check signatures: the tests look at what the registry stored, not at AWS's authentication.
Requests made here are plain unsigned HTTP (no boto3 needed).
"""

from __future__ import annotations

import http.client
import importlib.util
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from registry_process import BackgroundProcess  # tests/support is on sys.path where this runs

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30
ACCESS_KEY = "dockerwin-test-access-key"
SECRET_KEY = "dockerwin-test-S3-secret-0123456789"  # nosec: a test value; the redaction tests look for it
REGION = "us-east-1"
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def moto_python():
    """A Python that has moto: this one, else the main .venv's (make venv installs requirements.txt there)."""
    if importlib.util.find_spec("moto") is not None:
        return sys.executable
    candidate = REPO / ".venv" / "bin" / "python"
    if candidate.exists():
        return str(candidate)
    pytest.skip("moto is not installed (pip install -r requirements/requirements.txt)")


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def bridge_gateway():
    """The host's address on Docker's default bridge (IPAM Gateway, else the subnet's first address)."""
    out = subprocess.run(["docker", "network", "inspect", "bridge"], capture_output=True, text=True, check=True).stdout
    config = json.loads(out)[0]["IPAM"]["Config"][0]
    if config.get("Gateway"):
        return config["Gateway"]
    return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


class S3Server(BackgroundProcess):
    """One moto server process; its log in ``workdir``."""

    def __init__(self, workdir, host="127.0.0.1", port=None, tls=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port(host)
        self.tls = tls
        self.log_path = self.workdir / ("moto-%d.log" % self.port)
        self.process = None

    @property
    def url(self):
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host, self.port)

    def start(self):
        argv = [moto_python(), "-m", "moto.server", "-H", self.host, "-p", str(self.port)]
        if self.tls:
            argv += ["-c", str(self.tls[0]), "-k", str(self.tls[1])]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("moto server exited with %s:\n%s" % (self.process.returncode, self.log()))
            try:
                self.request("GET", "/")
                return self
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not answer on %s within %d s:\n%s" % (self.url, START_TIMEOUT, self.log()))
                time.sleep(0.1)

    def request(self, method, path, body=None):
        """(status, body bytes) of an unsigned request."""
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # the registry checks the certificate; this is the test's own look
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=10, context=context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def create_bucket(self, name=None):
        name = name or "dwr-test-%s" % uuid.uuid4().hex[:10]
        status, body = self.request("PUT", "/" + name)
        if status != 200:
            raise RuntimeError("could not create bucket %s: %s %s" % (name, status, body[:300]))
        return name

    def keys(self, bucket, prefix=""):
        """{key: size} of every object in bucket under prefix (ListObjectsV2, every page)."""
        found = {}
        token = None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            status, body = self.request("GET", "/%s?%s" % (bucket, urllib.parse.urlencode(query)))
            if status != 200:
                raise RuntimeError("could not list bucket %s: %s %s" % (bucket, status, body[:300]))
            root = ET.fromstring(body)
            for item in root.iter(_NS + "Contents"):
                found[item.find(_NS + "Key").text] = int(item.find(_NS + "Size").text)
            token = root.findtext(_NS + "NextContinuationToken")
            if root.findtext(_NS + "IsTruncated") != "true" or not token:
                return found

    def blob_digests(self, bucket, rootdirectory=""):
        """sha256:<hex> of every blob the registry stored in bucket (distribution's layout: docker/registry/v2/blobs)."""
        prefix = (rootdirectory.strip("/") + "/" if rootdirectory.strip("/") else "") + "docker/registry/v2/blobs/"
        return {"sha256:" + key.split("/")[-2] for key in self.keys(bucket, prefix) if key.endswith("/data")}


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """A moto server on the Docker bridge gateway (free port), shared by the tests of one module."""
    server = S3Server(tmp_path_factory.mktemp("s3"), host=bridge_gateway()).start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    """A new bucket in s3_server, for one test (moto keeps it in memory; it goes with the server)."""
    return s3_server.create_bucket()
