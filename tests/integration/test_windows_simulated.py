# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' Windows path end to end, on the simulated Windows host (tests/integration/simwin, tests/README.md).

One module-scoped Windows Server 2022 host runs playbooks/site.yml as both registry server and Docker client
(TLS self_signed + htpasswd, firewall rule, hosts name, LocalMachine Root, login, smoke push/pull): check mode on
the fresh host, converge, re-run, check mode on the converged host, a config change, state absent; the tests run
in file order on that host. A second host (Server 2025) builds the image from source. Assertions are on the
simulated host's state (virtual C: drive, registry values, services, firewall, certificate store, ACLs, the
calls the collection made) and on the registry, which really runs on this machine's dockerd.

This proves the collection's logic and the calls it makes on Windows, not Windows itself: see tests/README.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import ssl
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

import images  # noqa: E402  (tests/support, on sys.path through conftest)
import playbook
from conftest import free_port
from simwin import dockermap, modules, vhost

PLUGINS = str(Path(__file__).resolve().parent / "simwin" / "connection_plugins")
DAEMON_JSON = "C:\\ProgramData\\Docker\\config\\daemon.json"
DOCKER_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\docker"
BOM_DAEMON_JSON = '\ufeff{\r\n    "debug": true,\r\n    "log-level": "warn"\r\n}\r\n'


class SimHost:
    """A simulated Windows host with its inventory (one host in registry_servers and registry_clients)."""

    def __init__(self, root, registry_image, release="2022", client=True, **overrides):
        self.client = client
        self.id = uuid.uuid4().hex[:8]
        self.name = "dwr-simwin-%s" % self.id
        self.port = free_port()
        self.image = "dwr-simwin-%s/registry:2.8.2-nanoserver-ltsc%s" % (self.id, release)
        self.image_map = {self.image: registry_image}
        self.host = vhost.create(root / "host", release=release, image_map=self.image_map, standin_image=registry_image)
        self.inventory = str(root / "inventory.yml")
        self.vars = {
            "ansible_connection": "dockerwin_simwin",
            "ansible_host": "127.0.0.1",
            "dockerwin_simwin_root": str(self.host.root),
            "windows_registry_container_name": self.name,
            "windows_registry_port": self.port,
            "windows_registry_version": "2.8.2",
            "windows_registry_image": self.image,
            "windows_registry_health_timeout": 30,
        }
        self.vars.update(overrides)
        self.write()

    def write(self, **changes):
        self.vars.update(changes)
        hosts = {"simwin": None}
        groups = {"all": {"hosts": {"simwin": self.vars}}, "registry_servers": {"hosts": hosts}}
        if self.client:
            groups["registry_clients"] = {"hosts": hosts}
        Path(self.inventory).write_text(yaml.safe_dump(groups))

    def run(self, check=False, **changes):
        if changes:
            self.write(**changes)
        return playbook.run_playbook("playbooks/site.yml", self.inventory, check=check,
                                     env={"ANSIBLE_CONNECTION_PLUGINS": PLUGINS})

    # -- what the host holds ----------------------------------------------------------------------
    def file(self, path):
        return self.host.local(path)

    def state(self):
        return self.host.state

    def calls(self, module=None, since=0):
        return self.host.calls(module)[since:] if module is None else [c for c in self.host.calls()[since:] if c["module"] == module]

    def commands(self, since=0):
        """argv of the win_command calls that ran (check mode skips win_command: it does not support it)."""
        return [c["args"]["argv"] for c in self.calls("ansible.windows.win_command", since)
                if c["args"].get("argv") and not c.get("skipped")]

    def windows_view(self):
        """`docker container inspect` as the collection sees it on this host, or None."""
        rc, out, dummy = dockermap.Docker(self.host).container_inspect([self.name], [], None)
        return json.loads(out)[0] if rc == 0 else None

    def containers(self):
        out = subprocess.run(["docker", "container", "ls", "--all", "--quiet", "--filter",
                              "label=%s=%s" % (dockermap.HOST_LABEL, self.host.config["host_id"])],
                             capture_output=True, text=True, check=True).stdout
        return out.split()

    def cleanup(self):
        ids = self.containers()
        if ids:
            subprocess.run(["docker", "container", "rm", "--force", *ids], capture_output=True)
        for ref in self.image_map:
            subprocess.run(["docker", "image", "rm", ref], capture_output=True)


