# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules AWX applies to survey specs, survey answers and custom credential types, re-stated for the tests.

Written from a reading of AWX (github.com/ansible/awx, 24.x): the survey spec POST check
(``awx/api/views/__init__.py`` ``JobTemplateSurveySpec._validate_spec_data``), the per-question answer check
(``awx/main/models/mixins.py`` ``SurveyJobTemplateMixin._survey_element_validation``), how a launch merges
survey defaults and answers (``_update_unified_job_kwargs``, ``_accept_or_ignore_variables``), the credential
type schemas (``awx/main/fields.py`` ``CredentialTypeInputField``/``CredentialTypeInjectorField``) and how a job
gets a credential's env, files and extra vars (``awx/main/models/credential.py`` ``inject_credential``), and a
schedule's rule (``awx/api/serializers.py`` ``SchedulePreviewSerializer.validate_rrule``, ``Schedule.rrulestr`` in
``awx/main/models/schedules.py``; a schedule's ``extra_data`` is checked as a launch's answers).
Functions return lists of error strings; an empty list means AWX accepts.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
from jinja2 import StrictUndefined, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Question type -> Python type(s) a default must have (awx/main/constants.py SURVEY_TYPE_MAPPING). The
# multiple-choice defaults are strings: newline-separated for multiselect.
QUESTION_TYPES = {
    "text": (str,),
    "textarea": (str,),
    "password": (str,),
    "multiplechoice": (str,),
    "multiselect": (str,),
    "integer": (int,),
    "float": (float, int),
}
ENCRYPTED = "$encrypted$"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _choice_list(choices):
    """Choices as AWX compares answers with them: a list, or the non-blank lines of a string."""
    if isinstance(choices, str):
        return [line for line in choices.splitlines() if line.strip()]
    return list(choices)


def spec_errors(survey):
    """What POST /api/v2/job_templates/N/survey_spec/ would refuse in ``survey`` (a new spec, no old one)."""
    errors = []
    if not isinstance(survey, dict):
        return ["the survey spec is not a JSON object"]
    for field, kind, label in (("name", str, "string"), ("description", str, "string"), ("spec", list, "list of items")):
        if field not in survey:
            errors.append("field %r is missing from the survey spec" % field)
        elif not isinstance(survey[field], kind):
            errors.append("field %r must be a %s, not %s" % (field, label, type(survey[field]).__name__))
    if isinstance(survey.get("spec"), list) and not survey["spec"]:
        errors.append("'spec' holds no questions")
    if errors:
        return errors
    seen = set()
    for index, item in enumerate(survey["spec"]):
        where = "question %d" % index
        if not isinstance(item, dict):
            errors.append("%s is not a JSON object" % where)
            continue
        missing = False
        for field in ("type", "question_name", "variable", "required"):
            if field not in item:
                errors.append("%s lacks %r" % (where, field))
                missing = True
            elif field == "required" and not isinstance(item[field], bool):
                errors.append("%s: 'required' must be a boolean" % where)
                missing = True
            elif field != "required" and not isinstance(item[field], str):
                errors.append("%s: %r must be a string" % (where, field))
                missing = True
        if missing:
            continue
        where = "question %d (%s)" % (index, item["variable"])
        if item["variable"] in seen:
            errors.append("%s: the variable is asked twice" % where)
        seen.add(item["variable"])
        qtype = item["type"]
        if qtype not in QUESTION_TYPES:
            errors.append("%s: type %r is none of %s" % (where, qtype, ", ".join(QUESTION_TYPES)))
            continue
        default = item.get("default")
        wrong_type = not isinstance(default, QUESTION_TYPES[qtype]) or isinstance(default, bool)
        if "default" in item and default != "" and wrong_type:
            errors.append("%s: default %r is not a %s" % (where, default, qtype if qtype in ("integer", "float") else "string"))
        for bound in ("min", "max"):
            if item.get(bound) is not None and not _is_int(item[bound]):
                errors.append("%s: %r must be an integer" % (where, bound))
        if qtype in ("multiplechoice", "multiselect"):
            if "choices" not in item:
                errors.append("%s: a %s question needs choices" % (where, qtype))
                continue
            choices = _choice_list(item["choices"])
            if "default" in item:
                defaults = _choice_list(default) if isinstance(default, str) else default
                if qtype == "multiplechoice" and len(defaults) > 1:
                    errors.append("%s: a multiplechoice question takes one default" % where)
                if any(value not in choices for value in defaults):
                    errors.append("%s: default %r is not among the choices %s" % (where, default, choices))
        if isinstance(default, str) and default.startswith(ENCRYPTED):
            # Only a password question may say $encrypted$, and only to keep a default stored before.
            errors.append("%s: %s is reserved (an existing password default); a new spec cannot use it" % (where, ENCRYPTED))
    return errors


