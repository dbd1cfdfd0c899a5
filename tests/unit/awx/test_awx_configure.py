# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every task of playbooks/awx_configure.yml against the argument specs of the awx.awx modules it calls.

Each task's arguments are rendered as ansible-core renders them (the play's vars, each loop item, omit), with
inputs that switch every optional task on, then checked by ansible-core's ArgumentSpecValidator against the
module's own spec (awx_specs: read from an installed awx.awx, else the snapshot made from one): unknown
options, types, choices, required options, mutually exclusive ones.
"""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

import awx_rules
import awx_specs
from awx_playbooks import PLAYBOOKS, SURVEYS, load_yaml, play_tasks, task_module

PLAYBOOK = PLAYBOOKS / "awx_configure.yml"
VALIDATOR_KWARGS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


def plain(value):
    """Tagged template results as plain Python values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def trusted(value):
    from ansible.template import trust_as_template

    if isinstance(value, dict):
        return {k: trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trusted(v) for v in value]
    return trust_as_template(value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def specs():
    collection = awx_specs.find_collection()
    if collection is None:
        return awx_specs.load_snapshot()["modules"]
    return {name: awx_specs.extract(collection, name) for name in awx_specs.load_snapshot()["modules"]}


@pytest.fixture(scope="module", autouse=True)
def plugin_loader():
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Inputs that switch every optional task on."""
    ca = tmp_path_factory.mktemp("awx") / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    return {
        "awx_configure_scm_url": "https://git.corp.example/infra/registry.git",
        "awx_configure_create_organization": True,
        "awx_configure_scm_credential": "git",
        "awx_configure_machine_credential": "windows admins",
        "awx_configure_ee_image": "registry.corp.example/dockerwin/registry-ee:0.1.0",
        "awx_configure_registry_username": "ci",
        "awx_configure_registry_password": "secret",
        "awx_configure_tls_ca_file": str(ca),
        "awx_configure_seed_source_username": "mirror",
        "awx_configure_seed_source_password": "secret2",
        "awx_configure_seed_source_ca_file": str(ca),
    }


def play_variables(play, inputs):
    return dict(play.get("vars") or {}, playbook_dir=str(PLAYBOOKS), **inputs)


@pytest.fixture(scope="module")
def rendered_tasks(inputs):
    """[(task name, module, rendered args)] for every task and loop item, every optional task switched on."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    loader = DataLoader()
    result = []
    for play in trusted(load_yaml(PLAYBOOK)):
        variables = play_variables(play, inputs)
        for task in play_tasks(play):
            module, args = task_module(task)
            templar = Templar(loader=loader, variables=variables)
            items = templar.template(task["loop"]) if "loop" in task else [None]
            for item in items:
                item_templar = Templar(loader=loader, variables=dict(variables, item=item))
                result.append((task["name"], module, plain(item_templar.template(args)), task))
    return result


def test_playbook_uses_modules_the_snapshot_knows(rendered_tasks):
    known = set(awx_specs.load_snapshot()["modules"])
    for name, module, dummy, dummy in rendered_tasks:
        if module.startswith("awx.awx."):
            assert module.split(".")[-1] in known, "%s: regenerate awx_module_specs.json with %s" % (name, module)


def test_every_awx_task_fits_its_module_spec(rendered_tasks, specs):
    checked = set()
    for name, module, args, dummy in rendered_tasks:
        if not module.startswith("awx.awx."):
            continue
        short = module.split(".")[-1]
        spec = specs[short]
        argument_spec = {k: {o: v for o, v in option.items() if o != "fallback"} for k, option in spec["argument_spec"].items()}
        kwargs = {k: v for k, v in spec["kwargs"].items() if k in VALIDATOR_KWARGS}
        result = ArgumentSpecValidator(argument_spec, **kwargs).validate(args)
        assert not result.error_messages, "%s (%s): %s" % (name, module, result.error_messages)
        assert not result.unsupported_parameters, "%s: unknown options %s" % (name, result.unsupported_parameters)
        checked.add(short)
    assert {"project", "inventory", "inventory_source", "credential_type", "credential", "job_template", "schedule"} <= checked


def test_validator_catches_a_wrong_task(specs):
    spec = {k: {o: v for o, v in option.items() if o != "fallback"} for k, option in specs["job_template"]["argument_spec"].items()}
    result = ArgumentSpecValidator(spec).validate({"name": "x", "job_type": "deploy", "survey": {}, "forks": "many"})
    text = " ".join(result.error_messages)
    assert "job_type" in text and "forks" in text and result.unsupported_parameters


def test_job_templates_carry_the_surveys_and_playbooks(rendered_tasks):
    templates = {args["playbook"]: args for dummy, module, args, dummy in rendered_tasks if module == "awx.awx.job_template"}
    surveys = {path.stem for path in SURVEYS.glob("*.json")}
    assert sorted(templates) == sorted("playbooks/%s.yml" % stem for stem in surveys), "one job template per survey"
    for playbook, args in templates.items():
        assert (PLAYBOOKS.parent / playbook).is_file()
        assert args["survey_enabled"] is True and args["survey_spec"]["spec"], playbook
        assert args["ask_variables_on_launch"] is False, "survey answers only, as the surveys' checks assume"
    machine, user, ca = "windows admins", "dockerwin.registry registry user", "dockerwin.registry registry CA"
    wanted = {"site": [machine, user, ca], "clients": [machine, user, ca], "verify": [machine, user, ca],
              "upgrade": [machine, ca], "garbage_collect": [machine, ca], "seed_images": [machine, ca, "dockerwin.registry seed source"]}
    assert {args["name"].split()[-1]: args["credentials"] for args in templates.values()} == wanted


def survey_of(stem):
    return json.loads((SURVEYS / ("%s.json" % stem)).read_text())


def test_gc_schedule_runs_the_gc_template_as_awx_takes_it(rendered_tasks):
    schedules = [args for dummy, module, args, dummy in rendered_tasks if module == "awx.awx.schedule"]
    templates = {args["name"]: args for dummy, module, args, dummy in rendered_tasks if module == "awx.awx.job_template"}
    assert len(schedules) == 1
    schedule = schedules[0]
    assert templates[schedule["unified_job_template"]]["playbook"] == "playbooks/garbage_collect.yml"
    assert schedule["enabled"] is True
    assert awx_rules.rrule_errors(schedule["rrule"]) == [], "AWX refuses the rule"
    # AWX checks a schedule's extra_data against the template's survey as a launch's answers (required ones too).
    assert awx_rules.launch_errors(survey_of("garbage_collect"), schedule["extra_data"]) == []
    assert awx_rules.launch_extra_vars(survey_of("garbage_collect"), schedule["extra_data"])["registry_gc_dry_run"] == "false"


def test_rrule_checker_refuses_what_awx_refuses():
    assert awx_rules.rrule_errors("DTSTART:20270103T020000Z RRULE:FREQ=WEEKLY;BYDAY=SU;INTERVAL=1") == []
    for rule, message in [("DTSTART:20270103T020000Z RRULE:FREQ=WEEKLY;BYDAY=SU", "INTERVAL required"),
                          ("DTSTART:20270103T020000 RRULE:FREQ=WEEKLY;INTERVAL=1", "naive"),
                          ("RRULE:FREQ=WEEKLY;INTERVAL=1", "DTSTART required"),
                          ("DTSTART;TZID=UTC:20250105T020000 RRULE:FREQ=MONTHLY;BYDAY=1SU;INTERVAL=1", "numeric prefix"),
                          ("DTSTART;TZID=UTC:20250105T020000 RRULE:FREQ=SECONDLY;INTERVAL=1", "SECONDLY"),
                          ("DTSTART;TZID=UTC:20250105T020000 RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=1000", "COUNT > 999")]:
        assert any(message in error for error in awx_rules.rrule_errors(rule)), (rule, awx_rules.rrule_errors(rule))


def test_rrule_checker_parses_as_awx_does():
    pytest.importorskip("dateutil", reason="python-dateutil (AWX's rrule parser) is not installed in this venv")
    errors = awx_rules.rrule_errors("DTSTART;TZID=UTC:20250105T020000 RRULE:FREQ=WEEKLY;BYDAY=XX;INTERVAL=1")
    assert any("parsing failed" in error for error in errors), errors


def input_check(inputs, **changes):
    """The conditions of the playbook's first task (its input check) as ansible-core evaluates them."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    play = trusted(load_yaml(PLAYBOOK))[0]
    task = next(iter(play_tasks(play)))
    module, args = task_module(task)
    assert module == "ansible.builtin.assert"
    templar = Templar(loader=DataLoader(), variables=play_variables(play, dict(inputs, **changes)))
    return [condition for condition in args["that"] if not templar.evaluate_conditional(condition)]


def test_inputs_are_checked_before_anything_changes(inputs):
    assert input_check(inputs) == []
    assert input_check(inputs, awx_configure_gc_schedule_enabled=False) == []
    assert input_check(inputs, awx_configure_seed_source_password="") != [], "a seed user without a password"
    assert input_check(inputs, awx_configure_gc_schedule_enabled="no") != []
    assert input_check(inputs, awx_configure_gc_schedule_rrule="DTSTART:20270103T020000Z RRULE:FREQ=WEEKLY;BYDAY=SU") != []
    assert input_check(inputs, awx_configure_job_templates=[{"playbook": "site.yml", "credentials": ["vault"]}]) != []


def test_credential_types_come_from_the_extension_files(rendered_tasks):
    names = [args["name"] for dummy, module, args, dummy in rendered_tasks if module == "awx.awx.credential_type"]
    files = sorted((SURVEYS.parent / "credential_types").glob("*.yml"))
    assert sorted(names) == sorted(load_yaml(path)["name"] for path in files)


def test_secrets_stay_out_of_logs(rendered_tasks):
    for name, module, args, task in rendered_tasks:
        if module == "awx.awx.credential" and "password" in args.get("inputs", {}):
            assert args["inputs"]["password"] in ("secret", "secret2")
            assert task.get("no_log") is True, name


def test_snapshot_matches_the_installed_collection():
    collection = awx_specs.find_collection()
    if collection is None:
        pytest.skip("awx.awx is not installed here (not on PyPI, not in the ansible package): the snapshot is used")
    snapshot = awx_specs.load_snapshot()["modules"]
    for name in snapshot:
        live = awx_specs.extract(collection, name)
        assert set(live["argument_spec"]) >= set(snapshot[name]["argument_spec"]), "awx.awx.%s lost options" % name
