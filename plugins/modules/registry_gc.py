# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_gc.py.

DOCUMENTATION = r"""
module: registry_gc
short_description: Run registry garbage-collect on the data of a registry container
version_added: 0.2.0
description:
  - Runs C(registry garbage-collect [--dry-run] [--delete-untagged] <config>) in a one-off container
    (C(docker container run --rm --entrypoint <registry binary>)) of the registry container's own image, with the
    same bind mounts (data and config folders), user and isolation, and the config file the container runs with
    (the first argument of its command). Windows and Linux hosts alike, through the docker CLI (argv lists).
  - Garbage collection must not run while clients push. Put the registry read-only first
    (C(storage.maintenance.readonly.enabled)); C(playbooks/garbage_collect.yml) does that and restores normal mode.
  - Reports the blobs marked, eligible and deleted from the command's output, and on POSIX hosts the size of
    O(data_dir) before and after (C(du -sb)). On Windows the size is not measured; the GC output is the account.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
    details: Only C(docker container inspect) runs; the result holds the argv that would run.
  diff_mode:
    support: none
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  container:
    description: Name of the running registry container whose image, mounts and config are used.
    type: str
    required: true
  data_dir:
    description: Host path of the data folder, measured before and after on POSIX hosts. Empty measures nothing.
    type: str
    default: ""
  version:
    description:
      - Distribution version of the registry, for the O(delete_untagged) check. Empty reads the container's
        C(io.dockerwin.registry.version) label.
    type: str
    default: ""
  dry_run:
    description: Pass C(--dry-run); report what would be deleted, delete nothing.
    type: bool
    default: false
  delete_untagged:
    description:
      - Pass C(--delete-untagged), which also deletes manifests no tag names.
      - Refused below distribution 3.0, where it deletes the platform manifests of manifest lists and OCI indexes
        (distribution issue 3178), unless O(force=true).
    type: bool
    default: false
  force:
    description: Run O(delete_untagged) on a registry below 3.0 anyway.
    type: bool
    default: false
  registry_binary:
    description:
      - Path of the registry binary inside the image, used as the entrypoint. Empty means C(/bin/registry) on Linux
        (the official image's layout) and C(C:\registry\registry.exe) on Windows (the images this collection builds).
    type: str
    default: ""
  docker_cli:
    description: The docker CLI on the target.
    type: str
    default: docker
"""

EXAMPLES = r"""
- name: See what garbage collection would delete
  dockerwin.registry.registry_gc:
    container: registry
    data_dir: /srv/registry-data
    dry_run: true
  register: gc

- name: Collect (the registry is read-only meanwhile; see playbooks/garbage_collect.yml)
  dockerwin.registry.registry_gc:
    container: registry
    data_dir: /srv/registry-data
"""

RETURN = r"""
cmd:
  description: The argv of the one-off container.
  returned: always
  type: list
  elements: str
blobs_marked:
  description: Blobs still referenced, from the GC summary line.
  returned: when the command ran
  type: int
blobs_eligible:
  description: Blobs no manifest references.
  returned: when the command ran
  type: int
eligible_blobs:
  description: Digests of the blobs eligible for deletion.
  returned: when the command ran
  type: list
  elements: str
deleted_blobs:
  description: Digests of the blobs deleted (empty on a dry run).
  returned: when the command ran
  type: list
  elements: str
bytes_freed:
  description: Size of O(data_dir) before minus after (POSIX hosts; null on Windows).
  returned: when the command ran
  type: int
output_lines:
  description: The last 200 lines the command printed.
  returned: when the command ran
  type: list
  elements: str
"""
