# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write access to the Docker Registry HTTP API v2, on top of ``_registry_client.RegistryClient``.

Private to the collection. Same connection options, errors and authentication (Basic, bearer tokens per scope);
adds raw manifest reads (the bytes, so digests survive a copy), HEAD, blob uploads (cross-repository mount,
monolithic PUT or chunked PATCH) and DELETE by digest. Used by registry_copy and registry_retention.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from ansible.module_utils.urls import basic_auth_header

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    API_VERSION_HEADER,
    MANIFEST_ACCEPT,
    RegistryClient,
    RegistryDigestError,
    RegistryHTTPError,
    RegistryNotFoundError,
    RegistryServerError,
    parse_challenge,
)

# Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size.
CHUNK_SIZE = 32 * 1024 * 1024
_PATH_RE = re.compile(r"^/v2/(.+?)/(?:tags/list|manifests/[^/]+|blobs/.*)$")


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def scope_for_write(path, method, mount_from=None):
    """The token scope a write (or read) of ``path`` needs, as distribution asks for it."""
    match = _PATH_RE.match(path)
    if not match:
        return ""
    actions = "pull" if method in ("GET", "HEAD") else ("delete" if method == "DELETE" else "pull,push")
    scope = "repository:%s:%s" % (match.group(1), actions)
    if mount_from:
        scope += " repository:%s:pull" % mount_from
    return scope


class RegistryWriter(RegistryClient):
    """A RegistryClient that also writes."""

    def request(self, method, url, data=None, headers=None, expect=(200,), mount_from=None):
        """(status, headers, body) of ``method url``; a status outside ``expect`` raises a RegistryHTTPError
        (RegistryNotFoundError for 404). Authenticates as the registry asks, once per scope."""
        url = urllib.parse.urljoin(self.url + "/", url)
        scope = scope_for_write(urllib.parse.urlsplit(url).path, method, mount_from)
        cached = self._tokens.get(scope)
        authorization = "Bearer " + cached[0] if cached and cached[1] > time.monotonic() else self._auth_header
        status, answer, body = self._send_data(method, url, data, headers, authorization)
        if status == 401:
            challenge = parse_challenge(answer)
            if self.challenge is None:
                self.challenge = challenge
            scheme = challenge["scheme"] if challenge else None
            if scheme == "bearer" and challenge.get("realm"):
                if mount_from:  # the challenge names only the target repository
                    challenge = dict(challenge, scope=scope)
                token = self._token(url, challenge, scope)
                status, answer, body = self._send_data(method, url, data, headers, "Bearer " + token)
            elif scheme == "basic" and self._username:
                self._auth_header = basic_auth_header(self._username, self._password or "")
                status, answer, body = self._send_data(method, url, data, headers, self._auth_header)
        if status == 401:
            raise self._auth_error(url, answer)
        if status in expect:
            return status, answer, body
        text = "%s %s answered %d %s%s" % (method, url, status, http.client.responses.get(status, ""), self._error_text(body))
        if status == 404:
            raise RegistryNotFoundError(text, url, status, self._errors(body))
        if status >= 500:
            raise RegistryServerError(text, url, status, self._errors(body))
        raise RegistryHTTPError(text, url, status, self._errors(body))

    def _send_data(self, method, url, data, headers, authorization):
        request = urllib.request.Request(url, data=data, method=method)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        request.add_header("User-Agent", "dockerwin.registry")
        if authorization:
            request.add_unredirected_header("Authorization", authorization)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read()
        except urllib.error.URLError as e:
            raise self._connection_error(url, e.reason) from None
        except (OSError, http.client.HTTPException) as e:
            raise self._connection_error(url, e) from None

    # -- manifests ------------------------------------------------------------------------------
    def manifest_raw(self, repository, reference):
        """(bytes, media type, digest) of a manifest as stored; a digest reference must match the bytes."""
        status, headers, body = self.request("GET", "/v2/%s/manifests/%s" % (repository, reference),
                                             headers={"Accept": MANIFEST_ACCEPT})
        digest = sha256(body)
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryDigestError("%s/v2/%s/manifests/%s answered a manifest whose digest is %s"
                                      % (self.url, repository, reference, digest))
        media_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        return body, media_type, digest

    def manifest_digest(self, repository, reference):
        """The digest ``reference`` resolves to (HEAD), or None when the registry does not have it."""
        try:
            dummy, headers, dummy = self.request("HEAD", "/v2/%s/manifests/%s" % (repository, reference),
                                                 headers={"Accept": MANIFEST_ACCEPT})
        except RegistryNotFoundError:
            return None
        return headers.get("Docker-Content-Digest")

    def put_manifest(self, repository, reference, body, media_type):
        dummy, headers, dummy = self.request("PUT", "/v2/%s/manifests/%s" % (repository, reference), data=body,
                                             headers={"Content-Type": media_type}, expect=(201,))
        answered = headers.get("Docker-Content-Digest")
        if answered and answered != sha256(body):
            raise RegistryDigestError("%s stored %s:%s as %s, not %s" % (self.url, repository, reference, answered, sha256(body)))
        return sha256(body)

    def delete_manifest(self, repository, digest):
        self.request("DELETE", "/v2/%s/manifests/%s" % (repository, digest), expect=(202,))

    # -- blobs ----------------------------------------------------------------------------------
    def has_blob(self, repository, digest):
        try:
            self.request("HEAD", "/v2/%s/blobs/%s" % (repository, digest))
            return True
        except RegistryNotFoundError:
            return False

    def get_blob(self, repository, digest):
        dummy, dummy, body = self.request("GET", "/v2/%s/blobs/%s" % (repository, digest))
        if sha256(body) != digest:
            raise RegistryDigestError("%s/v2/%s/blobs/%s answered bytes whose digest is %s" % (self.url, repository, digest, sha256(body)))
        return body

    def mount_blob(self, repository, digest, source_repository):
        """True when the registry mounted the blob from ``source_repository`` (201); False when it opened an
        upload instead (202), which is cancelled."""
        status, headers, dummy = self.request(
            "POST", "/v2/%s/blobs/uploads/?%s" % (repository, urllib.parse.urlencode({"mount": digest, "from": source_repository})),
            data=b"", expect=(201, 202), mount_from=source_repository)
        if status == 202 and headers.get("Location"):
            try:
                self.request("DELETE", headers["Location"], expect=(204, 200, 202, 404))
            except RegistryHTTPError:
                pass
        return status == 201

    def upload_blob(self, repository, digest, data):
        """Upload ``data`` (monolithic PUT, or PATCH chunks of CHUNK_SIZE then PUT)."""
        dummy, headers, dummy = self.request("POST", "/v2/%s/blobs/uploads/" % repository, data=b"", expect=(202,))
        location = headers["Location"]
        offset = 0
        if len(data) > CHUNK_SIZE:
            while offset < len(data):
                chunk = data[offset:offset + CHUNK_SIZE]
                dummy, headers, dummy = self.request("PATCH", location, data=chunk, expect=(202,), headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": "%d-%d" % (offset, offset + len(chunk) - 1)})
                location = headers.get("Location") or location
                offset += len(chunk)
        location = urllib.parse.urljoin(self.url + "/", location)
        location += ("&" if "?" in location else "?") + urllib.parse.urlencode({"digest": digest})
        rest = data[offset:]
        self.request("PUT", location, data=rest, expect=(201,),
                     headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(rest))})

    def api_version(self):
        dummy, headers, dummy = self.request("GET", "/v2/")
        return headers.get(API_VERSION_HEADER)
