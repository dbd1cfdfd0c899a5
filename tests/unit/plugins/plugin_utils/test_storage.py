# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage backends (#9 storage): plugins/plugin_utils/_storage.py, the storage part of _config, the storage_error filter.

The expected parameters are those distribution's drivers document (storage-drivers/s3 and azure of v2.8 and v3.0):
s3 takes accesskey, secretkey, region, regionendpoint, bucket, secure, skipverify, v4auth, rootdirectory (and
forcepathstyle from v3; 2.x always makes path-style requests to a regionendpoint); azure takes accountname,
accountkey, container, realm (v3 also credentials.type and rootdirectory).
"""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.dockerwin.registry.plugins.filter.storage_error import storage_error
from ansible_collections.dockerwin.registry.plugins.plugin_utils import _config, _storage

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCOUNT_KEY = "c2VjcmV0LWFjY291bnQta2V5LWZvci10ZXN0cw=="
S3 = {"bucket": "registry-data", "region": "eu-west-1", "regionendpoint": "https://minio.example.com:9000",
      "accesskey": "AKIAEXAMPLE", "secretkey": SECRET, "secure": True, "rootdirectory": "/team-a/"}
AZURE = {"accountname": "acme", "accountkey": ACCOUNT_KEY, "container": "registry", "realm": ""}


def render(version, backend, **kwargs):
    driver = _storage.storage_driver(backend, version, "/var/lib/registry", **kwargs)
    return _config.build_config(version, "/var/lib/registry", extra=None, driver=driver)


@pytest.mark.parametrize("version", ["2.8.3", "3.0.0"])
def test_filesystem_is_the_default_and_unchanged(version):
    assert render(version, "filesystem") == _config.build_config(version, "/var/lib/registry")
    assert render(version, "filesystem")["storage"]["filesystem"] == {"rootdirectory": "/var/lib/registry"}


def test_s3_v2_renders_the_documented_parameters():
    config = render("2.8.3", "s3", s3=S3)
    assert config["storage"]["s3"] == {
        "bucket": "registry-data", "region": "eu-west-1", "regionendpoint": "https://minio.example.com:9000",
        "accesskey": "AKIAEXAMPLE", "secretkey": SECRET, "secure": True, "v4auth": True, "rootdirectory": "/team-a",
    }
    assert "filesystem" not in config["storage"], "exactly one driver"
    assert config["storage"]["redirect"] == {"disable": True}, "clients need only the registry, not the store"
    assert _storage.storage_driver("s3", "2.8.3", "/d", s3=S3, redirect=True)["redirect"] == {"disable": False}
    assert config["storage"]["cache"] == {"blobdescriptor": "inmemory"} and "tag" not in config["storage"]


def test_s3_v3_adds_forcepathstyle_for_an_endpoint_only():
    config = render("3.0.0", "s3", s3=S3)
    assert config["storage"]["s3"]["forcepathstyle"] is True
    assert config["storage"]["tag"] == {"concurrencylimit": 8}
    aws = render("3.0.0", "s3", s3={"bucket": "registry-data"})["storage"]["s3"]
    assert aws == {"bucket": "registry-data", "region": "us-east-1", "secure": True, "v4auth": True}, "AWS: instance role, no endpoint"
    assert render("3.0.0", "s3", s3=dict(S3, forcepathstyle=False))["storage"]["s3"]["forcepathstyle"] is False


def test_s3_plain_http_endpoint_needs_secure_false():
    with pytest.raises(_config.ConfigError, match="windows_registry_storage_s3_secure: false"):
        render("3.0.0", "s3", s3=dict(S3, regionendpoint="http://127.0.0.1:9000"))
    params = render("3.0.0", "s3", s3=dict(S3, regionendpoint="http://127.0.0.1:9000", secure=False))["storage"]["s3"]
    assert params["secure"] is False and params["regionendpoint"] == "http://127.0.0.1:9000"
    with pytest.raises(_config.ConfigError, match="set windows_registry_storage_s3_secure: true"):
        render("3.0.0", "s3", s3=dict(S3, secure=False))


@pytest.mark.parametrize("s3, words", [
    ({}, "needs windows_registry_storage_s3_bucket"),
    ({"bucket": "Registry_Data"}, "windows_registry_storage_s3_bucket='Registry_Data' is not an S3 bucket name"),
    ({"bucket": "ok-bucket", "regionendpoint": "minio:9000"}, "windows_registry_storage_s3_regionendpoint='minio:9000': give"),
    ({"bucket": "ok-bucket", "regionendpoint": "https://minio:9000/path"}, "no path"),
    ({"bucket": "ok-bucket", "accesskey": "AKIA"}, "accesskey and windows_registry_storage_s3_secretkey go together"),
    ({"bucket": "ok-bucket", "accesskey": "", "secretkey": SECRET}, "go together"),
    ({"bucket": "ok-bucket", "skipverify": True, "ca": "-----BEGIN CERTIFICATE-----"}, "exclude each other"),
])
def test_s3_errors_name_the_variable_and_never_the_secret(s3, words):
    with pytest.raises(_config.ConfigError) as error:
        render("3.0.0", "s3", s3=s3)
    assert words in str(error.value)
    assert SECRET not in str(error.value)
    assert storage_error("s3", "3.0.0", s3) == str(error.value), "the role's validate.yml sees the same message"


def test_azure_v2_and_v3():
    v2 = render("2.8.3", "azure", azure=AZURE)["storage"]["azure"]
    assert v2 == {"accountname": "acme", "accountkey": ACCOUNT_KEY, "container": "registry", "realm": "core.windows.net"}
    assert render("2.8.3", "azure", azure=AZURE)["storage"]["redirect"] == {"disable": True}
    v3 = render("3.0.0", "azure", azure=dict(AZURE, realm="core.chinacloudapi.cn", rootdirectory="reg"))["storage"]["azure"]
    assert v3["credentials"] == {"type": "shared_key", "accountname": "acme", "accountkey": ACCOUNT_KEY}
    assert v3["realm"] == "core.chinacloudapi.cn" and v3["rootdirectory"] == "/reg"


@pytest.mark.parametrize("azure, version, words", [
    ({"accountname": "acme"}, "3.0.0", "needs windows_registry_storage_azure_accountkey, windows_registry_storage_azure_container"),
    (dict(AZURE, container="Bad--Name"), "3.0.0", "windows_registry_storage_azure_container='Bad--Name' is not a Blob container name"),
    (dict(AZURE, rootdirectory="x"), "2.8.3", "windows_registry_storage_azure_rootdirectory needs distribution 3"),
])
def test_azure_errors(azure, version, words):
    with pytest.raises(_config.ConfigError, match=words):
        render(version, "azure", azure=azure)
    assert ACCOUNT_KEY not in storage_error("azure", version, azure=azure)


def test_unknown_backend_and_the_filter_passing():
    with pytest.raises(_config.ConfigError, match="windows_registry_storage='gcs': use one of filesystem, s3, azure"):
        render("3.0.0", "gcs")
    assert storage_error("s3", "3.0.0", S3) == ""
    assert storage_error("filesystem", "3.0.0") == ""


def test_redact_hides_the_storage_secrets_and_nothing_else():
    for config in (render("3.0.0", "s3", s3=S3), render("3.0.0", "azure", azure=AZURE), render("2.8.3", "azure", azure=AZURE)):
        text = _config.render(config)
        shown = _config.render(_config.redact(config, "REDACTED"))
        assert SECRET not in shown and ACCOUNT_KEY not in shown
        assert shown.count("VALUE_REDACTED") == text.count(SECRET) + text.count(ACCOUNT_KEY)
        assert yaml.safe_load(shown)["storage"].keys() == config["storage"].keys()


def test_identity_names_the_place_not_the_credentials():
    s3 = _storage.storage_identity(render("3.0.0", "s3", s3=S3))
    assert s3 == {"driver": "s3", "location": {"bucket": "registry-data", "region": "eu-west-1",
                                               "regionendpoint": "https://minio.example.com:9000", "rootdirectory": "/team-a"}}
    assert SECRET not in repr(s3)
    rotated = _storage.storage_identity(render("3.0.0", "s3", s3=dict(S3, accesskey="OTHER", secretkey="other-secret")))
    assert rotated == s3, "new credentials are not a new backend"
    assert _storage.storage_identity(render("3.0.0", "s3", s3=dict(S3, bucket="other-bucket"))) != s3
    assert _storage.storage_identity(render("2.8.3", "s3", s3=S3)) == s3, "same place whatever the major version"
    fs = _storage.storage_identity(render("3.0.0", "filesystem"))
    assert fs == {"driver": "filesystem", "location": {"rootdirectory": "/var/lib/registry"}}
    assert _storage.storage_identity(render("3.0.0", "azure", azure=AZURE))["location"] == {
        "accountname": "acme", "container": "registry", "realm": "core.windows.net"}
    assert _storage.describe(fs) == "filesystem (rootdirectory=/var/lib/registry)"
