# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the playbooks of playbooks/ take as input: their plays, tasks, roles and the variables they accept."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PLAYBOOKS = REPO / "playbooks"
ROLES = REPO / "roles"
EXTENSIONS = REPO / "extensions"
SURVEYS = EXTENSIONS / "awx" / "surveys"
CREDENTIAL_TYPES = EXTENSIONS / "awx" / "credential_types"
COLLECTION = "dockerwin.registry."
TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
BLOCK_LISTS = ("block", "rescue", "always")


def load_yaml(path):
    """A YAML file as ansible-core reads it (its tags, such as !unsafe and !vault, included)."""
    from ansible.parsing.dataloader import DataLoader

    return DataLoader().load_from_file(str(path))


def playbook_files():
    return sorted(PLAYBOOKS.glob("*.yml"))


def plays(path, seen=None):
    """Every play of a playbook, following import_playbook (relative to the importing file)."""
    seen = set() if seen is None else seen
    path = Path(path).resolve()
    if path in seen:
        return []
    seen.add(path)
    found = []
    for play in load_yaml(path) or []:
        target = play.get("ansible.builtin.import_playbook", play.get("import_playbook"))
        if target:
            found += plays(path.parent / target, seen)
        else:
            found.append(play)
    return found


def walk_tasks(tasks):
    """Tasks of a task list, blocks opened."""
    for task in tasks or []:
        if any(key in task for key in BLOCK_LISTS):
            for key in BLOCK_LISTS:
                yield from walk_tasks(task.get(key))
        else:
            yield task


def play_tasks(play):
    for key in TASK_LISTS:
        yield from walk_tasks(play.get(key))


def task_module(task):
    """(module name, its arguments) of a task in the `module: args` form."""
    from ansible.playbook.handler import Handler  # the task and handler keywords, from ansible-core itself
    from ansible.playbook.task import Task

    keywords = set(Task.fattributes) | set(Handler.fattributes) | {"local_action", "block", "rescue", "always"}
    modules = [key for key in task if key not in keywords and not key.startswith("with_")]
    if len(modules) != 1:
        raise AssertionError("cannot tell the module of task %r (candidates %s)" % (task.get("name"), modules))
    return modules[0], task[modules[0]]


def role_name(entry):
    name = entry if isinstance(entry, str) else entry.get("role", entry.get("name"))
    return name[len(COLLECTION):] if name.startswith(COLLECTION) else name


def roles_of(play):
    """Roles a play applies: its roles: list, include_role / import_role tasks."""
    names = [role_name(entry) for entry in play.get("roles", [])]
    for task in play_tasks(play):
        module, args = task_module(task)
        if module.split(".")[-1] in ("include_role", "import_role"):
            names.append(role_name(args))
    return names


def role_options(role):
    """{variable: option} of a role's entry point main, each with its effective default
    (the argument spec's, else defaults/main.yml's)."""
    spec = load_yaml(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults_file = ROLES / role / "defaults" / "main.yml"
    defaults = load_yaml(defaults_file) if defaults_file.is_file() else {}
    options = {}
    for name, option in spec.items():
        option = dict(option)
        if "default" not in option and name in defaults:
            option["default"] = defaults[name]
        options[name] = option
    return options


def accepted_inputs(path):
    """{variable: option} a playbook accepts: its roles' options, then its plays' own vars (type of the
    default, the default)."""
    accepted = {}
    for play in plays(path):
        for role in roles_of(play):
            accepted.update(role_options(role))
        for name, value in (play.get("vars") or {}).items():
            if name.startswith("_"):
                continue
            kind = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(type(value), "raw")
            accepted.setdefault(name, {"type": kind, "default": value, "play_var": True})
    return accepted


def required_inputs(path):
    """{variable: (play hosts, option)} of the role options a playbook's plays need."""
    needed = {}
    for play in plays(path):
        for role in roles_of(play):
            for name, option in role_options(role).items():
                if option.get("required"):
                    needed[name] = (play["hosts"], option)
    return needed
