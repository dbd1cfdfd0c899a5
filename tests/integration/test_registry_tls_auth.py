# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS and htpasswd on the Linux twin: windows_registry with windows_registry_tls / windows_registry_auth, and
registry_client trusting the CA it reads from the registry host, with a test-only dockerd as the client.

The registry is published on a non-loopback test address (Docker trusts any registry on 127.0.0.0/8 without TLS
checks), and reached by a name that the client role writes into this machine's /etc/hosts (the test dockerd
resolves through it), and its CA goes to /etc/docker/certs.d/<name>:<port> (dockerd reads no other folder); both
are removed afterwards. Every step is paired: check mode, apply, idempotent re-run,
and assertions on the real state (files and their modes on the host, the container, docker push/pull, the API).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

import playbook
from registry_process import make_tls_files
from test_dockerd import TestAddress, TestDockerd

SECRETS_TASK = "Keep the TLS certificate, htpasswd users and http.secret"
PLAN_TASK = "plan what community.crypto must mint"
# The role's community.crypto tasks (tasks/secrets_mint.yml), on the controller.
MINT_TASKS = ("Make the CA's private key", "Make the CA's signing request", "Self-sign the CA certificate",
              "Make the server's private key", "Make the server certificate's signing request",
              "Sign the server certificate with the registry's CA")
HOST_TASK = "Create the data and config folders"
CONTAINER_TASK = "Run the registry container "
HEALTH_TASK = "Wait for /v2/"
LOGIN_TASK = "Log the docker client in"
TRUST_TASK = "Trust the registry's CA"
X509_UNKNOWN = "x509: certificate signed by unknown authority"
SECRETS_LABEL = "io.dockerwin.registry.secrets-digest"
# dockerd reads CAs from /etc/docker/certs.d only: the test registry's own <name>:<port> folder there, removed after.
CERTS_D = Path("/etc/docker/certs.d")


def assert_ok(run):
    assert not run.failed, "%r\n%s" % (run, run.stderr[-3000:])
    return run


def minted(run):
    """Names of the community.crypto tasks that ran (not skipped) in a role run."""
    return [name for name in MINT_TASKS if not run.result(name).get("skipped")]


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def test_address():
    address = TestAddress()
    try:
        yield address.address
    finally:
        address.remove()


@pytest.fixture
def test_dockerd():
    daemon = TestDockerd(initial_config={"log-level": "info"})
    try:
        yield daemon.start()
    finally:
        daemon.stop()


@pytest.fixture
def hello_in_test_daemon(hello_image, test_dockerd):
    test_dockerd.load_from_main(hello_image)
    return hello_image


def users():
    return [{"name": "ci", "password": "ci-%s" % uuid.uuid4().hex}, {"name": "reader", "password": "rd-%s" % uuid.uuid4().hex}]


class Secure:
    """A registry with TLS + htpasswd on the test address, named <id>.dwr.test, and its on-host files."""

    def __init__(self, make_instance, address, **overrides):
        self.id = uuid.uuid4().hex[:8]
        self.name = "dwr-%s.test" % self.id
        self.users = users()
        values = {
            "windows_registry_bind_address": address,
            "windows_registry_tls": "self_signed",
            "windows_registry_tls_names": [self.name, address],
            "windows_registry_auth": "htpasswd",
            "windows_registry_users": self.users,
            "windows_registry_health_timeout": 60,
        }
        values.update(overrides)
        self.reg = make_instance(**values)
        self.address = address
        self.registry = "%s:%d" % (self.name, self.reg.port)
        self.ca_dir = Path(str(self.reg.config_dir) + "-ca")
        self.tls = self.reg.config_dir / "tls"
        self.auth = self.reg.config_dir / "auth"

    def ca(self, name):
        """Key of a CA folder file in files()."""
        return "%s/%s" % (self.ca_dir.name, name)

    def files(self):
        """Every secret file on the host, by name, as bytes (absent ones left out)."""
        found = {}
        for folder in (self.ca_dir, self.tls, self.auth):
            if folder.exists():
                for path in folder.iterdir():
                    found["%s/%s" % (folder.name, path.name)] = path.read_bytes()
        return found

    def config_text(self):
        cmd = self.reg.container()["Config"]["Cmd"][0]
        return (self.reg.config_dir / cmd.rsplit("/", 1)[1]).read_text()

    def server_cert(self):
        """The certificate the registry serves, fetched over TLS at the test address."""
        context = ssl.create_default_context(cafile=str(self.tls / "ca.crt"))
        with socket.create_connection((self.address, self.reg.port), timeout=10) as sock:
            with context.wrap_socket(sock, server_hostname=self.name) as tls:
                return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)), tls.version()


