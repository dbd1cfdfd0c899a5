# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_archive.py.

DOCUMENTATION = r"""
module: registry_archive
short_description: Back up a registry's data folder to a tar.gz archive on its host, or restore it
version_added: 0.2.0
description:
  - O(state=backup) runs C(tar -czf <archive> -C <data_dir> .) on the target (Windows Server 2019 and later ship
    C(tar.exe)), then writes C(<archive>.json) with the digests given in O(snapshot). That file is written last; its
    presence marks a complete backup. An existing backup is left alone unless O(force=true).
  - O(state=restore) removes C(<data_dir>/docker) (where the registry keeps everything; the folder itself and its ACL
    stay), runs C(tar -xzf <archive> -C <data_dir>) and returns the digests recorded at backup time as RV(snapshot).
  - Consistency is the caller's job; make the registry read-only during a backup and stop it during a restore
    (C(playbooks/backup.yml) and C(playbooks/restore.yml) do).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
    details: Only reads C(<archive>.json); the result names the command that would run.
  diff_mode:
    support: none
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  state:
    description: V(backup) or V(restore).
    type: str
    required: true
    choices: [backup, restore]
  data_dir:
    description: The registry's data folder on the host.
    type: str
    required: true
  archive:
    description: Path of the tar.gz archive on the host.
    type: str
    required: true
  snapshot:
    description: Digests to record beside the archive (repository:tag to digest), for O(state=backup).
    type: dict
    default: {}
  force:
    description: Replace an existing backup.
    type: bool
    default: false
  tar:
    description: The tar command on the host.
    type: str
    default: tar
"""

EXAMPLES = r"""
- name: Back up (the registry read-only meanwhile; see playbooks/backup.yml)
  dockerwin.registry.registry_archive:
    state: backup
    data_dir: C:\registry-data
    archive: D:\backups\registry.tar.gz
"""

RETURN = r"""
cmd:
  description: The tar argv.
  returned: always
  type: list
  elements: str
snapshot:
  description: Digests recorded at backup time.
  returned: state=restore
  type: dict
"""
