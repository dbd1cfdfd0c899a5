# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Testinfra checks of the registry that molecule's converge deployed (names from molecule.yml)."""

from __future__ import annotations

import json
import urllib.request

import pytest

NAME = "molecule-registry"
PORT = 15432
ROOT = "/srv/molecule-registry"
IMAGE = "dockerwin/registry:2.8.2-molecule"


@pytest.fixture(scope="module")
def container(host):
    return json.loads(host.check_output("docker container inspect %s", NAME))[0]


def test_container_runs_the_built_image_with_its_labels(host, container):
    image_id = host.check_output("docker image inspect --format '{{.Id}}' %s", IMAGE)
    assert container["State"]["Running"] is True
    assert container["State"]["Restarting"] is False
    assert container["Image"] == image_id
    assert container["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert container["Config"]["Labels"]["io.dockerwin.registry.version"] == "2.8.2"
    assert container["Config"]["Labels"]["io.dockerwin.registry.config-digest"]


def test_port_is_published_on_loopback_only(host, container):
    assert container["HostConfig"]["PortBindings"] == {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(PORT)}]}
    assert host.socket("tcp://127.0.0.1:%d" % PORT).is_listening
    assert not host.socket("tcp://0.0.0.0:%d" % PORT).is_listening


def test_host_folders_are_mounted(host, container):
    binds = {m["Source"]: m for m in container["Mounts"]}
    data = host.file(ROOT + "/data")
    config = host.file(ROOT + "/data-config")
    assert data.is_directory and config.is_directory
    assert binds[data.path]["Destination"] == "/var/lib/registry"
    assert binds[data.path]["RW"] is True
    assert binds[config.path]["Destination"] == "/etc/docker/registry"
    assert binds[config.path]["RW"] is False
    assert any(name.endswith(".yml") for name in config.listdir())


def test_catalog_answers(host):
    with urllib.request.urlopen("http://127.0.0.1:%d/v2/_catalog" % PORT, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        body = json.load(response)
    assert body == {"repositories": []}