def secrets_in(text, values):
    """Which of values appear in text, plainly or base64-encoded at any of the three byte alignments."""
    found = []
    for value in values:
        raw = value.encode() if isinstance(value, str) else value
        forms = {raw}
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + raw).decode()
            # Drop the characters that depend on the padding bytes before and the bytes after the value.
            start = {0: 0, 1: 2, 2: 3}[shift]
            core = encoded[start:len(encoded) - 4]
            if len(core) >= 8:
                forms.add(core.encode())
        if any(form.decode("latin-1") in text for form in forms):
            found.append(value if len(value) < 80 else value[:40] + "...")
    return found


# -- clients ----------------------------------------------------------------------------------------------
def client_inventory(path, secure, daemon, tmp_path, **overrides):
    """One inventory: localhost is the registry host (registry_servers, the same vars as the deploy) and the
    client (registry_clients, the test dockerd), as playbooks/site.yml + clients.yml expect."""
    client = {
        "registry_client_registry": secure.registry,
        "registry_client_daemon_json": daemon.config,
        "registry_client_docker_host": daemon.host,
        "registry_client_docker_pidfile": daemon.pidfile,
        "registry_client_daemon_log": daemon.log,
        "registry_client_reload_timeout": 30,
        "registry_client_hosts_names": [secure.name],
        "registry_client_hosts_address": secure.address,
        "registry_client_docker_config": str(tmp_path / "docker-config"),
    }
    client.update(overrides)
    host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    data = {
        "registry_servers": {"hosts": {"localhost": dict(host, **secure.reg.vars)}},
        "registry_clients": {"hosts": {"localhost": dict(host, **client)}},
    }
    Path(path).write_text(yaml.safe_dump(data))
    return str(path)


def run_clients(inventory, check=False):
    return playbook.run_playbook("playbooks/clients.yml", inventory, check=check)


def push(daemon, source, ref):
    daemon.docker("image", "tag", source, ref)
    try:
        return daemon.docker("image", "push", ref, check=False)
    finally:
        daemon.docker("image", "rm", ref, check=False)


def remove_hosts_entry(name):
    lines = Path("/etc/hosts").read_text().splitlines(keepends=True)
    Path("/etc/hosts").write_text("".join(line for line in lines if name not in line))


def catalog_playbook(tmp_path, url, **options):
    book = tmp_path / ("catalog-%s.yml" % uuid.uuid4().hex[:6])
    task = {"name": "Catalog", "dockerwin.registry.registry_catalog_info": dict(url=url, **options), "ignore_errors": True}
    book.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    inventory = tmp_path / "catalog-inventory.yml"
    playbook.write_inventory(inventory, {}, group="all")
    return playbook.run_playbook(str(book), str(inventory)).result("Catalog")


