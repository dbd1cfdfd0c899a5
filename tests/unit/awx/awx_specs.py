# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs of awx.awx modules, as the modules themselves build them.

awx.awx modules build their spec inside ``main()`` and hand it to ``ControllerAPIModule(argument_spec=...)``,
which adds the shared connection options (``ControllerModule.AUTH_ARGSPEC``). ``extract()`` runs a module's
``main()`` in a subprocess with ``ControllerAPIModule`` replaced by a recorder that keeps the spec and the other
keyword arguments (mutually_exclusive, required_if, ...) and stops the module there; the connection options are
merged in as the real class does.

awx.awx is not on PyPI and the ``ansible`` package does not bundle it, so this checkout keeps a snapshot of the
specs it uses (``awx_module_specs.json``, made by this file from an awx.awx copy) for machines without the
collection; where one is installed the tests use it and compare it with the snapshot. Regenerate with
    python tests/unit/awx/awx_specs.py --collection /path/to/ansible_collections/awx/awx --source "awx.awx <version>"
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE / "awx_module_specs.json"
REPO = HERE.parents[2]

_RECORDER = r"""
import importlib, json, sys
name = sys.argv[1]
api = importlib.import_module("ansible_collections.awx.awx.plugins.module_utils.controller_api")
module = importlib.import_module("ansible_collections.awx.awx.plugins.modules." + name)

class Recorded(Exception):
    pass

class Recorder:
    def __init__(self, argument_spec=None, **kwargs):
        spec = dict(api.ControllerModule.AUTH_ARGSPEC)
        spec.update(argument_spec or {})
        raise Recorded(spec, kwargs)

def plain(value):
    # fallback=(env_fallback, [names]) holds a function: keep the variable names only
    if isinstance(value, dict):
        return {k: (list(v[1]) if k == "fallback" else plain(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value

module.ControllerAPIModule = Recorder
try:
    module.main()
except Recorded as recorded:
    spec, kwargs = recorded.args
    kwargs = {k: v for k, v in kwargs.items() if k != "supports_check_mode"}
    print(json.dumps({"argument_spec": plain(spec), "kwargs": plain(kwargs)}, sort_keys=True))
else:
    sys.exit("%s: main() did not build a ControllerAPIModule" % name)
"""


def candidate_roots():
    """Folders that may hold ansible_collections/awx/awx: DWR_AWX_COLLECTIONS_PATH, ANSIBLE_COLLECTIONS_PATH,
    this checkout's .collections, the user's and the system's collection folders, then sys.path."""
    roots = []
    for variable in ("DWR_AWX_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        roots += [p for p in os.environ.get(variable, "").split(os.pathsep) if p]
    roots += [str(REPO / ".collections"), os.path.expanduser("~/.ansible/collections"), "/usr/share/ansible/collections"]
    roots += [p for p in sys.path if p]
    return roots


def find_collection():
    """Path of an installed awx.awx (…/ansible_collections/awx/awx), or None."""
    for root in candidate_roots():
        path = Path(root)
        if path.name != "ansible_collections":
            path = path / "ansible_collections"
        path = path / "awx" / "awx"
        if (path / "plugins" / "modules").is_dir() and (path / "plugins" / "module_utils" / "controller_api.py").is_file():
            return path
    return None


def extract(collection, name):
    """Argument spec and AnsibleModule keyword arguments of module ``name`` of the awx.awx at ``collection``."""
    collection = Path(collection)
    top = collection.parents[2]  # the folder holding ansible_collections/
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(top)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, "-c", _RECORDER, name], capture_output=True, text=True, env=env, cwd=str(top), timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError("cannot read the argument spec of awx.awx.%s from %s:\n%s" % (name, collection, proc.stderr[-3000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def collection_version(collection):
    manifest = Path(collection) / "MANIFEST.json"
    if manifest.is_file():
        return json.loads(manifest.read_text())["collection_info"]["version"]
    return "source"


def load_snapshot():
    return json.loads(SNAPSHOT.read_text())


def write_snapshot(collection, modules, source):
    data = {"source": source, "modules": {name: extract(collection, name) for name in sorted(modules)}}
    SNAPSHOT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", help="…/ansible_collections/awx/awx (default: an installed one)")
    parser.add_argument("--source", help="what the snapshot was made from, recorded in it")
    parser.add_argument("modules", nargs="*", help="module names (default: those the snapshot holds)")
    args = parser.parse_args(argv)
    collection = Path(args.collection) if args.collection else find_collection()
    if collection is None:
        parser.error("no awx.awx found; pass --collection")
    modules = args.modules or sorted(load_snapshot()["modules"])
    data = write_snapshot(collection, modules, args.source or "awx.awx %s" % collection_version(collection))
    print("wrote %s: %s" % (SNAPSHOT, ", ".join(data["modules"])))


if __name__ == "__main__":
    main()
