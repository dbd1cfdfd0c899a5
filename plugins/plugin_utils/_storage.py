# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage backends of the registry (issue 9, storage): filesystem, s3, azure, with distribution's own drivers.

``storage_driver()`` renders the driver part of config.yml's ``storage`` from the role's windows_registry_storage_*
values (``_config.build_config(driver=...)`` puts it in); ``storage_identity()`` says where a config keeps its data,
without any secret, so a change of backend can be told from a change of credentials. The secrets (S3 secret key,
Azure account key) are only ever in the config file, written owner-only with its diff redacted, as http.secret is
(``_config.redact`` hides them).
"""

from __future__ import annotations

import re

from ansible_collections.dockerwin.registry.plugins.plugin_utils._config import ConfigError, major_version

STORAGE_BACKENDS = ("filesystem", "s3", "azure")
# What names the place where the data is: a change of one of these is a change of backend (the registry would
# see other data); a change of credentials, TLS or path style is not.
LOCATION_KEYS = {
    "filesystem": ("rootdirectory",),
    "s3": ("regionendpoint", "region", "bucket", "rootdirectory"),
    "azure": ("realm", "accountname", "container", "rootdirectory"),
}
NOT_DRIVERS = ("cache", "delete", "maintenance", "redirect", "tag")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_AZURE_CONTAINER_RE = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_ENDPOINT_RE = re.compile(r"^https?://[^/\s]+/?$")


def _root(value):
    return "/" + str(value).strip("/")


def storage_driver(backend, version, data_dir, s3=None, azure=None, redirect=False):
    """{driver name: parameters} for config.yml's ``storage`` (with ``redirect`` for object stores).

    Raises ConfigError naming the role variable and the fix. Empty values are left out (the driver's default).
    Object stores: by default distribution answers blob reads with a redirect to a pre-signed URL of the store, so
    every client would need to reach (and trust) the store itself; ``redirect=False`` (the role's default) sets
    ``storage.redirect.disable`` and the registry serves the blobs, clients need only the registry.
    """
    major = major_version(version)
    if backend == "filesystem":
        return {"filesystem": {"rootdirectory": str(data_dir)}}
    if backend == "s3":
        return {"s3": _s3(major, dict(s3 or {})), "redirect": {"disable": not redirect}}
    if backend == "azure":
        return {"azure": _azure(major, dict(azure or {})), "redirect": {"disable": not redirect}}
    raise ConfigError("windows_registry_storage=%r: use one of %s." % (backend, ", ".join(STORAGE_BACKENDS)))


def _s3(major, s3):
    bucket = str(s3.get("bucket") or "")
    if not bucket:
        raise ConfigError("windows_registry_storage=s3 needs windows_registry_storage_s3_bucket, the name of an existing bucket.")
    if not _BUCKET_RE.match(bucket):
        raise ConfigError("windows_registry_storage_s3_bucket=%r is not an S3 bucket name: use 3-63 lower-case letters, digits, "
                          "'.' and '-', starting and ending with a letter or digit." % bucket)
    endpoint = str(s3.get("regionendpoint") or "")
    secure = bool(s3.get("secure", True))
    if endpoint and not _ENDPOINT_RE.match(endpoint):
        raise ConfigError("windows_registry_storage_s3_regionendpoint=%r: give the endpoint's base URL, such as "
                          "https://minio.example.com:9000 (scheme, host and port, no path)." % endpoint)
    if endpoint.startswith("http://") and secure:
        raise ConfigError("windows_registry_storage_s3_regionendpoint=%r is plain HTTP while windows_registry_storage_s3_secure is true: "
                          "use an https:// endpoint, or set windows_registry_storage_s3_secure: false to send the data "
                          "unencrypted." % endpoint)
    if endpoint.startswith("https://") and not secure:
        raise ConfigError("windows_registry_storage_s3_secure is false but windows_registry_storage_s3_regionendpoint=%r is https: "
                          "set windows_registry_storage_s3_secure: true (the default)." % endpoint)
    if bool(s3.get("accesskey")) != bool(s3.get("secretkey")):
        raise ConfigError("windows_registry_storage_s3_accesskey and windows_registry_storage_s3_secretkey go together: set both, "
                          "or neither to use the host's instance role or environment credentials.")
    if s3.get("skipverify") and s3.get("ca"):
        raise ConfigError("windows_registry_storage_s3_skipverify and windows_registry_storage_s3_ca exclude each other: "
                          "with the endpoint's CA given, leave skipverify false.")
    params = {"bucket": bucket, "region": str(s3.get("region") or "us-east-1"), "secure": secure, "v4auth": True}
    if endpoint:
        params["regionendpoint"] = endpoint.rstrip("/")
        # v2 always makes path-style requests to a regionendpoint; v3 asks (S3-compatible stores mostly need it).
        if major >= 3:
            params["forcepathstyle"] = bool(s3.get("forcepathstyle", True))
    elif major >= 3 and s3.get("forcepathstyle"):
        params["forcepathstyle"] = True
    if s3.get("accesskey"):
        params["accesskey"] = str(s3["accesskey"])
        params["secretkey"] = str(s3["secretkey"])
    if s3.get("skipverify"):
        params["skipverify"] = True
    if str(s3.get("rootdirectory") or "").strip("/"):
        params["rootdirectory"] = _root(s3["rootdirectory"])
    return params


def _azure(major, azure):
    missing = [key for key in ("accountname", "accountkey", "container") if not azure.get(key)]
    if missing:
        raise ConfigError("windows_registry_storage=azure needs %s." % ", ".join("windows_registry_storage_azure_" + key for key in missing))
    container = str(azure["container"])
    if not _AZURE_CONTAINER_RE.match(container):
        raise ConfigError("windows_registry_storage_azure_container=%r is not a Blob container name: use 3-63 lower-case letters, "
                          "digits and single '-', starting and ending with a letter or digit." % container)
    params = {
        "accountname": str(azure["accountname"]),
        "accountkey": str(azure["accountkey"]),
        "container": container,
        "realm": str(azure.get("realm") or "core.windows.net"),
    }
    root = str(azure.get("rootdirectory") or "").strip("/")
    if major >= 3:  # v3 names the credential type; v2 knows only the shared key, and no rootdirectory
        params["credentials"] = {"type": "shared_key", "accountname": params["accountname"], "accountkey": params["accountkey"]}
        if root:
            params["rootdirectory"] = _root(root)
    elif root:
        raise ConfigError("windows_registry_storage_azure_rootdirectory needs distribution 3 (the azure driver of 2.x has no "
                          "rootdirectory): leave it empty, or use windows_registry_version 3.0.0.")
    return params


def storage_identity(config):
    """{"driver": name, "location": {...}} of a config mapping: where it keeps its data, without any secret."""
    storage = (config or {}).get("storage") or {}
    drivers = sorted(k for k in storage if k not in NOT_DRIVERS)
    if not drivers:
        return {"driver": "filesystem", "location": {}}
    name = drivers[0]
    params = storage.get(name) or {}
    keys = LOCATION_KEYS.get(name)
    if keys is None:  # another driver (gcs, inmemory, ...): every parameter but credentials names the place
        keys = tuple(k for k in sorted(params) if not re.search(r"key|secret|credential|password|token", k, re.I))
    location = {k: str(params[k]).rstrip("/") for k in keys if params.get(k) not in (None, "")}
    if name == "azure":
        location.setdefault("realm", "core.windows.net")
    if name == "s3":
        location.setdefault("region", "us-east-1")
    return {"driver": name, "location": location}


def describe(identity):
    """One line naming a storage identity, for messages."""
    where = ", ".join("%s=%s" % item for item in sorted(identity["location"].items()))
    return "%s (%s)" % (identity["driver"], where or "defaults")
