# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""extensions/ee/execution-environment.yml gives ansible-builder a build context with the collection's
requirements: Python (connections to Windows), system (Kerberos), Galaxy (galaxy.yml's dependencies, awx.awx)
and the collection itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from awx_playbooks import EXTENSIONS, REPO

BUILDER = Path(sys.executable).with_name("ansible-builder")


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The EE folder in a copy of the tree's layout, with a freshly built artifact in its build/."""
    if not BUILDER.exists():
        pytest.fail("ansible-builder is not installed beside %s" % sys.executable)
    top = tmp_path_factory.mktemp("ee")
    shutil.copytree(EXTENSIONS / "ee", top / "extensions" / "ee")
    (top / "build").mkdir()
    built = subprocess.run([str(Path(sys.executable).with_name("ansible-galaxy")), "collection", "build", "--output-path",
                            str(top / "build"), str(REPO)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    out = top / "context"
    proc = subprocess.run([str(BUILDER), "create", "-f", str(top / "extensions" / "ee" / "execution-environment.yml"),
                           "--context", str(out), "--output-filename", "Containerfile"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_context_holds_the_requirements(context):
    build = context / "_build"
    python = (build / "requirements.txt").read_text()
    for requirement in ("pywinrm[credssp,kerberos]", "pypsrp[credssp,kerberos]", "bcrypt", "cryptography"):
        assert requirement in python
    system = (build / "bindep.txt").read_text()
    assert "krb5-devel [compile platform:rpm]" in system and "libkrb5-dev [compile platform:dpkg]" in system and "gcc" in system
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    names = {entry["name"] for entry in galaxy["collections"]}
    dependencies = set(yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"])
    assert dependencies | {"awx.awx"} <= names, "every galaxy.yml dependency and awx.awx"
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    assert (build / "collections" / ("dockerwin-registry-%s.tar.gz" % version)).is_file()


def test_containerfile_installs_everything(context):
    text = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in text and "-r requirements.yml" in text
    assert "/build/collections/dockerwin-registry-*.tar.gz" in text
    assert "ansible-core==2.21.5" in text, "the ansible-core of requirements/requirements.txt"
    core_pin = [line for line in (REPO / "requirements" / "requirements.txt").read_text().splitlines() if line.startswith("ansible-core==")]
    assert core_pin == ["ansible-core==2.21.5"], "keep execution-environment.yml's ansible-core with requirements/requirements.txt"
