# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry_client role on the Linux twin, against a second, test-only dockerd.

The registry runs (windows_registry role) on a non-loopback test address, because Docker trusts any registry on
127.0.0.0/8 without TLS checks: the push from the test daemon fails before the role runs (negative control) and
succeeds after. The machine's own daemon, its daemon.json and /etc/hosts are never touched: the role gets the test
daemon's config file, pidfile, socket (-H), a copy of a hosts file and its own certs.d and docker client config.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.request
import uuid

import pytest

import playbook
from registry_process import free_port
from test_dockerd import TestAddress, TestDockerd

MERGE_TASK = "Merge the registry settings into daemon.json"
RELOAD_TASK = "Reload Docker with the new daemon.json"
TRUST_TASK = "Trust the registry's CA"
VERIFY_TASK = "Check that docker info shows the registry settings"
REFUSED = "server gave HTTP response to HTTPS client"


def assert_ok(run):
    assert not run.failed, "%r\n%s" % (run, run.stderr[-2000:])
    return run


@pytest.fixture
def test_address():
    address = TestAddress()
    try:
        yield address.address
    finally:
        address.remove()


@pytest.fixture
def test_dockerd():
    daemon = TestDockerd(initial_config={"log-level": "info", "labels": ["dwr-test=1"]})
    try:
        yield daemon.start()
    finally:
        daemon.stop()


@pytest.fixture
def registry(make_instance, test_address):
    """A registry deployed by windows_registry, published on the test address only."""
    reg = make_instance(windows_registry_bind_address=test_address, windows_registry_health_timeout=60)
    assert_ok(reg.deploy())
    return "%s:%d" % (test_address, reg.port)


@pytest.fixture
def ca_pem(tmp_path):
    key, cert = tmp_path / "ca.key", tmp_path / "ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dwr-test-ca",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert.read_text()


class Client:
    """Inventory of one client host (localhost) whose Docker is the test daemon."""

    def __init__(self, tmp_path, daemon, registry, ca_pem, source_image, **overrides):
        self.daemon = daemon
        self.registry = registry
        self.id = uuid.uuid4().hex[:8]
        self.name = "dwr-%s.test" % self.id
        self.hosts_file = tmp_path / "hosts"
        self.hosts_file.write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
        self.certs_d = tmp_path / "certs.d"
        self.docker_config = tmp_path / "docker-config"
        self.password = "pw-%s-secret" % uuid.uuid4().hex
        self.vars = {
            "registry_client_registry": registry,
            "registry_client_insecure": True,
            "registry_client_registry_mirrors": ["http://%s" % registry],
            "registry_client_daemon_json": daemon.config,
            "registry_client_docker_host": daemon.host,
            "registry_client_docker_pidfile": daemon.pidfile,
            "registry_client_daemon_log": daemon.log,
            "registry_client_reload_timeout": 30,
            "registry_client_ca_cert": ca_pem,
            "registry_client_certs_d_root": str(self.certs_d),
            "registry_client_hosts_names": [self.name],
            "registry_client_hosts_address": registry.split(":")[0],
            "registry_client_hosts_file": str(self.hosts_file),
            "registry_client_docker_config": str(self.docker_config),
            "registry_client_username": "ci",
            "registry_client_password": self.password,
            "registry_client_smoke_test": True,
            "registry_client_smoke_source_image": source_image,
            "registry_client_smoke_account": "team",
            "registry_client_smoke_image": "smoke-%s" % self.id,
        }
        self.vars.update(overrides)
        self.inventory = str(tmp_path / "clients.yml")
        self.write()

    def write(self, **changes):
        self.vars.update(changes)
        playbook.write_inventory(self.inventory, self.vars, group="registry_clients")

    def run(self, check=False, diff=False, **changes):
        if changes:
            self.write(**changes)
        result = playbook.run_playbook("playbooks/clients.yml", self.inventory, check=check, diff=diff)
        everything = json.dumps(result.data) + result.stderr
        assert self.password not in everything, "the registry password reached the playbook output"
        return result

    def config_bytes(self):
        with open(self.daemon.config, "rb") as handle:
            return handle.read()

    def config(self):
        return json.loads(self.config_bytes())

    def ca_file(self):
        return self.certs_d / self.registry / "ca.crt"  # Linux: <host>:<port>, with the colon


