# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dockerwin.registry.windows_base_tag filter, alone and as roles/windows_registry/vars/Windows.yml uses it."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.dockerwin.registry.plugins.filter import windows_base_tag as plugin

WINDOWS_VARS = Path(__file__).resolve().parents[4] / "roles" / "windows_registry" / "vars" / "Windows.yml"


@pytest.mark.parametrize("version, tag", [
    ("10.0.17763.6414", "ltsc2019"),
    ("10.0.20348.0", "ltsc2022"),
    ("10.0.26100.1742", "ltsc2025"),
])
def test_filter_maps_the_kernel_fact_to_the_ltsc_tag(version, tag):
    assert plugin.windows_base_tag(version) == tag


def test_filter_is_registered_under_its_name():
    assert plugin.FilterModule().filters() == {"windows_base_tag": plugin.windows_base_tag}


def test_override_wins_even_without_facts():
    assert plugin.windows_base_tag("", "ltsc2022") == "ltsc2022"
    assert plugin.windows_base_tag("10.0.19041.1", "ltsc2019") == "ltsc2019"


def test_unknown_build_is_a_filter_error_naming_the_variable():
    with pytest.raises(AnsibleFilterError) as failure:
        plugin.windows_base_tag("10.0.19041.1415")
    assert "Windows build 19041 has no matching base image tag" in str(failure.value)
    assert "windows_registry_base_image_tag" in str(failure.value)


def test_missing_fact_is_a_filter_error_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match="cannot read a Windows build from ''.*windows_registry_base_image_tag"):
        plugin.windows_base_tag("")


def _base_tag_expression(facts, override=""):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["dockerwin.registry.windows_base_tag"] = plugin.windows_base_tag
    expression = yaml.safe_load(WINDOWS_VARS.read_text())["__windows_registry_base_tag"]
    return env.from_string(expression).render(ansible_facts=facts, windows_registry_base_image_tag=override).strip()


def test_role_expression_reads_the_kernel_fact():
    assert _base_tag_expression({"kernel": "10.0.26100.1742", "distribution_version": "10.0.17763.0"}) == "ltsc2025"


def test_role_expression_falls_back_to_distribution_version():
    assert _base_tag_expression({"distribution_version": "10.0.17763.0"}) == "ltsc2019"


def test_role_expression_takes_the_operators_tag():
    assert _base_tag_expression({"kernel": "10.0.26100.1742"}, override="ltsc2022") == "ltsc2022"
