# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The docs' examples are real: the EXAMPLES of every module and every YAML block of the guides
(docs/docsite/rst/*.rst) parse as YAML, and

- tasks of this collection's modules take only options the module documents, of the documented type and choice
  (templated values stand in by type; ``module_defaults`` of the play count);
- role variables (``windows_registry_*``, ``registry_client_*``) in any mapping are options of the role's
  ``meta/argument_specs.yml``, of the right type;
- every example task and play goes through ``ansible-playbook --syntax-check`` in one generated playbook, with the
  installed collection (.collections, from `make install`): module and role names must resolve;
- a guide's play that has the name of a play of ``playbooks/`` is that play, unchanged;
- every repository path a guide names (``tests/...``, ``playbooks/...``) exists;
- changelog fragments shown in the guides pass ``antsibull-changelog lint``.

What each guide says runs in the integration suite is in its *Tested* section (the paths checked here).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

CHECKOUT = Path(__file__).resolve().parents[2]
GUIDES = sorted((CHECKOUT / "docs" / "docsite" / "rst").glob("*.rst"))
MODULES = sorted(p.stem for p in (CHECKOUT / "plugins" / "modules").glob("*.py") if not p.name.startswith("_"))
ROLES = {"windows_registry": "windows_registry_", "registry_client": "registry_client_"}
PREFIX = "dockerwin.registry."
PLACEHOLDERS = {"int": 1, "float": 1.0, "bool": True, "list": [], "dict": {}}
CODE_BLOCK = re.compile(r"^\.\. code-block:: yaml[^\n]*\n((?:[ \t]*\n|[ \t]+[^\n]*\n)+)", re.MULTILINE)
REPO_PATH = re.compile(r"``((?:tests|playbooks|inventories|extensions|molecule|roles|plugins|\.github)/[^`<>*\s]+)``")


def ansible_env():
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(CHECKOUT / ".collections"), ANSIBLE_CONFIG=str(CHECKOUT / "ansible.cfg"),
                ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")


@pytest.fixture(scope="module")
def module_docs():
    names = [PREFIX + m for m in MODULES]
    done = subprocess.run([sys.executable, "-m", "ansible", "doc", "--json", "-t", "module", *names],
                          env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    docs = json.loads(done.stdout)
    assert sorted(docs) == sorted(names), "ansible-doc misses %s: run `make install`" % sorted(set(names) - set(docs))
    return docs


@pytest.fixture(scope="module")
def role_specs():
    specs = {}
    for role in ROLES:
        data = yaml.safe_load((CHECKOUT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
        specs[role] = data["argument_specs"]["main"]["options"]
    return specs


def guide_blocks():
    """(guide file name, line, parsed YAML) of every ``.. code-block:: yaml`` of the guides."""
    blocks = []
    for guide in GUIDES:
        text = guide.read_text(encoding="utf-8")
        for match in CODE_BLOCK.finditer(text):
            body = match.group(1)
            indent = min(len(line) - len(line.lstrip()) for line in body.splitlines() if line.strip())
            source = "\n".join(line[indent:] for line in body.splitlines())
            line = text.count("\n", 0, match.start()) + 1
            try:
                data = yaml.safe_load(source)
            except yaml.YAMLError as exc:
                pytest.fail("%s:%d: the YAML block does not parse: %s" % (guide.name, line, exc))
            blocks.append((guide.name, line, data))
    return blocks


def argument_spec(options):
    """An argument spec for ArgumentSpecValidator from documented options (module DOCUMENTATION or argument_specs.yml)."""
    spec = {}
    for name, option in (options or {}).items():
        entry = {"type": option.get("type", "str")}
        for key in ("elements", "choices", "aliases", "required"):
            if key in option:
                entry[key] = option[key]
        if option.get("suboptions") or option.get("options"):
            entry["options"] = argument_spec(option.get("suboptions") or option.get("options"))
        spec[name] = entry
    return spec


def untemplated(value, option):
    """Templated values (decided at run time) replaced by a value of the documented type."""
    if isinstance(value, str) and "{{" in value:
        if option.get("choices"):
            return option["choices"][0]
        return PLACEHOLDERS.get(option.get("type", "str"), "x")
    if isinstance(value, dict) and (option.get("suboptions") or option.get("options")):
        sub = option.get("suboptions") or option.get("options")
        return {k: untemplated(v, sub.get(k, {})) for k, v in value.items()}
    if isinstance(value, list) and option.get("elements") == "dict" and (option.get("suboptions") or option.get("options")):
        return [untemplated(v, {"type": "dict", "options": option.get("suboptions") or option.get("options")}) for v in value]
    return value


def check_args(where, options, args, partial=False):
    options = copy.deepcopy(options)
    if partial:
        for option in options.values():
            option.pop("required", None)
    args = {k: untemplated(v, options.get(k, {})) for k, v in args.items()}
    result = ArgumentSpecValidator(argument_spec(options)).validate(args)
    assert not result.error_messages, "%s: %s" % (where, result.error_messages)


def tasks_of(tasks):
    for task in tasks or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks_of(task.get(key))


def is_play(item):
    return isinstance(item, dict) and ("hosts" in item or "ansible.builtin.import_playbook" in item)


def is_task_list(data):
    return isinstance(data, list) and data and all(isinstance(t, dict) and "name" in t and not is_play(t) for t in data)


def check_module_tasks(where, tasks, module_docs, defaults=None):
    """Options of this collection's modules in the tasks; module_defaults of the play, blocks and tasks count."""
    for task in tasks or []:
        local = dict(defaults or {}, **group_defaults(task, module_docs))
        for key in ("block", "rescue", "always"):
            check_module_tasks(where, task.get(key), module_docs, local)
        for key, args in task.items():
            if key in module_docs:
                merged = dict(local.get(key, {}), **(args or {}))
                check_args("%s, task %r" % (where, task.get("name")), module_docs[key]["doc"]["options"], merged)


def group_defaults(item, module_docs):
    """module_defaults of a play, block or task, per module (group/dockerwin.registry.registry counts for its members)."""
    runtime = yaml.safe_load((CHECKOUT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    defaults = {}
    for key, args in (item.get("module_defaults") or {}).items():
        if key.startswith("group/" + PREFIX):
            for member in runtime["action_groups"][key[len("group/" + PREFIX):]]:
                if isinstance(member, str):
                    defaults[PREFIX + member] = args
        elif key in module_docs:
            defaults[key] = args
    return defaults


def role_mappings(data):
    """Every mapping in the data that holds role variables."""
    if isinstance(data, dict):
        if any(isinstance(k, str) and k.startswith(tuple(ROLES.values())) for k in data):
            yield data
        for value in data.values():
            yield from role_mappings(value)
    elif isinstance(data, list):
        for item in data:
            yield from role_mappings(item)


def test_every_module_has_examples_of_itself_with_documented_options(module_docs):
    for name, doc in module_docs.items():
        tasks = yaml.safe_load(doc["examples"])
        assert is_task_list(tasks), "%s: EXAMPLES is not a list of named tasks" % name
        assert any(name in task for task in tasks_of(tasks)), "%s: no example uses %s" % (name, name)
        check_module_tasks(name + " EXAMPLES", tasks, module_docs)


def test_guides_have_yaml_examples():
    blocks = guide_blocks()
    assert len(GUIDES) >= 9
    assert len(blocks) >= 15
    assert {g for g, dummy, dummy in blocks} >= {"guide_windows_quickstart.rst", "guide_secure_registry.rst", "guide_clients.rst",
                                                  "guide_health_checks.rst", "guide_day2_operations.rst"}


def test_guide_tasks_and_plays_use_documented_options(module_docs):
    for guide, line, data in guide_blocks():
        where = "%s:%d" % (guide, line)
        if is_task_list(data):
            check_module_tasks(where, data, module_docs)
        elif isinstance(data, list) and data and all(is_play(p) for p in data):
            for play in data:
                check_module_tasks(where, play.get("tasks"), module_docs, group_defaults(play, module_docs))


def test_role_variables_in_the_guides_are_documented(role_specs):
    seen = 0
    for guide, line, data in guide_blocks():
        for mapping in role_mappings(data):
            for role, prefix in ROLES.items():
                given = {k: v for k, v in mapping.items() if isinstance(k, str) and k.startswith(prefix)}
                unknown = sorted(set(given) - set(role_specs[role]))
                assert not unknown, "%s:%d: not variables of the role %s: %s" % (guide, line, role, unknown)
                if given:
                    seen += 1
                    check_args("%s:%d" % (guide, line), role_specs[role], given, partial=True)
    assert seen >= 5


def test_guide_copies_of_playbooks_are_the_playbooks():
    plays = {}
    for path in sorted((CHECKOUT / "playbooks").glob("*.yml")):
        for play in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if isinstance(play, dict) and play.get("name"):
                plays.setdefault(play["name"], (path.name, play))
    compared = 0
    for guide, line, data in guide_blocks():
        if isinstance(data, list):
            for play in data:
                if is_play(play) and play.get("name") in plays:
                    source, original = plays[play["name"]]
                    assert play == original, "%s:%d: the play %r differs from playbooks/%s" % (guide, line, play["name"], source)
                    compared += 1
    assert compared >= 2


def test_paths_named_by_the_guides_exist():
    named = set()
    for guide in GUIDES:
        for path in REPO_PATH.findall(guide.read_text(encoding="utf-8")):
            named.add(path)
            assert (CHECKOUT / path).exists(), "%s names %s, which does not exist" % (guide.name, path)
    assert any(p.startswith("tests/integration/") for p in named)


def test_examples_pass_ansible_playbook_syntax_check(module_docs, tmp_path):
    plays = []
    for name, doc in sorted(module_docs.items()):
        plays.append({"name": "EXAMPLES of " + name, "hosts": "localhost", "gather_facts": False, "tasks": yaml.safe_load(doc["examples"])})
    for guide, line, data in guide_blocks():
        if is_task_list(data):
            plays.append({"name": "%s:%d" % (guide, line), "hosts": "localhost", "gather_facts": False, "tasks": data})
        elif isinstance(data, list) and data and all(is_play(p) for p in data):
            plays.extend(data)
    assert len(plays) >= len(module_docs) + 6
    playbook = tmp_path / "doc_examples.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ansible", "playbook", "--syntax-check", "-i", "localhost,", str(playbook)],
                          env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_syntax_check_fails_on_an_unknown_module(tmp_path):
    """The syntax check above resolves module names (else it could not fail on a renamed module)."""
    playbook = tmp_path / "bad.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False,
                                         "tasks": [{"name": "x", PREFIX + "registry_no_such_module": {}}]}]), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ansible", "playbook", "--syntax-check", "-i", "localhost,", str(playbook)],
                          env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert "registry_no_such_module" in done.stdout + done.stderr


def test_changelog_fragments_in_the_guides_pass_antsibull_changelog_lint(tmp_path):
    sections = {"major_changes", "minor_changes", "breaking_changes", "deprecated_features", "removed_features", "security_fixes",
                "bugfixes", "known_issues"}
    fragments = [data for dummy, dummy, data in guide_blocks() if isinstance(data, dict) and set(data) and set(data) <= sections]
    assert fragments, "the releases guide shows a deprecation fragment"
    paths = []
    for index, data in enumerate(fragments):
        paths.append(tmp_path / ("fragment-%d.yml" % index))
        paths[-1].write_text(yaml.safe_dump(data), encoding="utf-8")
    done = subprocess.run([str(Path(sys.executable).parent / "antsibull-changelog"), "lint", *map(str, paths)],
                          cwd=CHECKOUT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
