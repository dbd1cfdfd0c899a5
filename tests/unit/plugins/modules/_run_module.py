# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module of this collection as Ansible does: a new Python, the arguments as JSON on stdin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def run_registry_module(collection_env, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("module-cwd")

    def run(module_name, check_mode=False, **args):
        if check_mode:
            args["_ansible_check_mode"] = True
        module = "ansible_collections.dockerwin.registry.plugins.modules." + module_name
        process = subprocess.run([sys.executable, "-m", module], input=json.dumps({"ANSIBLE_MODULE_ARGS": args}),
                                 capture_output=True, text=True, env=collection_env, cwd=cwd, timeout=300, check=False)
        try:
            result = json.loads(process.stdout)
        except ValueError:
            pytest.fail("module printed no JSON (rc %d):\n%s\n%s" % (process.returncode, process.stdout, process.stderr))
        assert process.returncode == (1 if result.get("failed") else 0), process.stderr
        result["_stdout"] = process.stdout
        return result

    return run
