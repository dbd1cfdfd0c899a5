# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small client for the Docker Registry HTTP API v2 (distribution), shared by the collection's modules.

Private to the collection (the leading underscore): names may change between releases.

- ``RegistryClient(url, ...)``: ``ping()`` (``GET /v2/``), ``probe()`` (``/v2/`` with the auth scheme asked
  for, the response time and the TLS peer certificate), ``catalog()`` (``GET /v2/_catalog``, page by page),
  ``tags()`` / ``tags_many()`` (``GET /v2/<name>/tags/list``, paged, several repositories in a bounded thread
  pool) and ``manifest()`` (``GET /v2/<name>/manifests/<reference>`` with the schema2/OCI ``Accept`` types).
- Every failure is a ``RegistryError`` subclass whose message names the URL and what to do about it.
- ``connect_address`` dials another address while the URL's host stays the HTTP ``Host`` and the TLS
  name (SNI and certificate check), like ``curl --connect-to``.
- Authentication: Basic (sent after a Basic challenge) and the token flow (a ``Bearer realm=...,service=...,
  scope=...`` challenge: a token is asked of the realm, with the Basic credentials when given, cached per
  scope until it expires, and the request is sent again with it).
- ``retries``: refused or reset connections, timeouts and 5xx answers are tried again that many times,
  0.5 s, 1 s, 2 s... apart (at most ``MAX_BACKOFF``).
- Pagination follows only ``Link: <...>; rel="next"`` targets on the registry's scheme, host and port,
  stops at a page seen before and fails after ``MAX_PAGES`` pages.
"""

from __future__ import annotations

import collections
import concurrent.futures
import datetime
import hashlib
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    from cryptography import x509 as _x509
    from cryptography.x509.oid import ExtensionOID as _ExtensionOID

    HAS_CRYPTOGRAPHY = True
except ImportError:  # only the TLS details of registry_info use it, when the certificate is not validated
    HAS_CRYPTOGRAPHY = False

from ansible.module_utils.urls import basic_auth_header, get_user_agent, make_context

API_VERSION_HEADER = "Docker-Distribution-API-Version"
# distribution refuses a larger n (catalog.maxentries, 1000 by default) with 400 PAGINATION_NUMBER_INVALID.
DEFAULT_PAGE_SIZE = 1000
# Without n, distribution answers min(100, catalog.maxentries) entries: the last resort page size.
REGISTRY_DEFAULT_PAGE_SIZE = 100
MAX_PAGES = 10000
# Seconds before the first retry; doubled for each next one, up to MAX_BACKOFF.
RETRY_BACKOFF = 0.5
MAX_BACKOFF = 8.0
# Threads of tags_many(): a registry is one server, a few parallel requests are plenty.
MAX_WORKERS = 16
DEFAULT_WORKERS = 8

MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
MEDIA_DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_ACCEPT = ", ".join([MEDIA_DOCKER_MANIFEST, MEDIA_DOCKER_LIST, MEDIA_OCI_MANIFEST, MEDIA_OCI_INDEX])
LIST_MEDIA_TYPES = (MEDIA_DOCKER_LIST, MEDIA_OCI_INDEX)
# Layers that registries need not hold: Windows base layers, fetched from their ``urls`` (Microsoft's CDN).
FOREIGN_LAYER_MEDIA_TYPES = (
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
# OpenSSL verification codes (X509_V_ERR_*) mapped to RegistryTLSError.reason.
_TLS_REASONS = {
    2: "unknown_ca",  # unable to get issuer certificate
    9: "not_yet_valid",
    10: "expired",
    18: "unknown_ca",  # self-signed certificate
    19: "unknown_ca",  # self-signed certificate in chain
    20: "unknown_ca",  # unable to get local issuer certificate
    21: "unknown_ca",  # unable to verify the first certificate
    62: "name_mismatch",  # host name
    64: "name_mismatch",  # IP address
}
_TLS_HINTS = {
    "unknown_ca": "the certificate is signed by an authority this host does not trust: set ca_path to the CA "
    "certificate that signed it (validate_certs=false skips the check, insecurely)",
    "name_mismatch": "the certificate is not valid for the host name in url: use a name the certificate holds "
    "in url, and connect_address to reach the registry at another address",
    "expired": "the certificate has expired: renew it on the registry",
    "not_yet_valid": "the certificate is not valid yet: check the clocks, or wait for its start date",
}
_LINK_RE = re.compile(r"<([^>]*)>((?:\s*;[^;,]*)*)")
_REL_RE = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))', re.IGNORECASE)

Ping = collections.namedtuple("Ping", ["status", "api_version"])
# What GET /v2/ says: ``status`` 200, or 401 when no credentials were given; ``challenge`` the first
# WWW-Authenticate challenge met ({"scheme": "bearer", "realm": ...}) or None; ``response_time`` seconds of
# the last GET /v2/; ``tls`` the registry's certificate and session (see ``tls_details``) or None.
Probe = collections.namedtuple("Probe", ["status", "api_version", "authenticated", "challenge", "response_time", "tls"])

_CHALLENGE_PARAM_RE = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_DN_NAMES = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C",
             "stateOrProvinceName": "ST", "localityName": "L", "emailAddress": "emailAddress",
             "domainComponent": "DC", "serialNumber": "serialNumber"}


def registry_argument_spec():
    """Connection options shared by the registry modules (documented in the registry_connection doc fragment)."""
    return dict(
        url=dict(type="str", required=True),
        url_username=dict(type="str"),
        url_password=dict(type="str", no_log=True),
        ca_path=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=10),
        connect_address=dict(type="str"),
        client_cert=dict(type="path"),
        client_key=dict(type="path"),
        retries=dict(type="int", default=2),
        wait_timeout=dict(type="int", default=0),
    )


REGISTRY_REQUIRED_TOGETHER = [("url_username", "url_password")]


def check_common_params(params):
    """The message for an invalid shared option value, or None."""
    for name in ("wait_timeout", "retries"):
        if params.get(name) is not None and params[name] < 0:
            return "%s must be 0 or more%s, got %d" % (name, " seconds" if name == "wait_timeout" else "", params[name])
    if params.get("client_key") and not params.get("client_cert"):
        return "client_key needs client_cert (the certificate that goes with the key)"
    return None


class RegistryError(Exception):
    """Base class. ``url``: the request that failed; ``retryable``: waiting for the registry may help."""

    retryable = False

    def __init__(self, message, url=None):
        super().__init__(message)
        self.url = url


class RegistryOptionError(RegistryError):
    """A client option is invalid (bad url, connect_address, page size)."""


class RegistryConnectionError(RegistryError):
    """No connection: refused, reset, unreachable, unknown host name."""

    retryable = True


class RegistryTimeoutError(RegistryError):
    """The registry did not answer within ``timeout`` seconds."""

    retryable = True


class RegistryTLSError(RegistryError):
    """The TLS handshake failed. ``reason``: unknown_ca, name_mismatch, expired, not_yet_valid or other."""

    def __init__(self, message, url=None, reason="other"):
        super().__init__(message, url)
        self.reason = reason


class RegistryAuthError(RegistryError):
    """401: credentials missing or rejected, or no token from the realm. ``scheme``: the WWW-Authenticate
    scheme (basic, bearer...); ``challenge``: the parsed challenge; ``api_version``: the registry's API header."""

    def __init__(self, message, url=None, scheme=None, challenge=None, api_version=None):
        super().__init__(message, url)
        self.scheme = scheme
        self.challenge = challenge
        self.api_version = api_version


