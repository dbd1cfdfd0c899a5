# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows Server builds and the container base image tags that match them."""

from __future__ import annotations

import re

# Process isolation needs the image's build to equal the host's (Microsoft's version compatibility table).
LTSC_TAGS = {17763: "ltsc2019", 20348: "ltsc2022", 26100: "ltsc2025"}
NANOSERVER = "mcr.microsoft.com/windows/nanoserver"
SERVERCORE = "mcr.microsoft.com/windows/servercore"


class WindowsBuildError(ValueError):
    pass


def host_build(version):
    """The build number from a Windows version fact such as 10.0.20348.0 (ansible_kernel)."""
    match = re.match(r"^\s*\d+\.\d+\.(\d+)", str(version or ""))
    if not match:
        raise WindowsBuildError(
            "cannot read a Windows build from %r: expected a version such as 10.0.20348.0 (gather facts, or set "
            "windows_registry_base_image_tag)." % (version,)
        )
    return int(match.group(1))


def base_tag(build, override=""):
    """ltscNNNN for a host build; `override` (the operator's choice) always wins."""
    if override:
        return override
    try:
        return LTSC_TAGS[int(build)]
    except (KeyError, ValueError):
        raise WindowsBuildError(
            "Windows build %s has no matching base image tag this collection knows (%s). Set "
            "windows_registry_base_image_tag to a tag your host can run, with windows_registry_isolation: hyperv "
            "for an older image on a newer host." % (build, ", ".join("%d=%s" % kv for kv in sorted(LTSC_TAGS.items())))
        ) from None