def insecure(daemon, registry):
    index = daemon.registry_config()["IndexConfigs"].get(registry)
    return bool(index) and index["Secure"] is False


def push(daemon, source, ref):
    daemon.docker("image", "tag", source, ref)
    try:
        return daemon.docker("image", "push", ref, check=False)
    finally:
        daemon.docker("image", "rm", ref, check=False)


@pytest.fixture
def hello_in_test_daemon(hello_image, test_dockerd):
    test_dockerd.load_from_main(hello_image)
    return hello_image


@pytest.mark.smoke
def test_client_check_apply_rerun_push_and_absent(tmp_path, test_dockerd, registry, ca_pem, hello_in_test_daemon):
    daemon = test_dockerd
    client = Client(tmp_path, daemon, registry, ca_pem, hello_in_test_daemon)
    pid = daemon.pid()
    original = client.config_bytes()
    hosts_before = client.hosts_file.read_text()

    # Negative control: the test daemon refuses the plain-HTTP registry on a non-loopback address.
    refused = push(daemon, hello_in_test_daemon, "%s/team/negative:1" % registry)
    assert refused.returncode != 0 and REFUSED in refused.stderr, refused.stderr
    assert not insecure(daemon, registry)

    # Check mode: reports the change and the diff, changes nothing.
    check = assert_ok(client.run(check=True, diff=True))
    merge = check.result(MERGE_TASK)
    assert merge["changed"] is True
    assert '"insecure-registries"' in merge["diff"]["after"] and '"insecure-registries"' not in merge["diff"]["before"]
    assert client.config_bytes() == original
    assert client.hosts_file.read_text() == hosts_before
    assert not client.ca_file().exists() and not client.certs_d.exists()
    assert not client.docker_config.exists()
    assert "Verification skipped" in check.result("check mode skips the check")["msg"]
    assert daemon.pid() == pid and not insecure(daemon, registry)

    # Apply.
    applied = assert_ok(client.run())
    assert sorted(applied.changed_tasks()) == sorted(check.changed_tasks()), "check mode flags exactly what the run changes"
    config = client.config()
    assert list(config) == ["log-level", "labels", "insecure-registries", "registry-mirrors"], "unmanaged keys and order kept"
    assert config["insecure-registries"] == [registry] and config["labels"] == ["dwr-test=1"]
    backup = applied.result(MERGE_TASK)["backup_file"]
    with open(backup, "rb") as handle:
        assert handle.read() == original, "the replaced file is kept as a backup"
    assert applied.result(RELOAD_TASK)["method"] == "signal"
    assert daemon.pid() == pid, "SIGHUP reload, not a restart"
    assert insecure(daemon, registry), daemon.registry_config()
    assert daemon.registry_config()["Mirrors"] == ["http://%s/" % registry]
    assert applied.result(VERIFY_TASK)["smoke_test"]["pushed"] is True
    assert client.ca_file().read_text().strip() == ca_pem.strip()
    assert "%s %s # dockerwin.registry registry_client %s" % (registry.split(":")[0], client.name, client.name) in \
        client.hosts_file.read_text().splitlines()
    stored = json.loads((client.docker_config / "config.json").read_text())
    assert registry in stored["auths"]
    # Positive: the same push the daemon refused now goes through, and the image comes back.
    pushed = push(daemon, hello_in_test_daemon, "%s/team/negative:1" % registry)
    assert pushed.returncode == 0, pushed.stderr
    daemon.docker("image", "pull", "%s/team/negative:1" % registry)
    daemon.docker("image", "rm", "%s/team/negative:1" % registry)

    # Idempotent re-run: nothing changes, no reload.
    again = assert_ok(client.run())
    assert again.changed == 0, again.changed_tasks()
    assert not any(RELOAD_TASK in name for name, dummy, dummy in again.tasks)
    assert client.config_bytes() == json.dumps(config, indent=2).encode() + b"\n"

    # absent: own entries only.
    check_absent = assert_ok(client.run(check=True, registry_client_state="absent"))
    assert check_absent.changed > 0 and insecure(daemon, registry) and client.ca_file().exists()
    removed = assert_ok(client.run(registry_client_state="absent"))
    assert removed.changed > 0
    assert client.config() == {"log-level": "info", "labels": ["dwr-test=1"], "insecure-registries": [], "registry-mirrors": []}
    assert not insecure(daemon, registry) and daemon.registry_config()["Mirrors"] == []
    assert not client.ca_file().exists()
    assert client.hosts_file.read_text() == hosts_before
    assert registry not in json.loads((client.docker_config / "config.json").read_text()).get("auths", {})
    refused_again = push(daemon, hello_in_test_daemon, "%s/team/negative:2" % registry)
    assert REFUSED in refused_again.stderr
    absent_again = assert_ok(client.run(registry_client_state="absent"))
    assert absent_again.changed == 0, absent_again.changed_tasks()
    assert daemon.pid() == pid


