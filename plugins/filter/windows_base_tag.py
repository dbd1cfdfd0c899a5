# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: the Windows container base image tag (ltscNNNN) for a host's Windows version fact."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _windows

DOCUMENTATION = r"""
name: windows_base_tag
short_description: The Windows container base image tag that matches a host build
version_added: 0.1.0
author:
  - dockerwin.registry contributors (!UNKNOWN)
description:
  - Maps the build number of a Windows version fact (for example C(ansible_kernel), V(10.0.20348.0)) to the
    LTSC tag of Microsoft's base images, which process isolation requires to match the host build.
  - 17763 gives V(ltsc2019), 20348 V(ltsc2022), 26100 V(ltsc2025). An unknown build fails with a message that
    names the variable to set.
options:
  _input:
    description: A Windows version such as V(10.0.20348.0).
    type: str
    required: true
  override:
    description: A tag chosen by the operator; returned as it is when not empty.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Pick the Nano Server tag for this host
  ansible.builtin.set_fact:
    nano_tag: "{{ ansible_kernel | dockerwin.registry.windows_base_tag }}"
"""

RETURN = r"""
_value:
  description: The base image tag, for example V(ltsc2022).
  type: str
"""


def windows_base_tag(version, override=""):
    if override:
        return override
    try:
        return _windows.base_tag(_windows.host_build(version))
    except _windows.WindowsBuildError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"windows_base_tag": windows_base_tag}
