# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract of the registry's secrets on Windows: what registry_secrets and registry_config ask a Windows host to do.

The plugins run for real on a connection whose shell is ansible's PowerShell plugin; ``_execute_module`` and the
copy sub-action go to the recorded host of ``recorder.py``, extended here with ansible.windows.win_acl and
win_acl_inheritance, whose options and answers follow their documentation: win_acl takes ``path``, ``user`` (a name
or a SID), ``rights``, ``type``, ``state``, ``inherit``, ``propagation``; win_acl_inheritance takes ``path``,
``state`` (absent disables inheritance) and ``reorganize`` (false drops the inherited entries instead of copying
them). Well-known SIDs: S-1-5-32-544 Administrators, S-1-5-18 SYSTEM, S-1-5-93-2-1 ContainerAdministrator.

New TLS material is minted as the role mints it: registry_secrets step=plan on the Windows host, then the role's own
roles/windows_registry/tasks/secrets_mint.yml (community.crypto on the controller, run here by ansible-playbook on
localhost), then step=apply with the minted PEMs.
"""

from __future__ import annotations

import base64
import datetime
import json
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.dockerwin.registry.plugins.action import registry_config, registry_secrets
from ansible_collections.dockerwin.registry.tests.unit.plugins.action import recorder
from ansible_collections.dockerwin.registry.tests.unit.plugins.action.recorder import FakeHost, make_action

CONFIG = "C:\\registry-data-config"
CA_DIR = "C:\\registry-data-config-ca"
ADMINS = "S-1-5-32-544"
SYSTEM = "S-1-5-18"
CONTAINER_ADMIN = "S-1-5-93-2-1"
WIN_ACL = "ansible.windows.win_acl"
WIN_ACL_INHERITANCE = "ansible.windows.win_acl_inheritance"
WIN_COPY = "ansible.windows.win_copy"
SLURP = "ansible.builtin.slurp"
PATHS = {
    "ca_key": CA_DIR + "\\ca.key",
    "ca_cert": CA_DIR + "\\ca.crt",
    "server_key": CONFIG + "\\tls\\server.key",
    "server_cert": CONFIG + "\\tls\\server.crt",
    "tls_ca": CONFIG + "\\tls\\ca.crt",
    "htpasswd": CONFIG + "\\auth\\htpasswd",
    "http_secret": CONFIG + "\\auth\\http.secret",
}
TLS_FILES = ("ca_key", "ca_cert", "server_key", "server_cert")
MINT_TASKS = Path(__file__).resolve().parents[4] / "roles" / "windows_registry" / "tasks" / "secrets_mint.yml"
USERS = [{"name": "ci", "password": "ci-pass-0123456789"}, {"name": "reader", "password": "reader-pass-9876543210"}]
ACL_OPTIONS = {
    WIN_ACL: {"path", "user", "rights", "type", "state", "inherit", "propagation", "follow"},
    WIN_ACL_INHERITANCE: {"path", "state", "reorganize"},
}


class AclHost(FakeHost):
    """A Windows host with DACLs: explicit entries per folder, and whether inheritance is on."""

    def __init__(self):
        super().__init__(windows=True)
        self.acl = {}  # folder key -> {(user, rights)}
        self.inherits = {}  # folder key -> bool
        self.copies = []  # (dest, no_log, diff) of every copy sub-action

    def _module_acl(self, args, check_mode):
        key = self.key(args["path"])
        if key not in self.dirs:
            return {"failed": True, "msg": "%s file or directory does not exist on the host" % args["path"]}
        assert args["type"] == "allow" and args["state"] == "present", args
        assert args["inherit"] == "ContainerInherit, ObjectInherit" and args["propagation"] == "None", args
        entry = (args["user"], args["rights"])
        changed = entry not in self.acl.setdefault(key, set())
        if changed and not check_mode:
            self.acl[key].add(entry)
        return {"changed": changed}

    def _module_acl_inheritance(self, args, check_mode):
        key = self.key(args["path"])
        if key not in self.dirs:
            return {"failed": True, "msg": "%s file or directory does not exist on the host" % args["path"]}
        assert args["state"] == "absent" and args["reorganize"] is False, args
        changed = self.inherits.get(key, True)
        if changed and not check_mode:
            self.inherits[key] = False
        return {"changed": changed}

    def copy_action(self, name, task):
        self.copies.append((task.args["dest"], bool(task.no_log), bool(task.diff)))
        return super().copy_action(name, task)

    def text(self, path):
        data = self.files[self.key(path)][0]
        return data if isinstance(data, str) else data.decode()


@pytest.fixture(autouse=True)
def acl_modules(monkeypatch):
    for name, options in ACL_OPTIONS.items():
        monkeypatch.setitem(recorder.MODULE_OPTIONS, name, options)


def run(monkeypatch, host, module, args, check_mode=False):
    fqcn = "dockerwin.registry." + module.__name__.rsplit(".", 1)[1]
    action = make_action(module, fqcn, args, host, check_mode=check_mode, monkeypatch=monkeypatch)
    result = action.run(task_vars={"inventory_hostname": "win2022"})
    assert action._task.check_mode == check_mode
    return result


def secrets_args(**extra):
    """The arguments roles/windows_registry/tasks/secrets.yml passes on Windows (vars/main.yml principals)."""
    args = {
        "config_dir": CONFIG, "ca_dir": CA_DIR, "tls": "self_signed",
        "tls_names": ["registry.example.com", "192.0.2.10"], "auth": "htpasswd", "users": [dict(u) for u in USERS],
        "principals": [ADMINS, SYSTEM], "readers": [CONTAINER_ADMIN],
    }
    args.update(extra)
    return args


def mint_with_role(plan, folder, env):
    """Run the role's community.crypto tasks on localhost for a step=plan result; the minted PEMs, as the role
    hands them to step=apply. Inputs and outputs go through 0600 files: they hold keys."""
    folder.mkdir(exist_ok=True)
    given, out = folder / "plan.json", folder / "minted.json"
    given.touch(mode=0o600)
    given.write_text(json.dumps({"__windows_registry_mint": plan["mint"], "__windows_registry_mint_sources": plan["sources"]}))
    registered = {name: "__windows_registry_mint_%s.%s" % (name, "certificate" if name.endswith("cert") else "privatekey")
                  for name in TLS_FILES}
    content = "{{ {%s} | to_json }}" % ", ".join("'%s': %s | default('')" % item for item in registered.items())
    book = folder / "mint.yml"
    book.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"ansible.builtin.import_tasks": str(MINT_TASKS)},
        {"name": "Keep the minted PEMs", "ansible.builtin.copy": {"content": content, "dest": str(out), "mode": "0600"},
         "no_log": True},
    ]}]))
    completed = subprocess.run(
        [sys.executable, "-m", "ansible", "playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(given),
         "-e", "ansible_python_interpreter=" + sys.executable, str(book)],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def fresh_mint(collection_env, tmp_path_factory):
    """What the role mints for a fresh host with secrets_args()'s names (minted once for this file's tests)."""
    cache = {}

    def mint(plan):
        assert plan["sources"] == {}, "a fresh host hands over no key"
        key = json.dumps(plan["mint"], sort_keys=True)
        if key not in cache:
            cache[key] = mint_with_role(plan, tmp_path_factory.mktemp("mint"), collection_env)
        return cache[key]
    return mint


def converge(monkeypatch, host, mint, check_mode=False, **extra):
    """tasks/secrets.yml: plan, mint, apply. Returns (plan result, apply result)."""
    args = secrets_args(**extra)
    plan_args = {name: args[name] for name in ("config_dir", "ca_dir", "tls", "tls_names")}
    plan = run(monkeypatch, host, registry_secrets, dict(plan_args, step="plan"), check_mode=check_mode)
    minted = mint(plan) if plan["mint"] else {}
    return plan, run(monkeypatch, host, registry_secrets, dict(args, minted=minted), check_mode=check_mode)


def secret_values(host):
    """Everything that must never reach a result: passwords, key bodies, hashes, http.secret."""
    values = [u["password"] for u in USERS]
    for name in ("ca_key", "server_key"):
        pem = host.text(PATHS[name])
        values.append("".join(line for line in pem.splitlines() if not line.startswith("-----")))
    values += [line.split(":", 1)[1] for line in host.text(PATHS["htpasswd"]).splitlines()]
    values.append(host.text(PATHS["http_secret"]).strip())
    return values


def test_fresh_windows_host_gets_restricted_folders_then_the_files(monkeypatch, fresh_mint):
    host = AclHost()
    # step=plan only reads the CA and server files, and asks for everything; it hands over no key.
    plan = run(monkeypatch, host, registry_secrets, {"config_dir": CONFIG, "ca_dir": CA_DIR, "tls": "self_signed",
                                                     "tls_names": ["registry.example.com", "192.0.2.10"], "step": "plan"})
    assert [(c.module, c.args["src"]) for c in host.calls] == [(SLURP, PATHS[name]) for name in TLS_FILES]
    assert plan["changed"] is False and sorted(plan["mint"]) == ["ca", "server_cert", "server_key"]
    assert plan["mint"]["server_cert"]["subject_alt_name"] == ["DNS:registry.example.com", "IP:192.0.2.10"]
    assert plan["sources"] == {} and plan["_ansible_no_log"] is False
    host.calls.clear()
    result = run(monkeypatch, host, registry_secrets, secrets_args(minted=fresh_mint(plan)))
    assert result["changed"] is True

    # First every file is read back (nothing there yet), before anything changes.
    slurps = [c.args["src"] for c in host.calls if c.module == SLURP]
    assert sorted(slurps) == sorted(PATHS.values())
    first_change = next(i for i, c in enumerate(host.calls) if c.module != SLURP)
    assert all(c.module == SLURP for c in host.calls[:first_change]) and first_change == len(PATHS)

    # Folders: config (restricted: admins + SYSTEM full, container identity read), tls and auth inside it (they
    # inherit), the CA folder beside it (admins + SYSTEM only). Explicit entries first, then inheritance off.
    changing = [(c.module, c.args) for c in host.calls if c.module != SLURP]
    acl_calls = [(m, a["path"], a.get("user"), a.get("rights")) for m, a in changing if m in (WIN_ACL, WIN_ACL_INHERITANCE)]
    assert acl_calls == [
        (WIN_ACL, CONFIG, ADMINS, "FullControl"),
        (WIN_ACL, CONFIG, SYSTEM, "FullControl"),
        (WIN_ACL, CONFIG, CONTAINER_ADMIN, "ReadAndExecute"),
        (WIN_ACL_INHERITANCE, CONFIG, None, None),
        (WIN_ACL, CA_DIR, ADMINS, "FullControl"),
        (WIN_ACL, CA_DIR, SYSTEM, "FullControl"),
        (WIN_ACL_INHERITANCE, CA_DIR, None, None),
    ]
    assert host.inherits == {host.key(CONFIG): False, host.key(CA_DIR): False}
    assert CONTAINER_ADMIN not in {user for user, dummy in host.acl[host.key(CA_DIR)]}, "the container never reads the CA key"
    made = [a["path"] for m, a in changing if m == "ansible.windows.win_file"]
    assert made == [CONFIG, CONFIG + "\\tls", CONFIG + "\\auth", CA_DIR]
    # Every file written after its folder was restricted, with no_log and without diff, and no POSIX mode.
    last_acl = max(i for i, c in enumerate(host.calls) if c.module in (WIN_ACL, WIN_ACL_INHERITANCE))
    writes = [(i, c) for i, c in enumerate(host.calls) if c.module == WIN_COPY]
    assert sorted(c.args["dest"] for dummy, c in writes) == sorted(PATHS.values())
    assert all(i > last_acl for i, dummy in writes)
    assert all("mode" not in c.args for dummy, c in writes)
    assert all(no_log and not diff for dummy, no_log, diff in host.copies)

    # What the files hold: a CA, a server certificate it signed for both names, bcrypt hashes, a long secret.
    ca = x509.load_pem_x509_certificate(host.text(PATHS["ca_cert"]).encode())
    server = x509.load_pem_x509_certificate(host.text(PATHS["server_cert"]).encode())
    server.verify_directly_issued_by(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(n) for n in san.get_values_for_type(x509.DNSName)] == ["registry.example.com"]
    assert [str(n) for n in san.get_values_for_type(x509.IPAddress)] == ["192.0.2.10"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert list(server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    # As community.crypto minted them (the role's profile), written byte for byte.
    assert host.text(PATHS["server_key"]).strip() == fresh_mint(plan)["server_key"].strip()
    key = load_pem_private_key(host.text(PATHS["server_key"]).encode(), None)
    assert key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == \
        server.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert host.text(PATHS["tls_ca"]) == host.text(PATHS["ca_cert"])
    lines = dict(line.split(":", 1) for line in host.text(PATHS["htpasswd"]).splitlines())
    assert list(lines) == ["ci", "reader"]
    assert bcrypt.checkpw(USERS[0]["password"].encode(), lines["ci"].encode())
    assert len(host.text(PATHS["http_secret"]).strip()) >= 64

    # The result: public facts only.
    assert result["names"] == ["registry.example.com", "192.0.2.10"] and result["users"] == ["ci", "reader"]
    assert result["ca_cert"] == host.text(PATHS["ca_cert"])
    assert result["fingerprint_sha256"] == server.fingerprint(hashes.SHA256()).hex(":").upper()
    assert result["paths"] == PATHS
    dumped = json.dumps(result)
    assert not [v for v in secret_values(host) if v in dumped]
    assert not [v for v in secret_values(host) if base64.b64encode(v.encode()).decode()[:-4] in dumped]


def test_rerun_reads_back_and_changes_nothing(monkeypatch, fresh_mint):
    host = AclHost()
    dummy, first = converge(monkeypatch, host, fresh_mint)
    files = dict(host.files)
    host.calls.clear()
    host.copies.clear()
    plan, again = converge(monkeypatch, host, lambda plan: pytest.fail("nothing is minted again: %s" % plan["mint"]))
    assert plan["mint"] == {} and plan["sources"] == {}
    assert again["changed"] is False and again["changed_files"] == [] and again["reasons"] == []
    assert host.files == files and host.copies == []
    assert again["secrets_digest"] == first["secrets_digest"] and again["ca_cert"] == first["ca_cert"]


def test_check_mode_on_a_fresh_host_sets_no_acl_on_folders_that_are_not_there(monkeypatch, fresh_mint):
    host = AclHost()
    dummy, result = converge(monkeypatch, host, fresh_mint, check_mode=True)
    assert result["changed"] is True and len(result["changed_files"]) == len(PATHS)
    assert not [c for c in host.calls if c.module in (WIN_ACL, WIN_ACL_INHERITANCE)]
    assert host.files == {} and host.dirs == set()


def test_apply_without_the_minted_material_fails_before_any_change(monkeypatch):
    host = AclHost()
    with pytest.raises(AnsibleActionFail, match="needs a new ca, server cert, server key, which community.crypto mints"):
        run(monkeypatch, host, registry_secrets, secrets_args())
    assert host.changing_calls() == []


def test_a_near_expiry_certificate_is_renewed_by_the_same_ca_for_the_same_key(monkeypatch, fresh_mint, collection_env, tmp_path):
    host = AclHost()
    converge(monkeypatch, host, fresh_mint)
    ca_key = load_pem_private_key(host.text(PATHS["ca_key"]).encode(), None)
    ca = x509.load_pem_x509_certificate(host.text(PATHS["ca_cert"]).encode())
    old = x509.load_pem_x509_certificate(host.text(PATHS["server_cert"]).encode())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = x509.CertificateBuilder().subject_name(old.subject).issuer_name(ca.subject).public_key(old.public_key()) \
        .serial_number(5).not_valid_before(now - datetime.timedelta(days=360)).not_valid_after(now + datetime.timedelta(days=3))
    for ext in old.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    near = builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
    host.files[host.key(PATHS["server_cert"])] = (near, None)
    before = dict(host.files)
    host.copies.clear()
    handed = {}

    def mint(plan):
        # Only a certificate to sign, with the CA key and the server key kept on the host; the result is censored.
        assert list(plan["mint"]) == ["server_cert"] and plan["_ansible_no_log"] is True
        assert plan["sources"] == {name: host.text(PATHS[name]) for name in ("ca_key", "ca_cert", "server_key")}
        handed.update(mint_with_role(plan, tmp_path / "renew", collection_env))
        return handed

    dummy, renewed = converge(monkeypatch, host, mint)
    assert sorted(name for name, value in handed.items() if value) == ["server_cert"]
    assert renewed["changed_files"] == [PATHS["server_cert"]]
    assert any("within 30 days; renewed" in r for r in renewed["reasons"])
    for name in ("ca_key", "ca_cert", "server_key", "htpasswd", "http_secret"):
        assert host.files[host.key(PATHS[name])] == before[host.key(PATHS[name])], name
    new = x509.load_pem_x509_certificate(host.text(PATHS["server_cert"]).encode())
    new.verify_directly_issued_by(ca)
    assert new.not_valid_after_utc > now + datetime.timedelta(days=300)


def test_config_with_tls_auth_and_http_secret_on_windows(monkeypatch, fresh_mint):
    host = AclHost()
    converge(monkeypatch, host, fresh_mint)
    secret = host.text(PATHS["http_secret"]).strip()
    host.calls.clear()
    host.copies.clear()
    args = {
        "data_dir": "C:\\registry-data", "config_dir": CONFIG, "version": "3.0.0", "container_data_dir": "C:\\data",
        "storage_delete": False, "extra": {},
        # What tasks/host.yml passes on Windows (container config folder C:\config).
        "tls_certificate": "C:\\config\\tls\\server.crt", "tls_key": "C:\\config\\tls\\server.key",
        "htpasswd_path": "C:\\config\\auth\\htpasswd", "htpasswd_realm": "Registry", "http_secret_file": PATHS["http_secret"],
    }
    result = run(monkeypatch, host, registry_config, args)
    assert [c.args["src"] for c in host.calls if c.module == SLURP] == [PATHS["http_secret"]]
    config = yaml.safe_load(host.text(result["path"]))
    assert config["http"]["tls"] == {"certificate": "C:\\config\\tls\\server.crt", "key": "C:\\config\\tls\\server.key",
                                     "minimumtls": "tls1.2"}
    assert config["auth"] == {"htpasswd": {"realm": "Registry", "path": "C:\\config\\auth\\htpasswd"}}
    assert config["http"]["secret"] == secret
    assert host.copies == [(result["path"], True, False)], "the config is written with no_log, without the copy's diff"
    assert secret not in json.dumps(result)
    assert "VALUE_REDACTED" in result["diff"]["after"] and PATHS["http_secret"] in result["diff"]["after"]
    again = run(monkeypatch, host, registry_config, args)
    assert again["changed"] is False and "diff" not in again


def test_bad_inputs_fail_before_any_change(monkeypatch):
    host = AclHost()
    with pytest.raises(AnsibleActionFail, match="self_signed needs windows_registry_tls_names"):
        run(monkeypatch, host, registry_secrets, secrets_args(tls_names=[]))
    with pytest.raises(AnsibleActionFail, match="longer than 72 bytes"):
        run(monkeypatch, host, registry_secrets, secrets_args(users=[{"name": "ci", "password": "x" * 73}]))
    with pytest.raises(AnsibleActionFail, match=r"name='a:b'"):
        run(monkeypatch, host, registry_secrets, secrets_args(users=[{"name": "a:b", "password": "pw"}]))
    with pytest.raises(AnsibleActionFail, match="tls=provided needs windows_registry_tls_certificate and windows_registry_tls_key"):
        run(monkeypatch, host, registry_secrets, secrets_args(tls="provided"))
    assert host.changing_calls() == []


@pytest.fixture(scope="module")
def secrets_doc(collection_env):
    """registry_secrets' docs as ansible-doc builds them (doc fragments merged)."""
    completed = subprocess.run([sys.executable, "-m", "ansible", "doc", "--json", "-t", "module", "dockerwin.registry.registry_secrets"],
                               env=collection_env, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)["dockerwin.registry.registry_secrets"]


def test_documented_options_are_the_argument_spec(secrets_doc):
    documented = secrets_doc["doc"]["options"]
    assert sorted(documented) == sorted(registry_secrets.ARGUMENT_SPEC)
    for name, spec in registry_secrets.ARGUMENT_SPEC.items():
        assert documented[name].get("type") == spec["type"], name
        assert documented[name].get("default", None) == spec.get("default"), name
    assert secrets_doc["doc"]["attributes"]["check_mode"]["support"] == "full"


def test_examples_are_valid_tasks(secrets_doc):
    tasks = yaml.safe_load(secrets_doc["examples"])
    validator = ArgumentSpecValidator(registry_secrets.ARGUMENT_SPEC)
    ours = [task for task in tasks if "dockerwin.registry.registry_secrets" in task]
    assert len(ours) == 3 and any(task["dockerwin.registry.registry_secrets"].get("step") == "plan" for task in ours)
    for task in ours:
        result = validator.validate(task["dockerwin.registry.registry_secrets"])
        assert not result.error_messages, (task["name"], result.error_messages)
