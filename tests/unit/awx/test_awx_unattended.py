# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every playbook of playbooks/ runs unattended, as an AWX job does (no TTY, stdin closed): nothing prompts,
nothing pauses for input, and each play checks its inputs before it changes anything."""

from __future__ import annotations

import pytest

from awx_playbooks import ROLES, load_yaml, play_tasks, playbook_files, plays, roles_of, task_module, walk_tasks

PAUSE = {"pause", "ansible.builtin.pause", "ansible.legacy.pause"}
EARLY_CHECKS = {"assert", "ansible.builtin.assert", "validate_argument_spec", "ansible.builtin.validate_argument_spec",
                "fail", "ansible.builtin.fail"}
ALL_PLAYBOOKS = [path.name for path in playbook_files()]


def waits_for_input(task):
    """A pause without seconds or minutes waits for a key press; so does one whose prompt expects an answer."""
    module, args = task_module(task)
    if module not in PAUSE:
        return False
    args = args if isinstance(args, dict) else {}
    return not ({"seconds", "minutes"} & set(args))


def role_task_files():
    for role in sorted(ROLES.iterdir()):
        for folder in ("tasks", "handlers"):
            yield from sorted((role / folder).glob("*.yml"))


def test_there_are_playbooks():
    assert {"site.yml", "clients.yml", "verify.yml", "awx_configure.yml"} <= set(ALL_PLAYBOOKS)


@pytest.mark.parametrize("name", ALL_PLAYBOOKS)
def test_playbook_never_prompts(name):
    path = next(p for p in playbook_files() if p.name == name)
    for play in plays(path):
        assert not play.get("vars_prompt"), "%s: play %r has vars_prompt; take the value as an extra var" % (name, play.get("name"))
        for task in play_tasks(play):
            assert not waits_for_input(task), "%s: task %r pauses for input; give it seconds/minutes" % (name, task.get("name"))


@pytest.mark.parametrize("path", list(role_task_files()), ids=lambda p: str(p.relative_to(ROLES)))
def test_role_tasks_never_pause_for_input(path):
    for task in walk_tasks(load_yaml(path)):
        assert not waits_for_input(task), "%s: task %r pauses for input" % (path, task.get("name"))


# Tasks that change nothing: loading variables, facts, messages, and the read-only *_info modules.
READ_ONLY = {"set_fact", "include_vars", "debug", "meta", "assert", "fail", "validate_argument_spec"}


def changes_nothing(task):
    module, args = task_module(task)
    short = module.split(".")[-1]
    if short in ("include_role", "import_role"):
        return isinstance(args, dict) and str(args.get("tasks_from", "")).startswith("set_vars")
    return short in READ_ONLY or short.endswith("_info")


def checks_inputs_first(play):
    """A play checks its inputs before it changes anything: it applies a role with meta/argument_specs.yml
    (ansible-core validates those before the role's first task) and has no inputs of its own, or an assert comes
    before its first task that may change something, or no task of it changes anything (read-only plays:
    the modules' own option checks refuse a bad value)."""
    own_vars = [name for name in (play.get("vars") or {}) if not name.startswith("_")]
    if not own_vars and any((ROLES / role / "meta" / "argument_specs.yml").is_file() for role in roles_of(play)
                            if (ROLES / role).is_dir()):
        return True
    for task in play_tasks(play):
        if task_module(task)[0] in EARLY_CHECKS:
            return True
        if not changes_nothing(task):
            return False
    return True


@pytest.mark.parametrize("name", ALL_PLAYBOOKS)
def test_playbook_checks_its_inputs_first(name):
    path = next(p for p in playbook_files() if p.name == name)
    for play in plays(path):
        assert checks_inputs_first(play), "%s: play %r changes something before it checks its inputs" % (name, play.get("name"))


def test_the_checks_catch_prompts_pauses_and_late_checks():
    assert waits_for_input({"name": "x", "ansible.builtin.pause": {"prompt": "Go?"}})
    assert waits_for_input({"name": "x", "pause": None})
    assert not waits_for_input({"name": "x", "ansible.builtin.pause": {"seconds": 5}})
    late = {"hosts": "all", "vars": {"x": 1}, "tasks": [
        {"name": "a", "ansible.builtin.file": {"path": "/x"}},
        {"name": "b", "ansible.builtin.assert": {"that": "x"}},
    ]}
    assert not checks_inputs_first(late)
    early = dict(late, tasks=list(reversed(late["tasks"])))
    assert checks_inputs_first(early)
