# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The windows_registry role's variables, templates and task files, templated by Ansible's own Templar.

``Role(platform, facts, **overrides)`` layers the role the way a play sees it (defaults/main.yml, then
vars/<platform>.yml as set_vars.yml includes it, then vars/main.yml, with the operator's variables as play
variables) and templates with ansible-core's Jinja2 environment, its filters and tests, and this collection's
filter by FQCN (the collection loader is installed for the checkout). Templates render as the
``ansible.builtin.template`` lookup renders them (trim_blocks and all). Nothing runs on a host.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

CHECKOUT = Path(__file__).resolve().parents[3]
ROLE = CHECKOUT / "roles" / "windows_registry"

WINDOWS_FACTS = {
    "2019": {"kernel": "10.0.17763.0", "os_family": "Windows", "system": "Win32NT", "distribution_version": "10.0.17763.0"},
    "2022": {"kernel": "10.0.20348.0", "os_family": "Windows", "system": "Win32NT", "distribution_version": "10.0.20348.0"},
    "2025": {"kernel": "10.0.26100.0", "os_family": "Windows", "system": "Win32NT", "distribution_version": "10.0.26100.0"},
    "2016": {"kernel": "10.0.14393.0", "os_family": "Windows", "system": "Win32NT", "distribution_version": "10.0.14393.0"},
}
LINUX_FACTS = {"kernel": "6.1.0-28-amd64", "os_family": "Debian", "system": "Linux", "distribution_version": "12"}


@contextlib.contextmanager
def collection_loader(collections_dir):
    """Ansible's collection finder for the checkout, so the plugin loader finds dockerwin.registry.* (the FQCN
    filter in vars/Windows.yml), for the duration of a test module only: afterwards the finder is removed and
    the collection's modules are as they were, so tests that import the collection as a plain package are not
    affected."""
    saved = {n: m for n, m in sys.modules.items() if n.startswith("ansible_collections")}
    # Filter plugins imported as plain modules (by their own unit tests) must be loaded through the finder, or
    # Ansible's filter loader does not take them.
    for name in [n for n in saved if n.startswith("ansible_collections.dockerwin.registry.plugins.filter")]:
        del sys.modules[name]
    _AnsibleCollectionFinder(paths=[str(collections_dir)])._install()  # pylint: disable=protected-access
    package = sys.modules.get("ansible_collections.dockerwin.registry")
    had_meta = hasattr(package, "_collection_meta")
    if package is not None and not had_meta:
        # Imported as a plain package before the finder existed: the (empty) routing metadata the finder would
        # have read from meta/runtime.yml (no plugin redirects).
        package._collection_meta = {}  # pylint: disable=protected-access
    try:
        yield
    finally:
        _AnsibleCollectionFinder._remove()  # pylint: disable=protected-access
        for name in [n for n in sys.modules if n.startswith("ansible_collections")]:
            if name not in saved:
                del sys.modules[name]
        sys.modules.update(saved)
        if package is not None and not had_meta:
            del package._collection_meta


def task_file(name):
    """A task file as Ansible loads it: strings trusted as templates, `!unsafe` ones not."""
    return DataLoader().load_from_file(str(ROLE / "tasks" / name), trusted_as_template=True)


def flatten(tasks):
    """Tasks of a task file with the tasks of its blocks, in order (each block's `when` added to its tasks)."""
    out = []
    for task in tasks:
        if "block" in task:
            for inner in flatten(task["block"]):
                inner = dict(inner)
                inner["__block_when"] = task.get("when")
                out.append(inner)
        else:
            out.append(task)
    return out


class Role:
    def __init__(self, platform, facts, **overrides):
        self.loader = DataLoader()
        values = {}
        for part in ("defaults/main.yml", "vars/%s.yml" % platform, "vars/main.yml"):
            values.update(self.loader.load_from_file(str(ROLE / part), trusted_as_template=True))
        values.update({k: trust_as_template(v) if isinstance(v, str) else v for k, v in overrides.items()})
        values.setdefault("inventory_hostname", "registry-01.corp.example")
        values["ansible_facts"] = facts
        values["ansible_check_mode"] = False
        values["role_path"] = str(ROLE)
        self.values = values
        self.templar = Templar(loader=self.loader, variables=values)

    def expr(self, expression):
        """The value of a Jinja2 expression, as `{{ expression }}` in a task."""
        return self.templar.template(trust_as_template("{{ %s }}" % expression))

    def value(self, text):
        """A task argument as written in YAML (a string that may hold templates)."""
        return self.templar.template(text)

    def true(self, conditional):
        return bool(self.templar.evaluate_conditional(trust_as_template(conditional)))

    def render(self, template_name):
        path = ROLE / "templates" / template_name
        return self.expr("lookup('ansible.builtin.template', %r)" % str(path))

    def assert_task(self, task):
        """(passed, message) of an ansible.builtin.assert task: every `that` true, else its fail_msg."""
        args = task["ansible.builtin.assert"]
        that = args["that"] if isinstance(args["that"], list) else [args["that"]]
        passed = all(self.true(condition) for condition in that)
        return passed, "" if passed else " ".join(str(self.value(args["fail_msg"])).split())

    def applies(self, task):
        whens = []
        for key in ("__block_when", "when"):
            when = task.get(key)
            if when is None:
                continue
            whens += when if isinstance(when, list) else [when]
        return all(self.true(w) if isinstance(w, str) else bool(w) for w in whens)