# -- tests --------------------------------------------------------------------------------------------------
@pytest.mark.smoke
def test_self_signed_htpasswd_deploy_then_clients_push_and_pull_by_name(make_instance, test_address, test_dockerd,
                                                                          hello_in_test_daemon, tmp_path):
    secure = Secure(make_instance, test_address)
    reg = secure.reg

    check = assert_ok(reg.deploy(check=True))
    assert check.result(SECRETS_TASK)["changed"] is True
    # community.crypto mints on the controller in check mode too (it changes nothing); the host gets nothing.
    assert minted(check) == list(MINT_TASKS)
    assert sorted(check.result(PLAN_TASK)["mint"]) == ["ca", "server_cert", "server_key"]
    assert reg.container() is None and not secure.ca_dir.exists() and not reg.config_dir.exists(), "check mode wrote nothing"
    assert "Health check skipped" in check.result("check mode skips the health check")["msg"]

    applied = assert_ok(reg.deploy())
    assert sorted(applied.changed_tasks()) == sorted(check.changed_tasks())
    assert minted(applied) == list(MINT_TASKS) and applied.result(MINT_TASKS[0]).get("censored")
    made = applied.result(SECRETS_TASK)
    assert made["names"] == [secure.name, test_address] and made["users"] == ["ci", "reader"]
    assert made["users_added"] == ["ci", "reader"] and "CA: created" in made["reasons"]
    files = secure.files()
    assert sorted(files) == sorted(["auth/htpasswd", "auth/http.secret", secure.ca("ca.crt"), secure.ca("ca.key"),
                                    "tls/ca.crt", "tls/server.crt", "tls/server.key"])
    # Owner-only on the host; the CA key outside the folder the container mounts.
    for folder in (reg.config_dir, secure.ca_dir, secure.tls, secure.auth):
        assert mode(folder) == 0o700, folder
    for folder in (secure.ca_dir, secure.tls, secure.auth):
        for path in folder.iterdir():
            assert mode(path) == 0o600, path
    assert not any(path.name == "ca.key" for path in reg.config_dir.rglob("*"))
    config = yaml.safe_load(secure.config_text())
    assert config["http"]["tls"] == {"certificate": "/etc/docker/registry/tls/server.crt",
                                     "key": "/etc/docker/registry/tls/server.key", "minimumtls": "tls1.2"}
    assert config["auth"] == {"htpasswd": {"realm": "Registry", "path": "/etc/docker/registry/auth/htpasswd"}}
    assert config["http"]["secret"] == (secure.auth / "http.secret").read_text().strip()
    assert mode(reg.config_dir / reg.container()["Config"]["Cmd"][0].rsplit("/", 1)[1]) == 0o600
    hashes_ = dict(line.split(":", 1) for line in (secure.auth / "htpasswd").read_text().splitlines())
    assert sorted(hashes_) == ["ci", "reader"] and all(h.startswith("$2b$") for h in hashes_.values())
    # Nothing secret in the container's environment, labels or command.
    state = reg.container()
    visible = json.dumps([state["Config"]["Env"], state["Config"]["Labels"], state["Config"]["Cmd"], state["Args"]])
    assert not secrets_in(visible, [config["http"]["secret"], *[u["password"] for u in secure.users]])
    assert state["Config"]["Labels"][SECRETS_LABEL] == made["secrets_digest"]
    # The registry serves the CA's certificate for both names, TLS 1.2 or later; the health check used it.
    served, version = secure.server_cert()
    assert version in ("TLSv1.2", "TLSv1.3")
    assert served.fingerprint(hashes.SHA256()).hex(":").upper() == made["fingerprint_sha256"]
    assert applied.result(HEALTH_TASK)["repositories"] == []

    again = assert_ok(reg.deploy())
    assert again.changed == 0, again.changed_tasks()
    assert again.result(PLAN_TASK)["mint"] == {} and minted(again) == [], "nothing is minted again"
    assert secure.files() == files and reg.container()["Id"] == state["Id"]
    check_again = assert_ok(reg.deploy(check=True))
    assert check_again.changed == 0, check_again.changed_tasks()

    # Clients. The name comes from /etc/hosts (the client role's entry): removed whatever happens.
    inventory = str(tmp_path / "site.yml")
    try:
        # 1. Only the hosts name: the test daemon reaches the registry and refuses its certificate.
        client_inventory(inventory, secure, test_dockerd, tmp_path)
        assert_ok(run_clients(inventory))
        assert "%s %s" % (test_address, secure.name) in Path("/etc/hosts").read_text()
        refused = push(test_dockerd, hello_in_test_daemon, "%s/team/hello:1" % secure.registry)
        assert refused.returncode != 0 and X509_UNKNOWN in refused.stderr, refused.stderr

        # 2. The CA read from the registry host (a fresh controller has no copy): anonymous push refused.
        client_inventory(inventory, secure, test_dockerd, tmp_path, registry_client_ca_host="localhost")
        check_trust = assert_ok(run_clients(inventory, check=True))
        assert check_trust.result(TRUST_TASK)["changed"] is True
        assert not (CERTS_D / secure.registry / "ca.crt").exists()
        trusted = assert_ok(run_clients(inventory))
        assert trusted.result(TRUST_TASK)["changed"] is True
        assert (CERTS_D / secure.registry / "ca.crt").read_bytes() == files["tls/ca.crt"]
        anonymous = push(test_dockerd, hello_in_test_daemon, "%s/team/hello:1" % secure.registry)
        assert anonymous.returncode != 0 and "no basic auth credentials" in anonymous.stderr, anonymous.stderr
        assert assert_ok(run_clients(inventory)).changed == 0

        # 3. A wrong password: docker login fails and says why.
        client_inventory(inventory, secure, test_dockerd, tmp_path, registry_client_ca_host="localhost",
                         registry_client_username="ci", registry_client_password="wrong-%s" % uuid.uuid4().hex)
        wrong = run_clients(inventory)
        assert wrong.failed
        message = wrong.result(LOGIN_TASK)["msg"]
        assert "docker login %s as ci failed" % secure.registry in message and "401 Unauthorized" in message, message
        assert "wrong-" not in json.dumps(wrong.data) + wrong.stderr, "the wrong password is not printed either"
        wrong_cli = test_dockerd.docker("--config", str(tmp_path / "cli-config"), "login", "--username", "ci",
                                        "--password-stdin", secure.registry, input="wrong-password", check=False)
        assert wrong_cli.returncode != 0 and "401 Unauthorized" in wrong_cli.stderr, wrong_cli.stderr

        # 4. The right password: push and pull by name through TLS.
        client_inventory(inventory, secure, test_dockerd, tmp_path, registry_client_ca_host="localhost",
                         registry_client_username="ci", registry_client_password=secure.users[0]["password"])
        logged_in = assert_ok(run_clients(inventory))
        assert logged_in.result(LOGIN_TASK)["changed"] is True
        ref = "%s/team/hello:1" % secure.registry
        pushed = test_dockerd.docker("--config", str(tmp_path / "docker-config"), "image", "tag", hello_in_test_daemon, ref)
        pushed = test_dockerd.docker("--config", str(tmp_path / "docker-config"), "image", "push", ref, check=False)
        assert pushed.returncode == 0, pushed.stderr
        test_dockerd.docker("image", "rm", ref)
        pulled = test_dockerd.docker("--config", str(tmp_path / "docker-config"), "image", "pull", ref, check=False)
        assert pulled.returncode == 0, pulled.stderr
        assert assert_ok(run_clients(inventory)).changed == 0

        # registry_catalog_info: with the CA and a user it lists the push; without the CA it says why.
        ca_file = tmp_path / "ca.crt"
        ca_file.write_bytes(files["tls/ca.crt"])
        url = "https://" + secure.registry
        listed = catalog_playbook(tmp_path, url, ca_path=str(ca_file), url_username="reader",
                                  url_password=secure.users[1]["password"])
        assert listed.get("failed") is not True, listed
        assert listed["repositories"] == ["team/hello"]
        no_ca = catalog_playbook(tmp_path, url, url_username="reader", url_password=secure.users[1]["password"])
        assert no_ca["failed"] is True and "signed by an authority this host does not trust" in no_ca["msg"], no_ca["msg"]
        wrong_name = catalog_playbook(tmp_path, "https://wrong-%s.test:%d" % (secure.id, reg.port), ca_path=str(ca_file),
                                      connect_address="%s:%d" % (test_address, reg.port), url_username="reader",
                                      url_password=secure.users[1]["password"])
        assert wrong_name["failed"] is True and "not valid for the host name" in wrong_name["msg"], wrong_name["msg"]
        assert wrong_name["msg"] != no_ca["msg"]
        unauthorized = catalog_playbook(tmp_path, url, ca_path=str(ca_file), url_username="reader", url_password="nope-1")
        assert unauthorized["failed"] is True and "rejected" in unauthorized["msg"], unauthorized["msg"]
        anonymous_api = catalog_playbook(tmp_path, url, ca_path=str(ca_file))
        assert anonymous_api["failed"] is True and "credentials" in anonymous_api["msg"], anonymous_api["msg"]
        assert len({no_ca["msg"], wrong_name["msg"], unauthorized["msg"], anonymous_api["msg"]}) == 4

        # A controller that starts empty (new HOME, no ~/.ansible, a copy of the inventory elsewhere) re-mints
        # nothing: same CA, server key and http.secret, changed=0, and the client still trusts the registry.
        fresh_home = tmp_path / "fresh-home"
        fresh_home.mkdir()
        fresh_inventory = fresh_home / "inventory.yml"
        shutil.copy(reg.inventory, fresh_inventory)
        fresh = assert_ok(playbook.run_playbook("playbooks/site.yml", str(fresh_inventory), env={
            "HOME": str(fresh_home), "ANSIBLE_LOCAL_TEMP": str(fresh_home / "tmp"), "ANSIBLE_HOME": str(fresh_home / ".ansible")}))
        assert fresh.changed == 0, fresh.changed_tasks()
        assert minted(fresh) == []
        assert secure.files() == files
        assert reg.container()["Id"] == state["Id"]
        again_push = test_dockerd.docker("--config", str(tmp_path / "docker-config"), "image", "push", ref, check=False)
        assert again_push.returncode == 0, again_push.stderr

        # Back out: absent removes the hosts entry, the CA file and the login.
        client_inventory(inventory, secure, test_dockerd, tmp_path, registry_client_ca_host="localhost",
                         registry_client_username="ci", registry_client_password=secure.users[0]["password"],
                         registry_client_state="absent")
        assert_ok(run_clients(inventory))
        assert secure.name not in Path("/etc/hosts").read_text()
        assert not (CERTS_D / secure.registry / "ca.crt").exists()
    finally:
        remove_hosts_entry(secure.name)
        shutil.rmtree(CERTS_D / secure.registry, ignore_errors=True)


