# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows builds and base image tags (plugins/plugin_utils/_windows.py).

Microsoft's version compatibility table: Windows Server 2019 is build 17763 (ltsc2019), 2022 is 20348
(ltsc2022), 2025 is 26100 (ltsc2025). Ansible's ``ansible_kernel`` on Windows reads like ``10.0.20348.0``.
"""

from __future__ import annotations

import pytest

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _windows


@pytest.mark.parametrize("version, build", [
    ("10.0.17763.0", 17763),
    ("10.0.17763.6414", 17763),
    ("10.0.20348.0", 20348),
    ("10.0.20348.2762", 20348),
    ("10.0.26100.1742", 26100),
    (" 10.0.26100", 26100),
])
def test_host_build(version, build):
    assert _windows.host_build(version) == build


@pytest.mark.parametrize("version, tag", [
    ("10.0.17763.6414", "ltsc2019"),
    ("10.0.20348.2762", "ltsc2022"),
    ("10.0.26100.1742", "ltsc2025"),
])
def test_base_tag_of_each_ltsc_build(version, tag):
    assert _windows.base_tag(_windows.host_build(version)) == tag


def test_images_of_both_families():
    assert _windows.NANOSERVER == "mcr.microsoft.com/windows/nanoserver"
    assert _windows.SERVERCORE == "mcr.microsoft.com/windows/servercore"


@pytest.mark.parametrize("build", [19041, 14393, 20349, 0])
def test_unknown_build_names_the_variable_and_the_known_builds(build):
    with pytest.raises(_windows.WindowsBuildError) as failure:
        _windows.base_tag(build)
    message = str(failure.value)
    assert message.startswith("Windows build %d has no matching base image tag" % build)
    assert "17763=ltsc2019, 20348=ltsc2022, 26100=ltsc2025" in message
    assert "windows_registry_base_image_tag" in message
    assert "windows_registry_isolation: hyperv" in message


@pytest.mark.parametrize("version", ["", None, "Windows Server 2022", "10.0", "ltsc2022"])
def test_unreadable_version_asks_for_facts_or_the_variable(version):
    with pytest.raises(_windows.WindowsBuildError) as failure:
        _windows.host_build(version)
    message = str(failure.value)
    assert message.startswith("cannot read a Windows build from %r" % (version,))
    assert "10.0.20348.0" in message
    assert "windows_registry_base_image_tag" in message


def test_override_wins_even_for_an_unknown_build():
    assert _windows.base_tag(20348, override="ltsc2019") == "ltsc2019"
    assert _windows.base_tag(19041, override="20H2") == "20H2"


def test_a_non_numeric_build_is_an_unknown_build():
    with pytest.raises(_windows.WindowsBuildError, match="Windows build abc has no matching base image tag"):
        _windows.base_tag("abc")