def answer_errors(question, data, validate_required=True):
    """What AWX says about ``data`` (the launch's extra vars) for one question."""
    variable, qtype = question["variable"], question["type"]
    present = variable in data
    value = data.get(variable)
    errors = []
    if qtype == "password" and value == ENCRYPTED:
        if question.get("default") is None and question["required"] and validate_required:
            errors.append("'%s' value missing" % variable)
        return errors
    if not present:
        if question["required"] and validate_required:
            errors.append("'%s' value missing" % variable)
        return errors
    low, high = question.get("min"), question.get("max")
    low = None if low in ("", None) else low
    high = None if high in ("", None) else high
    if qtype in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return ["'%s' expects a string, got %r" % (variable, value)]
        if low is not None and len(value) < int(low):
            errors.append("'%s' is shorter than %s characters" % (variable, low))
        if high is not None and len(value) > int(high):
            errors.append("'%s' is longer than %s characters" % (variable, high))
    elif qtype == "integer":
        if type(value) is not int:  # pylint: disable=unidiomatic-typecheck; AWX compares the exact type: True is no integer, nor is 5.0
            return ["'%s' expects an integer, got %r" % (variable, value)]
        if low is not None and value < int(low):
            errors.append("'%s' value %s is below %s" % (variable, value, low))
        if high is not None and value > int(high):
            errors.append("'%s' value %s is above %s" % (variable, value, high))
    elif qtype == "float":
        if type(value) not in (int, float):
            return ["'%s' expects a number, got %r" % (variable, value)]
        if low is not None and value < float(low):
            errors.append("'%s' value %s is below %s" % (variable, value, low))
        if high is not None and value > float(high):
            errors.append("'%s' value %s is above %s" % (variable, value, high))
    elif qtype == "multiselect":
        if type(value) is not list:  # pylint: disable=unidiomatic-typecheck
            return ["'%s' expects a list" % variable]
        choices = _choice_list(question["choices"])
        errors += ["'%s': %r is not one of %s" % (variable, item, choices) for item in value if item not in choices]
    elif qtype == "multiplechoice":
        choices = _choice_list(question["choices"])
        if value not in choices:
            errors.append("'%s': %r is not one of %s" % (variable, value, choices))
    return errors


def launch_errors(survey, answers):
    """What a launch of a job template with this survey (and prompt-on-launch for variables off) refuses."""
    errors = []
    asked = {question["variable"] for question in survey["spec"]}
    for question in survey["spec"]:
        errors += answer_errors(question, answers)
    unknown = sorted(set(answers) - asked)
    if unknown:
        errors.append("variables %s are not allowed on launch (not in the survey)" % ", ".join(unknown))
    return errors


def launch_extra_vars(survey, answers):
    """The extra vars a job gets: each survey default that passes its own question's check, then the answers."""
    extra = {}
    for question in survey["spec"]:
        default = question.get("default")
        if default is not None and not answer_errors(question, {question["variable"]: default}):
            extra[question["variable"]] = default
    extra.update(answers)
    return extra


# --- credential types -----------------------------------------------------------------------------------

_INPUTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "label"],
                "properties": {
                    "type": {"enum": ["string", "boolean"]},
                    "format": {"enum": ["ssh_private_key", "url"]},
                    "choices": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
                    "id": {"type": "string", "pattern": "^[a-zA-Z_]+[a-zA-Z0-9_]*$"},
                    "label": {"type": "string"},
                    "help_text": {"type": "string"},
                    "multiline": {"type": "boolean"},
                    "secret": {"type": "boolean"},
                    "ask_at_runtime": {"type": "boolean"},
                    "default": {},
                },
            },
        },
    },
}
_NAME = "^[a-zA-Z_]+[a-zA-Z0-9_]*$"
_INJECTORS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file": {"type": "object", "additionalProperties": False,
                 "patternProperties": {r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$": {"type": "string"}}},
        "env": {"type": "object", "additionalProperties": False,
                "patternProperties": {_NAME: {"type": "string", "pattern": "^[\x00-\x7F]*$"}}},
        "extra_vars": {"type": "object", "additionalProperties": False,
                       "patternProperties": {r"^[a-zA-Z_\{\}]+[a-zA-Z0-9_\{\}]*$": {}}},
    },
}
# Environment variables a credential may not set (awx/main/constants.py ENV_BLOCKLIST,
# plus everything ANSIBLE_*).
ENV_BLOCKED = {"VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
               "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES",
               "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS",
               "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH"}
