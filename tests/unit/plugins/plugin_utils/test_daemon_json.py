# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json merge: keys and order kept, encodings kept, own entries only."""

from __future__ import annotations

import codecs
import json

import pytest

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _daemon_json as D

PATH = "C:\\ProgramData\\Docker\\config\\daemon.json"
REG = "registry.local:5000"

# As Docker Desktop / an operator leaves it: unmanaged keys, odd order, 4-space indent.
EXISTING = """{
    "log-driver": "json-file",
    "insecure-registries": ["10.0.0.9:5000"],
    "debug": true,
    "storage-opts": ["size=120GB"]
}
"""


def merged_bytes(data, settings, state="present"):
    config, style = D.parse(data, PATH)
    new, changes = D.merge(config, settings, state)
    return (D.render(new, style) if new != config or data is None else data), changes


def test_existing_keys_and_order_are_kept_and_the_entry_is_appended():
    out, changes = merged_bytes(EXISTING.encode(), {"insecure-registries": [REG]})
    config = json.loads(out)
    assert list(config) == ["log-driver", "insecure-registries", "debug", "storage-opts"]
    assert config["insecure-registries"] == ["10.0.0.9:5000", REG]
    assert config["storage-opts"] == ["size=120GB"] and config["debug"] is True
    assert changes == ["insecure-registries: add " + REG]
    assert out.decode().startswith('{\n    "log-driver"'), "the file's 4-space indent is kept"
    assert out.endswith(b"}\n")


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", b""),
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16-le", b""),
])
def test_each_encoding_is_kept(encoding, bom):
    original = bom + EXISTING.replace("\n", "\r\n").encode(encoding)
    out, dummy = merged_bytes(original, {"insecure-registries": [REG]})
    assert out.startswith(bom) if bom else not out.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    text = out[len(bom):].decode(encoding)
    assert "\r\n" in text and "\n" not in text.replace("\r\n", ""), "CRLF kept"
    assert json.loads(text)["insecure-registries"][-1] == REG
    if encoding.startswith("utf-16"):
        assert b"\x00" in out


def test_powershell_5_1_out_file_utf16_with_tabs_and_non_ascii():
    # Windows PowerShell 5.1 `Set-Content -Encoding Unicode`: UTF-16 LE with BOM; an operator's tabs.
    text = '{\r\n\t"labels": ["site=Zürich"],\r\n\t"registry-mirrors": []\r\n}'
    original = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    out, dummy = merged_bytes(original, {"registry-mirrors": ["https://mirror.local"]})
    assert out.startswith(codecs.BOM_UTF16_LE)
    decoded = out[2:].decode("utf-16-le")
    assert decoded == '{\r\n\t"labels": [\r\n\t\t"site=Zürich"\r\n\t],\r\n\t"registry-mirrors": [\r\n\t\t"https://mirror.local"\r\n\t]\r\n}'
    assert not decoded.endswith("\n"), "no final newline added when the file had none"


def test_odd_spacing_is_read_and_rewritten_only_on_change():
    odd = b'  {"debug":true ,   "insecure-registries" :[ "registry.local:5000" ]}  '
    out, changes = merged_bytes(odd, {"insecure-registries": [REG]})
    assert out == odd and changes == [], "nothing to change: the bytes stay as they are"
    out, changes = merged_bytes(odd, {"registry-mirrors": ["https://m.local"]})
    assert json.loads(out) == {"debug": True, "insecure-registries": [REG], "registry-mirrors": ["https://m.local"]}


def test_empty_and_whitespace_file_become_an_object():
    for data in (b"", b"  \r\n", codecs.BOM_UTF8):
        out, changes = merged_bytes(data, {"insecure-registries": [REG]})
        assert json.loads(out.decode("utf-8-sig")) == {"insecure-registries": [REG]}
        assert changes


def test_absent_file_is_created_utf8_without_bom_two_spaces():
    out, dummy = merged_bytes(None, {"insecure-registries": [REG]})
    assert out == b'{\n  "insecure-registries": [\n    "registry.local:5000"\n  ]\n}\n'


@pytest.mark.parametrize("data, fragment", [
    (b'{"debug": true,}', "is not valid JSON: Expecting property name"),
    (b'["a"]', "holds a JSON list, not an object"),
    (b'\xff\xfe\x00\xd8', "is not valid UTF-16-LE text"),
    (b'{"a": "\xe9"}', "is not valid UTF-8 text"),
])
def test_malformed_file_fails_naming_the_path_and_the_error(data, fragment):
    with pytest.raises(D.DaemonJsonError) as failure:
        D.parse(data, PATH)
    assert PATH in str(failure.value) and fragment in str(failure.value)
    assert "nothing was changed" in str(failure.value)