class NotARegistryError(RegistryError):
    """Something answered, but not a Docker registry (no API version header, or not the JSON of the API)."""


class RegistryHTTPError(RegistryError):
    """The registry answered an error status. ``errors``: its ``{"code", "message", "detail"}`` list."""

    def __init__(self, message, url=None, status=None, errors=None):
        super().__init__(message, url)
        self.status = status
        self.errors = errors or []

    @property
    def codes(self):
        return [e.get("code") for e in self.errors if isinstance(e, dict)]


class RegistryNotFoundError(RegistryHTTPError):
    """404: the repository, tag or manifest does not exist (codes NAME_UNKNOWN, MANIFEST_UNKNOWN...)."""


class RegistryServerError(RegistryHTTPError):
    """5xx: the registry (or a proxy in front of it) failed; it may be starting."""

    retryable = True


class RegistryPaginationError(RegistryError):
    """A Link leaves the registry, or there are more pages than ``MAX_PAGES``."""


class RegistryDigestError(RegistryError):
    """A manifest asked for by digest answered with a body of another digest."""


class _DialingHTTPConnection(http.client.HTTPConnection):
    """Opens the TCP connection to ``dial[(host, port)]`` when the request's host is in ``dial``.

    ``self.host`` stays the URL's host, so the Host header (and, in the HTTPS subclass, SNI and the
    certificate name check, which use ``self.host``) are those of the registry's name.
    """

    def __init__(self, *args, dial=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._dial = dial or {}

    def connect(self):
        address = self._dial.get((self.host.lower(), self.port))
        if address is None:
            super().connect()
            return
        self.sock = socket.create_connection(address, self.timeout, self.source_address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _DialingHTTPSConnection(http.client.HTTPSConnection, _DialingHTTPConnection):
    """HTTPSConnection.connect() calls super().connect(), which this MRO resolves to the dialing
    connect() above; it then wraps the socket with ``server_hostname=self.host`` (the URL's host)."""

    def __init__(self, *args, dial=None, on_tls=None, **kwargs):
        super().__init__(*args, **kwargs)  # HTTPSConnection.__init__ knows no dial
        self._dial = dial or {}
        self._on_tls = on_tls

    def connect(self):
        super().connect()
        if self._on_tls is not None:
            self._on_tls((self.host.lower(), self.port), self.sock)


class _DialingHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, dial):
        super().__init__()
        self._dial = dial

    def http_open(self, req):
        return self.do_open(_DialingHTTPConnection, req, dial=self._dial)


class _DialingHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, dial, context, on_tls=None):
        super().__init__(context=context)
        self._dial = dial
        self._on_tls = on_tls

    def https_open(self, req):
        return self.do_open(_DialingHTTPSConnection, req, context=self._context, dial=self._dial, on_tls=self._on_tls)


