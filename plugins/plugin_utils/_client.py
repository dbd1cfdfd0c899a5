# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker client-side facts of a registry: certs.d paths, CA thumbprints, hosts lines, stored logins."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ntpath
import posixpath
import re

WINDOWS_DAEMON_JSON = "C:\\ProgramData\\Docker\\config\\daemon.json"
LINUX_DAEMON_JSON = "/etc/docker/daemon.json"
WINDOWS_CERTS_D = "C:\\ProgramData\\docker\\certs.d"
LINUX_CERTS_D = "/etc/docker/certs.d"
HOSTS_MARKER = "# dockerwin.registry registry_client"

_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:(?P<port>\d{1,5}))?$")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.DOTALL)


class ClientError(Exception):
    pass


def split_registry(registry):
    """`host[:port]` → (host, port or None); refuses URLs, paths and IPv6 literals with a hint."""
    registry = (registry or "").strip()
    match = _HOST_PORT.match(registry)
    if not match or (match.group("port") and not 0 < int(match.group("port")) < 65536):
        raise ClientError(
            "registry=%r: give the registry as host or host:port (for example registry.local:5000), without a scheme or path"
            % registry
        )
    return match.group("host"), match.group("port")


def default_daemon_json(windows):
    return WINDOWS_DAEMON_JSON if windows else LINUX_DAEMON_JSON


def certs_d_dir(registry, windows, root=None):
    """The per-registry folder Docker reads ca.crt from: Linux `<root>/<host>:<port>`, Windows
    `<root>\\<host><port>` (no colon: Windows paths cannot hold one)."""
    host, port = split_registry(registry)
    if windows:
        return ntpath.join(root or WINDOWS_CERTS_D, host + (port or ""))
    return posixpath.join(root or LINUX_CERTS_D, host + (":" + port if port else ""))


def certs_d_ca(registry, windows, root=None):
    return (ntpath if windows else posixpath).join(certs_d_dir(registry, windows, root), "ca.crt")


def pem_certificates(text):
    """The DER bytes of each PEM certificate in `text`; fails when there is none."""
    found = []
    for body in _PEM.findall(text or ""):
        try:
            found.append(base64.b64decode("".join(body.split()), validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ClientError("ca_cert holds a PEM block that is not base64: %s" % exc) from exc
    if not found:
        raise ClientError("ca_cert holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)")
    return found


def thumbprint(der):
    """Windows certificate thumbprint: SHA-1 of the DER bytes, upper-case hex."""
    return hashlib.sha1(der).hexdigest().upper()


def hosts_marker(names):
    """End of the Linux hosts-file line managed for `names`: finds and removes its own line, one per name set."""
    return "%s %s" % (HOSTS_MARKER, names[0])


def hosts_line(address, names):
    """The Linux hosts-file line the role manages, marker included."""
    return "%s %s %s" % (address, " ".join(names), hosts_marker(names))


def hosts_regexp(names):
    return r"\s" + re.escape(hosts_marker(names)) + "$"


def auth_servers(registry):
    """Keys the docker CLI may use for a registry in config.json `auths`."""
    return [registry, "https://" + registry, "http://" + registry]


def stored_login(config, registry):
    """The login stored for `registry` in a docker client config.json (parsed).

    Returns (user or None, secret or None, credential helper name or None): user and secret from the `auth` field
    (base64 of user:password, as the docker CLI writes it without a credential store), else the helper that holds
    them. The secret stays with the caller, which only compares it; an identity token (`identitytoken`) leaves the
    secret None, so the caller cannot tell whether the password changed.
    """
    auths = (config or {}).get("auths") or {}
    entry = None
    for key in auth_servers(registry):
        if key in auths:
            entry = auths[key] or {}
            break
    helper = ((config or {}).get("credHelpers") or {}).get(registry) or (config or {}).get("credsStore")
    if entry is None:  # a per-registry helper may hold it without an auths entry
        return None, None, ((config or {}).get("credHelpers") or {}).get(registry)
    if entry.get("auth"):
        try:
            user, dummy, secret = base64.b64decode(entry["auth"]).decode("utf-8", "replace").partition(":")
        except (binascii.Error, ValueError):
            return None, None, None
        return user or None, (secret or None) if not entry.get("identitytoken") else None, None
    if entry.get("username"):
        return entry["username"], None, None
    return None, None, helper


def logged_in_user(config, registry):
    """User stored for `registry` in a docker client config.json (parsed), from its `auth` field.

    Returns (user or None, credential helper name or None). The password is never returned.
    """
    user, dummy, helper = stored_login(config, registry)
    return user, helper
