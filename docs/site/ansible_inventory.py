#!/usr/bin/env python3
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the intersphinx inventory of Ansible's docs that the site links to, without the network.

The generated RST links to Ansible's own docs: modules of other collections (``M(ansible.windows.win_copy)``
becomes ``:ref:`ansible_collections.ansible.windows.win_copy_module```) and a few pages of the Ansible docs
(``common_return_values``, ...). Sphinx resolves those through intersphinx, normally from
docs.ansible.com's ``objects.inv``; this build is offline, so this script writes an inventory of exactly the
labels the pages use and do not define themselves:

- ``ansible_collections.<ns>.<coll>.<name>_<type>``: only when the plugin exists in an installed collection
  (ansible-core for ansible.builtin); a typo or a removed module stays undefined, and ``sphinx-build -W`` fails;
- the Ansible pages of ``PAGES`` below.

Usage: ansible_inventory.py <rst folder> <output .inv file>
"""

from __future__ import annotations

import os
import re
import sys
import zlib
from pathlib import Path

BASE = "https://docs.ansible.com/projects/ansible/devel/"
# label -> (page, title) of the Ansible docs that antsibull-docs' output refers to.
PAGES = {
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
    "action_plugins": ("plugins/action.html", "Action plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html", "Ansible Configuration Settings"),
    "list_of_collections": ("collections/index.html", "Collection Index"),
}
REF = re.compile(r":ref:`(?:[^`<]*<([^>`]+)>|([^`<]+))`")
LABEL = re.compile(r"^\.\. _([^:]+):\s*$", re.MULTILINE)
PLUGIN = re.compile(r"^ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.([a-z0-9_]+)_([a-z]+)$")


def anchor(label):
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def collection_roots():
    roots = []
    for entry in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) + sys.path:
        if entry:
            path = Path(entry)
            roots.append(path if path.name == "ansible_collections" else path / "ansible_collections")
    return roots


def plugin_exists(namespace, collection, name, plugin_type):
    folder = "modules" if plugin_type == "module" else plugin_type
    if (namespace, collection) == ("ansible", "builtin"):
        import ansible  # pylint: disable=import-outside-toplevel

        core = Path(ansible.__file__).parent
        where = core / "modules" if plugin_type == "module" else core / "plugins" / plugin_type
        return (where / (name + ".py")).is_file()
    return any((root / namespace / collection / "plugins" / folder / (name + ext)).is_file()
               for root in collection_roots() for ext in (".py", ".ps1", ".yml", ".yaml"))


def main(rst_dir, output):
    defined, used = set(), set()
    for path in Path(rst_dir).rglob("*.rst"):
        text = path.read_text(encoding="utf-8")
        defined.update(LABEL.findall(text))
        used.update(a or b for a, b in REF.findall(text))
    lines, unknown = [], []
    for label in sorted(used - defined):
        match = PLUGIN.match(label)
        if label in PAGES:
            page, title = PAGES[label]
            lines.append("%s std:label -1 %s#%s %s" % (label, page, anchor(label), title))
        elif match and plugin_exists(*match.groups()):
            namespace, collection, name, plugin_type = match.groups()
            page = "collections/%s/%s/%s_%s.html" % (namespace, collection, name, plugin_type)
            lines.append("%s std:label -1 %s#%s %s.%s.%s %s" % (label, page, anchor(label), namespace, collection, name, plugin_type))
        else:
            unknown.append(label)
    header = ("# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
              "# The remainder of this file is compressed using zlib.\n").encode()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_bytes(header + zlib.compress(("\n".join(lines) + "\n").encode()))
    print("%s: %d Ansible labels%s" % (output, len(lines), "; left undefined (Sphinx will name them): " + ", ".join(unknown) if unknown else ""))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.rsplit("Usage: ", 1)[1])
    main(sys.argv[1], sys.argv[2])