CUSTOM_KINDS = ("cloud", "net")  # the kinds AWX lets a custom credential type have


class _Filenames:
    """``tower.filename`` / ``tower.filename.<label>`` of the injector templates."""


def _namespace(credential_type, inputs, filenames):
    fields = [field["id"] for field in credential_type["inputs"].get("fields", [])]
    namespace = {name: inputs.get(name, "") for name in fields}
    tower = _Filenames()
    if "" in filenames:
        tower.filename = filenames[""]
    elif filenames:
        tower.filename = _Filenames()
        for label, path in filenames.items():
            setattr(tower.filename, label, path)
    namespace["tower"] = tower
    return namespace


def credential_type_errors(credential_type):
    """What POST /api/v2/credential_types/ would refuse in ``credential_type``."""
    errors = []
    for field in ("name", "kind", "inputs", "injectors"):
        if field not in credential_type:
            errors.append("%r is missing" % field)
    if errors:
        return errors
    if credential_type["kind"] not in CUSTOM_KINDS:
        errors.append("kind %r: custom credential types are %s" % (credential_type["kind"], " or ".join(CUSTOM_KINDS)))
    for label, schema, value in (("inputs", _INPUTS_SCHEMA, credential_type["inputs"]),
                                 ("injectors", _INJECTORS_SCHEMA, credential_type["injectors"])):
        errors += ["%s: %s" % (label, error.message) for error in jsonschema.Draft4Validator(schema).iter_errors(value)]
    if errors:
        return errors
    ids = []
    for field in credential_type["inputs"].get("fields", []):
        if field["id"] == "tower" or field["id"] in ids:
            errors.append("input id %r is reserved or repeated" % field["id"])
        ids.append(field["id"])
        ftype = field.get("type", "string")
        if "default" in field and type(field["default"]) is not {"string": str, "boolean": bool}[ftype]:  # pylint: disable=unidiomatic-typecheck
            errors.append("input %r: default %r is not a %s" % (field["id"], field["default"], ftype))
        for key in ("choices", "multiline", "format", "secret"):
            if key in field and ftype != "string":
                errors.append("input %r: %s only for strings" % (field["id"], key))
    errors += ["required input %r is no field" % name for name in credential_type["inputs"].get("required", []) if name not in ids]
    injectors = credential_type["injectors"]
    for name in injectors.get("env", {}):
        if name.startswith("ANSIBLE_") or name in ENV_BLOCKED:
            errors.append("env %s may not be set by a credential" % name)
    templates = [key for key in injectors.get("file", {}) if key.startswith("template")]
    if "template" in templates and len(templates) > 1:
        errors.append("file injectors: 'template' and 'template.<label>' cannot be mixed")
    filenames = {("" if key == "template" else key.split(".", 1)[1]): "EXAMPLE_FILENAME" for key in templates}
    namespace = _namespace(credential_type, {name: "EXAMPLE" for name in ids}, filenames)
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)

    def check(where, template):
        try:
            env.from_string(template).render(namespace)
        except (UndefinedError, AttributeError) as e:
            errors.append("%s uses an undefined field (%s)" % (where, e))
        except Exception as e:  # syntax errors, sandbox refusals
            errors.append("%s: %s" % (where, e))

    for kind, injector in injectors.items():
        for key, template in injector.items():
            if kind == "extra_vars":
                check("extra_vars key %s" % key, key)
                if isinstance(template, str):
                    check("extra_vars %s" % key, template)
            else:
                check("%s %s" % (kind, key), template)
    return errors