def test_config_the_engine_refuses_is_rolled_back_and_reported(tmp_path, test_dockerd, registry, ca_pem):
    daemon = test_dockerd
    client = Client(tmp_path, daemon, registry, ca_pem, "unused", registry_client_smoke_test=False,
                    registry_client_username="", registry_client_password="", registry_client_reload_timeout=5)
    # An operator's typo the running daemon has not read yet: the role keeps unmanaged keys, so the merged file
    # carries it and the daemon refuses the reload.
    broken = {"log-level": "info", "labels": ["dwr-test=1"], "dwr-no-such-option": True}
    with open(daemon.config, "w") as handle:
        json.dump(broken, handle, indent=2)
    before = client.config_bytes()
    pid = daemon.pid()

    failed = client.run()
    assert failed.failed
    message = failed.result(RELOAD_TASK)["msg"]
    assert "Docker did not take the new %s (signal)" % daemon.config in message
    assert "insecure registry %s not listed" % registry in message
    assert "dwr-no-such-option" in message, "the daemon's own error is reported"
    assert "was restored from" in message
    assert client.config_bytes() == before, "the previous file is back"
    assert daemon.pid() == pid and not insecure(daemon, registry), "the daemon runs on with its previous settings"


def test_bad_input_fails_before_anything_changes(tmp_path, test_dockerd, ca_pem):
    daemon = test_dockerd
    client = Client(tmp_path, daemon, "198.18.255.1:5000", ca_pem, "unused")
    before = client.config_bytes()
    run = client.run(registry_client_registry="http://registry.local:5000")
    assert run.failed
    assert "registry_client_registry=http://registry.local:5000: give the registry as host:port" in run.failure_message()
    assert client.config_bytes() == before and client.hosts_file.read_text().count("\n") == 2
    run = client.run(registry_client_registry="198.18.255.1:5000", registry_client_proxies={"http_proxy": "http://proxy:3128"})
    assert run.failed and "Docker 23.0" in run.failure_message() and "20.10" in run.failure_message()
    assert client.config_bytes() == before and not client.certs_d.joinpath("198.18.255.1:5000").exists()


