# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker daemon.json: read it in whatever encoding Windows left it, merge the registry client's
settings into it, write it back in the same encoding and indentation. Pure logic, no I/O.

Managed keys: ``insecure-registries``, ``registry-mirrors``, ``allow-nondistributable-artifacts`` (lists)
and ``proxies`` (object: ``http-proxy``, ``https-proxy``, ``no-proxy``). Every other key, and the order of
all keys, is kept. ``absent`` removes only the entries it is given (a list it empties stays as ``[]``).
"""

from __future__ import annotations

import codecs
import json
import re
from typing import NamedTuple

LIST_KEYS = ("insecure-registries", "registry-mirrors", "allow-nondistributable-artifacts")
PROXY_KEYS = ("http-proxy", "https-proxy", "no-proxy")
# Docker 28 ignores allow-nondistributable-artifacts (deprecated) and a later engine will refuse it.
NONDISTRIBUTABLE_LAST_MAJOR = 27
# daemon.json `proxies` exists from Docker 23.0; older engines refuse the unknown key.
PROXIES_FIRST_MAJOR = 23


class DaemonJsonError(Exception):
    """A daemon.json that cannot be read or merged; the message names the file."""


class Style(NamedTuple):
    """How a daemon.json file is written, so a rewrite looks like the original."""

    encoding: str  # Python codec without BOM handling: utf-8, utf-16-le, utf-16-be
    bom: bytes
    indent: str
    newline: str
    final_newline: bool


DEFAULT_STYLE = Style("utf-8", b"", "  ", "\n", True)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode(data, path):
    """bytes → (text, Style-without-layout). UTF-8 (with or without BOM), UTF-16 LE/BE (with BOM as Windows
    PowerShell 5.1 writes it, or without BOM when the zero bytes give it away)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            break
    else:
        bom = b""
        encoding = "utf-8"
        body = data
        if len(data) >= 2 and data[0] == 0 and data[1] != 0:
            encoding = "utf-16-be"
        elif len(data) >= 2 and data[0] != 0 and data[1] == 0:
            encoding = "utf-16-le"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DaemonJsonError("%s is not valid %s text: %s; nothing was changed" % (path, encoding.upper(), exc)) from exc
    return text, encoding, bom


def layout(text):
    """Indentation, newline and final newline of a JSON text (defaults for an empty one)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    match = re.search(r"^([ \t]+)\S", text, re.MULTILINE)
    indent = match.group(1) if match else DEFAULT_STYLE.indent
    final = text.endswith("\n") if text.strip() else DEFAULT_STYLE.final_newline
    return indent, newline, final


def parse(data, path):
    """bytes of daemon.json (None when the file is absent) → (dict in file order, Style)."""
    if data is None:
        return {}, DEFAULT_STYLE
    text, encoding, bom = decode(data, path)
    indent, newline, final = layout(text)
    style = Style(encoding, bom, indent, newline, final)
    if not text.strip():
        return {}, style
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise DaemonJsonError("%s is not valid JSON: %s; fix or remove the file, nothing was changed" % (path, exc)) from exc
    if not isinstance(config, dict):
        raise DaemonJsonError("%s holds a JSON %s, not an object ({...}); nothing was changed" % (path, type(config).__name__))
    return config, style


def render(config, style):
    """dict → bytes in the file's encoding, BOM, indentation and newlines."""
    text = json.dumps(config, indent=style.indent, ensure_ascii=False, separators=(",", ": "))
    if style.newline != "\n":
        text = text.replace("\n", style.newline)
    if style.final_newline:
        text += style.newline
    return style.bom + text.encode(style.encoding)


def _same(key, a, b):
    if key == "registry-mirrors":
        return str(a).rstrip("/") == str(b).rstrip("/")
    return a == b


