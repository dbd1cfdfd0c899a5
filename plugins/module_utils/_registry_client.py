# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small client for the Docker Registry HTTP API v2 (distribution), shared by the collection's modules.

Private to the collection (the leading underscore): names may change between releases.

- ``RegistryClient(url, ...)``: ``ping()`` (``GET /v2/``) and ``catalog()`` (``GET /v2/_catalog``, page by page).
- Every failure is a ``RegistryError`` subclass whose message names the URL and what to do about it.
- ``connect_address`` dials another address while the URL's host stays the HTTP ``Host`` and the TLS
  name (SNI and certificate check), like ``curl --connect-to``.
"""

from __future__ import annotations

import collections
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from ansible.module_utils.urls import basic_auth_header, get_user_agent, make_context

API_VERSION_HEADER = "Docker-Distribution-API-Version"
# distribution refuses a larger n (catalog.maxentries, 1000 by default) with 400 PAGINATION_NUMBER_INVALID.
DEFAULT_PAGE_SIZE = 1000
# Without n, distribution answers min(100, catalog.maxentries) entries: the last resort page size.
REGISTRY_DEFAULT_PAGE_SIZE = 100
MAX_PAGES = 10000

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
    )


REGISTRY_REQUIRED_TOGETHER = [("url_username", "url_password")]


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
    """401: credentials missing or rejected. ``scheme``: the WWW-Authenticate scheme (basic, bearer...)."""

    def __init__(self, message, url=None, scheme=None):
        super().__init__(message, url)
        self.scheme = scheme


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


class RegistryServerError(RegistryHTTPError):
    """5xx: the registry (or a proxy in front of it) failed; it may be starting."""

    retryable = True


class RegistryPaginationError(RegistryError):
    """A catalog Link leaves the registry, or there are more pages than ``MAX_PAGES``."""


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

    def __init__(self, *args, dial=None, **kwargs):
        super().__init__(*args, **kwargs)  # HTTPSConnection.__init__ knows no dial
        self._dial = dial or {}


class _DialingHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, dial):
        super().__init__()
        self._dial = dial

    def http_open(self, req):
        return self.do_open(_DialingHTTPConnection, req, dial=self._dial)


class _DialingHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, dial, context):
        super().__init__(context=context)
        self._dial = dial

    def https_open(self, req):
        return self.do_open(_DialingHTTPSConnection, req, context=self._context, dial=self._dial)


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
                 connect_address=None):
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

        self._origin = (parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme])
        self.url = "%s://%s" % (parts.scheme, parts.netloc.lower())
        self.timeout = timeout
        self.warnings = []
        self._username = username
        self._password = password
        self._auth_header = None

        dial = {}
        self._address = "address " + _host_port(*self._origin[1:])
        if connect_address:
            dial[self._origin[1:]] = _parse_connect_address(connect_address, self._origin[2])
            self._address = "connect_address " + _host_port(*dial[self._origin[1:]])
        handlers = [
            _DialingHTTPHandler(dial),
            _DialingHTTPSHandler(dial, make_context(cafile=ca_path, validate_certs=validate_certs)),
        ]
        if dial:
            handlers.append(urllib.request.ProxyHandler({}))  # a proxy would not reach connect_address
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def from_params(cls, params):
        """A client from the options of ``registry_argument_spec()``."""
        return cls(params["url"], username=params["url_username"], password=params["url_password"],
                   ca_path=params["ca_path"], validate_certs=params["validate_certs"], timeout=params["timeout"],
                   connect_address=params["connect_address"])

    def ping(self, wait_timeout=0):
        """``GET /v2/``: a ``Ping(status, api_version)``.

        With ``wait_timeout`` > 0, retryable errors (refused, reset, timeout, 5xx) are retried until
        that many seconds have passed, for a registry that is still starting.
        """
        deadline = time.monotonic() + wait_timeout
        while True:
            try:
                status, headers, dummy = self._get(self.url + "/v2/")
                return Ping(status, headers[API_VERSION_HEADER])
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
        url, headers, body = self._first_catalog_page(page_size)
        seen = {url}
        pages = 1  # counted apart from seen: the bound holds even if loop detection missed a loop
        while True:
            yield from self._repositories(url, body)
            link = _next_link(headers)
            if link is None:
                return
            next_url = self._same_origin(url, link)
            if next_url in seen:
                self.warnings.append("%s answered a Link to %s, a page already listed; stopped there" % (url, next_url))
                return
            if pages >= MAX_PAGES:
                raise RegistryPaginationError("%s/v2/_catalog has more than %d pages; stopped" % (self.url, MAX_PAGES), url)
            seen.add(next_url)
            pages += 1
            url = next_url
            dummy, headers, body = self._get(url)

    def _first_catalog_page(self, page_size):
        n = page_size
        while True:
            url = self.url + "/v2/_catalog" + ("?n=%d" % n if n else "")
            try:
                dummy, headers, body = self._get(url)
                return url, headers, body
            except RegistryHTTPError as e:
                if not n or e.status != 400 or "PAGINATION_NUMBER_INVALID" not in e.codes:
                    raise
            # Above the registry's catalog.maxentries: halve, then let the registry pick its default page.
            n = n // 2 if n // 2 >= REGISTRY_DEFAULT_PAGE_SIZE else None

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

    def _get(self, url):
        """GET ``url``, answering a Basic challenge once; (status, headers, body) of a 2xx registry answer."""
        status, headers, body = self._send("GET", url)
        if status == 401 and self._auth_header is None and self._username:
            if self._challenge_scheme(headers) == "basic":
                self._auth_header = basic_auth_header(self._username, self._password or "")
                status, headers, body = self._send("GET", url)
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
        if status >= 300:
            raise RegistryHTTPError("%s answered %d %s%s" % (url, status, http.client.responses.get(status, ""), self._error_text(body)),
                                    url, status, self._errors(body))
        return status, headers, body

    def _send(self, method, url):
        request = urllib.request.Request(url, method=method, headers={"Accept": "application/json",
                                                                      "User-Agent": get_user_agent()})
        if self._auth_header:
            request.add_unredirected_header("Authorization", self._auth_header)
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
        where = "%s (%s)" % (url, self._address)
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
        scheme = self._challenge_scheme(headers)
        asked = " (the registry asks for %s authentication)" % scheme.capitalize() if scheme else ""
        if not self._username:
            text = "credentials are missing: set url_username and url_password"
        elif self._auth_header is None:  # no Basic challenge, so the credentials were not sent
            text = ("%s authentication is not supported by this client yet" % scheme.capitalize() if scheme
                    else "the answer has no WWW-Authenticate header saying how to authenticate")
        else:
            text = "the credentials of user %r were rejected: check url_username and url_password" % self._username
        return RegistryAuthError("%s answered 401 Unauthorized: %s%s" % (url, text, asked), url, scheme)

    @staticmethod
    def _challenge_scheme(headers):
        value = (headers.get("WWW-Authenticate") or "").strip()
        return value.split(None, 1)[0].lower() if value else None

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
