# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Descriptions of the attributes; each module sets their `support` (and `platforms`, `membership`).
    # Worded as ansible-core's action_common_attributes fragment words them.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
"""

    # For modules that are implemented by an action plugin running on the controller.
    ACTIONS = r"""
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
  bypass_host_loop:
    description:
      - Forces a 'global' task that does not execute per host, this bypasses per host templating and serial,
        throttle and other loop considerations.
      - Conditionals will work as if C(run_once) is being used, variables used will be from the first available host.
      - This action will not work normally outside of lockstep strategies.
"""

    # The read-only registry API modules (registry_*info): the same attributes, set in full.
    READ_ONLY_API = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the same results as without it.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
  platform:
    description: Runs on POSIX hosts with Python.
    support: full
    platforms: posix
  action_group:
    description: Use C(group/dockerwin.registry.registry) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - dockerwin.registry.registry
"""