def test_wrong_type_of_a_managed_key_fails():
    config, dummy = D.parse(b'{"insecure-registries": "registry.local:5000"}', PATH)
    with pytest.raises(D.DaemonJsonError, match="insecure-registries is a str in daemon.json, not a list"):
        D.merge(config, {"insecure-registries": [REG]})


def test_duplicates_are_not_added_twice():
    config, dummy = D.parse(EXISTING.encode(), PATH)
    new, changes = D.merge(config, {"insecure-registries": [REG, REG, "10.0.0.9:5000"], "registry-mirrors": ["https://m.local/"]})
    assert new["insecure-registries"] == ["10.0.0.9:5000", REG]
    again, more = D.merge(new, {"registry-mirrors": ["https://m.local"]})
    assert again == new and more == [], "a mirror with or without the trailing slash is the same mirror"
    assert changes == ["insecure-registries: add " + REG, "registry-mirrors: add https://m.local/"]


def test_idempotence_second_merge_changes_nothing():
    settings = {"insecure-registries": [REG], "registry-mirrors": ["https://m.local"], "allow-nondistributable-artifacts": [REG],
                "proxies": {"http-proxy": "http://proxy:3128", "no-proxy": "localhost,registry.local"}}
    first, dummy = merged_bytes(EXISTING.encode(), settings)
    second, changes = merged_bytes(first, settings)
    assert second == first and changes == []


def test_absent_removes_only_own_entries_and_keeps_emptied_lists_for_the_reload():
    data = b'{"insecure-registries": ["10.0.0.9:5000", "registry.local:5000"], "registry-mirrors": ["https://m.local/"],' \
           b' "proxies": {"http-proxy": "http://proxy:3128", "https-proxy": "http://other:3128"}, "debug": true}'
    config, dummy = D.parse(data, PATH)
    settings = {"insecure-registries": [REG], "registry-mirrors": ["https://m.local"],
                "proxies": {"http-proxy": "http://proxy:3128", "https-proxy": "http://mine:3128"}}
    new, changes = D.merge(config, settings, "absent")
    assert new == {"insecure-registries": ["10.0.0.9:5000"], "registry-mirrors": [], "proxies": {"https-proxy": "http://other:3128"},
                   "debug": True}
    assert sorted(changes) == ["insecure-registries: remove registry.local:5000", "proxies: remove http-proxy",
                               "registry-mirrors: remove https://m.local/"]
    again, none = D.merge(new, settings, "absent")
    assert again == new and none == []


def test_absent_on_an_empty_list_the_operator_wrote_keeps_it():
    config, dummy = D.parse(b'{"insecure-registries": []}', PATH)
    new, changes = D.merge(config, {"insecure-registries": [REG]}, "absent")
    assert new == {"insecure-registries": []} and changes == []


def test_absent_empties_a_list_rather_than_dropping_it_and_drops_an_emptied_proxies():
    config, dummy = D.parse(b'{"insecure-registries": ["registry.local:5000"], "proxies": {"no-proxy": "x"}}', PATH)
    new, dummy = D.merge(config, {"insecure-registries": [REG], "proxies": {"no-proxy": "x"}}, "absent")
    assert new == {"insecure-registries": []}, "SIGHUP applies only keys the file sets: [] resets the daemon's list"


def test_unknown_proxy_key_is_refused():
    with pytest.raises(D.DaemonJsonError, match="proxies: unknown key"):
        D.merge({}, {"proxies": {"ftp-proxy": "x"}})


@pytest.mark.parametrize("version, major", [("20.10.24+dfsg1", 20), ("28.2.2", 28), ("v27.5.1", 27)])
def test_engine_major(version, major):
    assert D.engine_major({"Version": version}) == major


def test_docker_info_shows_insecure_registries_by_name_and_cidr():
    registry_config = {"IndexConfigs": {"docker.io": {"Secure": True}, "198.18.0.1:5000": {"Name": "198.18.0.1:5000", "Secure": False}},
                       "InsecureRegistryCIDRs": ["127.0.0.0/8", "10.9.0.0/16"], "Mirrors": ["https://m.local/"]}
    info = {"RegistryConfig": registry_config}
    assert D.unmet(info, {"insecure_present": ["198.18.0.1:5000", "10.9.0.0/16"], "mirrors_present": ["https://m.local"]}) == []
    assert D.unmet(info, {"insecure_present": ["docker.io", "registry.local:5000"], "insecure_absent": ["198.18.0.1:5000"]}) == [
        "insecure registry docker.io not listed", "insecure registry registry.local:5000 not listed",
        "insecure registry 198.18.0.1:5000 still listed"]
