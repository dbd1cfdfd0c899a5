# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: what is wrong with the storage backend settings of the windows_registry role, or an empty string."""

from __future__ import annotations

from ansible_collections.dockerwin.registry.plugins.plugin_utils._config import ConfigError
from ansible_collections.dockerwin.registry.plugins.plugin_utils._storage import storage_driver

DOCUMENTATION = r"""
name: storage_error
short_description: Check the storage backend settings of the windows_registry role
version_added: 0.2.0
author:
  - dockerwin.registry contributors (!UNKNOWN)
description:
  - Renders the storage driver section as the role's C(registry_config) step would, and returns the error message
    (naming the role variable and the fix) or an empty string. The role's C(validate.yml) runs it before anything
    changes. The message never contains the secret key or account key.
options:
  _input:
    description: The backend, V(filesystem), V(s3) or V(azure).
    type: str
    required: true
  version:
    description: The distribution version, such as V(3.0.0).
    type: str
    required: true
  s3:
    description: The S3 settings (bucket, region, regionendpoint, accesskey, secretkey, secure, skipverify, forcepathstyle, rootdirectory, ca).
    type: dict
    default: {}
  azure:
    description: The Azure settings (accountname, accountkey, container, realm, rootdirectory).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Refuse bad storage settings
  ansible.builtin.assert:
    that: error | length == 0
    fail_msg: "{{ error }}"
  vars:
    error: "{{ 's3' | dockerwin.registry.storage_error('3.0.0', {'bucket': 'Bad_Name'}) }}"
"""

RETURN = r"""
_value:
  description: The error message, or an empty string when the settings render.
  type: str
"""


def storage_error(backend, version, s3=None, azure=None):
    try:
        storage_driver(backend, version, "/var/lib/registry", s3=s3 or {}, azure=azure or {})
    except ConfigError as exc:
        return str(exc)
    return ""


class FilterModule:
    def filters(self):
        return {"storage_error": storage_error}
