# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract of the registry client on Windows: what the real action plugins ask a Windows host to do.

The plugins run for real on a connection whose shell is ansible's PowerShell plugin; ``_execute_module`` and the
copy sub-action go to the recorded host of ``recorder.py``, extended here with the modules the client needs
(win_service, win_hosts, win_certificate_store, win_copy with remote_src) and the docker CLI calls it makes
(``info``, ``version``, ``login``, ``logout`` behind global options such as ``-H``).

Expectations come from the documentation: Docker on Windows reads ``C:\\ProgramData\\Docker\\config\\daemon.json``
when the ``docker`` service starts; per-registry CAs go to ``C:\\ProgramData\\docker\\certs.d\\<host><port>\\ca.crt``
(no colon); win_hosts takes ``canonical_name``/``ip_address``/``aliases``/``action``; win_certificate_store takes
``path`` or ``thumbprint``, ``store_name``, ``store_location``; ``docker login --password-stdin`` reads stdin.
"""

from __future__ import annotations

import base64
import codecs
import json
import types

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.dockerwin.registry.plugins.action import (
    registry_client_login,
    registry_client_trust,
    registry_daemon_config,
    registry_daemon_reload,
)
from ansible_collections.dockerwin.registry.tests.unit.plugins.action import recorder
from ansible_collections.dockerwin.registry.tests.unit.plugins.action.recorder import Call, FakeHost, make_action

DAEMON_JSON = "C:\\ProgramData\\Docker\\config\\daemon.json"
REG = "registry.local:5000"
CERTS = "C:\\ProgramData\\docker\\certs.d\\registry.local5000"
TEMP = "C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\dockerwin-registry-abc"
WIN_COMMAND = "ansible.windows.win_command"
WIN_COPY = "ansible.windows.win_copy"
WIN_FILE = "ansible.windows.win_file"
EXISTING = '{\r\n    "storage-opts": ["size=120GB"],\r\n    "debug": false\r\n}\r\n'
DER = b"0\x82\x01\x0a fake CA certificate"
PEM = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----" % base64.b64encode(DER).decode()

CLIENT_MODULE_OPTIONS = {
    "ansible.windows.win_service": {"name", "state", "start_mode", "force_dependent_services"},
    "ansible.windows.win_hosts": {"state", "canonical_name", "ip_address", "aliases", "action"},
    "ansible.windows.win_certificate_store": {"path", "thumbprint", "store_name", "store_location", "state",
                                              "password", "file_type", "key_exportable", "key_storage"},
    "ansible.windows.win_uri": {"url", "method", "status_code", "validate_certs", "url_timeout", "return_content", "body",
                                "content_type", "headers", "follow_redirects", "dest", "creates", "removes", "url_username",
                                "url_password", "force_basic_auth", "use_proxy", "client_cert", "client_cert_password"},
}
MANAGED = "io.dockerwin.registry.managed"


class ClientHost(FakeHost):
    """A Windows Docker host as the client role sees it."""

    def __init__(self, engine="20.10.24", **kwargs):
        super().__init__(windows=True, **kwargs)
        self.engine = engine
        self.daemon_settings = {}  # what the running daemon uses (set from daemon.json on restart)
        self.refuse_restart = False
        self.restarts = 0
        self.hosts_entries = {}
        self.store = set()
        self.logins = {}
        self.backups = 0
        self.registries = {}  # container ID -> docker container inspect JSON of registry containers
        self.credential_helper = None  # (rc, stdout) of docker-credential-wincred get

    # win_copy action with backup: returns backup_file when it replaced a file, as win_copy does.
    def copy_action(self, name, task):
        old = self.files.get(self.key(task.args["dest"]))
        result = super().copy_action(name, task)
        if task.args.get("backup") and old is not None and result["changed"] and not task.check_mode:
            self.backups += 1
            backup = "%s.%d.20261204-160000" % (task.args["dest"], self.backups)
            self.files[self.key(backup)] = old
            result["backup_file"] = backup
        return result

    def _module_copy(self, args, check_mode):  # win_copy module with remote_src (restore of a backup)
        assert args.get("remote_src") is True, args
        source = self.files[self.key(args["src"])]
        self.files[self.key(args["dest"])] = source
        return {"changed": True, "dest": args["dest"]}

    def _module_service(self, args, check_mode):
        assert args == {"name": "docker", "state": "restarted"}, args
        self.restarts += 1
        data = self.files.get(self.key(DAEMON_JSON))
        raw = data[0] if data else b"{}"
        raw = raw.encode() if isinstance(raw, str) else raw
        settings = json.loads(raw.decode("utf-16") if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else raw.decode("utf-8-sig"))
        if self.refuse_restart and "insecure-registries" in settings:
            return {"failed": True, "msg": "Service 'Docker Engine (docker)' cannot be started due to the following error"}
        self.daemon_settings = settings
        # The engine's restart stops every container; the restart policy starts those that are not `no` again.
        for container in self.registries.values():
            if container["State"]["Running"]:
                back = container["HostConfig"]["RestartPolicy"]["Name"] in ("always", "unless-stopped", "on-failure")
                container["State"].update(Running=back, Status="running" if back else "exited", ExitCode=0 if back else 1074)
                container["State"]["StartedAt"] = "2026-12-04T16:05:00Z" if back else container["State"]["StartedAt"]
        return {"changed": True, "name": "docker", "state": "running"}

    def add_registry(self, name, policy="unless-stopped", port="5000"):
        container_id = (name.encode().hex() * 8)[:64]
        self.registries[container_id] = {
            "Id": container_id, "Name": "/" + name, "Config": {"Labels": {MANAGED: "true"}},
            "State": {"Status": "running", "Running": True, "Restarting": False, "ExitCode": 0, "Error": "",
                      "StartedAt": "2026-12-04T16:00:00Z"},
            "HostConfig": {"RestartPolicy": {"Name": policy}, "PortBindings": {"5000/tcp": [{"HostIp": "", "HostPort": port}]}},
        }
        return container_id

    def _module_uri(self, args, check_mode):
        assert args["validate_certs"] is False and args["status_code"] == [200, 401] and args["url_timeout"] == 5, args
        for container in self.registries.values():
            port = container["HostConfig"]["PortBindings"]["5000/tcp"][0]["HostPort"]
            if args["url"] == "http://127.0.0.1:%s/v2/" % port and container["State"]["Running"]:
                return {"changed": False, "status_code": 200}
        return {"failed": True, "status_code": -1, "msg": "Unable to connect to the remote server"}

    def _module_hosts(self, args, check_mode):
        key = args["canonical_name"]
        if args["state"] == "present":
            wanted = (args["ip_address"], tuple(args.get("aliases") or ()))
            changed = self.hosts_entries.get(key) != wanted
            if not check_mode:
                self.hosts_entries[key] = wanted
        else:
            changed = key in self.hosts_entries
            if not check_mode:
                self.hosts_entries.pop(key, None)
        return {"changed": changed}

    def _module_certificate_store(self, args, check_mode):
        assert args["store_name"] == "Root" and args["store_location"] == "LocalMachine", args
        if args["state"] == "present":
            assert self.key(args["path"]) in self.files, "win_certificate_store reads the file on the host"
            changed = "CA" not in self.store
            self.store.add("CA")
        else:
            changed = "CA" in self.store
            self.store.discard("CA")
        return {"changed": changed, "thumbprints": []}

    def _command(self, module_name, args):
        argv = list(args["argv"])
        if argv[0] == "dockerd":
            assert argv[1:3] == ["--validate", "--config-file"], argv
            assert self.key(argv[3]) in self.files, "dockerd --validate reads the candidate file"
            return self._answer(module_name, argv, 0, stdout="configuration OK\n")
        if argv[0] == "docker-credential-wincred":
            assert argv[1:] == ["get"] and args["stdin"] == REG, args
            return self._answer(module_name, argv, *self.credential_helper)
        if argv[0] != "docker":
            return super()._command(module_name, args)
        rest = argv[1:]
        options = []
        while rest and rest[0] in ("-H", "--config"):
            options += rest[:2]
            rest = rest[2:]
        self.last_options = options
        if rest[:1] == ["version"]:
            return self._answer(module_name, argv, 0, stdout=json.dumps({"Version": self.engine, "Os": "windows"}) + "\n")
        if rest[:1] == ["info"]:
            insecure = self.daemon_settings.get("insecure-registries", [])
            info = {"ServerVersion": self.engine, "OSType": "windows", "RegistryConfig": {
                "IndexConfigs": {name: {"Name": name, "Secure": False} for name in insecure},
                "InsecureRegistryCIDRs": ["127.0.0.0/8"], "Mirrors": self.daemon_settings.get("registry-mirrors", [])}}
            return self._answer(module_name, argv, 0, stdout=json.dumps(info) + "\n")
        if rest[:2] == ["container", "ls"]:
            assert rest[2:] == ["--quiet", "--no-trunc", "--filter", "label=%s=true" % MANAGED], rest
            running = [i for i, c in self.registries.items() if c["State"]["Running"]]
            return self._answer(module_name, argv, 0, stdout="".join(i + "\n" for i in running))
        if rest[:2] == ["container", "inspect"] and all(i in self.registries for i in rest[2:]):
            return self._answer(module_name, argv, 0, stdout=json.dumps([self.registries[i] for i in rest[2:]]))
        if rest[:1] == ["login"]:
            assert "--password-stdin" in rest and "stdin" in args, "the password goes on stdin"
            user = rest[rest.index("--username") + 1]
            self.logins[rest[-1]] = (user, args["stdin"])
            return self._answer(module_name, argv, 0, stdout="Login Succeeded\n")
        if rest[:1] == ["logout"]:
            removed = self.logins.pop(rest[1], None)
            return self._answer(module_name, argv, 0, stdout=("Removing login credentials for %s\n" % rest[1]) if removed else "")
        return super()._command(module_name, args)


@pytest.fixture(autouse=True)
def client_modules(monkeypatch):
    for name, options in CLIENT_MODULE_OPTIONS.items():
        monkeypatch.setitem(recorder.MODULE_OPTIONS, name, options)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    fake = types.SimpleNamespace(now=0.0, sleeps=[])

    def sleep(seconds):
        fake.sleeps.append(seconds)
        fake.now += seconds

    fake.monotonic = lambda: fake.now
    fake.sleep = sleep
    monkeypatch.setattr(registry_daemon_reload, "time", fake)
    return fake


def run(monkeypatch, host, module, args, check_mode=False, diff=False):
    fqcn = "dockerwin.registry." + module.__name__.rsplit(".", 1)[1]
    action = make_action(module, fqcn, args, host, check_mode=check_mode, monkeypatch=monkeypatch)
    action._task.diff = diff
    result = action.run(task_vars={"inventory_hostname": "win2022"})
    assert action._task.check_mode == check_mode
    return result


def written(host, path=DAEMON_JSON):
    data = host.files[host.key(path)][0]
    return data.encode() if isinstance(data, str) else data


def module_calls(host):
    return [(c.kind, c.module) for c in host.calls]


# -- daemon.json ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bom, encoding", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le")])
def test_daemon_json_is_merged_in_its_own_encoding_after_validation_with_a_backup(monkeypatch, bom, encoding):
    host = ClientHost()
    host.files[host.key(DAEMON_JSON)] = (bom + EXISTING.encode(encoding), None)
    result = run(monkeypatch, host, registry_daemon_config, {"insecure_registries": [REG], "allow_nondistributable_artifacts": [REG]}, diff=True)
    assert module_calls(host) == [
        ("module", WIN_COMMAND),  # docker version (allow-nondistributable-artifacts needs the engine below 28)
        ("module", "ansible.builtin.slurp"),
        ("module", "ansible.windows.win_tempfile"),
        ("action", WIN_COPY),
        ("module", WIN_COMMAND),
        ("module", WIN_FILE),
        ("module", WIN_FILE),
        ("action", WIN_COPY),
    ]
    calls = host.calls
    assert calls[0].argv == ["docker", "version", "--format", "{{json .Server}}"]
    assert calls[1].args == {"src": DAEMON_JSON}
    assert calls[4].argv == ["dockerd", "--validate", "--config-file", TEMP + "\\daemon.json"]
    assert calls[5].args == {"path": TEMP, "state": "absent"}
    assert calls[6].args == {"path": "C:\\ProgramData\\Docker\\config", "state": "directory"}
    assert calls[7].args["dest"] == DAEMON_JSON and calls[7].args["backup"] is True and set(calls[7].args) == {"src", "dest", "backup"}
    data = written(host)
    assert data.startswith(bom)
    text = data[len(bom):].decode(encoding)
    assert text == ('{\r\n    "storage-opts": [\r\n        "size=120GB"\r\n    ],\r\n    "debug": false,\r\n'
                    '    "insecure-registries": [\r\n        "registry.local:5000"\r\n    ],\r\n'
                    '    "allow-nondistributable-artifacts": [\r\n        "registry.local:5000"\r\n    ]\r\n}\r\n')
    assert result["changed"] is True and result["backup_file"].startswith(DAEMON_JSON + ".")
    assert result["encoding"] == encoding + "-bom"
    assert result["expected"]["insecure_present"] == [REG]
    assert '"insecure-registries"' in result["diff"]["after"] and result["diff"]["before_header"] == DAEMON_JSON

    host.calls.clear()
    again = run(monkeypatch, host, registry_daemon_config, {"insecure_registries": [REG], "allow_nondistributable_artifacts": [REG]})
    assert again["changed"] is False
    assert [c.module for c in host.calls] == [WIN_COMMAND, "ansible.builtin.slurp"], "an unchanged file is not written"


def test_absent_daemon_json_is_created_with_its_folder_and_no_backup(monkeypatch):
    host = ClientHost()
    result = run(monkeypatch, host, registry_daemon_config, {"insecure_registries": [REG], "validate": False})
    assert [c.module for c in host.calls] == ["ansible.builtin.slurp", WIN_FILE, WIN_COPY]
    assert written(host) == b'{\n  "insecure-registries": [\n    "registry.local:5000"\n  ]\n}\n'
    assert result["created"] is True and result["backup_file"] == ""


def test_check_mode_only_reads(monkeypatch):
    host = ClientHost()
    host.files[host.key(DAEMON_JSON)] = (codecs.BOM_UTF8 + EXISTING.encode(), None)
    result = run(monkeypatch, host, registry_daemon_config, {"insecure_registries": [REG]}, check_mode=True)
    assert result["changed"] is True
    assert host.changing_calls() == []
    assert written(host) == codecs.BOM_UTF8 + EXISTING.encode()


def test_malformed_daemon_json_fails_naming_the_path_and_is_not_touched(monkeypatch):
    host = ClientHost()
    host.files[host.key(DAEMON_JSON)] = (b'{"debug": true,,}', None)
    with pytest.raises(AnsibleActionFail) as failure:
        run(monkeypatch, host, registry_daemon_config, {"insecure_registries": [REG]})
    assert DAEMON_JSON in str(failure.value) and "is not valid JSON" in str(failure.value)
    assert host.changing_calls() == []


def test_docker_28_gets_no_allow_nondistributable_artifacts(monkeypatch):
    host = ClientHost(engine="28.0.4")
    host.files[host.key(DAEMON_JSON)] = (b'{"allow-nondistributable-artifacts": ["registry.local:5000", "other:5000"]}', None)
    result = run(monkeypatch, host, registry_daemon_config, {"allow_nondistributable_artifacts": [REG], "validate": False})
    assert json.loads(written(host)) == {"allow-nondistributable-artifacts": ["other:5000"]}
    assert "ignores allow-nondistributable-artifacts" in result["warnings"][0]


def test_docker_host_goes_in_front_of_the_sub_command(monkeypatch):
    host = ClientHost()
    run(monkeypatch, host, registry_daemon_config, {"allow_nondistributable_artifacts": [REG], "validate": False,
                                                    "docker_host": "npipe:////./pipe/docker_engine"})
    assert host.calls[0].argv == ["docker", "-H", "npipe:////./pipe/docker_engine", "version", "--format", "{{json .Server}}"]


# -- restart ------------------------------------------------------------------------------------------------
def converge_daemon(monkeypatch, host):
    host.files[host.key(DAEMON_JSON)] = (codecs.BOM_UTF16_LE + EXISTING.encode("utf-16-le"), None)
    merged = run(monkeypatch, host, registry_daemon_config, {"insecure_registries": [REG], "validate": False})
    host.calls.clear()
    return {"path": merged["path"], "backup_file": merged["backup_file"], "created": merged["created"], "expected": merged["expected"]}


def test_windows_restarts_the_docker_service_and_waits_for_docker_info(monkeypatch):
    host = ClientHost()
    args = converge_daemon(monkeypatch, host)
    result = run(monkeypatch, host, registry_daemon_reload, args)
    assert host.calls == [
        Call("module", WIN_COMMAND, {"argv": ["docker", "container", "ls", "--quiet", "--no-trunc", "--filter", "label=%s=true" % MANAGED]},
             False),
        Call("module", "ansible.windows.win_service", {"name": "docker", "state": "restarted"}, False),
        Call("module", WIN_COMMAND, {"argv": ["docker", "info", "--format", "{{json .}}"]}, False),
    ]
    assert result["method"] == "restart" and host.daemon_settings["insecure-registries"] == [REG] and result["registries"] == []


def test_windows_restart_waits_for_the_registry_container_on_the_same_host(monkeypatch):
    host = ClientHost()
    args = converge_daemon(monkeypatch, host)
    registry = host.add_registry("registry")
    result = run(monkeypatch, host, registry_daemon_reload, args)
    assert result["registries"] == ["registry"]
    inspect = Call("module", WIN_COMMAND, {"argv": ["docker", "container", "inspect", registry]}, False)
    uri = {"method": "GET", "status_code": [200, 401], "validate_certs": False, "url_timeout": 5}
    assert host.calls[-4:] == [
        Call("module", WIN_COMMAND, {"argv": ["docker", "info", "--format", "{{json .}}"]}, False),
        inspect,
        Call("module", "ansible.windows.win_uri", dict(uri, url="https://127.0.0.1:5000/v2/"), False),
        Call("module", "ansible.windows.win_uri", dict(uri, url="http://127.0.0.1:5000/v2/"), False),
    ]
    assert host.calls[:2] == [
        Call("module", WIN_COMMAND, {"argv": ["docker", "container", "ls", "--quiet", "--no-trunc", "--filter", "label=%s=true" % MANAGED]},
             False),
        inspect,
    ], "the registries are listed before the restart"


def test_windows_registry_that_does_not_come_back_fails_naming_it(monkeypatch, clock):
    host = ClientHost()
    args = converge_daemon(monkeypatch, host)
    host.add_registry("registry")
    host.add_registry("registry-cache", policy="no", port="5001")
    with pytest.raises(AnsibleActionFail) as failure:
        run(monkeypatch, host, registry_daemon_reload, dict(args, timeout=10))
    message = str(failure.value)
    assert ("Docker took the new %s (restart), but the registry container registry-cache (label %s), which ran before, "
            "does not run (status exited, exit code 1074) after 10s. Its restart policy is no; `docker logs registry-cache`" % (DAEMON_JSON, MANAGED)
            ) in message
    assert "restored" not in message and host.restarts == 1, "Docker took the file: no rollback"
    assert clock.now >= 10


def test_windows_refuses_signal_reload_naming_the_option(monkeypatch):
    host = ClientHost()
    with pytest.raises(AnsibleActionFail, match="method=signal: Docker on Windows takes a new daemon.json on a restart"):
        run(monkeypatch, host, registry_daemon_reload, {"method": "signal"})
    assert host.calls == []


def test_a_file_docker_refuses_is_restored_from_the_backup_and_docker_restarted(monkeypatch):
    host = ClientHost()
    args = converge_daemon(monkeypatch, host)
    original = host.files[host.key(args["backup_file"])][0]
    host.refuse_restart = True
    with pytest.raises(AnsibleActionFail) as failure:
        run(monkeypatch, host, registry_daemon_reload, dict(args, timeout=5))
    message = str(failure.value)
    assert "cannot be started" in message and "was restored from %s" % args["backup_file"] in message
    assert written(host) == original
    assert host.calls[-2:] == [
        Call("module", "ansible.windows.win_service", {"name": "docker", "state": "restarted"}, False),
        Call("module", WIN_COMMAND, {"argv": ["docker", "info", "--format", "{{json .}}"]}, False),
    ]
    assert Call("module", WIN_COPY, {"src": args["backup_file"], "dest": DAEMON_JSON, "remote_src": True}, False) in host.calls
    assert host.restarts == 2


# -- CA and hosts name ------------------------------------------------------------------------------------------
TRUST = {"registry": REG, "ca_cert": PEM, "root_store": True, "hosts_names": ["registry.local"], "hosts_address": "10.0.0.5"}


def test_ca_goes_to_certs_d_without_colon_and_into_the_root_store_and_the_hosts_file(monkeypatch):
    host = ClientHost()
    result = run(monkeypatch, host, registry_client_trust, TRUST)
    assert host.calls == [
        Call("module", WIN_FILE, {"path": CERTS, "state": "directory"}, False),
        Call("action", WIN_COPY, {"content": PEM + "\n", "dest": CERTS + "\\ca.crt"}, False),
        Call("module", "ansible.windows.win_certificate_store",
             {"path": CERTS + "\\ca.crt", "store_name": "Root", "store_location": "LocalMachine", "state": "present"}, False),
        Call("module", "ansible.windows.win_hosts",
             {"state": "present", "canonical_name": "registry.local", "ip_address": "10.0.0.5", "action": "set"}, False),
    ]
    assert ":" not in result["ca_path"][2:], "no colon after the drive letter"
    assert result["changed"] is True
    host.calls.clear()
    again = run(monkeypatch, host, registry_client_trust, TRUST)
    assert again["changed"] is False


def test_trust_absent_removes_own_entries_by_thumbprint(monkeypatch):
    host = ClientHost()
    run(monkeypatch, host, registry_client_trust, TRUST)
    host.calls.clear()
    result = run(monkeypatch, host, registry_client_trust, dict(TRUST, state="absent"))
    thumb = __import__("hashlib").sha1(DER).hexdigest().upper()
    assert host.calls == [
        Call("module", "ansible.windows.win_certificate_store",
             {"thumbprint": thumb, "store_name": "Root", "store_location": "LocalMachine", "state": "absent"}, False),
        Call("module", WIN_FILE, {"path": CERTS + "\\ca.crt", "state": "absent"}, False),
        Call("module", "ansible.windows.win_hosts",
             {"state": "absent", "canonical_name": "registry.local", "ip_address": "10.0.0.5"}, False),
    ]
    assert result["changed"] is True and host.store == set() and host.hosts_entries == {}


def test_ca_pending_in_check_mode_reports_the_trust_step_and_writes_nothing(monkeypatch):
    """Check mode on a fresh registry host: the client role has no CA to read yet and says so, as a change."""
    host = ClientHost()
    pending = dict(TRUST, ca_cert="", ca_pending=True)
    result = run(monkeypatch, host, registry_client_trust, pending, check_mode=True)
    assert result["changed"] is True
    assert result["steps"][0] == "trust the CA that the registry host will create, in %s" % CERTS
    assert result["ca_path"] == "" and host.store == set()
    assert all(call.check_mode for call in host.calls), "only the hosts entry is asked, in check mode"
    with pytest.raises(AnsibleActionFail, match="ca_pending=true is for check mode only"):
        run(monkeypatch, host, registry_client_trust, pending)


def test_hosts_file_path_is_refused_on_windows(monkeypatch):
    host = ClientHost()
    with pytest.raises(AnsibleActionFail, match="hosts_file='C:.*win_hosts edits the system hosts file"):
        run(monkeypatch, host, registry_client_trust, dict(TRUST, hosts_file="C:\\hosts"))
    assert host.calls == []


# -- login --------------------------------------------------------------------------------------------------
def test_login_sends_the_password_on_stdin_and_skips_a_stored_login(monkeypatch):
    host = ClientHost()
    config = "C:\\Users\\ci\\.docker"
    args = {"registry": REG, "username": "ci", "password": "s3cret-pw", "docker_config": config}
    result = run(monkeypatch, host, registry_client_login, args)
    login = host.calls[-1]
    assert login == Call("module", WIN_COMMAND, {
        "argv": ["docker", "--config", config, "login", "--username", "ci", "--password-stdin", REG], "stdin": "s3cret-pw"}, False)
    assert "s3cret-pw" not in json.dumps(result)
    assert host.calls[0] == Call("module", "ansible.builtin.slurp", {"src": config + "\\config.json"}, False)
    # The docker CLI stored the login: the next run reads it and does not log in again.
    auth = base64.b64encode(b"ci:s3cret-pw").decode()
    host.files[host.key(config + "\\config.json")] = (json.dumps({"auths": {REG: {"auth": auth}}}), None)
    host.calls.clear()
    again = run(monkeypatch, host, registry_client_login, args)
    assert [c.module for c in host.calls] == ["ansible.builtin.slurp"] and again["changed"] is False
    assert auth not in json.dumps(again)
    # A new password for the same user: the stored auth differs, so the client logs in again.
    host.calls.clear()
    changed = run(monkeypatch, host, registry_client_login, dict(args, password="n3w-pw"))
    assert changed["changed"] is True and host.calls[-1].args["stdin"] == "n3w-pw" and "n3w-pw" not in json.dumps(changed)


@pytest.mark.parametrize("helper, logs_in", [
    ((0, json.dumps({"ServerURL": REG, "Username": "ci", "Secret": "s3cret-pw"})), False),
    ((0, json.dumps({"ServerURL": REG, "Username": "ci", "Secret": "old-pw"})), True),
    ((1, "credentials not found in native keychain"), True),  # wincred over a network logon: cannot compare
])
def test_login_with_a_credential_store_compares_the_helpers_secret(monkeypatch, helper, logs_in):
    host = ClientHost()
    config = "C:\\Users\\ci\\.docker"
    host.files[host.key(config + "\\config.json")] = (json.dumps({"auths": {REG: {}}, "credsStore": "wincred"}), None)
    host.credential_helper = helper
    result = run(monkeypatch, host, registry_client_login, {"registry": REG, "username": "ci", "password": "s3cret-pw", "docker_config": config})
    assert host.calls[1].argv == ["docker-credential-wincred", "get"]
    assert result["changed"] is logs_in and ("login" in host.calls[-1].argv) is logs_in
    assert "s3cret-pw" not in json.dumps(result) and "old-pw" not in json.dumps(result)
