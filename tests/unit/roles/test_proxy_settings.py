# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""windows_registry's pull-through cache variables (windows_registry_proxy_*): validate.yml refuses bad combinations
before anything changes, naming the variable and the fix and never the password; host.yml hands them to registry_config."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.dockerwin.registry.tests.unit.roles.role_vars import ROLE, LINUX_FACTS, WINDOWS_FACTS, Role, collection_loader, task_file

PASSWORD = "up-pw-1"


@pytest.fixture(scope="module", autouse=True)
def _loader(collection_root):
    with collection_loader(collection_root):
        yield


def check(platform="Linux", **overrides):
    task = next(t for t in task_file("validate.yml") if t["name"] == "Check the pull-through cache settings")
    facts = LINUX_FACTS if platform == "Linux" else WINDOWS_FACTS["2022"]
    return Role(platform, facts, **overrides).assert_task(task)


@pytest.mark.parametrize("platform", ["Linux", "Windows"])
def test_no_proxy_and_a_full_proxy_pass(platform):
    assert check(platform) == (True, "")
    assert check(platform, windows_registry_proxy_remote_url="https://registry-1.docker.io", windows_registry_proxy_username="mirror",
                 windows_registry_proxy_password=PASSWORD) == (True, "")
    assert check(platform, windows_registry_proxy_remote_url="http://10.0.0.7:5000") == (True, "")


@pytest.mark.parametrize("overrides, message", [
    ({"windows_registry_proxy_password": PASSWORD},
     "windows_registry_proxy_username/windows_registry_proxy_password are given without windows_registry_proxy_remote_url"),
    ({"windows_registry_proxy_remote_url": "registry-1.docker.io"},
     "windows_registry_proxy_remote_url=registry-1.docker.io: give the upstream registry's URL with its scheme"),
    ({"windows_registry_proxy_remote_url": "https://registry 1.example"},
     "windows_registry_proxy_remote_url=https://registry 1.example: give the upstream registry's URL with its scheme"),
    ({"windows_registry_proxy_remote_url": "https://registry-1.docker.io", "windows_registry_proxy_username": "mirror"},
     "windows_registry_proxy_username and windows_registry_proxy_password go together"),
    ({"windows_registry_proxy_remote_url": "https://registry-1.docker.io", "windows_registry_proxy_password": PASSWORD},
     "windows_registry_proxy_username and windows_registry_proxy_password go together"),
    ({"windows_registry_proxy_remote_url": "https://registry-1.docker.io", "windows_registry_config_extra": {"proxy": {"remoteurl": "x"}}},
     "windows_registry_config_extra.proxy and windows_registry_proxy_remote_url both set the proxy section"),
])
def test_bad_combinations_are_refused_naming_the_variable_never_the_password(overrides, message):
    ok, text = check(**overrides)
    assert not ok and text.startswith(message), text
    assert PASSWORD not in text


def test_host_yml_passes_the_proxy_settings_to_registry_config():
    task = next(t for t in task_file("host.yml") if "dockerwin.registry.registry_config" in t)
    args = task["dockerwin.registry.registry_config"]
    assert args["proxy_remote_url"] == "{{ windows_registry_proxy_remote_url }}"
    assert args["proxy_username"] == "{{ windows_registry_proxy_username }}"
    assert args["proxy_password"] == "{{ windows_registry_proxy_password }}"
    assert "no_log" not in task, "the plugin's no_log option hides the password; the task keeps Docker's error messages"


def test_argument_spec_marks_the_password_no_log():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert spec["windows_registry_proxy_password"]["no_log"] is True