def _parse_connect_address(value, default_port):
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address -> (host, port)."""
    value = value.strip()
    host, port = value, None
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise RegistryOptionError("connect_address %r is not valid: write an IPv6 address as [addr] or [addr]:port" % value)
        port = rest[1:] or None
    elif value.count(":") == 1:
        host, port = value.split(":")
    if not host:
        raise RegistryOptionError("connect_address %r has no host: write host, host:port or [IPv6]:port" % value)
    if port is None:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise RegistryOptionError("connect_address %r has an invalid port %r: use 1-65535" % (value, port))
    return host, int(port)


def _host_port(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def parse_challenge(headers):
    """The WWW-Authenticate challenge of a 401 as {"scheme": "bearer", "realm": ..., ...}, or None.

    With several challenges (one header each), Bearer is preferred, then Basic."""
    challenges = []
    for value in headers.get_all("WWW-Authenticate") or []:
        value = value.strip()
        if not value:
            continue
        scheme, dummy, rest = value.partition(" ")
        challenge = {"scheme": scheme.lower()}
        for match in _CHALLENGE_PARAM_RE.finditer(rest):
            quoted, bare = match.group(2), match.group(3)
            challenge[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        challenges.append(challenge)
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge["scheme"] == scheme:
                return challenge
    return challenges[0] if challenges else None


def scope_for(path):
    """The token scope that distribution asks for ``path`` (``/v2/...``), or "" for ``/v2/`` itself."""
    if path.startswith("/v2/_catalog"):
        return "registry:catalog:*"
    match = re.match(r"^/v2/(.+)/(?:tags/list|manifests/[^/]+|blobs/[^/]+)$", path)
    return "repository:%s:pull" % match.group(1) if match else ""


def split_reference(value):
    """``name:tag``, ``name@digest`` or ``name`` (tag latest) -> (name, tag or None, digest or None)."""
    value = value.strip()
    name, sep, digest = value.partition("@")
    tag = None
    if not sep:
        digest = None
        head, dummy, last = name.rpartition("/")
        if ":" in last:
            last, tag = last.split(":", 1)
            name = "%s/%s" % (head, last) if head else last
        else:
            tag = "latest"
    elif ":" in name.rpartition("/")[2]:
        name = name.rsplit(":", 1)[0]  # name:tag@digest: the digest wins, as docker pull does
    if not _REPOSITORY_RE.match(name):
        raise RegistryOptionError(
            "%r is not a valid repository name: lowercase letters, digits and separators (. _ __ -), path "
            "components joined by /, without the registry host (for example team/app:1.0 or team/app@sha256:...)"
            % name)
    if tag is not None and not _TAG_RE.match(tag):
        raise RegistryOptionError("%r is not a valid tag: up to 128 letters, digits, _ . - (not starting with . or -)" % tag)
    if digest is not None and not _DIGEST_RE.match(digest):
        raise RegistryOptionError("%r is not a valid digest: expected algorithm:hex, for example sha256:<64 hex digits>" % digest)
    return name, tag, digest


def check_repository(name):
    if not isinstance(name, str) or not _REPOSITORY_RE.match(name):
        raise RegistryOptionError(
            "%r is not a valid repository name: lowercase letters, digits and separators (. _ __ -), path "
            "components joined by /, without the registry host or a tag" % (name,))
    return name


def _dn(rdns):
    """getpeercert()'s ((("commonName", "x"),), ...) -> "CN=x, O=y" in certificate order."""
    return ", ".join("+".join("%s=%s" % (_DN_NAMES.get(k, k), v) for k, v in rdn) for rdn in rdns)


