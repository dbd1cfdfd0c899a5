# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The survey specs of extensions/awx/surveys/: AWX takes them (awx_rules), and each fits its playbook: every
question's variable is one the playbook accepts, of a type it takes, with the role's choices and default, and
every input the playbook requires is asked or set by the example AWX inventory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import awx_rules
from awx_playbooks import PLAYBOOKS, REPO, SURVEYS, accepted_inputs, required_inputs

SURVEY_FILES = sorted(SURVEYS.glob("*.json"))
# Survey question types that give a value an option of this type takes. Ansible's `list` type splits a string
# on commas, so a text question can feed a list (comma-separated); there is no boolean or mapping question.
COMPATIBLE = {
    "str": {"text", "textarea", "password", "multiplechoice"},
    "path": {"text"},
    "int": {"integer"},
    "float": {"integer", "float"},
    "list": {"multiselect", "text"},
    "raw": {"text", "textarea", "integer", "float", "multiplechoice", "multiselect"},
    # No boolean question type: a multiplechoice of true/false strings, only for a variable the playbook reads
    # through `| bool` everywhere (a string "false" is true in a condition otherwise).
    "bool": {"multiplechoice"},
}
ids = [path.name for path in SURVEY_FILES]


def survey(path):
    return json.loads(Path(path).read_text())


def playbook_of(path):
    return PLAYBOOKS / (Path(path).stem + ".yml")


def test_surveys_exist_for_the_job_template_playbooks():
    assert {"site.json", "clients.json", "verify.json", "upgrade.json", "garbage_collect.json", "seed_images.json"} \
        <= {path.name for path in SURVEY_FILES}


@pytest.mark.parametrize("path", SURVEY_FILES, ids=ids)
def test_awx_takes_the_spec(path):
    assert awx_rules.spec_errors(survey(path)) == []


@pytest.mark.parametrize("path", SURVEY_FILES, ids=ids)
def test_survey_names_an_existing_playbook(path):
    assert playbook_of(path).is_file(), "%s: no playbooks/%s.yml; surveys only for playbooks that exist" % (path.name, path.stem)


@pytest.mark.parametrize("path", SURVEY_FILES, ids=ids)
def test_defaults_pass_their_own_question(path):
    # AWX silently drops a default that fails its question's check at launch: that would be a trap.
    for question in survey(path)["spec"]:
        if "default" in question:
            assert awx_rules.answer_errors(question, {question["variable"]: question["default"]}) == [], question["variable"]
        if question.get("min") is not None and question.get("max") is not None:
            assert question["min"] <= question["max"], question["variable"]


@pytest.mark.parametrize("path", SURVEY_FILES, ids=ids)
def test_every_question_is_an_input_of_the_playbook(path):
    accepted = accepted_inputs(playbook_of(path))
    for question in survey(path)["spec"]:
        variable = question["variable"]
        assert variable in accepted, "%s: %s is no input of %s" % (path.name, variable, playbook_of(path).name)
        option = accepted[variable]
        kind = option.get("type", "raw")
        assert question["type"] in COMPATIBLE.get(kind, set()), \
            "%s: %s is a %s question, the playbook takes a %s" % (path.name, variable, question["type"], kind)
        if kind == "bool":
            assert option.get("read_as_bool"), "%s: %s is asked as a string; %s must read it through | bool" % (
                path.name, variable, playbook_of(path).name)
            assert all(as_bool(choice) is not None for choice in awx_rules._choice_list(question["choices"])), \
                "%s: choices of %s must be true/false words" % (path.name, variable)
            if "default" in question:
                assert as_bool(question["default"]) == option.get("default"), \
                    "%s: default of %s is %r, the playbook's %r" % (path.name, variable, question["default"], option.get("default"))
            continue
        if option.get("choices"):
            assert question["type"] in ("multiplechoice", "multiselect"), "%s: %s has choices: ask with them" % (path.name, variable)
            assert sorted(awx_rules._choice_list(question["choices"])) == sorted(str(c) for c in option["choices"]), \
                "%s: the choices of %s differ from the argument spec's %s" % (path.name, variable, option["choices"])
        if "default" in question:
            assert "default" in option, "%s: %s has a default, the playbook none" % (path.name, variable)
            assert question["default"] == option["default"], \
                "%s: default of %s is %r, the playbook's %r" % (path.name, variable, question["default"], option["default"])


def as_bool(word):
    """What `| bool` makes of a survey answer (None: not a boolean word)."""
    from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

    return True if word in BOOLEANS_TRUE else False if word in BOOLEANS_FALSE else None