def test_users_change_remove_and_keep_their_hashes(make_instance, test_address, tmp_path):
    secure = Secure(make_instance, test_address)
    reg = secure.reg
    assert_ok(reg.deploy())
    before = dict(line.split(":", 1) for line in (secure.auth / "htpasswd").read_text().splitlines())
    digest = reg.container()["Config"]["Labels"][SECRETS_LABEL]

    # The same passwords: the hashes stay (bcrypt salts would change them if they were made again).
    assert assert_ok(reg.deploy()).changed == 0
    # A changed password for ci, reader removed, a new user added.
    new_users = [{"name": "ci", "password": "ci2-%s" % uuid.uuid4().hex}, {"name": "pusher", "password": "pu-%s" % uuid.uuid4().hex}]
    reg.write(windows_registry_users=new_users)
    check = assert_ok(reg.deploy(check=True))
    assert check.result(SECRETS_TASK)["users_changed"] == ["ci"]
    assert dict(line.split(":", 1) for line in (secure.auth / "htpasswd").read_text().splitlines()) == before
    applied = assert_ok(reg.deploy())
    made = applied.result(SECRETS_TASK)
    assert (made["users_added"], made["users_changed"], made["users_removed"]) == (["pusher"], ["ci"], ["reader"])
    after = dict(line.split(":", 1) for line in (secure.auth / "htpasswd").read_text().splitlines())
    assert sorted(after) == ["ci", "pusher"] and after["ci"] != before["ci"]
    assert reg.container()["Config"]["Labels"][SECRETS_LABEL] != digest, "a new user list recreates the container"
    assert assert_ok(reg.deploy()).changed == 0
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes((secure.tls / "ca.crt").read_bytes())
    url = "https://%s:%d" % (test_address, reg.port)
    old = catalog_playbook(tmp_path, url, ca_path=str(ca_file), url_username="reader", url_password=secure.users[1]["password"])
    assert old["failed"] is True and "rejected" in old["msg"]
    new = catalog_playbook(tmp_path, url, ca_path=str(ca_file), url_username="ci", url_password=new_users[0]["password"])
    assert new.get("failed") is not True, new


