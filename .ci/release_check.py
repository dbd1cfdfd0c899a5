#!/usr/bin/env python3
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make release VERSION=x.y.z`, first step: refuse a version that cannot be this release, before anything changes.

The version must be semantic (MAJOR.MINOR.PATCH, optionally -prerelease), not lower than galaxy.yml's, and not
a release that changelogs/changelog.yaml holds already. Run from the repository root.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")


def problem(version):
    if not version:
        return "give the version: make release VERSION=x.y.z"
    if not SEMVER.match(version):
        return "VERSION=%s is not a semantic version MAJOR.MINOR.PATCH (optionally -prerelease, such as 1.2.0-rc.1)" % version
    current = str(yaml.safe_load(Path("galaxy.yml").read_text(encoding="utf-8"))["version"])
    try:
        lower = Version(version) < Version(current)
    except InvalidVersion as exc:
        return "VERSION=%s: %s" % (version, exc)
    if lower:
        return "VERSION=%s is lower than galaxy.yml's version %s" % (version, current)
    releases = (yaml.safe_load(Path("changelogs/changelog.yaml").read_text(encoding="utf-8")) or {}).get("releases") or {}
    if version in releases:
        return "VERSION=%s is released already (changelogs/changelog.yaml); choose the next version" % version
    return None


if __name__ == "__main__":
    message = problem(sys.argv[1] if len(sys.argv) > 1 else "")
    if message:
        sys.exit("make release: %s; nothing was changed." % message)
    print("make release: %s" % sys.argv[1])
