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
    default, the default), then the inputs its templates read (undeclared_inputs); each with read_as_bool when
    the playbook reads it (if at all) only through `| bool`."""
    accepted = {}
    for play in plays(path):
        for role in roles_of(play):
            accepted.update(role_options(role))
        for name, value in (play.get("vars") or {}).items():
            if name.startswith("_"):
                continue
            kind = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(type(value), "raw")
            accepted.setdefault(name, {"type": kind, "default": value, "play_var": True})
    for name, option in undeclared_inputs(path).items():
        accepted.setdefault(name, option)
    for name, entry in template_reads(path).items():
        if name in accepted:
            accepted[name] = dict(accepted[name], read_as_bool=entry["read_as_bool"])
    return accepted


def required_inputs(path):
    """{variable: (play hosts, option)} of the role options a playbook's plays need, and of the inputs its
    templates read unguarded (undeclared_inputs)."""
    needed = {}
    for play in plays(path):
        for role in roles_of(play):
            for name, option in role_options(role).items():
                if option.get("required"):
                    needed[name] = (play["hosts"], option)
    for name, option in undeclared_inputs(path).items():
        if option["required"]:
            needed.setdefault(name, (option["hosts"], option))
    return needed


# --- inputs the tasks read ------------------------------------------------------------------------------
# A playbook also takes inputs it declares nowhere but reads in its templates (`registry_upgrade_version |
# default('')`, `registry_seed_source_url`). The Jinja of every task (included task files too) is parsed; a
# variable read but never set by the playbook (vars, set_fact, register, loop variables) nor by a role, nor
# Ansible's own, is an input: optional when every read is guarded (`| default(...)`, `is defined`), else
# required; `read_as_bool` when every read goes through `| bool`.
CONDITIONALS = ("when", "failed_when", "changed_when", "until")
ANSIBLE_NAMES = {"item", "omit", "playbook_dir", "inventory_dir", "inventory_file", "inventory_hostname", "inventory_hostname_short",
                 "hostvars", "groups", "group_names", "play_hosts", "role_path", "role_name", "lookup", "query", "q", "now",
                 "undef", "dict", "range", "lipsum", "cycler", "joiner", "namespace", "environment", "vars"}
_KINDS = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}


def _jinja_reads(source, expression=False):
    """[(name, guarded, as_bool, default)] of the variables a template (or a bare conditional) reads."""
    from jinja2 import Environment, nodes

    if expression:
        source = "{{ (%s) }}" % source
    tree = Environment().parse(source)
    stored = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    reads = []

    def visit(node, guarded=False, as_bool=False, default=None):
        if isinstance(node, nodes.Name):
            if node.ctx == "load" and node.name not in stored:
                reads.append((node.name, guarded, as_bool, default))
            return
        if isinstance(node, nodes.Filter) and node.name in ("default", "d"):
            literal = None
            if node.args:
                try:
                    literal = node.args[0].as_const()
                except nodes.Impossible:
                    literal = None
            visit(node.node, True, as_bool, literal)
            for child in list(node.args) + list(node.kwargs):
                visit(child)
            return
        if isinstance(node, nodes.Filter) and node.name == "bool":
            visit(node.node, guarded, True, default)
            return
        if isinstance(node, nodes.Test) and node.name in ("defined", "undefined"):
            visit(node.node, True, False, default)
            return
        for child in node.iter_child_nodes():
            visit(child)

    visit(tree)
    return reads


def _template_strings(value):
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _template_strings(key)
            yield from _template_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _template_strings(item)


def _task_lists_with_files(tasks, base):
    """(task, folder of its file) of a task list, blocks opened and include_tasks/import_tasks files followed."""
    for task in tasks or []:
        if any(key in task for key in BLOCK_LISTS):
            yield task, base  # the block itself: its vars and conditions
            for key in BLOCK_LISTS:
                yield from _task_lists_with_files(task.get(key), base)
            continue
        yield task, base
        module, args = task_module(task)
        if module.split(".")[-1] in ("include_tasks", "import_tasks"):
            target = args if isinstance(args, str) else args.get("file")
            path = base / target
            if "{{" not in target and path.is_file():
                yield from _task_lists_with_files(load_yaml(path), path.parent)


def template_reads(path):
    """{variable: {"required": bool, "read_as_bool": bool, "default": literal, "hosts": play hosts}} of the variables
    a playbook's templates read and its tasks do not set (play vars and role variables included)."""
    reads, defined = {}, set()
    for play in plays(path):
        sources = [(text, False) for text in _template_strings({k: v for k, v in play.items() if k not in TASK_LISTS})]
        for key in TASK_LISTS:
            for task, dummy in _task_lists_with_files(play.get(key), Path(path).parent):
                defined |= set(task.get("vars") or {})
                if task.get("register"):
                    defined.add(task["register"])
                defined.add((task.get("loop_control") or {}).get("loop_var", "item"))
                conditions = {k: task[k] for k in CONDITIONALS if k in task}
                rest = {k: v for k, v in task.items() if k not in CONDITIONALS and k not in BLOCK_LISTS}
                if not any(k in task for k in BLOCK_LISTS):
                    module, args = task_module(task)
                    short = module.split(".")[-1]
                    if short == "set_fact" and isinstance(args, dict):
                        defined |= {k for k in args if k != "cacheable"}
                    if short == "assert" and isinstance(args, dict) and "that" in args:
                        conditions["that"] = args["that"]
                        rest[module] = {k: v for k, v in args.items() if k != "that"}
                for value in conditions.values():
                    for text in value if isinstance(value, list) else [value]:
                        if isinstance(text, str):
                            sources.append((text, True))
                sources += [(text, False) for text in _template_strings(rest)]
        for text, expression in sources:
            for name, guarded, as_bool, default in _jinja_reads(text, expression):
                entry = reads.setdefault(name, {"required": False, "read_as_bool": True, "default": None, "hosts": play["hosts"]})
                entry["required"] |= not guarded
                entry["read_as_bool"] &= as_bool
                if default is not None and entry["default"] is None:
                    entry["default"] = default
    return {name: entry for name, entry in reads.items()
            if name not in defined and name not in ANSIBLE_NAMES and not name.startswith(("_", "ansible_"))}


def undeclared_inputs(path):
    """{variable: option} of the inputs a playbook reads without declaring them (neither role options nor play
    vars): type of the default its templates give it (raw when none), required when read unguarded."""
    declared = set()
    for play in plays(path):
        declared |= set(play.get("vars") or {})
        for role in roles_of(play):
            declared |= set(role_options(role))
            declared |= set(_role_vars(role))
    found = {}
    for name, entry in template_reads(path).items():
        if name in declared:
            continue
        kind = _KINDS.get(type(entry["default"]), "raw")
        found[name] = {"type": kind, "required": entry["required"], "read_as_bool": entry["read_as_bool"], "hosts": entry["hosts"],
                       "template_var": True}
    return found


def _role_vars(role):
    """Names a role's vars/ files set (set_vars.yml loads them, public, into the play)."""
    names = set()
    for path in sorted((ROLES / role / "vars").glob("*.yml")):
        names |= set(load_yaml(path) or {})
    return names
