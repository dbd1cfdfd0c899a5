# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make release VERSION=x.y.z` in a throwaway copy of this tree (git's tracked and untracked, not ignored, files;
.venv linked): galaxy.yml bumped, the fragments released into changelog.yaml, CHANGELOG.md and CHANGELOG.rst
written, the artifact built with the new version and accepted by galaxy-importer. Bad versions are refused
before anything changes. The real tree is never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

CHECKOUT = Path(__file__).resolve().parents[2]


def copy_tree(dest, only=None):
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=CHECKOUT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in listed:
        source = CHECKOUT / name
        if not name or not source.is_file() or (only and not name.startswith(only)):
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / name)
    # The copy links the real .venv. Its requirement files are made older than .venv's stamp, so no make run in the
    # copy (the release target's own sub-make included) takes the venv for stale and rebuilds it there.
    for requirements in (dest / "requirements").glob("*.txt"):
        os.utime(requirements, (0, 0))
    (dest / ".venv").symlink_to(CHECKOUT / ".venv", target_is_directory=True)
    return dest


def make_release(tree, *args):
    # -o: the linked .venv counts as up to date (make never rebuilds the real one from here).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ANSIBLE_CONFIG")}
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.stamp", "release", *args], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def galaxy_version(tree):
    return str(yaml.safe_load((tree / "galaxy.yml").read_text(encoding="utf-8"))["version"])


def next_patch(version):
    major, minor, patch = version.split("-")[0].split(".")
    return "%s.%s.%d" % (major, minor, int(patch) + 1)


@pytest.fixture
def small_tree(tmp_path):
    """What the version checks read, and nothing to build."""
    return copy_tree(tmp_path, only=("Makefile", "galaxy.yml", "changelogs/", ".ci/"))


@pytest.mark.parametrize("version, message", [
    (None, "give the version: make release VERSION=x.y.z"),
    ("1.2", "VERSION=1.2 is not a semantic version"),
    ("v1.2.3", "VERSION=v1.2.3 is not a semantic version"),
    ("0.0.1", "VERSION=0.0.1 is lower than galaxy.yml's version"),
])
def test_bad_versions_are_refused_before_anything_changes(small_tree, version, message):
    before = {p: p.read_bytes() for p in small_tree.rglob("*") if p.is_file()}
    done = make_release(small_tree, *(["VERSION=" + version] if version else []))
    assert done.returncode != 0
    assert message in done.stderr
    assert "nothing was changed" in done.stderr
    assert {p: p.read_bytes() for p in small_tree.rglob("*") if p.is_file()} == before


def test_a_released_version_is_refused(small_tree):
    changelog = small_tree / "changelogs" / "changelog.yaml"
    data = yaml.safe_load(changelog.read_text(encoding="utf-8"))
    version = galaxy_version(small_tree)
    data["releases"] = {version: {"release_date": "2026-01-01"}}
    changelog.write_text(yaml.safe_dump(data), encoding="utf-8")
    done = make_release(small_tree, "VERSION=" + version)
    assert done.returncode != 0
    assert "VERSION=%s is released already" % version in done.stderr
    assert galaxy_version(small_tree) == version


def test_release_bumps_changelogs_builds_and_imports(tmp_path):
    real_galaxy = (CHECKOUT / "galaxy.yml").read_bytes()
    tree = copy_tree(tmp_path / "repo")
    old = galaxy_version(tree)
    new = next_patch(old)
    fragments = sorted(p for p in (tree / "changelogs" / "fragments").glob("*.yml"))
    assert fragments, "no changelog fragment to release"
    first_entry = next(v for v in yaml.safe_load(fragments[0].read_text(encoding="utf-8")).values() if isinstance(v, list))[0]

    done = make_release(tree, "VERSION=" + new)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    assert galaxy_version(tree) == new
    galaxy_text = (tree / "galaxy.yml").read_text(encoding="utf-8")
    assert galaxy_text == real_galaxy.decode().replace("version: %s\n" % old, "version: %s\n" % new)
    release = yaml.safe_load((tree / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))["releases"][new]
    assert sorted(release["fragments"]) == sorted(p.name for p in fragments)
    assert not list((tree / "changelogs" / "fragments").glob("*.yml")), "released fragments are removed"
    for name in ("CHANGELOG.md", "CHANGELOG.rst"):
        text = (tree / name).read_text(encoding="utf-8")
        assert "v%s" % (new.replace(".", "\\.") if name.endswith(".md") else new) in text, name
        assert re.findall(r"[A-Za-z]{5,}", first_entry)[0] in text, name

    artifact = tree / "build" / ("dockerwin-registry-%s.tar.gz" % new)
    with tarfile.open(artifact) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
        names = tar.getnames()
    assert manifest["collection_info"]["version"] == new
    assert "CHANGELOG.md" in names and "changelogs/changelog.yaml" in names
    log = (tree / "build" / "importer.log").read_text(encoding="utf-8")
    assert "Importer processing completed successfully" in log
    assert "%s is ready" % new in done.stdout

    assert (CHECKOUT / "galaxy.yml").read_bytes() == real_galaxy, "the real tree was changed"