def _forge_server_cert(secure, days_left):
    """Re-sign the host's server certificate with the host's CA so it expires in days_left days (time passing)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    ca_key = load_pem_private_key((secure.ca_dir / "ca.key").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((secure.ca_dir / "ca.crt").read_bytes())
    old = x509.load_pem_x509_certificate((secure.tls / "server.crt").read_bytes())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = x509.CertificateBuilder().subject_name(old.subject).issuer_name(ca_cert.subject).public_key(
        old.public_key()).serial_number(x509.random_serial_number()).not_valid_before(
        now - datetime.timedelta(days=400)).not_valid_after(now + datetime.timedelta(days=days_left))
    for ext in old.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    (secure.tls / "server.crt").write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    subprocess.run(["docker", "container", "restart", secure.reg.name], check=True, capture_output=True)


def test_expired_message_then_renewal_keeps_ca_key_and_data(make_instance, test_address, hello_image, tmp_path):
    secure = Secure(make_instance, test_address, windows_registry_auth="none", windows_registry_users=[])
    reg = secure.reg
    assert_ok(reg.deploy())
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes((secure.tls / "ca.crt").read_bytes())
    # Data the renewal must keep (the registry's own data is pushed in the other tests): a marker in the data folder.
    marker = reg.data_dir / "docker" / "keep-me"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("data stays\n")
    kept = {name: secure.files()[name] for name in (secure.ca("ca.key"), secure.ca("ca.crt"), "tls/server.key", "auth/http.secret")}
    url = "https://%s:%d" % (secure.name, reg.port)
    connect = "%s:%d" % (test_address, reg.port)

    # An expired certificate: the API module says so (distinct from unknown CA or wrong name).
    _forge_server_cert(secure, days_left=-1)
    expired = catalog_playbook(tmp_path, url, ca_path=str(ca_file), connect_address=connect)
    assert expired["failed"] is True and "the certificate has expired" in expired["msg"], expired["msg"]

    # Near expiry (5 days < renew_days 30): the role issues a new one from the same CA, recreates the container.
    _forge_server_cert(secure, days_left=5)
    near = (secure.tls / "server.crt").read_bytes()
    before = reg.container()
    check = assert_ok(reg.deploy(check=True))
    assert any("within 30 days" in r for r in check.result(SECRETS_TASK)["reasons"])
    assert reg.container()["Id"] == before["Id"] and (secure.tls / "server.crt").read_bytes() == near
    renewed = assert_ok(reg.deploy())
    reasons = renewed.result(SECRETS_TASK)["reasons"]
    assert any("renewed" in r for r in reasons) and not any("CA" in r for r in reasons), reasons
    # Only the certificate is signed again, by the CA kept on the host: the plan handed its key over, censored.
    assert minted(renewed) == ["Make the server certificate's signing request", "Sign the server certificate with the registry's CA"]
    assert renewed.result(PLAN_TASK).get("censored") and "mint" not in renewed.result(PLAN_TASK)
    assert renewed.result(CONTAINER_TASK)["changed"] is True and reg.container()["Id"] != before["Id"]
    files = secure.files()
    assert {name: files[name] for name in kept} == kept, "CA, server key and http.secret stay"
    served, dummy = secure.server_cert()
    assert served.not_valid_after_utc > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=300)
    assert marker.read_text() == "data stays\n"
    listed = catalog_playbook(tmp_path, url, ca_path=str(ca_file), connect_address=connect)
    assert listed.get("failed") is not True, listed
    assert assert_ok(reg.deploy()).changed == 0

    # A name added: re-issued by the same CA for the new name set.
    reg.write(windows_registry_tls_names=[secure.name, test_address, "alias-%s.test" % secure.id])
    named = assert_ok(reg.deploy())
    assert any("names" in r for r in named.result(SECRETS_TASK)["reasons"])
    assert "alias-%s.test" % secure.id in named.result(SECRETS_TASK)["names"]
    assert secure.files()["tls/ca.crt"] == files["tls/ca.crt"]
    assert assert_ok(reg.deploy()).changed == 0


def test_provided_certificate_from_trustme(make_instance, test_address, tmp_path):
    name = "registry-%s.test" % uuid.uuid4().hex[:6]
    ca_path, chain_path, key_path = make_tls_files(tmp_path / "pki", name, test_address)
    reg = make_instance(windows_registry_bind_address=test_address, windows_registry_tls="provided",
                        windows_registry_tls_names=[name, test_address],
                        windows_registry_tls_certificate=chain_path.read_text(),
                        windows_registry_tls_key_src=str(key_path), windows_registry_tls_ca_src=str(ca_path),
                        windows_registry_health_timeout=60)
    check = assert_ok(reg.deploy(check=True))
    assert check.result(SECRETS_TASK)["changed"] is True and reg.container() is None
    applied = assert_ok(reg.deploy())
    tls = reg.config_dir / "tls"
    assert (tls / "ca.crt").read_bytes().strip() == ca_path.read_bytes().strip()
    assert (tls / "server.key").read_bytes().strip() == key_path.read_bytes().strip()
    assert mode(tls / "server.key") == 0o600
    assert not Path(str(reg.config_dir) + "-ca").exists(), "no CA of our own for provided certificates"
    assert applied.result(HEALTH_TASK)["repositories"] == []
    context = ssl.create_default_context(cafile=str(ca_path))
    with socket.create_connection((test_address, reg.port), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname=name) as conn:
            served = x509.load_der_x509_certificate(conn.getpeercert(binary_form=True))
    assert served.public_bytes(serialization.Encoding.PEM) in chain_path.read_bytes()
    again = assert_ok(reg.deploy())
    assert again.changed == 0, again.changed_tasks()

    # A key that does not belong to the certificate is refused before anything changes.
    dummy, dummy, other_key = make_tls_files(tmp_path / "other", name)
    reg.write(windows_registry_tls_key_src=str(other_key))
    refused = reg.deploy()
    assert refused.failed and "does not belong to windows_registry_tls_certificate" in refused.failure_message()
    assert (tls / "server.key").read_bytes().strip() == key_path.read_bytes().strip()


def test_vvv_output_holds_no_secret(make_instance, test_address, tmp_path):
    """Deploy from scratch, change a password, re-run: every byte ansible-playbook prints at -vvv, with --diff,
    through the default and the JSON callbacks, holds no password, key, hash or secret, plainly or in base64."""
    secure = Secure(make_instance, test_address)
    reg = secure.reg
    outputs = []

    def run(callback, **kwargs):
        proc = subprocess.run(
            [str(playbook.ANSIBLE_PLAYBOOK), "-vvv", "--diff", "-i", reg.inventory, str(playbook.REPO / "playbooks/site.yml")],
            cwd=playbook.REPO, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
            env=dict(os.environ, ANSIBLE_CONFIG=str(playbook.REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK=callback,
                     ANSIBLE_NOCOLOR="1"))
        outputs.append(proc.stdout + proc.stderr)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        return proc.stdout

    run("default")
    first = secure.files()
    passwords = [u["password"] for u in secure.users]
    changed = [dict(secure.users[0], password="changed-%s" % uuid.uuid4().hex), secure.users[1]]
    passwords.append(changed[0]["password"])
    # A new name too: the plan step hands the kept CA and server keys to community.crypto to sign again.
    reg.write(windows_registry_users=changed, windows_registry_tls_names=[secure.name, test_address, "alias-%s.test" % secure.id])
    printed = run("ansible.posix.json")  # -vvv lines first, then the callback's JSON document
    resigned = json.JSONDecoder().raw_decode(printed[printed.index('{\n    "custom_stats"'):])[0]
    plan_results = [host for play in resigned["plays"] for task in play["tasks"] if PLAN_TASK in task["task"]["name"]
                    for host in task["hosts"].values()]
    assert plan_results and all(result.get("censored") for result in plan_results), plan_results
    run("default")
    text = "\n".join(outputs)
    assert "VALUE_REDACTED" in text, "the config diff is shown, redacted"
    assert "dockerwin.registry.registry_secrets" in text or SECRETS_TASK in text
    files = secure.files()
    values = list(passwords)
    for name in (secure.ca("ca.key"), "tls/server.key"):
        body = b"".join(line for line in files[name].splitlines() if not line.startswith(b"-----"))
        values += [body.decode(), base64.b64decode(body)]
    values.append(files["auth/http.secret"].decode().strip())
    for hashed in [line.split(b":", 1)[1] for line in first["auth/htpasswd"].splitlines() + files["auth/htpasswd"].splitlines()]:
        values.append(hashed.decode())
    leaked = secrets_in(text, values)
    assert not leaked, "secrets in the -vvv output: %s" % leaked