def assert_ok(run):
    assert not run.failed, "%r\n%s" % (run, run.stderr[-2000:])
    return run


def secret_paths(data, secret, path=""):
    """Where in a JSON document `secret` occurs (for a readable failure)."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in secret_paths(v, secret, "%s/%s" % (path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in secret_paths(v, secret, "%s/%d" % (path, i))]
    return [path] if isinstance(data, str) and secret in data else []


def read_only(argv):
    """Whether a docker argv only reads (version, info, inspect, ls), global options such as --config skipped."""
    args = [a for a in argv[1:] if not a.startswith("-")]
    if argv[1:2] == ["--config"]:
        args = [a for a in argv[3:] if not a.startswith("-")]
    return args[:1] in (["version"], ["info"]) or args[1:2] in (["inspect"], ["ls"])


def is_read(call):
    """Whether a recorded call only reads: a read-only docker argv, or the role's Defender read."""
    if call["module"] == "ansible.windows.win_command":
        return read_only(call["args"].get("argv") or [])
    if call["module"] == "ansible.windows.win_powershell":
        return call["args"].get("script") == "(Get-MpPreference).ExclusionPath"
    return False


def registry_get(sim, path, user, password):
    """GET on the registry over TLS, trusting only the CA the role made on the host."""
    context = ssl.create_default_context(cafile=str(sim.file("C:\\registry-data-config\\tls\\ca.crt")))
    request = urllib.request.Request("https://127.0.0.1:%d%s" % (sim.port, path))
    request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode())
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def sim(tmp_path_factory, registry_image):
    root = tmp_path_factory.mktemp("simwin")
    hello = "dwr-simwin-%s/hello:1" % uuid.uuid4().hex[:8]
    images.hello_image(hello, text="hello from the simulated Windows host\n")
    password = "pw-%s" % uuid.uuid4().hex
    host = SimHost(
        root, registry_image,
        windows_registry_firewall_rule=True,
        windows_registry_defender_exclusion=True,
        windows_registry_tls="self_signed",
        windows_registry_tls_names=["registry.simwin.test", "127.0.0.1"],
        windows_registry_auth="htpasswd",
        windows_registry_users=[{"name": "ci", "password": password}],
        registry_client_ca_host="simwin",
        registry_client_windows_root_store=True,
        registry_client_hosts_names=["registry.simwin.test"],
        registry_client_hosts_address="127.0.0.1",
        registry_client_username="ci",
        registry_client_password=password,
        registry_client_smoke_test=True,
        registry_client_smoke_source_image=hello,
    )
    host.write(registry_client_registry="127.0.0.1:%d" % host.port,
               registry_client_registry_mirrors=["https://127.0.0.1:%d" % host.port])
    host.password = password
    # The engine already runs with a daemon.json as Notepad writes it (UTF-8 with BOM, CRLF), with keys of its own.
    host.file(DAEMON_JSON).write_bytes(BOM_DAEMON_JSON.encode("utf-8"))
    with host.host.locked() as state:
        state["daemon"] = json.loads(BOM_DAEMON_JSON.lstrip("\ufeff"))
        # The docker service has an environment entry of its own, which the proxy settings must keep.
        state["registry"][DOCKER_KEY.lower()] = {"path": DOCKER_KEY, "values": {"environment": {
            "name": "Environment", "type": "multistring", "data": ["DOCKER_FOO=1"]}}}
    host.hosts_before = host.file(vhost.HOSTS_FILE).read_bytes()
    yield host
    host.cleanup()
    # The smoke test removes its tag itself; a run stopped half-way may not have.
    subprocess.run(["docker", "image", "rm", "127.0.0.1:%d/dockerwin/smoke:latest" % host.port], capture_output=True)
    subprocess.run(["docker", "image", "rm", "--force", hello], capture_output=True)