def merge(config, settings, state="present"):
    """Merge `settings` into a copy of `config`; returns (new config, list of change descriptions).

    settings: {list key: [entries], "proxies": {proxy key: value}}; keys not given are not touched.
    present adds missing list entries at the end (each once) and sets the proxy values given;
    absent removes the given list entries (an emptied list stays, as [], so a reload applies it) and the
    proxy keys that hold the given value (dropping a `proxies` object it emptied: proxies take a restart anyway).
    """
    new = dict(config)
    changes = []
    for key in LIST_KEYS:
        wanted = [entry for entry in settings.get(key) or [] if entry]
        if not wanted:
            continue
        current = new.get(key)
        if current is None:
            current = []
        if not isinstance(current, list):
            raise DaemonJsonError("%s is a %s in daemon.json, not a list; fix it by hand" % (key, type(current).__name__))
        if state == "present":
            result = list(current)
            for entry in wanted:
                if not any(_same(key, entry, have) for have in result):
                    result.append(entry)
                    changes.append("%s: add %s" % (key, entry))
            if result != current or key not in new:
                new[key] = result
        else:
            result = [have for have in current if not any(_same(key, entry, have) for entry in wanted)]
            for have in current:
                if have not in result:
                    changes.append("%s: remove %s" % (key, have))
            if len(result) != len(current):
                # An emptied list stays as []: a reload (SIGHUP) applies only the keys the file sets, so a
                # removed key would leave the daemon with the old entries until its next restart.
                new[key] = result
    proxies = {k: v for k, v in (settings.get("proxies") or {}).items() if v}
    unknown = set(proxies) - set(PROXY_KEYS)
    if unknown:
        raise DaemonJsonError("proxies: unknown key(s) %s; use %s" % (", ".join(sorted(unknown)), ", ".join(PROXY_KEYS)))
    if proxies:
        current = new.get("proxies")
        if current is not None and not isinstance(current, dict):
            raise DaemonJsonError("proxies is a %s in daemon.json, not an object; fix it by hand" % type(current).__name__)
        result = dict(current or {})
        for key, value in proxies.items():
            if state == "present" and result.get(key) != value:
                result[key] = value
                changes.append("proxies: set %s" % key)
            elif state == "absent" and key in result and result[key] == value:
                del result[key]
                changes.append("proxies: remove %s" % key)
        if result != (current or {}):
            if result:
                new["proxies"] = result
            else:
                del new["proxies"]
    return new, changes


def engine_major(server):
    """Major version of the engine from `docker version --format '{{json .Server}}'` (parsed JSON)."""
    version = str((server or {}).get("Version") or "")
    match = re.match(r"v?(\d+)\.", version)
    if not match:
        raise DaemonJsonError("could not read the Docker engine version from %r" % version)
    return int(match.group(1))


def insecure_listed(registry_config, entry):
    """True when `docker info` RegistryConfig treats `entry` (host[:port] or CIDR) as insecure."""
    registry_config = registry_config or {}
    if "/" in entry:
        return entry in (registry_config.get("InsecureRegistryCIDRs") or [])
    index = (registry_config.get("IndexConfigs") or {}).get(entry)
    return bool(index) and index.get("Secure") is False


def mirror_listed(registry_config, mirror):
    return any(str(m).rstrip("/") == mirror.rstrip("/") for m in (registry_config or {}).get("Mirrors") or [])


def unmet(info, expected):
    """What `docker info` (parsed JSON) does not show yet of `expected`:
    {insecure_present, insecure_absent, mirrors_present, mirrors_absent}: lists."""
    registry_config = (info or {}).get("RegistryConfig") or {}
    missing = []
    for entry in expected.get("insecure_present") or []:
        if not insecure_listed(registry_config, entry):
            missing.append("insecure registry %s not listed" % entry)
    for entry in expected.get("insecure_absent") or []:
        if insecure_listed(registry_config, entry):
            missing.append("insecure registry %s still listed" % entry)
    for mirror in expected.get("mirrors_present") or []:
        if not mirror_listed(registry_config, mirror):
            missing.append("mirror %s not listed" % mirror)
    for mirror in expected.get("mirrors_absent") or []:
        if mirror_listed(registry_config, mirror):
            missing.append("mirror %s still listed" % mirror)
    return missing
