# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired container vs `docker container inspect` (plugins/plugin_utils/_container.py).

The inspect objects below are shaped as Docker prints them (``docker container inspect`` reference and
the Engine API's ContainerInspect): on Windows, ``Mounts[].Destination`` comes back lowercased
(``c:\\data``), ``Source`` as given, ``HostConfig.Isolation`` is filled in by the daemon, and
``PortBindings`` keep the requested ``HostIp`` (empty) while ``NetworkSettings.Ports`` show ``0.0.0.0``.
Image labels appear in ``Config.Labels`` too.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _container as C

IMAGE_ID = "sha256:5f1c2b7a0d3e4c6b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b"
OTHER_IMAGE_ID = "sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
DIGEST = "3b5d5c3712955042212316173ccf37be800e3b5d5c3712955042212316173ccf"
DIGEST_LABEL = "io.dockerwin.registry.config-digest"

WINDOWS_INSPECT = {
    "Id": "0c6a8dd4c0e6f3b1d4b7f5f5b9d58c3fcb8c4a5a7b9d0e1f2a3b4c5d6e7f8a9b",
    "Created": "2026-12-04T15:58:01.1234567Z",
    "Path": "C:\\registry\\registry.exe",
    "Args": ["serve", "C:\\config\\config-3b5d5c371295.yml"],
    "State": {
        "Status": "running", "Running": True, "Paused": False, "Restarting": False, "OOMKilled": False, "Dead": False,
        "Pid": 6212, "ExitCode": 0, "Error": "", "StartedAt": "2026-12-04T15:58:03.7654321Z", "FinishedAt": "0001-01-01T00:00:00Z",
    },
    "Image": IMAGE_ID,
    "Name": "/registry",
    "RestartCount": 0,
    "Driver": "windowsfilter",
    "Platform": "windows",
    "HostConfig": {
        "Binds": ["C:\\registry-data:C:\\data", "C:\\registry-data-config:C:\\config:ro"],
        "NetworkMode": "default",
        "PortBindings": {"5000/tcp": [{"HostIp": "", "HostPort": "5000"}]},
        "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
        "Isolation": "process",
    },
    "Mounts": [
        {"Type": "bind", "Source": "C:\\registry-data", "Destination": "c:\\data", "Mode": "", "RW": True, "Propagation": ""},
        {"Type": "bind", "Source": "C:\\registry-data-config", "Destination": "c:\\config", "Mode": "ro", "RW": False, "Propagation": ""},
    ],
    "Config": {
        "Hostname": "0c6a8dd4c0e6",
        "User": "ContainerAdministrator",
        "ExposedPorts": {"5000/tcp": {}},
        "Env": None,
        "Cmd": ["C:\\config\\config-3b5d5c371295.yml"],
        "Image": "dockerwin/registry:3.0.0-nanoserver-ltsc2022",
        "Volumes": {"C:/data": {}},
        "WorkingDir": "C:\\registry",
        "Entrypoint": ["C:\\registry\\registry.exe", "serve"],
        "Labels": {
            DIGEST_LABEL: DIGEST,
            "io.dockerwin.registry.managed": "true",
            "io.dockerwin.registry.version": "3.0.0",
            # from the image, not from the collection:
            "org.opencontainers.image.title": "registry",
        },
    },
    "NetworkSettings": {"Ports": {"5000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "5000"}]}},
}

LINUX_INSPECT = {
    "Id": "7d3ce2c1f2d84b7c9a5e8f1e6b3d2c4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e",
    "Path": "/entrypoint.sh",
    "Args": ["/etc/distribution/config-3b5d5c371295.yml"],
    "State": {"Status": "running", "Running": True, "Paused": False, "Restarting": False, "ExitCode": 0, "Error": ""},
    "Image": IMAGE_ID,
    "Name": "/registry",
    "Driver": "overlay2",
    "Platform": "linux",
    "HostConfig": {
        "Binds": ["/srv/registry-data:/var/lib/registry", "/srv/registry-data-config:/etc/distribution:ro"],
        "NetworkMode": "bridge",
        "PortBindings": {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "5000"}]},
        "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
        "Isolation": "",
    },
    "Mounts": [
        {"Type": "bind", "Source": "/srv/registry-data", "Destination": "/var/lib/registry", "Mode": "", "RW": True, "Propagation": "rprivate"},
        {"Type": "bind", "Source": "/srv/registry-data-config", "Destination": "/etc/distribution", "Mode": "ro", "RW": False, "Propagation": "rprivate"},
        {"Type": "volume", "Name": "4f2a9c", "Source": "/var/lib/docker/volumes/4f2a9c/_data", "Destination": "/tmp/cache",
         "Driver": "local", "Mode": "", "RW": True, "Propagation": ""},
    ],
    "Config": {
        "User": "",
        "Cmd": ["/etc/distribution/config-3b5d5c371295.yml"],
        "Image": "registry:3.0.0",
        "Entrypoint": ["/entrypoint.sh"],
        "Labels": {DIGEST_LABEL: DIGEST, "io.dockerwin.registry.managed": "true", "io.dockerwin.registry.version": "3.0.0"},
    },
}


def windows_spec(**changes):
    values = dict(
        name="registry",
        image="dockerwin/registry:3.0.0-nanoserver-ltsc2022",
        windows=True,
        command=["C:\\config\\config-3b5d5c371295.yml"],
        ports=[C.Port(host_port=5000)],
        mounts=[C.Mount("C:\\registry-data", "C:\\data"), C.Mount("C:\\registry-data-config", "C:\\config", True)],
        restart_policy="unless-stopped",
        labels={DIGEST_LABEL: DIGEST, "io.dockerwin.registry.version": "3.0.0"},
        isolation="",
        user="ContainerAdministrator",
    )
    values.update(changes)
    return C.ContainerSpec(**values)


def linux_spec(**changes):
    values = dict(
        name="registry",
        image="registry:3.0.0",
        windows=False,
        command=["/etc/distribution/config-3b5d5c371295.yml"],
        ports=[C.Port(host_port=5000, host_ip="127.0.0.1")],
        mounts=[C.Mount("/srv/registry-data", "/var/lib/registry"), C.Mount("/srv/registry-data-config", "/etc/distribution", True)],
        labels={DIGEST_LABEL: DIGEST, "io.dockerwin.registry.version": "3.0.0"},
    )
    values.update(changes)
    return C.ContainerSpec(**values)


def compare(spec, inspect, image_id=IMAGE_ID):
    desired = C.desired_state(spec, image_id)
    return C.differences(desired, C.actual_state(inspect, desired, spec.windows))


# -- no difference ---------------------------------------------------------------------------------------
def test_windows_container_as_inspected_matches_its_spec():
    assert compare(windows_spec(), WINDOWS_INSPECT) == []


def test_linux_container_as_inspected_matches_its_spec():
    assert compare(linux_spec(), LINUX_INSPECT) == []


def test_image_labels_are_ignored():
    inspect = copy.deepcopy(WINDOWS_INSPECT)
    inspect["Config"]["Labels"].update({"maintainer": "someone", "org.opencontainers.image.version": "3.0.0"})
    assert compare(windows_spec(), inspect) == []


@pytest.mark.parametrize("host_ip", ["", "0.0.0.0", "::"])
def test_any_address_is_written_in_several_ways(host_ip):
    inspect = copy.deepcopy(WINDOWS_INSPECT)
    inspect["HostConfig"]["PortBindings"]["5000/tcp"][0]["HostIp"] = host_ip
    assert compare(windows_spec(), inspect) == []
    assert compare(windows_spec(ports=[C.Port(5000, host_ip="0.0.0.0")]), inspect) == []


def test_windows_paths_compare_without_case_trailing_separators_or_slash_direction():
    inspect = copy.deepcopy(WINDOWS_INSPECT)
    inspect["Mounts"][0].update(Source="c:/Registry-Data/", Destination="C:\\DATA\\")
    assert compare(windows_spec(), inspect) == []


def test_linux_paths_keep_their_case():
    inspect = copy.deepcopy(LINUX_INSPECT)
    inspect["Mounts"][0]["Source"] = "/srv/Registry-Data"
    assert compare(linux_spec(), inspect) == ["mounts"]


def test_isolation_and_user_are_compared_only_when_asked_for():
    inspect = copy.deepcopy(WINDOWS_INSPECT)
    inspect["HostConfig"]["Isolation"] = "hyperv"
    inspect["Config"]["User"] = "ContainerUser"
    assert compare(windows_spec(user=""), inspect) == []


def test_restart_policy_no_is_also_read_from_an_empty_name():
    inspect = copy.deepcopy(LINUX_INSPECT)
    inspect["HostConfig"]["RestartPolicy"] = {"Name": "", "MaximumRetryCount": 0}
    assert compare(linux_spec(restart_policy="no"), inspect) == []


# -- each change is detected, and only that one -------------------------------------------------------------
def _set(path, value):
    def change(inspect):
        target = inspect
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


WINDOWS_CHANGES = {
    "image id": (_set(["Image"], OTHER_IMAGE_ID), "image"),
    "host port": (_set(["HostConfig", "PortBindings"], {"5000/tcp": [{"HostIp": "", "HostPort": "5001"}]}), "ports"),
    "container port": (_set(["HostConfig", "PortBindings"], {"5001/tcp": [{"HostIp": "", "HostPort": "5000"}]}), "ports"),
    "protocol": (_set(["HostConfig", "PortBindings"], {"5000/udp": [{"HostIp": "", "HostPort": "5000"}]}), "ports"),
    "port not published": (_set(["HostConfig", "PortBindings"], {}), "ports"),
    "mount source": (_set(["Mounts", 0, "Source"], "D:\\registry-data"), "mounts"),
    "mount target": (_set(["Mounts", 0, "Destination"], "c:\\registry"), "mounts"),
    "mount writable": (_set(["Mounts", 1, "RW"], True), "mounts"),
    "mount missing": (_set(["Mounts"], [WINDOWS_INSPECT["Mounts"][0]]), "mounts"),
    "restart policy": (_set(["HostConfig", "RestartPolicy"], {"Name": "always", "MaximumRetryCount": 0}), "restart_policy"),
    "config digest": (_set(["Config", "Labels", DIGEST_LABEL], "0" * 64), "labels"),
    "managed label gone": (_set(["Config", "Labels"], {DIGEST_LABEL: DIGEST, "io.dockerwin.registry.version": "3.0.0"}), "labels"),
    "command": (_set(["Config", "Cmd"], ["C:\\config\\config-0123456789ab.yml"]), "command"),
    "user": (_set(["Config", "User"], "ContainerUser"), "user"),
    "isolation": (_set(["HostConfig", "Isolation"], "hyperv"), "isolation"),
}


@pytest.mark.parametrize("change, expected", list(WINDOWS_CHANGES.values()), ids=list(WINDOWS_CHANGES))
def test_each_windows_change_is_detected(change, expected):
    inspect = copy.deepcopy(WINDOWS_INSPECT)
    change(inspect)
    assert compare(windows_spec(isolation="process"), inspect) == [expected]


def test_a_host_ip_on_linux_is_compared():
    inspect = copy.deepcopy(LINUX_INSPECT)
    inspect["HostConfig"]["PortBindings"]["5000/tcp"][0]["HostIp"] = ""
    assert compare(linux_spec(), inspect) == ["ports"]


def test_volumes_that_are_not_binds_are_not_mounts_of_the_spec():
    inspect = copy.deepcopy(LINUX_INSPECT)
    assert [m for m in inspect["Mounts"] if m["Type"] == "volume"]
    assert compare(linux_spec(), inspect) == []


def test_several_changes_are_all_named():
    inspect = copy.deepcopy(WINDOWS_INSPECT)
    inspect["Image"] = OTHER_IMAGE_ID
    inspect["Config"]["Labels"][DIGEST_LABEL] = "1" * 64
    assert sorted(compare(windows_spec(), inspect)) == ["image", "labels"]


def test_no_command_means_the_images_command_and_is_stable():
    inspect = copy.deepcopy(WINDOWS_INSPECT)
    inspect["Config"]["Cmd"] = ["C:\\registry\\config.yml"]  # the image's CMD
    assert compare(windows_spec(command=[]), inspect) == []


# -- docker run argv ------------------------------------------------------------------------------------
def test_windows_run_argv():
    assert windows_spec(isolation="process").run_argv() == [
        "docker", "container", "run", "--detach", "--name", "registry", "--restart", "unless-stopped",
        "--publish", "5000:5000/tcp",
        "--volume", "C:\\registry-data:C:\\data",
        "--volume", "C:\\registry-data-config:C:\\config:ro",
        "--label", "%s=%s" % (DIGEST_LABEL, DIGEST),
        "--label", "io.dockerwin.registry.managed=true",
        "--label", "io.dockerwin.registry.version=3.0.0",
        "--isolation", "process",
        "--user", "ContainerAdministrator",
        "dockerwin/registry:3.0.0-nanoserver-ltsc2022",
        "C:\\config\\config-3b5d5c371295.yml",
    ]


def test_linux_create_argv_with_a_host_ip_and_another_docker_cli():
    argv = linux_spec(restart_policy="always").run_argv(docker="/usr/local/bin/docker", detach=False)
    assert argv[:3] == ["/usr/local/bin/docker", "container", "create"]
    assert "--detach" not in argv
    assert argv[argv.index("--publish") + 1] == "127.0.0.1:5000:5000/tcp"
    assert argv[argv.index("--restart") + 1] == "always"
    assert "--user" not in argv and "--isolation" not in argv
    assert argv[-2:] == ["registry:3.0.0", "/etc/distribution/config-3b5d5c371295.yml"]


def test_labels_of_the_spec_cannot_drop_the_managed_label():
    assert windows_spec(labels={"io.dockerwin.registry.managed": "true", "a": 1}).all_labels() == {
        "io.dockerwin.registry.managed": "true", "a": "1"}


# -- run status and host paths ------------------------------------------------------------------------------
@pytest.mark.parametrize("state, status", [
    ({"Running": True, "Restarting": False}, "running"),
    ({"Running": True, "Restarting": True}, "restarting"),
    ({"Running": False, "Status": "exited", "ExitCode": 1}, "stopped"),
    ({"Running": False, "Status": "created"}, "stopped"),
])
def test_run_status(state, status):
    assert C.run_status({"State": state}) == status
    assert C.run_status(None) == "stopped"


def test_host_path_of_a_config_file_through_the_windows_bind_mount():
    path = C.host_path("C:\\config\\config-3b5d5c371295.yml", WINDOWS_INSPECT["Mounts"], True)
    assert path == "C:\\registry-data-config\\config-3b5d5c371295.yml"
    assert C.host_path("C:/config/config-3b5d5c371295.yml", WINDOWS_INSPECT["Mounts"], True) == path


def test_host_path_of_a_config_file_through_the_linux_bind_mount():
    path = C.host_path("/etc/distribution/config-3b5d5c371295.yml", LINUX_INSPECT["Mounts"], False)
    assert path == "/srv/registry-data-config/config-3b5d5c371295.yml"


def test_host_path_is_none_outside_bind_mounts():
    assert C.host_path("C:\\registry\\config.yml", WINDOWS_INSPECT["Mounts"], True) is None
    assert C.host_path("/tmp/cache/x.yml", LINUX_INSPECT["Mounts"], False) is None  # a volume, not a bind
    assert C.host_path("/etc/distribution", LINUX_INSPECT["Mounts"], False) is None  # the mount point itself


def test_host_path_of_an_unnormalized_path_stays_inside_the_mount():
    assert C.host_path("C:\\config\\\\config-x.yml", WINDOWS_INSPECT["Mounts"], True) == "C:\\registry-data-config\\config-x.yml"


def test_for_diff_is_readable():
    desired = C.desired_state(windows_spec(), IMAGE_ID)
    shown = C.for_diff(desired)
    assert shown["mounts"] == ["c:\\registry-data -> c:\\data", "c:\\registry-data-config -> c:\\config (ro)"]
    assert shown["ports"] == [":5000:5000/tcp"]
