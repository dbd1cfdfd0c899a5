# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible-playbook as an operator would, and read what it did from the JSON callback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


class Run:
    """One ansible-playbook run: rc, raw output, and per-task results of the (single) host."""

    def __init__(self, argv, proc):
        self.argv = argv
        self.rc = proc.returncode
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            raise AssertionError("ansible-playbook printed no JSON (rc=%s):\n%s\n%s" % (self.rc, proc.stdout[-3000:], proc.stderr[-3000:]))
        self.tasks = []
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    self.tasks.append((task["task"]["name"], host, result))

    @property
    def stats(self):
        return next(iter(self.data.get("stats", {}).values()), {})

    @property
    def changed(self):
        return self.stats.get("changed", 0)

    @property
    def failed(self):
        return self.rc != 0 or self.stats.get("failures", 0) > 0 or self.stats.get("unreachable", 0) > 0

    def changed_tasks(self):
        return [name for name, dummy, result in self.tasks if result.get("changed")]

    def result(self, name_part):
        """The last result of the task whose name contains name_part."""
        found = [result for name, dummy, result in self.tasks if name_part in name]
        if not found:
            raise AssertionError("no task matching %r ran; tasks: %s" % (name_part, [n for n, dummy, dummy in self.tasks]))
        return found[-1]

    def failure_message(self):
        return "\n".join("%s: %s" % (name, result.get("msg")) for name, dummy, result in self.tasks if result.get("failed"))

    def __repr__(self):
        return "<Run rc=%s changed=%s failed=%s>" % (self.rc, self.changed_tasks(), self.failure_message())


def write_inventory(path, host_vars, group="registry_servers"):
    """An inventory with localhost alone in `group`, with the given variables."""
    hostvars = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    hostvars.update(host_vars)
    Path(path).write_text(yaml.safe_dump({group: {"hosts": {"localhost": hostvars}}}))
    return str(path)


def run_playbook(playbook, inventory, check=False, diff=False, extra_vars=None, verbosity=0, env=None, timeout=600):
    argv = [str(ANSIBLE_PLAYBOOK), "-i", inventory, str(REPO / playbook)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if extra_vars:
        argv += ["--extra-vars", json.dumps(extra_vars)]
    if verbosity:
        argv.append("-" + "v" * verbosity)
    run_env = dict(os.environ)
    run_env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="0",
    )
    run_env.update(env or {})
    proc = subprocess.run(argv, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    return Run(argv, proc)