def _days_left(not_after):
    return int((not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds() // 86400)


def tls_details(der, peercert, version, cipher, verified):
    """The registry's certificate as a dict (subject, issuer, SANs, validity, days to expiry, SHA-256
    fingerprint), from getpeercert() when the certificate was validated, else from the DER with the
    cryptography package, else only the fingerprint and the session."""
    details = {"version": version, "cipher": cipher, "verified": verified,
               "fingerprint_sha256": hashlib.sha256(der).hexdigest() if der else None,
               "subject": None, "issuer": None, "subject_alt_names": [], "not_before": None, "not_after": None,
               "days_to_expiry": None, "parsed_by": None}
    if peercert:
        not_before = datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(peercert["notBefore"]), datetime.timezone.utc)
        not_after = datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(peercert["notAfter"]), datetime.timezone.utc)
        details.update(subject=_dn(peercert.get("subject", ())), issuer=_dn(peercert.get("issuer", ())),
                       subject_alt_names=["%s:%s" % ("IP" if k == "IP Address" else k, v) for k, v in peercert.get("subjectAltName", ())],
                       parsed_by="ssl")
    elif der and HAS_CRYPTOGRAPHY:
        cert = _x509.load_der_x509_certificate(der)
        not_before = cert.not_valid_before_utc
        not_after = cert.not_valid_after_utc
        names = []
        try:
            san = cert.extensions.get_extension_for_oid(_ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        except _x509.ExtensionNotFound:
            san = []
        for name in san:
            if isinstance(name, _x509.DNSName):
                names.append("DNS:%s" % name.value)
            elif isinstance(name, _x509.IPAddress):
                names.append("IP:%s" % name.value)
            elif isinstance(name, _x509.RFC822Name):
                names.append("email:%s" % name.value)
            elif isinstance(name, _x509.UniformResourceIdentifier):
                names.append("URI:%s" % name.value)
        details.update(subject=_crypto_dn(cert.subject), issuer=_crypto_dn(cert.issuer), subject_alt_names=names,
                       parsed_by="cryptography")
    else:
        return details
    details.update(not_before=not_before.strftime("%Y-%m-%dT%H:%M:%SZ"), not_after=not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   days_to_expiry=_days_left(not_after))
    return details


def _crypto_dn(name):
    parts = []
    for rdn in name.rdns:
        parts.append("+".join("%s=%s" % (_DN_NAMES.get(a.oid._name, a.oid._name), a.value) for a in rdn))
    return ", ".join(parts)


def _next_link(headers):
    """The target of ``rel="next"`` in the Link header(s) (RFC 5988), or None."""
    value = ", ".join(headers.get_all("Link") or [])
    for link in _LINK_RE.finditer(value):
        for rel in _REL_RE.finditer(link.group(2)):
            if "next" in (rel.group(1) or rel.group(2) or "").lower().split():
                return link.group(1).strip()
    return None


class RegistryClient:
    """Talks to one registry, ``url`` being its base URL: ``http(s)://host[:port]``."""

    def __init__(self, url, username=None, password=None, ca_path=None, validate_certs=True, timeout=10,
                 connect_address=None, client_cert=None, client_key=None, retries=0):
        parts = urllib.parse.urlsplit(url.strip())
        try:
            port = parts.port
        except ValueError:
            raise RegistryOptionError("url %r has an invalid port" % url) from None
        if parts.username is not None or parts.password is not None:
            raise RegistryOptionError("url must not hold credentials: use url_username and url_password")
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise RegistryOptionError("url %r is not valid: expected http://host[:port] or https://host[:port]" % url)
        if parts.path.rstrip("/") not in ("", "/v2") or parts.query or parts.fragment:
            raise RegistryOptionError("url %r must be the registry's base URL, without a path (the API is at /v2/)" % url)
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise RegistryOptionError("timeout must be a positive number of seconds, got %r" % (timeout,))
        if not isinstance(retries, int) or retries < 0:
            raise RegistryOptionError("retries must be 0 or more, got %r" % (retries,))
        if client_key and not client_cert:
            raise RegistryOptionError("client_key needs client_cert (the certificate that goes with the key)")

        self._origin = (parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme])
        self.url = "%s://%s" % (parts.scheme, parts.netloc.lower())
        self.timeout = timeout
        self.retries = retries
        self.validate_certs = validate_certs
        self.warnings = []
        self.challenge = None  # the first WWW-Authenticate challenge met, parsed
        self._username = username
        self._password = password
        self._auth_header = None
        self._tokens = {}  # scope -> (token, monotonic expiry)
        self._peer = {}  # (host, port) -> TLS details of the last connection

        dial = {}
        self._address = "address " + _host_port(*self._origin[1:])
        if connect_address:
            dial[self._origin[1:]] = _parse_connect_address(connect_address, self._origin[2])
            self._address = "connect_address " + _host_port(*dial[self._origin[1:]])
        context = make_context(cafile=ca_path, validate_certs=validate_certs)
        if client_cert:
            try:
                context.load_cert_chain(client_cert, client_key)
            except (OSError, ssl.SSLError) as e:
                raise RegistryOptionError("client_cert %s / client_key %s cannot be loaded: %s (PEM files, the key "
                                          "unencrypted and matching the certificate)" % (client_cert, client_key, e)) from None
        handlers = [
            _DialingHTTPHandler(dial),
            _DialingHTTPSHandler(dial, context, on_tls=self._note_tls),
        ]
        if dial:
            handlers.append(urllib.request.ProxyHandler({}))  # a proxy would not reach connect_address
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def from_params(cls, params):
        """A client from the options of ``registry_argument_spec()``."""
        return cls(params["url"], username=params["url_username"], password=params["url_password"],
                   ca_path=params["ca_path"], validate_certs=params["validate_certs"], timeout=params["timeout"],
                   connect_address=params["connect_address"], client_cert=params.get("client_cert"),
                   client_key=params.get("client_key"), retries=params.get("retries") or 0)

    def ping(self, wait_timeout=0):
        """``GET /v2/``: a ``Ping(status, api_version)``.

        With ``wait_timeout`` > 0, retryable errors (refused, reset, timeout, 5xx) are retried until
        that many seconds have passed, for a registry that is still starting.
        """
        return self._waiting(wait_timeout, self._ping_once)

    def _ping_once(self):
        dummy, headers, dummy = self._get(self.url + "/v2/")
        return Ping(200, headers[API_VERSION_HEADER])

    def probe(self, wait_timeout=0):
        """``GET /v2/`` as a health check: a ``Probe``.

        Without credentials, a 401 answer is a registry that works and asks for authentication: status 401,
        ``authenticated`` False. With credentials, they must be accepted. ``wait_timeout`` as for ``ping()``.
        """
        return self._waiting(wait_timeout, self._probe_once)

    def _probe_once(self):
        url = self.url + "/v2/"
        started = time.monotonic()
        try:
            status, headers, dummy = self._get(url)
            api_version, authenticated = headers[API_VERSION_HEADER], True
        except RegistryAuthError as e:
            if self._username or e.challenge is None or not e.api_version:
                raise
            status, api_version, authenticated = 401, e.api_version, False
        elapsed = time.monotonic() - started
        return Probe(status, api_version, authenticated, self.challenge, round(elapsed, 4), self.tls_details())

    def tls_details(self):
        """The TLS session and certificate of the registry's last connection (None over plain HTTP)."""
        return self._peer.get(self._origin[1:]) if self._origin[0] == "https" else None

    def _note_tls(self, origin, sock):
        try:
            der = sock.getpeercert(binary_form=True)
            peercert = sock.getpeercert() if self.validate_certs else None
            cipher = sock.cipher()
            self._peer[origin] = tls_details(der, peercert, sock.version(), cipher[0] if cipher else None, bool(self.validate_certs))
        except (ValueError, OSError) as e:  # never fail a request because its certificate could not be described
            self.warnings.append("could not read the TLS certificate of %s:%d: %s" % (origin[0], origin[1], e))

    def _waiting(self, wait_timeout, call):
        deadline = time.monotonic() + wait_timeout
        while True:
            try:
                return call()
            except RegistryError as e:
                remaining = deadline - time.monotonic()
                if not e.retryable or remaining <= 0:
                    if e.retryable and wait_timeout > 0:
                        e.args = ("%s (still failing after waiting %s seconds)" % (e, wait_timeout),)
                    raise
                time.sleep(min(1.0, remaining))

    def catalog(self, page_size=DEFAULT_PAGE_SIZE):
        """Yield every repository name of ``GET /v2/_catalog``, following ``Link: <...>; rel="next"``.

        A page size above the registry's maximum is lowered until the registry accepts it. Link targets
        must be on the registry's scheme, host and port; a page seen before ends the listing (with a
        warning in ``self.warnings``).
        """
        if not isinstance(page_size, int) or page_size < 1:
            raise RegistryOptionError("page_size must be a positive integer, got %r" % (page_size,))
        url, headers, body = self._first_page("/v2/_catalog", page_size)
        for url, body in self._pages(url, headers, body):
            yield from self._repositories(url, body)

    def tags(self, repository, page_size=None):
        """Every tag of ``repository`` (``GET /v2/<name>/tags/list``), in the registry's order, following
        Link pages as ``catalog()`` does (registries paginate tags from distribution v3; v2 answers one page).
        ``page_size`` None asks without ``n`` (the registry's default). A missing repository raises
        RegistryNotFoundError."""
        check_repository(repository)
        if page_size is not None and (not isinstance(page_size, int) or page_size < 1):
            raise RegistryOptionError("page_size must be a positive integer, got %r" % (page_size,))
        url, headers, body = self._first_page("/v2/%s/tags/list" % repository, page_size)
        tags = []
        for url, body in self._pages(url, headers, body):
            data = self._json(url, body)
            page = data.get("tags", False) if isinstance(data, dict) else False
            if page is None:
                page = []  # a repository whose tags were all deleted answers null
            if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise NotARegistryError("%s answered JSON without a list of tags: is it a Docker registry?" % url, url)
            tags.extend(page)
        return tags

    def tags_many(self, repositories, page_size=None, workers=DEFAULT_WORKERS):
        """Tags of several repositories, ``workers`` requests at a time: {repository: [tags] or RegistryError}.

        Repositories that fail are answered with their error (a missing one: RegistryNotFoundError); other
        exceptions propagate."""
        if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
            raise RegistryOptionError("concurrency must be 1 to %d, got %r" % (MAX_WORKERS, workers))
        for repository in repositories:
            check_repository(repository)
        results = {}

        def one(repository):
            try:
                return self.tags(repository, page_size)
            except RegistryError as e:
                return e

        if workers == 1 or len(repositories) < 2:
            for repository in repositories:
                results[repository] = one(repository)
            return results
        with concurrent.futures.ThreadPoolExecutor(min(workers, len(repositories))) as pool:
            for repository, answer in zip(repositories, pool.map(one, repositories)):
                results[repository] = answer
        return results

    def manifest(self, repository, reference):
        """``GET /v2/<name>/manifests/<reference>`` with the Docker schema2 and OCI Accept types: a dict with
        digest, media_type, size (of the manifest), the parsed JSON (``data``). A digest reference must match
        the body's digest (RegistryDigestError otherwise)."""
        check_repository(repository)
        url = "%s/v2/%s/manifests/%s" % (self.url, repository, urllib.parse.quote(reference, safe=":@"))
        dummy, headers, body = self._get(url, accept=MANIFEST_ACCEPT)
        data = self._json(url, body)
        if not isinstance(data, dict):
            raise NotARegistryError("%s answered JSON that is not a manifest: is it a Docker registry?" % url, url)
        body_digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if reference.startswith("sha256:") and reference != body_digest:
            raise RegistryDigestError("%s answered a manifest whose digest is %s, not the %s asked for: the registry "
                                      "(or a proxy) changed it" % (url, body_digest, reference), url)
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        media_type = data.get("mediaType") or content_type or None
        if media_type is None and data.get("schemaVersion") == 1:
            media_type = MEDIA_DOCKER_SCHEMA1
        return {"digest": headers.get("Docker-Content-Digest") or body_digest, "media_type": media_type,
                "content_type": content_type or None, "size": len(body), "data": data}

    def _first_page(self, path, page_size):
        n = page_size
        while True:
            url = self.url + path + ("?n=%d" % n if n else "")
            try:
                dummy, headers, body = self._get(url)
                return url, headers, body
            except RegistryHTTPError as e:
                if not n or e.status != 400 or "PAGINATION_NUMBER_INVALID" not in e.codes:
                    raise
            # Above the registry's maximum (catalog.maxentries): halve, then let the registry pick its default page.
            n = n // 2 if n // 2 >= REGISTRY_DEFAULT_PAGE_SIZE else None

    def _pages(self, url, headers, body):
        """Yield (url, body) of the first page and of each ``rel="next"`` page after it."""
        first = url.split("?")[0]
        seen = {url}
        pages = 1  # counted apart from seen: the bound holds even if loop detection missed a loop
        while True:
            yield url, body
            link = _next_link(headers)
            if link is None:
                return
            next_url = self._same_origin(url, link)
            if next_url in seen:
                self.warnings.append("%s answered a Link to %s, a page already listed; stopped there" % (url, next_url))
                return
            if pages >= MAX_PAGES:
                raise RegistryPaginationError("%s has more than %d pages; stopped" % (first, MAX_PAGES), url)
            seen.add(next_url)
            pages += 1
            url = next_url
            dummy, headers, body = self._get(url)

    def _repositories(self, url, body):
        data = self._json(url, body)
        repositories = data.get("repositories", False) if isinstance(data, dict) else False
        if repositories is None:
            repositories = []  # an empty registry may answer null
        if not isinstance(repositories, list) or not all(isinstance(r, str) for r in repositories):
            raise NotARegistryError("%s answered JSON without a list of repositories: is it a Docker registry?" % url, url)
        return repositories

    def _same_origin(self, url, link):
        target = urllib.parse.urljoin(url, link)
        parts = urllib.parse.urlsplit(target)
        try:
            origin = (parts.scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme))
        except ValueError:
            origin = None
        if origin != self._origin:
            raise RegistryPaginationError(
                "%s answered a Link to %s, which is not on %s (scheme, host and port must match): refusing to follow it"
                % (url, target, self.url), url)
        return target

    @staticmethod
    def _json(url, body):
        try:
            return json.loads(body)
        except ValueError:
            raise NotARegistryError("%s answered a body that is not JSON (%r...): is it a Docker registry?"
                                    % (url, body[:60].decode("utf-8", "replace")), url) from None

    def _get(self, url, accept=None):
        """GET ``url`` (authenticating as asked), trying again ``retries`` times on retryable errors;
        (status, headers, body) of a 2xx registry answer."""
        attempt = 0
        while True:
            try:
                return self._get_once(url, accept)
            except RegistryError as e:
                if not e.retryable or attempt >= self.retries:
                    if attempt:
                        e.args = ("%s (tried %d times)" % (e, attempt + 1),)
                    raise
            time.sleep(min(RETRY_BACKOFF * 2 ** attempt, MAX_BACKOFF))
            attempt += 1

    def _get_once(self, url, accept):
        scope = scope_for(urllib.parse.urlsplit(url).path)
        cached = self._tokens.get(scope)
        if cached and cached[1] > time.monotonic():
            authorization = "Bearer " + cached[0]
        else:
            authorization = self._auth_header
        status, headers, body = self._send("GET", url, self._headers(accept, authorization))
        if status == 401:
            challenge = parse_challenge(headers)
            if self.challenge is None:
                self.challenge = challenge
            scheme = challenge["scheme"] if challenge else None
            if scheme == "bearer" and challenge.get("realm"):
                try:
                    token = self._token(url, challenge, scope)
                except RegistryAuthError as e:
                    e.api_version = headers.get(API_VERSION_HEADER)
                    raise
                status, headers, body = self._send("GET", url, self._headers(accept, "Bearer " + token))
            elif scheme == "basic" and self._auth_header is None and self._username:
                self._auth_header = basic_auth_header(self._username, self._password or "")
                status, headers, body = self._send("GET", url, self._headers(accept, self._auth_header))
        if status == 401:
            raise self._auth_error(url, headers)
        if status >= 500:
            raise RegistryServerError("%s answered %d %s: the registry (or a proxy in front of it) failed%s"
                                      % (url, status, http.client.responses.get(status, ""), self._error_text(body)),
                                      url, status, self._errors(body))
        if not headers.get(API_VERSION_HEADER):
            raise NotARegistryError(
                "%s answered %d %s without the %s header: not the answer of a Docker registry (API v2)%s"
                % (url, status, http.client.responses.get(status, ""), API_VERSION_HEADER, self._not_a_registry_hint(body)),
                url)
        if status == 404:
            raise RegistryNotFoundError("%s answered 404 Not Found%s" % (url, self._error_text(body)), url, status, self._errors(body))
        if status >= 300:
            raise RegistryHTTPError("%s answered %d %s%s" % (url, status, http.client.responses.get(status, ""), self._error_text(body)),
                                    url, status, self._errors(body))
        return status, headers, body

    @staticmethod
    def _headers(accept, authorization):
        headers = {"Accept": accept or "application/json", "User-Agent": get_user_agent()}
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def _token(self, url, challenge, scope):
        """A bearer token from the challenge's realm for its scope (or ``scope``), cached until it expires."""
        scope = challenge.get("scope", scope)
        realm = challenge["realm"]
        realm_parts = urllib.parse.urlsplit(realm)
        if realm_parts.scheme not in _DEFAULT_PORTS or not realm_parts.hostname:
            raise RegistryAuthError("%s asks for a token from realm %r, which is not an http(s) URL" % (url, realm), url, "bearer",
                                    challenge)
        query = [("service", challenge["service"])] if challenge.get("service") else []
        query += [("scope", s) for s in scope.split()]
        if self._username:
            query.append(("account", self._username))
        token_url = realm + ("&" if realm_parts.query else "?") + urllib.parse.urlencode(query)
        basic = basic_auth_header(self._username, self._password or "") if self._username else None
        status, headers, body = self._send("GET", token_url, self._headers(None, basic))
        where = "the token server %s (realm of %s)" % (realm, self.url)
        if status == 401:
            text = ("the credentials of user %r were rejected: check url_username and url_password" % self._username
                    if self._username else "it wants credentials: set url_username and url_password")
            raise RegistryAuthError("%s answered 401 Unauthorized: %s" % (where, text), url, "bearer", challenge)
        if status >= 500:
            raise RegistryServerError("%s answered %d %s" % (where, status, http.client.responses.get(status, "")), url, status)
        if status >= 300:
            raise RegistryAuthError("%s answered %d %s for scope %r%s" % (where, status, http.client.responses.get(status, ""),
                                                                          scope, self._error_text(body)), url, "bearer", challenge)
        try:
            data = json.loads(body)
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryAuthError("%s answered without a token (JSON with token or access_token expected)" % where, url,
                                    "bearer", challenge)
        expires_in = data.get("expires_in")
        expires_in = expires_in if isinstance(expires_in, int) and expires_in > 0 else 60  # the spec's default
        expiry = time.monotonic() + max(1.0, expires_in - 5)
        self._tokens[scope] = self._tokens[challenge.get("scope", scope)] = (token, expiry)
        return token

    def _send(self, method, url, headers=None):
        if headers is None:
            headers = self._headers(None, self._auth_header)
        request = urllib.request.Request(url, method=method)
        for name, value in headers.items():
            if name == "Authorization":
                request.add_unredirected_header(name, value)  # never sent on to where a redirect leads
            else:
                request.add_header(name, value)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read()
        except urllib.error.URLError as e:
            raise self._connection_error(url, e.reason) from None
        except (OSError, http.client.HTTPException) as e:  # while reading the answer
            raise self._connection_error(url, e) from None

    def _connection_error(self, url, reason):
        parts = urllib.parse.urlsplit(url)
        same = (parts.scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme)) == self._origin
        where = "%s (%s)" % (url, self._address) if same else url
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return RegistryTimeoutError("%s did not answer within %s seconds (timeout)" % (where, self.timeout), url)
        if isinstance(reason, ssl.SSLCertVerificationError):
            kind = _TLS_REASONS.get(reason.verify_code, "other")
            hint = _TLS_HINTS.get(kind, "the certificate could not be verified")
            return RegistryTLSError("TLS error with %s: %s (%s)" % (where, hint, reason.verify_message), url, kind)
        if isinstance(reason, ssl.SSLError):
            return RegistryTLSError("TLS handshake with %s failed: %s; if the registry serves plain HTTP, use http:// in url"
                                    % (where, reason.reason or reason), url)
        if isinstance(reason, ConnectionRefusedError):
            return RegistryConnectionError("Cannot connect to %s: connection refused. Is the registry running and "
                                           "listening on that port?" % where, url)
        if isinstance(reason, socket.gaierror):
            return RegistryConnectionError("Cannot connect to %s: the host name does not resolve (%s)" % (where, reason.strerror), url)
        if isinstance(reason, http.client.HTTPException) and not isinstance(reason, ConnectionError):
            return NotARegistryError("%s did not answer with HTTP (%s: %s): is it a Docker registry? If it serves "
                                     "TLS, use https:// in url" % (where, type(reason).__name__, reason), url)
        text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
        return RegistryConnectionError("Cannot connect to %s: %s" % (where, text), url)

    def _auth_error(self, url, headers):
        challenge = parse_challenge(headers)
        scheme = challenge["scheme"] if challenge else None
        asked = " (the registry asks for %s authentication)" % scheme.capitalize() if scheme else ""
        if scheme == "bearer" and challenge.get("realm"):
            detail = " (%s)" % challenge["error"] if challenge.get("error") else ""
            scope = challenge.get("scope") or "/v2/"
            if self._username:
                text = ("the token from %s for user %r was refused%s: the user lacks access to %s"
                        % (challenge["realm"], self._username, detail, scope))
            else:
                text = "the anonymous token from %s was refused%s: set url_username and url_password" % (challenge["realm"], detail)
        elif not self._username:
            text = "credentials are missing: set url_username and url_password"
        elif self._auth_header is None:  # no Basic challenge, so the credentials were not sent
            text = ("%s authentication is not supported by this client" % scheme.capitalize() if scheme
                    else "the answer has no WWW-Authenticate header saying how to authenticate")
        else:
            text = "the credentials of user %r were rejected: check url_username and url_password" % self._username
        return RegistryAuthError("%s answered 401 Unauthorized: %s%s" % (url, text, asked), url, scheme, challenge,
                                 headers.get(API_VERSION_HEADER))

    @staticmethod
    def _errors(body):
        try:
            errors = json.loads(body).get("errors")
        except (ValueError, AttributeError):
            return []
        return errors if isinstance(errors, list) else []

    @classmethod
    def _error_text(cls, body):
        texts = ["%s: %s" % (e.get("code"), e.get("message")) for e in cls._errors(body) if isinstance(e, dict)]
        return " (%s)" % "; ".join(texts) if texts else ""

    @staticmethod
    def _not_a_registry_hint(body):
        if b"HTTP request to an HTTPS server" in body:
            return "; the server expects TLS: use https:// in url"
        return "; check the host and port in url"
