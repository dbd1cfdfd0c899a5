# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make this checkout importable as ``ansible_collections.dockerwin.registry``.

At import time (test modules import the collection when they are collected, before any fixture runs):
when the checkout is not already at ``.../ansible_collections/dockerwin/registry`` (as under
``ansible-test units``), the checkout's ``.collections`` folder is used if its
``ansible_collections/dockerwin/registry`` links back to the checkout; otherwise a temporary
``ansible_collections/dockerwin/registry`` symlink to it is made. That top folder is put first on
``sys.path``. The ``collection_root`` fixture gives that folder, for
``ANSIBLE_COLLECTIONS_PATH`` / ``PYTHONPATH`` of subprocesses (``collection_env`` builds such an env).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]


def _links_here(top):
    """True when ``top/ansible_collections/dockerwin/registry`` is this checkout (not a copy of it)."""
    entry = top / "ansible_collections" / "dockerwin" / "registry"
    try:
        return entry.resolve(strict=True) == CHECKOUT
    except OSError:
        return False


def _collections_dir():
    if CHECKOUT.name == "registry" and CHECKOUT.parent.name == "dockerwin" and CHECKOUT.parent.parent.name == "ansible_collections":
        return CHECKOUT.parents[2]
    # The checkout's own .collections folder, while it links back here. `make install` replaces that
    # link with the built artifact: tests must see the working tree, so a copy there is not used.
    local = CHECKOUT / ".collections"
    if _links_here(local):
        return local
    top = Path(tempfile.mkdtemp(prefix="dockerwin-collections-"))
    atexit.register(shutil.rmtree, top, True)
    link = top / "ansible_collections" / "dockerwin" / "registry"
    link.parent.mkdir(parents=True)
    link.symlink_to(CHECKOUT, target_is_directory=True)
    return top


COLLECTIONS_DIR = _collections_dir()
if str(COLLECTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_DIR))


@pytest.fixture(scope="session")
def collection_root():
    """The folder holding ``ansible_collections/dockerwin/registry`` (this checkout)."""
    return COLLECTIONS_DIR


@pytest.fixture(scope="session")
def collection_env(collection_root, tmp_path_factory):
    """Environment for ``ansible``/``python`` subprocesses that must find this collection, with
    ansible's defaults otherwise (an empty ansible.cfg, not the checkout's)."""
    config = tmp_path_factory.mktemp("ansible-config") / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collection_root),
        PYTHONPATH=os.pathsep.join([str(collection_root)] + [p for p in [env.get("PYTHONPATH")] if p]),
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    return env