def awx_inventory():
    proc = subprocess.run([str(Path(sys.executable).with_name("ansible-inventory")), "-i", "inventories/awx/hosts.yml", "--list"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def group_hosts(inventory, group):
    hosts = set(inventory.get(group, {}).get("hosts", []))
    for child in inventory.get(group, {}).get("children", []):
        hosts |= group_hosts(inventory, child)
    return hosts


@pytest.mark.parametrize("path", SURVEY_FILES, ids=ids)
def test_every_required_input_is_asked_or_set_by_the_inventory(path):
    inventory = awx_inventory()
    asked = {q["variable"] for q in survey(path)["spec"] if q["required"]}
    for variable, (hosts, _option) in required_inputs(playbook_of(path)).items():
        if variable in asked:
            continue
        targets = group_hosts(inventory, hosts)
        assert targets, "group %s of %s has no host in inventories/awx" % (hosts, playbook_of(path).name)
        missing = [h for h in targets if variable not in inventory["_meta"]["hostvars"][h]]
        assert not missing, "%s: %s is required, neither asked nor set by inventories/awx for %s" % (path.name, variable, missing)


@pytest.mark.parametrize("path", SURVEY_FILES, ids=ids)
def test_a_launch_with_the_defaults_only(path):
    """What the operator gets by pressing Launch: required questions without a default must be answered."""
    spec = survey(path)
    answers = {q["variable"]: q["default"] for q in spec["spec"] if "default" in q}
    unanswered = [q["variable"] for q in spec["spec"] if q["required"] and "default" not in q]
    assert awx_rules.launch_errors(spec, answers) == ["'%s' value missing" % v for v in unanswered]


# The checker itself: it refuses what AWX refuses.
GOOD = {"question_name": "Q", "variable": "v", "type": "text", "required": False}


@pytest.mark.parametrize("change, message", [
    ({"type": "bool"}, "is none of"),
    ({"type": "integer", "default": "5"}, "is not a integer"),
    ({"type": "integer", "default": True}, "is not a integer"),
    ({"type": "multiplechoice"}, "needs choices"),
    ({"type": "multiplechoice", "choices": ["a", "b"], "default": "c"}, "not among the choices"),
    ({"type": "multiplechoice", "choices": "a\nb", "default": "a\nb"}, "takes one default"),
    ({"min": "1"}, "'min' must be an integer"),
    ({"required": "yes"}, "'required' must be a boolean"),
    ({"default": "$encrypted$"}, "reserved"),
])
def test_checker_refuses_what_awx_refuses(change, message):
    errors = awx_rules.spec_errors({"name": "n", "description": "d", "spec": [dict(GOOD, **change)]})
    assert any(message in error for error in errors), errors


def test_checker_refuses_spec_shapes():
    assert awx_rules.spec_errors({"name": "n", "spec": []})
    assert awx_rules.spec_errors({"name": "n", "description": "d", "spec": []}) == ["'spec' holds no questions"]
    twice = {"name": "n", "description": "d", "spec": [GOOD, GOOD]}
    assert "asked twice" in awx_rules.spec_errors(twice)[0]


@pytest.mark.parametrize("question, value, ok", [
    ({"type": "integer", "min": 1, "max": 10}, 5, True),
    ({"type": "integer", "min": 1, "max": 10}, 11, False),
    ({"type": "integer"}, "5", False),
    ({"type": "integer"}, True, False),
    ({"type": "float", "min": 0}, 2, True),
    ({"type": "text", "min": 2, "max": 3}, "a", False),
    ({"type": "text", "max": 3}, "abcd", False),
    ({"type": "text"}, 5, False),
    ({"type": "multiplechoice", "choices": "a\nb"}, "b", True),
    ({"type": "multiplechoice", "choices": ["a", "b"]}, "c", False),
    ({"type": "multiselect", "choices": ["a", "b"]}, ["a", "b"], True),
    ({"type": "multiselect", "choices": ["a", "b"]}, "a", False),
])
def test_answers_are_checked_as_awx_does(question, value, ok):
    question = dict({"variable": "v", "required": True}, **question)
    assert (awx_rules.answer_errors(question, {"v": value}) == []) is ok


def test_launch_takes_defaults_then_answers_and_refuses_strangers():
    spec = {"spec": [dict(GOOD, variable="a", default="x"), dict(GOOD, variable="b", type="integer", default=5, min=10)]}
    assert awx_rules.launch_extra_vars(spec, {}) == {"a": "x"}, "a default failing its own check is dropped"
    assert awx_rules.launch_extra_vars(spec, {"a": "y"}) == {"a": "y"}
    assert "not allowed on launch" in awx_rules.launch_errors(spec, {"c": 1})[0]


def test_template_reads_find_the_inputs_a_playbook_does_not_declare(tmp_path):
    """The analysis behind accepted_inputs/required_inputs: unguarded reads are required inputs, guarded ones
    optional (typed by their default), and whatever the playbook sets itself or Ansible provides is no input."""
    import yaml
    from awx_playbooks import template_reads, undeclared_inputs

    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "inner.yml").write_text(yaml.safe_dump([
        {"name": "inner", "ansible.builtin.debug": {"msg": "{{ needed_inside }} {{ made | default(1) }}"}}]))
    path = tmp_path / "playbook.yml"
    path.write_text(yaml.safe_dump([{"hosts": "registry_servers", "vars": {"flag": False, "switch": False}, "tasks": [
        {"name": "a", "ansible.builtin.assert": {"that": ["wanted | length > 0", "switch | default(false) | bool"]}},
        {"name": "b", "ansible.builtin.set_fact": {"made": "{{ optional | default('x') }}"}},
        {"name": "c", "ansible.builtin.debug": {"msg": "{{ made }} {{ item }} {{ inventory_hostname }} {{ __private }}"},
         "loop": "{{ things | default([]) }}", "register": "out", "when": "flag and maybe is defined"},
        {"name": "d", "ansible.builtin.include_tasks": "tasks/inner.yml"},
        {"name": "e", "ansible.builtin.debug": {"msg": "{{ out }}{% set local = 1 %}{{ local }}"}},
    ]}]))
    found = {name: (option["type"], option["required"]) for name, option in undeclared_inputs(path).items()}
    assert found == {"wanted": ("raw", True), "optional": ("str", False), "things": ("list", False),
                     "needed_inside": ("raw", True), "maybe": ("raw", False)}
    reads = template_reads(path)
    assert reads["switch"]["read_as_bool"] is True and reads["flag"]["read_as_bool"] is False
