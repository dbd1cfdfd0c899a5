# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the Linux-twin integration tests: a real dockerd, real registry containers.

Every test gets unique container names, free 127.0.0.1 ports and its own folders, and removes what it
made, so runs never collide with each other or with leftovers of earlier runs.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

import images  # noqa: E402  (tests/support)
import playbook  # noqa: E402


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def container(name):
    """`docker container inspect` of name, or None."""
    proc = subprocess.run(["docker", "container", "inspect", name], capture_output=True, text=True)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else None


@pytest.fixture(scope="session", autouse=True)
def docker_daemon():
    proc = subprocess.run(["docker", "info", "--format", "{{json .ServerVersion}}"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail("no Docker daemon answers (run `make docker`): %s" % proc.stderr.strip(), pytrace=False)


@pytest.fixture(scope="session")
def registry_image():
    """The official-layout registry image built from Debian's docker-registry binary."""
    return images.registry_image()


class Instance:
    """One registry instance of the role: its variables, inventory and clean-up."""

    def __init__(self, tmp_path, image, **overrides):
        self.id = uuid.uuid4().hex[:8]
        self.name = "dwr-test-%s" % self.id
        self.port = free_port()
        self.root = tmp_path / self.name
        self.data_dir = self.root / "registry-data"
        self.config_dir = self.root / "registry-data-config"
        self.vars = {
            "windows_registry_container_name": self.name,
            "windows_registry_port": self.port,
            "windows_registry_bind_address": "127.0.0.1",
            "windows_registry_data_dir": str(self.data_dir),
            "windows_registry_image_source": "pull",
            "windows_registry_image": image,
            "windows_registry_version": "2.8.2",
            "windows_registry_health_timeout": 30,
        }
        self.vars.update(overrides)
        self.inventory = str(tmp_path / ("%s.yml" % self.name))
        self.write()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def registry(self):
        return "127.0.0.1:%d" % self.port

    def write(self, **changes):
        self.vars.update(changes)
        playbook.write_inventory(self.inventory, self.vars)

    def deploy(self, check=False, diff=False, **extra):
        return playbook.run_playbook("playbooks/site.yml", self.inventory, check=check, diff=diff, extra_vars=extra or None)

    def container(self):
        return container(self.name)

    def cleanup(self):
        subprocess.run(["docker", "container", "rm", "--force", self.name, self.name + "-previous"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def make_instance(tmp_path, registry_image):
    made = []

    def factory(**overrides):
        made.append(Instance(tmp_path, registry_image, **overrides))
        return made[-1]

    yield factory
    for instance in made:
        instance.cleanup()


@pytest.fixture
def hello_image():
    """A tiny locally built image; removed (all its tags) afterwards."""
    ref = "dwr-test/hello:%s" % uuid.uuid4().hex[:8]
    images.hello_image(ref, text="hello %s\n" % ref)
    yield ref
    subprocess.run(["docker", "image", "rm", "--force", images.image_id(ref)], capture_output=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "smoke: the quick end-to-end subset, also run under every other supported ansible-core")
