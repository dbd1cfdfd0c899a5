# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry's config.yml for distribution v2 and v3, rendered from role variables."""

from __future__ import annotations

import copy
import hashlib
import re

import yaml

VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+.].*)?$")
SUPPORTED_MAJORS = (2, 3)

# Where the official Linux images keep their config; the role mounts its config folder there.
LINUX_CONFIG_DIRS = {2: "/etc/docker/registry", 3: "/etc/distribution"}


class ConfigError(ValueError):
    pass


def major_version(version):
    """2 or 3 from a distribution version such as 2.8.3, v3.0.0 or 3.0.0-rc.1."""
    match = VERSION_RE.match(str(version).strip())
    if not match or int(match.group(1)) not in SUPPORTED_MAJORS:
        raise ConfigError(
            "windows_registry_version=%r is not a distribution release this collection knows: "
            "use a full version such as 2.8.3 or 3.0.0 (majors %s)." % (version, ", ".join(map(str, SUPPORTED_MAJORS)))
        )
    return int(match.group(1))


def deep_merge(base, extra):
    """`extra` over `base`, recursively for mappings; lists and scalars replace, None removes the key."""
    merged = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def build_config(version, data_dir, delete_enabled=False, extra=None, driver=None):
    """The configuration mapping for `version`, with `extra` deep-merged over it.

    Both majors read `version: 0.1`. v3 adds `storage.tag.concurrencylimit`; v2 would take an
    unknown `storage` key for a second storage driver and refuse to start, so v2 never gets it.
    `driver`: {name: parameters} of the storage driver (_storage.storage_driver); default filesystem in data_dir.
    """
    major = major_version(version)
    storage = {
        "cache": {"blobdescriptor": "inmemory"},
        "delete": {"enabled": bool(delete_enabled)},
    }
    storage.update(driver or {"filesystem": {"rootdirectory": str(data_dir)}})  # storage backend (#9 storage)
    if major >= 3:
        storage["tag"] = {"concurrencylimit": 8}
    config = {
        "version": 0.1,
        "log": {"fields": {"service": "registry"}},
        "storage": storage,
        "http": {"addr": ":5000", "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "health": {"storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}},
    }
    merged = plain(deep_merge(config, extra))
    # Sections that are not drivers; v2 knows no `tag` section and takes it for a second driver.
    sections = ("cache", "delete", "maintenance", "redirect") + (("tag",) if major >= 3 else ())
    drivers = [k for k in merged["storage"] if k not in sections]
    if len(drivers) != 1:
        raise ConfigError(
            "windows_registry_config_extra.storage leaves %d storage drivers (%s) but the registry takes exactly one: "
            "to replace the default, set storage.filesystem to null in windows_registry_config_extra." % (len(drivers), ", ".join(drivers) or "none")
        )
    return merged


def security_section(tls_certificate="", tls_key="", htpasswd_path="", realm="Registry", http_secret=""):
    """http.tls (minimum TLS 1.2), auth.htpasswd and http.secret, for the paths the container sees; {} when none."""
    section = {}
    if tls_certificate:
        section.setdefault("http", {})["tls"] = {"certificate": tls_certificate, "key": tls_key, "minimumtls": "tls1.2"}
    if http_secret:
        section.setdefault("http", {})["secret"] = http_secret
    if htpasswd_path:
        section["auth"] = {"htpasswd": {"realm": realm, "path": htpasswd_path}}
    return section


def proxy_section(remote_url="", username="", password=""):
    """distribution's pull-through cache mode: `proxy.remoteurl` and the upstream's `username`/`password`; {} without a
    URL. A registry in proxy mode refuses pushes (distribution answers 405/UNSUPPORTED)."""
    if not remote_url:
        if username or password:
            raise ConfigError("windows_registry_proxy_username/windows_registry_proxy_password are given without "
                              "windows_registry_proxy_remote_url: set the upstream URL (pull-through cache mode), or leave both empty.")
        return {}
    if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", str(remote_url)):
        raise ConfigError("windows_registry_proxy_remote_url=%r: give the upstream registry's URL with its scheme, such as "
                          "https://registry-1.docker.io or http://10.0.0.7:5000." % (remote_url,))
    if bool(username) != bool(password):
        raise ConfigError("windows_registry_proxy_username and windows_registry_proxy_password go together: give both to "
                          "authenticate to %s, or neither for an anonymous upstream." % (remote_url,))
    proxy = {"remoteurl": str(remote_url)}
    if username:
        proxy.update(username=str(username), password=str(password))
    return {"proxy": proxy}


def redact(config, replacement):
    """A copy of config without http.secret's (nor redis.password's) value, for diffs and messages."""
    shown = copy.deepcopy(config)
    if isinstance(shown.get("http"), dict) and "secret" in shown["http"]:
        shown["http"]["secret"] = replacement
    if isinstance(shown.get("proxy"), dict) and shown["proxy"].get("password"):
        shown["proxy"]["password"] = "VALUE_REDACTED"
    if isinstance(shown.get("redis"), dict) and "password" in shown["redis"]:
        shown["redis"]["password"] = "VALUE_REDACTED"
    # storage backend secrets (#9 storage): S3 secret key, Azure account key (also v3's azure.credentials)
    storage = shown.get("storage") if isinstance(shown.get("storage"), dict) else {}
    for params in (storage.get("s3"), storage.get("azure"), (storage.get("azure") or {}).get("credentials")):
        for key in ("secretkey", "accountkey", "secret"):
            if isinstance(params, dict) and params.get(key):
                params[key] = "VALUE_REDACTED"
    return shown


def plain(value):
    """Plain Python types (Ansible hands over tagged str/dict subclasses that YAML cannot represent)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return str(value)


def render(config):
    """Stable YAML text: the same mapping always gives the same bytes, so the digest is stable."""
    return "# Managed by Ansible (dockerwin.registry); local edits are overwritten.\n" + yaml.safe_dump(
        config, default_flow_style=False, sort_keys=True, width=1000
    )


def digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- scale-out (issue 9, replicas): the shared Redis blob-descriptor cache -------------------------------
def redis_cache_section(major, addr, password="", db=0, tls=False):
    """`storage.cache.blobdescriptor: redis` and the `redis` section; {} when addr is empty (each replica keeps its
    own in-memory cache). v2 (redigo) takes `addr` and `pool`; v3 (go-redis) takes `addrs` and pool sizes."""
    if not addr:
        return {}
    if ":" not in str(addr).rsplit("]", 1)[-1]:
        raise ConfigError("windows_registry_redis_addr=%r: give host:port of the Redis server, such as redis.example.com:6379" % addr)
    redis = {"db": int(db), "dialtimeout": "1s", "readtimeout": "1s", "writetimeout": "1s"}
    if int(major) >= 3:
        redis.update(addrs=[str(addr)], maxidleconns=16, poolsize=64, connmaxidletime="300s")
    else:
        redis.update(addr=str(addr), pool={"maxidle": 16, "maxactive": 64, "idletimeout": "300s"})
    if password:
        redis["password"] = str(password)
    if tls:
        redis["tls"] = {"enabled": True}
    return {"storage": {"cache": {"blobdescriptor": "redis"}}, "redis": redis}
