# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A token server for tests: distribution's ``auth.token`` pointed at it makes a registry ask clients for
bearer tokens (``WWW-Authenticate: Bearer realm=...,service=...,scope=...``).

    with TokenServer(tmp_path, users={TEST_USER: TEST_PASSWORD}) as tokens:
        registry = RegistryProcess(tmp_path / "r", config=tokens.registry_config()).start()

It signs JWTs (ES256) with a P-256 key made for the run, and puts the key's self-signed certificate in the
``x5c`` header; the registry trusts that certificate through ``rootcertbundle`` (distribution's
``registry/auth/token/token.go``: iss, aud = service, exp/nbf within a minute's leeway, ``access`` claims).
Users with the right password get every action they ask for; anonymous requests get a token without
access (enough for ``GET /v2/``) unless ``anonymous_access`` is true. ``requests`` records what was asked
for (path, query, whether a correct Authorization came with it).
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

SERVICE = "dockerwin-test-registry"
ISSUER = "dockerwin-test-issuer"


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    def __init__(self, workdir, users=None, anonymous_access=False, expires_in=300, bind="127.0.0.1"):
        """bind: the address to listen on and to name in the realm (e.g. the docker bridge gateway, for a registry
        container that fetches tokens itself)."""
        self.bind = bind
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.users = dict(users or {})
        self.anonymous_access = anonymous_access
        self.expires_in = expires_in
        self.requests = []
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dockerwin test token signer")])
        self.certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.root_bundle = self.workdir / "token-root.pem"
        self.root_bundle.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()
        self.server = None
        self.thread = None

    @property
    def realm(self):
        return "http://%s:%d/token" % (self.bind, self.server.server_address[1])

    def registry_config(self):
        """The ``auth`` section for RegistryProcess(config=...)."""
        return {"auth": {"token": {"realm": self.realm, "service": SERVICE, "issuer": ISSUER,
                                   "rootcertbundle": str(self.root_bundle)}}}

    def token(self, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [self._x5c]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + self.expires_in, "nbf": now - 5,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = "%s.%s" % (_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()))
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def _answer(self, handler):
        parts = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qs(parts.query)
        user = None
        authorization = handler.headers.get("Authorization") or ""
        if authorization.startswith("Basic "):
            try:
                user, dummy, password = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                user, password = None, None
            if self.users.get(user) != password:
                self.requests.append({"path": parts.path, "query": query, "user": user, "accepted": False})
                return 401, {"WWW-Authenticate": 'Basic realm="token"'}, {"details": "wrong credentials"}
        self.requests.append({"path": parts.path, "query": query, "user": user, "accepted": True})
        if parts.path != "/token":
            return 404, {}, {"details": "not found"}
        if query.get("service") != [SERVICE]:
            return 400, {}, {"details": "unknown service %r" % query.get("service")}
        access = []
        if user or self.anonymous_access:
            for scope in query.get("scope", []):
                for one in scope.split(" "):
                    kind, dummy, rest = one.partition(":")
                    name, dummy, actions = rest.rpartition(":")
                    access.append({"type": kind, "name": name, "actions": actions.split(",")})
        token = self.token(user or "", access)
        return 200, {}, {"token": token, "access_token": token, "expires_in": self.expires_in,
                         "issued_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}

    def start(self):
        answer = self._answer

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status, headers, body = answer(self)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((self.bind, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