def test_check_mode_on_a_fresh_host_changes_nothing(sim):
    # The client role takes the CA from the registry host, which has none yet: the trust step is reported as pending.
    run = assert_ok(sim.run(check=True))
    assert run.changed > 0
    trust = run.result("Trust the registry's CA")
    assert trust["changed"] and any(step.startswith("trust the CA that the registry host will create") for step in trust["steps"])
    assert not sim.file("C:\\registry-data").exists() and not sim.file("C:\\registry-data-config").exists()
    assert sim.containers() == []
    state = sim.state()
    assert state["firewall"] == {} and state["certs"] == {} and state["acls"] == {}
    assert state["services"]["docker"]["restarts"] == 0
    assert sim.file(DAEMON_JSON).read_bytes() == BOM_DAEMON_JSON.encode("utf-8")
    assert sim.file(vhost.HOSTS_FILE).read_bytes() == sim.hosts_before
    # Every call that would change something ran in check mode; the calls run for real only read (win_command and
    # win_powershell report changed on every run; win_command does not support check mode, so only reads reach docker).
    assert [c for c in sim.calls() if c["changed"] and c["check_mode"]]
    assert not [c for c in sim.calls() if c["changed"] and not c["check_mode"] and not c.get("skipped") and not is_read(c)]


@pytest.mark.smoke
def test_converge(sim):
    since = len(sim.calls())
    run = assert_ok(sim.run())
    assert run.changed > 0
    state = sim.state()

    # Folders, config and secrets on the virtual C: drive, with the ACLs the role asked for.
    configs = sorted(p.name for p in sim.file("C:\\registry-data-config").glob("config-*.yml"))
    assert len(configs) == 1
    for path in ("tls\\server.crt", "tls\\server.key", "tls\\ca.crt", "auth\\htpasswd", "auth\\http.secret"):
        assert sim.file("C:\\registry-data-config\\" + path).is_file(), path
    assert sim.file("C:\\registry-data-config-ca\\ca.key").is_file()
    container_sid = "S-1-5-93-2-1"  # User Manager\ContainerAdministrator, the run identity
    assert {"user": container_sid, "rights": "Modify", "type": "allow", "inherit": "ContainerInherit, ObjectInherit",
            "propagation": "None"} in state["acls"]["c:\\registry-data"]
    assert ("S-1-5-93-2-1", "ReadAndExecute") in [(a["user"], a["rights"]) for a in state["acls"]["c:\\registry-data-config"]]
    assert container_sid not in [a["user"] for a in state["acls"]["c:\\registry-data-config-ca"]]  # the CA key stays out
    assert state["acl_protected"] == {"c:\\registry-data-config": True, "c:\\registry-data-config-ca": True}

    # Microsoft Defender excludes the data folder (the role's two fixed scripts through win_powershell).
    assert state["defender"] == ["C:\\registry-data"]

    # Firewall rule for the port.
    rule = state["firewall"]["dockerwin.registry %s" % sim.name]
    assert (rule["localport"], rule["protocol"], rule["direction"], rule["action"], rule["enabled"]) == (str(sim.port), "tcp", "in", "allow", True)

    # The container as Windows shows it, and as it really runs here (127.0.0.1 only, data on the virtual drive).
    view = sim.windows_view()
    assert view["State"]["Running"]
    assert view["Config"]["Cmd"] == ["C:\\config\\" + configs[0]]
    assert (view["Config"]["User"], view["HostConfig"]["Isolation"]) == ("ContainerAdministrator", "process")
    assert sorted((m["Source"], m["Destination"], m["RW"]) for m in view["Mounts"]) == [
        ("C:\\registry-data", "C:\\data", True), ("C:\\registry-data-config", "C:\\config", False)]
    run_argv = next(a for a in sim.commands(since) if a[1:3] == ["container", "run"])
    assert "--isolation" not in run_argv and ["--user", "ContainerAdministrator"] == run_argv[run_argv.index("--user"):][:2]
    assert "%d:5000/tcp" % sim.port in run_argv  # Windows NAT: no host address in what the role sends
    real = json.loads(subprocess.run(["docker", "container", "inspect", view["Id"]], capture_output=True, text=True, check=True).stdout)[0]
    assert real["HostConfig"]["PortBindings"]["5000/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(sim.port)}]

    # The registry answers over TLS with the role's CA and user; the client role's smoke test pushed through it.
    assert "dockerwin/smoke" in registry_get(sim, "/v2/_catalog", "ci", sim.password)["repositories"]
    assert any(sim.file("C:\\registry-data\\docker\\registry\\v2\\repositories\\dockerwin").iterdir())

    # Client: daemon.json merged in its own encoding (UTF-8 with BOM), foreign keys kept; Docker restarted once.
    raw = sim.file(DAEMON_JSON).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    daemon = json.loads(raw.decode("utf-8-sig"))
    assert daemon["debug"] is True and daemon["log-level"] == "warn"
    assert daemon["registry-mirrors"] == ["https://127.0.0.1:%d" % sim.port]
    assert state["services"]["docker"]["restarts"] == 1 and state["daemon"] == daemon
    # certs.d folder without the colon, holding the registry's CA; the CA also in LocalMachine\Root.
    ca_pem = sim.file("C:\\registry-data-config\\tls\\ca.crt").read_bytes()
    assert sim.file("C:\\ProgramData\\docker\\certs.d\\127.0.0.1%d\\ca.crt" % sim.port).read_bytes().strip() == ca_pem.strip()
    assert not list(sim.file("C:\\ProgramData\\docker\\certs.d").glob("*:*"))
    der = x509.load_pem_x509_certificate(ca_pem).public_bytes(Encoding.DER)
    assert list(state["certs"]["LocalMachine\\Root"]) == [hashlib.sha1(der).hexdigest().upper()]
    hosts = sim.file(vhost.HOSTS_FILE).read_bytes().decode()
    assert "127.0.0.1 registry.simwin.test\r\n" in hosts and hosts.startswith(sim.hosts_before.decode())
    # docker login stored the user for the registry in the profile's docker config.
    auths = json.loads(sim.file("C:\\Users\\Administrator\\.docker\\config.json").read_text())["auths"]
    assert "127.0.0.1:%d" % sim.port in auths

    # What the collection asked of Windows: ACL calls with the documented options, no secret in any record.
    acl_calls = sim.calls("ansible.windows.win_acl", since)
    assert {c["args"]["path"] for c in acl_calls} == {"C:\\registry-data", "C:\\registry-data-config", "C:\\registry-data-config-ca"}
    assert all(c["args"]["type"] == "allow" and c["args"]["state"] == "present" for c in acl_calls)
    inheritance = sim.calls("ansible.windows.win_acl_inheritance", since)
    assert {(c["args"]["path"], c["args"]["state"]) for c in inheritance} == {
        ("C:\\registry-data-config", "absent"), ("C:\\registry-data-config-ca", "absent")}
    assert sim.password not in (sim.host.root / "calls.jsonl").read_text()
    sim.converge_output = run.data
    # The push/pull smoke test has proved the client; the later runs leave it out (seconds each on this machine).
    sim.write(registry_client_smoke_test=False)


@pytest.mark.smoke
def test_no_password_in_the_converge_output(sim):
    output = getattr(sim, "converge_output", None)
    assert output is not None, "test_converge did not run"
    assert not secret_paths(output, sim.password)


def test_rerun_changes_nothing(sim):
    before = sim.windows_view()["Id"]
    run = assert_ok(sim.run())
    assert run.changed == 0, run.changed_tasks()
    assert sim.windows_view()["Id"] == before
    assert sim.state()["services"]["docker"]["restarts"] == 1


def test_check_mode_on_the_converged_host_reports_no_change(sim):
    since = len(sim.calls())
    run = assert_ok(sim.run(check=True))
    assert run.changed == 0, run.changed_tasks()
    assert not [c for c in sim.calls()[since:] if c["changed"] and not c.get("skipped") and not is_read(c)]


def test_config_change_recreates_the_container_and_keeps_the_data(sim):
    before = sim.windows_view()
    old_config = before["Config"]["Cmd"][0].rsplit("\\", 1)[1]
    # Windows PowerShell 5.1 wrote daemon.json meanwhile (UTF-16 LE with BOM); the role keeps that encoding.
    text = sim.file(DAEMON_JSON).read_bytes().decode("utf-8-sig")
    sim.file(DAEMON_JSON).write_bytes(text.encode("utf-16"))
    mirrors = ["https://127.0.0.1:%d" % sim.port, "https://mirror.simwin.test"]
    proxy = "http://proxy.simwin.test:3128"
    run = assert_ok(sim.run(windows_registry_storage_delete=True, registry_client_registry_mirrors=mirrors,
                            windows_registry_docker_http_proxy=proxy))
    after = sim.windows_view()
    assert after["Id"] != before["Id"] and after["State"]["Running"]
    new_config = after["Config"]["Cmd"][0].rsplit("\\", 1)[1]
    assert new_config != old_config
    assert [p.name for p in sim.file("C:\\registry-data-config").glob("config-*.yml")] == [new_config]
    assert "delete" in sim.file("C:\\registry-data-config\\" + new_config).read_text()
    assert "dockerwin/smoke" in registry_get(sim, "/v2/_catalog", "ci", sim.password)["repositories"]
    raw = sim.file(DAEMON_JSON).read_bytes()
    assert raw.startswith(b"\xff\xfe")
    daemon = json.loads(raw.decode("utf-16"))
    assert daemon["registry-mirrors"] == mirrors and daemon["debug"] is True
    # The proxy in the docker service's Environment (REG_MULTI_SZ), its own entry kept; Docker restarted for the proxy
    # (handler of windows_registry) and for daemon.json (handler of registry_client).
    state = sim.state()
    environment = state["registry"][DOCKER_KEY.lower()]["values"]["environment"]
    assert environment["type"] == "multistring"
    assert environment["data"][:2] == ["DOCKER_FOO=1", "HTTP_PROXY=" + proxy]
    assert environment["data"][2].startswith("NO_PROXY=") and "127.0.0.1" in environment["data"][2].split("=", 1)[1].split(",")
    assert state["services"]["docker"]["restarts"] == 3 and state["services"]["docker"]["state"] == "started"
    assert run.changed > 0


def test_state_absent_removes_what_the_roles_added(sim):
    thumbprints = list(sim.state()["certs"]["LocalMachine\\Root"])
    run = assert_ok(sim.run(windows_registry_state="absent", registry_client_state="absent"))
    assert run.changed > 0
    assert sim.windows_view() is None and sim.containers() == []
    # The data stays for a later deploy; the client entries go, foreign keys and the encoding stay.
    assert any(sim.file("C:\\registry-data\\docker\\registry\\v2\\blobs").rglob("data"))
    raw = sim.file(DAEMON_JSON).read_bytes()
    daemon = json.loads(raw.decode("utf-16"))
    assert raw.startswith(b"\xff\xfe")
    assert daemon.get("registry-mirrors", []) == [] and daemon["debug"] is True and daemon["log-level"] == "warn"
    assert not sim.file("C:\\ProgramData\\docker\\certs.d\\127.0.0.1%d\\ca.crt" % sim.port).exists()
    assert "registry.simwin.test" not in sim.file(vhost.HOSTS_FILE).read_bytes().decode()
    assert not set(thumbprints) & set(sim.state()["certs"]["LocalMachine\\Root"])
    assert sim.state()["firewall"] == {}
    auths = json.loads(sim.file("C:\\Users\\Administrator\\.docker\\config.json").read_text()).get("auths", {})
    assert "127.0.0.1:%d" % sim.port not in auths


def test_build_from_source_on_server_2025(tmp_path, registry_image):
    """windows_registry_image_source=build: the Dockerfile and argv the role sends are recorded; the stand-in runs."""
    builder = "dwr-simwin-%s/golang:1.20-windowsservercore-ltsc2025" % uuid.uuid4().hex[:8]
    sim = SimHost(tmp_path, registry_image, release="2025", client=False, windows_registry_image_source="build",
                  windows_registry_builder_image=builder)
    runtime_base = "mcr.microsoft.com/windows/nanoserver:ltsc2025"
    for ref in (builder, runtime_base):  # the FROM images the host "has" after a pull: the stand-in
        sim.image_map[ref] = registry_image
    Path(sim.host.root / "host.json").write_text(json.dumps(dict(sim.host.config, image_map=sim.image_map)))
    try:
        run = assert_ok(sim.run())
        builds = sim.state()["builds"]
        assert len(builds) == 1
        argv, dockerfile = builds[0]["argv"], builds[0]["dockerfile"]
        assert argv[:5] == ["docker", "image", "build", "--tag", sim.image]
        assert any(a.startswith("io.dockerwin.registry.build-digest=") for a in argv)
        assert "FROM %s AS builder" % builder in dockerfile and "FROM %s" % runtime_base in dockerfile
        assert "registry.exe" in dockerfile
        pulls = [a[-1] for a in sim.commands() if a[1:3] == ["image", "pull"]]
        assert sorted(pulls) == sorted([builder, runtime_base])
        assert sim.windows_view()["State"]["Running"] and run.changed > 0
    finally:
        sim.cleanup()


@pytest.mark.parametrize("release, build, kernel", [("2019", 17763, "10.0.17763.0"), ("2022", 20348, "10.0.20348.0"),
                                                    ("2025", 26100, "10.0.26100.0")])
def test_facts_of_each_release(tmp_path, release, build, kernel):
    host = vhost.create(tmp_path / "host", release=release)
    facts = modules.m_setup(host, {"gather_subset": ["min"]}, False)["ansible_facts"]
    assert (facts["ansible_os_family"], facts["ansible_system"], facts["ansible_kernel"]) == ("Windows", "Win32NT", kernel)
    assert facts["ansible_distribution"] == "Microsoft Windows Server %s Datacenter" % release
    assert facts["ansible_os_build_number"] == str(build) and facts["ansible_env"]["USERPROFILE"] == "C:\\Users\\Administrator"


def test_unknown_option_and_missing_required_option_fail_loudly(tmp_path):
    host = vhost.create(tmp_path / "host")
    import ansible_collections.ansible.windows as collection  # noqa: PLC0415

    win_file = os.path.join(list(collection.__path__)[0], "plugins", "modules", "win_file.ps1")
    bad = modules.execute(host, "ansible.windows.win_file", win_file, {"path": "C:\\x", "state": "directory", "mode": "0755"})
    assert bad["failed"] and "Unsupported parameters for (ansible.windows.win_file) module: mode" in bad["msg"]
    missing = modules.execute(host, "ansible.windows.win_file", win_file, {"state": "directory"})
    assert missing["failed"] and missing["msg"] == "missing required arguments: path"
    wrong = modules.execute(host, "ansible.windows.win_file", win_file, {"path": "C:\\x", "state": "folder"})
    assert wrong["failed"] and "value of state must be one of" in wrong["msg"]
    unknown = modules.execute(host, "ansible.windows.win_reboot", win_file.replace("win_file", "win_reboot"), {})
    assert unknown["failed"] and "module ansible.windows.win_reboot is not simulated" in unknown["msg"]
    assert not host.local("C:\\x").exists()