def answers(port):
    """Whether the registry on 127.0.0.1:port answers /v2/ (test side)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/v2/" % port, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def started_at(daemon, name):
    return json.loads(daemon.docker("container", "inspect", name).stdout)[0]["State"]["StartedAt"]


def stored_auth(client):
    entry = json.loads((client.docker_config / "config.json").read_text())["auths"][client.registry]
    return base64.b64decode(entry["auth"]).decode()


def test_service_restart_waits_for_the_registry_container_and_service_reload_keeps_it(tmp_path, test_dockerd, registry_image):
    """The service and restart methods for real: ansible.builtin.service drives an init script of the test daemon (no
    systemd here; on systemd hosts the same module drives systemctl). A registry container with the role's label and
    restart policy runs on that daemon; the restart stops it, the role waits until it runs and answers again."""
    daemon = test_dockerd
    service = daemon.install_init_script()
    daemon.load_from_main(registry_image)
    port = free_port()
    name = "dwr-test-reg-%s" % daemon.id
    daemon.docker("container", "run", "--detach", "--name", name, "--restart", "unless-stopped",
                  "--label", "io.dockerwin.registry.managed=true", "--publish", "127.0.0.1:%d:5000" % port, registry_image)
    deadline = time.monotonic() + 30
    while not answers(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert answers(port)
    registry = "127.0.0.1:%d" % port  # login and insecure entry only: the point here is the reload
    client = Client(tmp_path, daemon, registry, "", "unused", registry_client_smoke_test=False, registry_client_hosts_names=[],
                    registry_client_hosts_address="", registry_client_registry_mirrors=[], registry_client_reload_method="restart",
                    registry_client_service_name=service, registry_client_reload_timeout=30)
    pid, started = daemon.pid(), started_at(daemon, name)

    check = assert_ok(client.run(check=True))
    assert check.result(RELOAD_TASK)["changed"] is True and "registries" not in check.result(RELOAD_TASK)
    assert daemon.pid() == pid and started_at(daemon, name) == started and "insecure-registries" not in client.config()

    applied = assert_ok(client.run())
    # Debian's dockerd 20.10 has no --validate: the role says so and relies on the reload's rollback (the refused-config
    # test below shows that rollback for real).
    has_validate = subprocess.run(["dockerd", "--validate", "--config-file", client.daemon.config], capture_output=True, check=False)
    assert applied.result(MERGE_TASK)["validation"] == ("valid (dockerd --validate)" if has_validate.returncode == 0 else
                                                        "skipped: this dockerd has no --validate (Docker 23+ has it)")
    reload = applied.result(RELOAD_TASK)
    assert reload["method"] == "restart" and reload["registries"] == [name]
    assert daemon.pid() != pid, "the service restart started a new dockerd"
    assert started_at(daemon, name) != started, "the registry container was stopped and brought back by its restart policy"
    assert answers(port), "the role went on only once the registry answered"
    assert registry in daemon.registry_config()["IndexConfigs"]
    assert stored_auth(client) == "ci:" + client.password

    again = assert_ok(client.run())
    assert again.changed == 0, again.changed_tasks()

    # service = `service <name> reload` (SIGHUP from the init script, systemctl reload on systemd): the same dockerd,
    # the container keeps running. A changed password logs in again (the stored auth differs).
    pid, started = daemon.pid(), started_at(daemon, name)
    old_password = client.password
    client.password = "pw-%s-new" % uuid.uuid4().hex
    mirror = "http://%s" % registry
    reloaded = assert_ok(client.run(registry_client_reload_method="service", registry_client_registry_mirrors=[mirror],
                                    registry_client_password=client.password))
    assert reloaded.result(RELOAD_TASK)["method"] == "service" and reloaded.result(RELOAD_TASK)["registries"] == [name]
    assert daemon.pid() == pid and started_at(daemon, name) == started
    assert daemon.registry_config()["Mirrors"] == [mirror + "/"]
    assert reloaded.result("Log the docker client in")["changed"] is True
    assert stored_auth(client) == "ci:" + client.password and old_password not in json.dumps(reloaded.data) + reloaded.stderr

    # A registry container that does not come back (restart policy no) fails the run, naming it.
    dead = name + "-norestart"
    daemon.docker("container", "run", "--detach", "--name", dead, "--restart", "no", "--network", "none",
                  "--label", "io.dockerwin.registry.managed=true", registry_image)
    failed = client.run(registry_client_insecure_registries=["198.18.255.9:5000"], registry_client_reload_method="restart",
                        registry_client_reload_timeout=8)
    assert failed.failed
    message = failed.result(RELOAD_TASK)["msg"]
    assert "the registry container %s (label io.dockerwin.registry.managed), which ran before, does not run" % dead in message
    assert "Its restart policy is no" in message and "docker logs %s" % dead in message
    deadline = time.monotonic() + 10
    while not answers(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert answers(port), "the other registry came back"
