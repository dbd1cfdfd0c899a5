# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry's config.yml (plugins/plugin_utils/_config.py).

The golden files in golden/ were written by hand from distribution's own example configuration,
``cmd/registry/config-example.yml`` at tags v2.8.3 and v3.0.0 (quoted below as UPSTREAM_*), with the
collection's documented choices applied:
- no ``auth`` section: the role runs the registry without authentication by default (the example's htpasswd
  path ``/etc/registry`` is not mounted);
- ``storage.delete.enabled`` from ``windows_registry_storage_delete`` (distribution documents it under
  ``storage.delete``);
- ``storage.filesystem.rootdirectory``: the data folder inside the container (``/var/lib/registry``, or
  ``C:\\data`` on Windows);
- stable text: a "managed" header line, keys sorted, block style, so the same config gives the same digest.
v3 differs from v2 only by ``storage.tag.concurrencylimit: 8``; both read ``version: 0.1``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _config

GOLDEN = Path(__file__).parent / "golden"

# distribution v2.8.3, cmd/registry/config-example.yml
UPSTREAM_V2 = """\
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: basic-realm
    path: /etc/registry
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""
# distribution v3.0.0, cmd/registry/config-example.yml: v2.8.3's plus storage.tag.concurrencylimit
UPSTREAM_V3 = UPSTREAM_V2.replace(
    "    rootdirectory: /var/lib/registry\n", "    rootdirectory: /var/lib/registry\n  tag:\n    concurrencylimit: 8\n"
)


def golden(name):
    return (GOLDEN / name).read_text()


def upstream_as_the_collection_runs_it(text, data_dir="/var/lib/registry", delete=False):
    config = yaml.safe_load(text)
    del config["auth"]
    config["storage"]["delete"] = {"enabled": delete}
    config["storage"]["filesystem"]["rootdirectory"] = data_dir
    return config


# -- golden files ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2.8.3", "v2.8.3", "2.8.0"])
def test_v2_config_matches_the_golden_file(version):
    assert _config.render(_config.build_config(version, "/var/lib/registry")) == golden("config-v2.yml")


@pytest.mark.parametrize("version", ["3.0.0", "v3.0.0", "3.0.0-rc.1", "3.1.1"])
def test_v3_config_matches_the_golden_file(version):
    assert _config.render(_config.build_config(version, "/var/lib/registry")) == golden("config-v3.yml")


def test_windows_config_matches_the_golden_file():
    text = _config.render(_config.build_config("3.0.0", "C:\\data", delete_enabled=True))
    assert text == golden("config-v3-windows.yml")
    assert yaml.safe_load(text)["storage"]["filesystem"]["rootdirectory"] == "C:\\data"


@pytest.mark.parametrize("name, upstream", [("config-v2.yml", UPSTREAM_V2), ("config-v3.yml", UPSTREAM_V3)])
def test_golden_files_are_distributions_example_as_the_collection_runs_it(name, upstream):
    assert yaml.safe_load(golden(name)) == upstream_as_the_collection_runs_it(upstream)


def test_both_majors_read_version_0_1_and_only_v3_has_tag_concurrency():
    v2 = _config.build_config("2.8.3", "/data")
    v3 = _config.build_config("3.0.0", "/data")
    assert v2["version"] == v3["version"] == 0.1
    assert "version: 0.1\n" in _config.render(v2)
    assert "tag" not in v2["storage"]
    assert v3["storage"]["tag"] == {"concurrencylimit": 8}
    del v3["storage"]["tag"]
    assert v2 == v3


def test_digest_is_the_sha256_of_the_rendered_text():
    text = golden("config-v3-windows.yml")
    assert _config.digest(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert _config.digest(text) != _config.digest(golden("config-v3.yml"))


def test_rendering_is_stable_whatever_the_order_of_extra_keys():
    a = _config.build_config("3.0.0", "/d", extra={"http": {"secret": "s", "host": "https://r.example"}, "log": {"level": "info"}})
    b = _config.build_config("3.0.0", "/d", extra={"log": {"level": "info"}, "http": {"host": "https://r.example", "secret": "s"}})
    assert _config.render(a) == _config.render(b)


# -- deep merge of windows_registry_config_extra -----------------------------------------------------------
def test_extra_adds_keys_and_keeps_their_siblings():
    config = _config.build_config("3.0.0", "/var/lib/registry", extra={
        "http": {"secret": "same-on-every-replica", "headers": {"Access-Control-Allow-Origin": ["*"]}},
        "log": {"level": "debug"},
        "storage": {"maintenance": {"readonly": {"enabled": True}}},
    })
    assert config["http"] == {
        "addr": ":5000",
        "secret": "same-on-every-replica",
        "headers": {"X-Content-Type-Options": ["nosniff"], "Access-Control-Allow-Origin": ["*"]},
    }
    assert config["log"] == {"fields": {"service": "registry"}, "level": "debug"}
    assert config["storage"]["maintenance"] == {"readonly": {"enabled": True}}
    assert config["storage"]["filesystem"] == {"rootdirectory": "/var/lib/registry"}


def test_extra_lists_and_scalars_replace():
    config = _config.build_config("3.0.0", "/d", extra={
        "http": {"addr": "0.0.0.0:5443", "headers": {"X-Content-Type-Options": ["nosniff", "other"]}},
        "health": {"storagedriver": {"threshold": 5}},
    })
    assert config["http"]["addr"] == "0.0.0.0:5443"
    assert config["http"]["headers"]["X-Content-Type-Options"] == ["nosniff", "other"]
    assert config["health"]["storagedriver"] == {"enabled": True, "interval": "10s", "threshold": 5}


def test_extra_null_removes_a_key():
    config = _config.build_config("3.0.0", "/d", extra={"health": None, "storage": {"cache": None}, "http": {"headers": None}})
    assert "health" not in config
    assert "cache" not in config["storage"]
    assert config["http"] == {"addr": ":5000"}
    assert "health:" not in _config.render(config)


def test_extra_can_replace_the_storage_driver():
    s3 = {"region": "us-east-1", "bucket": "registry", "regionendpoint": "http://127.0.0.1:9000", "secure": False}
    config = _config.build_config("3.0.0", "/d", extra={"storage": {"filesystem": None, "s3": s3, "redirect": {"disable": True}}})
    assert config["storage"]["s3"] == s3
    assert "filesystem" not in config["storage"]
    assert config["storage"]["redirect"] == {"disable": True}


def test_deep_merge_leaves_its_inputs_alone():
    base = {"a": {"b": 1, "c": [1]}}
    extra = {"a": {"c": [2], "d": None}}
    merged = _config.deep_merge(base, extra)
    assert merged == {"a": {"b": 1, "c": [2]}}
    merged["a"]["c"].append(3)
    assert base == {"a": {"b": 1, "c": [1]}}
    assert extra == {"a": {"c": [2], "d": None}}


def test_two_storage_drivers_are_refused_naming_the_variable():
    with pytest.raises(_config.ConfigError) as failure:
        _config.build_config("3.0.0", "/d", extra={"storage": {"s3": {"bucket": "registry"}}})
    message = str(failure.value)
    assert "windows_registry_config_extra" in message
    assert "filesystem" in message and "s3" in message
    assert "storage.filesystem to null" in message


def test_no_storage_driver_is_refused_too():
    with pytest.raises(_config.ConfigError, match="windows_registry_config_extra.storage leaves 0 storage drivers"):
        _config.build_config("3.0.0", "/d", extra={"storage": {"filesystem": None}})


def test_v2_refuses_storage_tag_from_extra():
    with pytest.raises(_config.ConfigError, match="windows_registry_config_extra"):
        _config.build_config("2.8.3", "/d", extra={"storage": {"tag": {"concurrencylimit": 4}}})


# -- versions --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version, major", [("2.8.3", 2), ("v2.8.3", 2), ("3.0.0", 3), ("v3.0.0", 3), ("3.0.0-rc.1", 3), (" 3.1.1 ", 3)])
def test_major_version(version, major):
    assert _config.major_version(version) == major


@pytest.mark.parametrize("version", ["latest", "", "3", "3.0", "1.0.0", "4.0.0", "v", "2.8", "release-3.0.0"])
def test_bad_versions_are_refused_naming_the_variable(version):
    with pytest.raises(_config.ConfigError) as failure:
        _config.build_config(version, "/d")
    message = str(failure.value)
    assert message.startswith("windows_registry_version=%r" % version)
    assert "2.8.3 or 3.0.0" in message


# -- values Ansible hands over ----------------------------------------------------------------------------------
class TaggedStr(str):
    """Stands in for the str subclasses Ansible passes to action plugins."""


class TaggedDict(dict):
    pass


def test_plain_turns_subclasses_into_types_yaml_can_write():
    value = _config.plain(TaggedDict(a=TaggedStr("x"), b=[TaggedStr("y"), 1, 1.5, True, None], c=(1, 2)))
    assert value == {"a": "x", "b": ["y", 1, 1.5, True, None], "c": [1, 2]}
    # Exact types on purpose: Ansible's tagged values are subclasses of dict and str.
    assert type(value) is dict and type(value["a"]) is str and type(value["b"][0]) is str  # pylint: disable=unidiomatic-typecheck
    assert type(value["b"][3]) is bool  # pylint: disable=unidiomatic-typecheck


def test_extra_with_ansible_tagged_values_renders():
    tags = pytest.importorskip("ansible._internal._datatag._tags")
    origin = tags.Origin(path="/inventory/group_vars/registry.yml", line_num=3)
    extra = origin.tag({"http": origin.tag({"secret": origin.tag("s3cr3t")})})
    with pytest.raises(yaml.representer.RepresenterError):
        yaml.safe_dump(extra)  # why plain() exists
    text = _config.render(_config.build_config("3.0.0", "/d", extra=extra))
    assert yaml.safe_load(text)["http"]["secret"] == "s3cr3t"


# -- pull-through cache (windows_registry_proxy_*) ------------------------------------------------------------
def test_proxy_section_renders_remoteurl_and_credentials_and_redact_hides_the_password():
    assert _config.proxy_section() == {}
    assert _config.proxy_section("http://10.0.0.7:5000") == {"proxy": {"remoteurl": "http://10.0.0.7:5000"}}
    section = _config.proxy_section("https://registry-1.docker.io", "mirror", "up-pw-1")
    config = _config.build_config("2.8.3", "/var/lib/registry", extra=section)
    assert config["proxy"] == {"remoteurl": "https://registry-1.docker.io", "username": "mirror", "password": "up-pw-1"}
    shown = _config.render(_config.redact(config, "VALUE_REDACTED (kept in /x)"))
    assert "up-pw-1" not in shown and "password: VALUE_REDACTED" in shown and "remoteurl: https://registry-1.docker.io" in shown
    assert config["proxy"]["password"] == "up-pw-1", "redact works on a copy"


@pytest.mark.parametrize("args, message", [
    (("", "mirror", "up-pw-1"), "are given without windows_registry_proxy_remote_url"),
    (("", "", "up-pw-1"), "are given without windows_registry_proxy_remote_url"),
    (("registry-1.docker.io", "", ""), "windows_registry_proxy_remote_url='registry-1.docker.io': give the upstream registry's URL"),
    (("https://registry-1.docker.io", "mirror", ""), "windows_registry_proxy_username and windows_registry_proxy_password go together"),
])
def test_bad_proxy_settings_are_refused_naming_the_variable_never_the_password(args, message):
    with pytest.raises(_config.ConfigError) as failure:
        _config.proxy_section(*args)
    assert message in str(failure.value) and "up-pw-1" not in str(failure.value)
