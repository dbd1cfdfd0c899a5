# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Windows task files of windows_registry, read as data and templated with Ansible's Templar.

No Windows host is reachable here, so this pins what the role asks of one: the stock modules (FQCNs and
arguments, checked against each module's documented options), the argv of the engine check, the ACL that
must match the container's run user, the Defender, firewall and proxy steps, and every refusal of
validate.yml with the option it names. Expectations from the documentation:
- Microsoft's version compatibility: process isolation needs the image build to equal the host build, except
  that Windows Server 2025 (26100) runs ltsc2022 (20348) images; Hyper-V isolation runs older images, never
  newer ones;
- a process-isolated container's ContainerAdministrator is S-1-5-93-2-1 on the host ("User Manager\\
  ContainerAdministrator"), ContainerUser S-1-5-93-2-2 (moby's pkg/system constants);
- ``docker version --format '{{json .Server}}'`` prints the engine's JSON with ``Os`` ("windows"/"linux");
- the Docker service reads proxy variables from its service key's ``Environment`` (REG_MULTI_SZ).
"""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from ansible_collections.dockerwin.registry.tests.unit.roles.role_vars import (
    LINUX_FACTS,
    ROLE,
    WINDOWS_FACTS,
    Role,
    flatten,
    collection_loader,
    task_file,
)

COLLECTIONS = sys.modules["ansible_collections"].__path__


@pytest.fixture(scope="module", autouse=True)
def _loader(collection_root):
    with collection_loader(collection_root):
        yield


def windows(host="2022", **overrides):
    return Role("Windows", WINDOWS_FACTS[host], **overrides)


def module_options(fqcn):
    """Documented options of a stock module from the collections bundled with ansible (or ansible.builtin)."""
    import importlib

    namespace, collection, name = fqcn.split(".")
    if namespace == "ansible" and collection == "builtin":
        module = importlib.import_module("ansible.modules." + name)
    else:
        module = importlib.import_module("ansible_collections.%s.%s.plugins.modules.%s" % (namespace, collection, name))
    return set(yaml.safe_load(module.DOCUMENTATION)["options"] or {})


TASK_KEYWORDS = {"name", "register", "when", "loop", "changed_when", "failed_when", "check_mode", "notify", "vars",
                 "block", "__block_when", "listen", "delegate_to", "no_log"}


def module_of(task):
    names = [k for k in task if k not in TASK_KEYWORDS]
    assert len(names) == 1, task
    return names[0]


# -- windows_host.yml: modules and arguments ----------------------------------------------------------------
def test_windows_host_uses_stock_modules_with_documented_options_only():
    tasks = flatten(task_file("windows_host.yml"))
    used = []
    for task in tasks:
        fqcn = module_of(task)
        used.append(fqcn)
        assert fqcn.count(".") == 2, "FQCN: %s" % fqcn
        if fqcn in ("ansible.builtin.assert", "ansible.builtin.meta"):
            continue
        assert set(task[fqcn]) <= module_options(fqcn), (fqcn, set(task[fqcn]) - module_options(fqcn))
    assert used == [
        "ansible.windows.win_feature_info",
        "ansible.windows.win_service_info",
        "ansible.builtin.assert",
        "ansible.windows.win_command",
        "ansible.builtin.assert",
        "ansible.windows.win_reg_stat",
        "ansible.windows.win_regedit",
        "ansible.builtin.meta",
        "ansible.windows.win_file",
        "ansible.windows.win_acl",
        "ansible.windows.win_acl",
        "ansible.windows.win_powershell",
        "ansible.builtin.assert",
        "ansible.windows.win_powershell",
        "community.windows.win_firewall_rule",
        "community.windows.win_firewall_rule",
    ]


def named(tasks, fragment):
    found = [t for t in flatten(tasks) if t["name"] == fragment] or [t for t in flatten(tasks) if fragment in t["name"]]
    assert len(found) == 1, fragment
    return found[0]


def test_checks_read_the_containers_feature_and_the_docker_service():
    tasks = task_file("windows_host.yml")
    role = windows()
    assert named(tasks, "Read the Containers feature")["ansible.windows.win_feature_info"] == {"name": "Containers"}
    service = named(tasks, "Read the Docker service")["ansible.windows.win_service_info"]
    assert role.value(service["name"]) == "docker"


def test_engine_check_is_an_argv_that_prints_the_server_json_and_changes_nothing():
    task = named(task_file("windows_host.yml"), "engine's platform")
    argv = windows().value(task["ansible.windows.win_command"]["argv"])
    assert set(task["ansible.windows.win_command"]) == {"argv"}
    # The Go template reaches docker unrendered: the YAML marks it !unsafe.
    assert [str(a) for a in argv] == ["docker", "version", "--format", "{{json .Server}}"]
    assert task["changed_when"] is False and task["check_mode"] is False


@pytest.mark.parametrize("server, passed, fragment", [
    ({"Os": "windows", "Arch": "amd64", "Version": "27.5.1"}, True, ""),
    ({"Os": "linux", "Arch": "amd64", "Version": "27.5.1"}, False, "runs linux containers: switch it to Windows containers"),
])
def test_engine_mode_check_parses_the_json(server, passed, fragment):
    task = named(task_file("windows_host.yml"), "engine runs Windows containers")
    role = windows(__windows_registry_docker_server={"rc": 0, "stdout": json.dumps(server), "stderr": ""})
    ok, message = role.assert_task(task)
    assert ok is passed
    assert fragment in message


def test_engine_check_failing_to_reach_docker_says_so():
    task = named(task_file("windows_host.yml"), "engine runs Windows containers")
    role = windows(__windows_registry_docker_server={"rc": 1, "stdout": "", "stderr": "error during connect: open //./pipe/docker_engine"})
    ok, message = role.assert_task(task)
    assert not ok
    assert "cannot reach the Docker engine" in message and "docker_engine" in message


@pytest.mark.parametrize("feature, service, fragment", [
    ([{"name": "Containers", "installed": False}], {"exists": True, "services": [{"state": "started"}]}, "Windows feature Containers is not installed"),
    ([{"name": "Containers", "installed": True}], {"exists": False, "services": []}, "There is no service named docker"),
    ([{"name": "Containers", "installed": True}], {"exists": True, "services": [{"state": "stopped"}]}, "The service docker is stopped"),
])
def test_feature_and_service_checks_fail_with_what_to_do(feature, service, fragment):
    task = named(task_file("windows_host.yml"), "Check the Containers feature")
    role = windows(__windows_registry_containers_feature={"exists": True, "features": feature},
                   __windows_registry_docker_service_info=service)
    ok, message = role.assert_task(task)
    assert not ok and fragment in message


# -- run identity and ACL ------------------------------------------------------------------------------------
def container_user(role):
    """The --user registry_container gets: tasks/container.yml's `user` argument, templated."""
    container = task_file("container.yml")[0]["dockerwin.registry.registry_container"]
    return role.value(container["user"])


def acl_tasks(role):
    tasks = [t for t in flatten(task_file("windows_host.yml")) if "ansible.windows.win_acl" in t]
    return [{k: role.value(v) for k, v in t["ansible.windows.win_acl"].items()} for t in tasks]


@pytest.mark.parametrize("user, sid", [("", "S-1-5-93-2-1"), ("ContainerAdministrator", "S-1-5-93-2-1"), ("ContainerUser", "S-1-5-93-2-2")])
def test_data_acl_grants_exactly_the_user_the_container_runs_as(user, sid):
    role = windows(windows_registry_container_user=user)
    run_as = container_user(role)
    assert run_as == (user or "ContainerAdministrator")
    data, config = acl_tasks(role)
    assert data == {"path": "C:\\registry-data", "user": sid, "rights": "Modify", "type": "allow", "state": "present",
                    "inherit": "ContainerInherit, ObjectInherit", "propagation": "None"}
    assert config["path"] == "C:\\registry-data-config" and config["user"] == sid and config["rights"] == "ReadAndExecute"


def test_an_operator_user_needs_its_identity_named_and_then_gets_it():
    role = windows(windows_registry_container_user="registry")
    ok, message = role.assert_task(named(task_file("validate.yml"), "Windows settings"))
    assert not ok
    assert message.startswith("windows_registry_container_user=registry: the data folder ACL must grant")
    assert "windows_registry_data_acl_identity" in message
    role = windows(windows_registry_container_user="registry", windows_registry_data_acl_identity="S-1-5-93-2-3")
    assert role.assert_task(named(task_file("validate.yml"), "Windows settings"))[0]
    assert container_user(role) == "registry"
    assert {a["user"] for a in acl_tasks(role)} == {"S-1-5-93-2-3"}


def test_acl_waits_for_the_folders_in_check_mode():
    for task in [t for t in flatten(task_file("windows_host.yml")) if "ansible.windows.win_acl" in t]:
        assert "not (ansible_check_mode and __windows_registry_folders is changed)" in task["when"]


def test_data_folder_with_spaces_stays_one_argument():
    role = windows(windows_registry_data_dir="C:\\Registry Data")
    data, config = acl_tasks(role)
    assert data["path"] == "C:\\Registry Data" and config["path"] == "C:\\Registry Data-config"


# -- Defender, firewall, proxy ------------------------------------------------------------------------------
def test_defender_exclusion_passes_the_path_as_a_parameter_and_is_decided_in_ansible():
    tasks = flatten(task_file("windows_host.yml"))
    read, dummy, add = [t for t in tasks if "Defender" in t["name"] or "Microsoft Defender" in t["name"]]
    assert read["ansible.windows.win_powershell"]["script"] == "(Get-MpPreference).ExclusionPath"
    assert read["check_mode"] is False and read["changed_when"] is False
    args = add["ansible.windows.win_powershell"]
    assert args["script"] == "param([string]$Path) Add-MpPreference -ExclusionPath $Path"
    assert "{{" not in args["script"], "the path is never spliced into the script"
    role = windows(windows_registry_data_dir="C:\\Registry Data", windows_registry_defender_exclusion=True,
                   __windows_registry_defender={"output": ["C:\\Temp", "c:\\registry data\\"], "error": []})
    assert role.value(args["parameters"]["Path"]) == "C:\\Registry Data"
    assert not role.applies(add), "already excluded (case and trailing backslash aside)"
    role = windows(windows_registry_defender_exclusion=True, __windows_registry_defender={"output": [None], "error": []})
    assert role.applies(add)
    assert not windows().applies(add), "off by default"


def test_firewall_rule_for_the_port_and_the_allowed_addresses():
    task = named(task_file("windows_host.yml"), "Windows Firewall rule for the registry port")
    role = windows(windows_registry_firewall_rule=True, windows_registry_port=5443,
                   windows_registry_firewall_remote_addresses=["10.0.0.0/16", "192.0.2.7"])
    args = {k: role.value(v) for k, v in task["community.windows.win_firewall_rule"].items()}
    assert args == {
        "name": "dockerwin.registry registry",
        "description": "Private Docker registry registry (dockerwin.registry)",
        "localport": "5443", "protocol": "tcp", "direction": "in", "action": "allow",
        "remoteip": "10.0.0.0/16,192.0.2.7", "enabled": True, "state": "present",
    }
    assert role.applies(task)
    assert windows(windows_registry_firewall_rule=True).value(task["community.windows.win_firewall_rule"]["remoteip"]) == "any"
    assert not windows().applies(task), "off by default"
    assert not windows(windows_registry_firewall_rule=True, windows_registry_state="absent").applies(task)


def test_firewall_rule_is_removed_with_state_absent():
    task = named(task_file("windows_host.yml"), "Remove the registry's rule from Windows Firewall")
    role = windows(windows_registry_firewall_rule=True, windows_registry_state="absent", windows_registry_port=5443)
    args = {k: role.value(v) for k, v in task["community.windows.win_firewall_rule"].items()}
    assert args == {"name": "dockerwin.registry registry", "state": "absent"}, "found by the same name, whatever the port"
    assert role.applies(task)
    assert not windows(windows_registry_firewall_rule=True).applies(task)


def test_proxy_goes_into_the_service_environment_keeping_other_entries_and_restarts_docker():
    tasks = flatten(task_file("windows_host.yml"))
    regedit = next(t for t in tasks if "ansible.windows.win_regedit" in t)
    role = windows(
        windows_registry_docker_http_proxy="http://proxy.corp.example:3128",
        windows_registry_docker_https_proxy="http://proxy.corp.example:3128",
        windows_registry_docker_no_proxy=[".corp.example"],
        __windows_registry_docker_environment={"exists": True, "value": ["DOCKER_FOO=1", "http_proxy=http://old:80", "NO_PROXY=old"]},
    )
    args = {k: role.value(v) for k, v in regedit["ansible.windows.win_regedit"].items()}
    assert args["path"] == "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\docker"
    assert args["name"] == "Environment" and args["type"] == "multistring"
    assert args["data"] == [
        "DOCKER_FOO=1",
        "HTTP_PROXY=http://proxy.corp.example:3128",
        "HTTPS_PROXY=http://proxy.corp.example:3128",
        # the registry's own names (health URL host, inventory name) and the loopback
        "NO_PROXY=.corp.example,registry-01.corp.example,localhost,127.0.0.1",
    ]
    assert role.applies(regedit)
    assert regedit["notify"] == "dockerwin.registry windows_registry restart docker"
    handlers = yaml.safe_load((ROLE / "handlers" / "main.yml").read_text())
    assert handlers == [{"name": "Restart the Docker service", "ansible.windows.win_service": {
        "name": "{{ windows_registry_docker_service }}", "state": "restarted"}, "listen": regedit["notify"]}]
    flush = tasks[tasks.index(regedit) + 1]
    assert flush["ansible.builtin.meta"] == "flush_handlers", "pulls and builds after this use the new proxy"
    assert not windows().applies(regedit), "no proxy, no change"


def test_windows_host_runs_only_on_windows():
    main = task_file("main.yml")
    include = next(t for t in main if t.get("ansible.builtin.include_tasks") == "windows_host.yml")
    assert include["when"] == "ansible_facts['os_family'] == 'Windows'"
    names = [t.get("ansible.builtin.include_tasks") for t in main]
    assert names.index("validate.yml") < names.index("windows_host.yml") < names.index("host.yml") < names.index("image.yml")


# -- validate.yml: refusals before anything changes --------------------------------------------------------
def windows_check(host="2022", **overrides):
    return windows(host, **overrides).assert_task(named(task_file("validate.yml"), "Windows settings"))


@pytest.mark.parametrize("host, overrides", [
    ("2019", {}),
    ("2022", {}),
    ("2025", {}),
    ("2025", {"windows_registry_base_image_tag": "ltsc2022"}),  # a 2025 host runs ltsc2022 with process isolation
    ("2025", {"windows_registry_base_image_tag": "ltsc2022", "windows_registry_isolation": "process"}),
    ("2022", {"windows_registry_base_image_tag": "ltsc2019", "windows_registry_isolation": "hyperv"}),
    ("2025", {"windows_registry_base_image_tag": "ltsc2019", "windows_registry_isolation": "hyperv"}),
    ("2022", {"windows_registry_base_image_tag": "10.0.20348.2762"}),
    ("2022", {"windows_registry_version": "3.1.1", "windows_registry_force_version": True}),
    ("2022", {"windows_registry_version": "2.8.3", "windows_registry_image_source": "build"}),
    ("2019", {"windows_registry_version": "3.0.0", "windows_registry_image_source": "build"}),
])
def test_accepted_windows_settings(host, overrides):
    assert windows_check(host, **overrides) == (True, "")


@pytest.mark.parametrize("host, overrides, message", [
    ("2022", {"windows_registry_version": "3.1.0"},
     "windows_registry_version=3.1.0: distribution v3.1.0 breaks blob uploads on Windows (HTTP 500 from the filesystem "
     "driver, distribution issue #4901). Use 3.0.0 (the Windows default) or 2.8.3, or set windows_registry_force_version: "
     "true to run it anyway."),
    ("2022", {"windows_registry_version": "v3.1.1", "windows_registry_image_source": "pull"}, "distribution issue #4901"),
    ("2022", {"windows_registry_base_image_tag": "ltsc2019"},
     "windows_registry_isolation=process: process isolation needs the image build (ltsc2019, 17763) to equal the host "
     "build (20348; only a Server 2025 host also runs ltsc2022). Set windows_registry_isolation: hyperv, or leave "
     "windows_registry_base_image_tag empty to use the host's tag."),
    ("2025", {"windows_registry_base_image_tag": "ltsc2019", "windows_registry_isolation": "process"}, "windows_registry_isolation=process"),
    ("2022", {"windows_registry_base_image_tag": "ltsc2025", "windows_registry_isolation": "hyperv"},
     "windows_registry_base_image_tag=ltsc2025 (build 26100) is newer than this host (build 20348): Windows runs no "
     "container image of a newer build, in either isolation mode."),
    ("2022", {"windows_registry_base_image_tag": "nanoserver-latest"},
     "windows_registry_base_image_tag=nanoserver-latest: the Windows build of this tag is unknown"),
    ("2019", {"windows_registry_image_source": "build", "windows_registry_go_version": "1.22"},
     "windows_registry_go_version=1.22: the Server Core builder (mcr.microsoft.com/windows/servercore:ltsc2019, used on "
     "ltsc2019, which has no Go image) installs a pinned Go zip, known for Go 1.20, 1.23."),
    ("2016", {"windows_registry_base_image_tag": "10.0.14393.0", "windows_registry_health_url": "http://127.0.0.1:5000"},
     "older than 17763, where published ports do not answer on the host's own loopback"),
    ("2016", {"windows_registry_base_image_tag": "10.0.14393.0", "windows_registry_health_delegate_to": "registry-01.corp.example"},
     "older than 17763"),
])
def test_refused_windows_settings_name_the_option_and_the_fix(host, overrides, message):
    ok, text = windows_check(host, **overrides)
    assert not ok
    assert message in text


def test_an_old_host_checked_from_the_controller_by_address_is_fine():
    assert windows_check("2016", windows_registry_base_image_tag="10.0.14393.0") == (True, "")


def test_build_check_needs_a_known_go_version_on_both_platforms():
    task = named(task_file("validate.yml"), "image build settings")
    role = Role("Linux", LINUX_FACTS, windows_registry_image_source="build", windows_registry_version="2.7.1")
    ok, message = role.assert_task(task)
    assert not ok
    assert message.startswith("windows_registry_version=2.7.1: no Go version is known for distribution 2.7.x "
                              "(known: 2.8: Go 1.20, 3.0: Go 1.23, 3.1: Go 1.24); set windows_registry_go_version.")
    role = Role("Linux", LINUX_FACTS, windows_registry_image_source="build", windows_registry_version="2.7.1",
                windows_registry_go_version="1.16")
    assert role.assert_task(task) == (True, "")
    role = Role("Linux", LINUX_FACTS, windows_registry_image_source="build", windows_registry_go_version="latest")
    assert "windows_registry_go_version=latest: use a Go release such as 1.23" in role.assert_task(task)[1]


def test_windows_checks_do_not_apply_on_linux():
    task = named(task_file("validate.yml"), "Windows settings")
    assert not Role("Linux", LINUX_FACTS).applies(task)
    assert windows().applies(task)
    assert not windows(windows_registry_state="absent").applies(task)


ISSUE_3_VARIABLES = [
    "windows_registry_go_version", "windows_registry_builder_image", "windows_registry_source_url",
    "windows_registry_force_version", "windows_registry_data_acl_identity", "windows_registry_host_checks",
    "windows_registry_docker_service", "windows_registry_defender_exclusion", "windows_registry_firewall_rule",
    "windows_registry_firewall_remote_addresses", "windows_registry_docker_http_proxy",
    "windows_registry_docker_https_proxy", "windows_registry_docker_no_proxy",
]


# -- argument specs and README cover every variable ----------------------------------------------------------
def test_every_default_is_documented_in_argument_specs_and_readme():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    readme = (ROLE.parents[1] / "README.md").read_text()
    assert set(defaults) == set(specs)
    for name in ISSUE_3_VARIABLES:
        assert name in defaults and "| `%s` |" % name in readme, name
    for name, value in defaults.items():
        if value not in ("", None) and "default" in specs[name]:
            assert specs[name]["default"] == value, name
    assert "build" in specs["windows_registry_image_source"]["choices"]