def inject(credential_type, inputs, private_dir):
    """A job's share of one credential, as AWX prepares it: files written into ``private_dir`` (mode 0600),
    environment variables and extra vars rendered from the injectors. Returns (env, extra_vars, files)."""
    injectors = credential_type["injectors"]
    env = ImmutableSandboxedEnvironment()
    filenames, files = {}, []
    base = _namespace(credential_type, inputs, {})
    for key, template in injectors.get("file", {}).items():
        label = "" if key == "template" else key.split(".", 1)[1]
        path = Path(private_dir) / ("credential_%s" % (label or "file"))
        path.write_text(env.from_string(template).render(base))
        os.chmod(path, 0o600)
        filenames[label] = str(path)
        files.append(path)
    namespace = _namespace(credential_type, inputs, filenames)
    job_env = {name: env.from_string(template).render(namespace) for name, template in injectors.get("env", {}).items()}

    def render(node):
        if isinstance(node, dict):
            return {env.from_string(k).render(namespace): render(v) for k, v in node.items()}
        if isinstance(node, list):
            return [render(v) for v in node]
        return env.from_string(node).render(namespace)

    return job_env, render(injectors.get("extra_vars", {})), files


def write_extra_vars_file(extra_vars, private_dir):
    """A credential's extra vars as AWX hands them to the job (``build_extra_vars_file`` in ``inject_credential``):
    YAML whose strings are all tagged !unsafe (never templated), in a new file of ``<private_dir>/env`` readable by
    the owner only, given to ansible-playbook as ``-e @<file>``. Returns the file's path."""
    import tempfile

    import yaml

    class UnsafeDumper(yaml.SafeDumper):
        def represent_data(self, data):
            if isinstance(data, str):
                return self.represent_scalar("!unsafe", data)
            return super().represent_data(data)

    env_dir = Path(private_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    handle, path = tempfile.mkstemp(dir=str(env_dir))
    with os.fdopen(handle, "w") as stream:  # awx/main/utils/safe_yaml.py safe_dump: one document per variable
        stream.write("".join(yaml.dump_all([{key: value}], None, Dumper=UnsafeDumper, default_flow_style=False)
                             for key, value in extra_vars.items()))
    os.chmod(path, 0o400)
    return path


def load_json(path):
    return json.loads(Path(path).read_text())


VARIABLE_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


# --- schedules ------------------------------------------------------------------------------------------

def rrule_errors(rrule):
    """What POST /api/v2/schedules/ refuses in ``rrule``: one DTSTART with a time zone, at least one RRULE, each
    with INTERVAL, not SECONDLY, no numbered BYDAY, not COUNT and UNTIL together, COUNT up to 999, no EXDATE/RDATE,
    and the whole set parsed by dateutil with a time zone on DTSTART (where python-dateutil is installed: the
    ansible-core 2.20 test venv has none)."""
    errors = []
    dtstarts = re.findall(r".*?(DTSTART(;[^:]+)?\:[0-9]+T[0-9]+Z?)", rrule)
    if not dtstarts:
        errors.append("Valid DTSTART required in rrule")
    if re.findall(r".*?(DTSTART:[0-9]+T[0-9]+) ", rrule):
        errors.append("DTSTART cannot be a naive datetime")
    if len(dtstarts) > 1:
        errors.append("Multiple DTSTART is not supported")
    if "rrule:" not in rrule.lower():
        errors.append("One or more rule required in rrule")
    for word in ("exdate:", "rdate:"):
        if word in rrule.lower():
            errors.append("%s not allowed in rrule" % word[:-1].upper())
    for rule in re.findall(r".*?(RULE\:[^\s]*)", rrule):
        if "interval" not in rule.lower():
            errors.append("INTERVAL required in rrule: %s" % rule)
        elif "secondly" in rule.lower():
            errors.append("SECONDLY is not supported: %s" % rule)
        if re.match(r".*?BYDAY[\:\=][0-9]+[a-zA-Z]{2}", rule):
            errors.append("BYDAY with numeric prefix not supported: %s" % rule)
        if "COUNT" in rule and "UNTIL" in rule:
            errors.append("RRULE may not contain both COUNT and UNTIL: %s" % rule)
        count = re.match(r".*?(COUNT\=[0-9]+)", rule)
        if count and int(count.group(1).split("=")[1]) > 999:
            errors.append("COUNT > 999 is unsupported: %s" % rule)
    try:
        import dateutil.parser
        import dateutil.rrule
        from dateutil.tz import tzutc
    except ImportError:
        return errors
    try:
        parsed = dateutil.rrule.rrulestr(rrule, tzinfos={name: tzutc() for name in dateutil.parser.parserinfo().UTCZONE}, forceset=True)
        if any(r._dtstart and r._dtstart.tzinfo is None for r in parsed._rrule):  # pylint: disable=protected-access
            errors.append("A valid TZID must be provided")
    except Exception as e:  # dateutil's parse errors are ValueError, TypeError, ...
        errors.append("rrule parsing failed validation: %s" % e)
    return errors
