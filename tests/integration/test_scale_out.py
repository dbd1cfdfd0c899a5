# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale-out on the Linux twin: two replicas of the role (two inventory hosts on this machine, each its own
container, port and config folder) on one shared store, with one http.secret, and the role's HAProxy balancer in
front (a container on the host network, from Debian's haproxy binary). One deployment for the module; the tests
run in file order.

Shared store: an S3 bucket on a real S3 API server (moto's server mode, tests/support/s3_server.py, on the Docker
bridge gateway so that the containers reach it). The Swarm test uses one host folder (a valid shared store for the
replicas of a single node). Registry and balancer ports on 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from conftest import container, free_port
import haproxy_image
from test_dockerd import TestDockerd
import images
import playbook
from registry_api import RegistryAPI, RegistryAPIError
from s3_server import ACCESS_KEY, SECRET_KEY, s3_server  # noqa: F401  (module-scoped fixture)

REPLICAS = 2  # two or three replicas prove the same; two keep the module within its runtime budget
LB_TASK = "Run the balancer container "
COMPARE_TASK = "Compare every replica with the balanced name"
ACCEPT = ", ".join(["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"])


def docker(*args, check=True):
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True)


def assert_ok(run):
    assert not run.failed, "%r\n%s" % (run, run.stderr[-3000:])
    return run


def manifest_digest(base, repository, reference):
    request = urllib.request.Request("%s/v2/%s/manifests/%s" % (base, repository, reference), headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
        return response.headers["Docker-Content-Digest"]


class ReplicaSet:
    """Two replicas (inventory hosts r1, r2, all local) and the balancer on r2; r1, the group's first host, also
    compares the replicas through the balancer's URL as windows_registry_balanced_url (a balancer it does not run)."""

    def __init__(self, root, registry_image, lb_image, storage_vars):
        self.id = uuid.uuid4().hex[:8]
        self.root = root
        self.data_dir = root / "shared-data"
        self.ports = [free_port() for dummy in range(REPLICAS)]
        self.lb_port = free_port()
        self.names = ["dwr-test-%s-r%d" % (self.id, i + 1) for i in range(REPLICAS)]
        self.lb_name = "dwr-test-%s-lb" % self.id
        hosts = {}
        for i, (name, port) in enumerate(zip(self.names, self.ports)):
            hosts["r%d" % (i + 1)] = {
                "ansible_connection": "local",
                "ansible_host": "127.0.0.1",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "windows_registry_container_name": name,
                "windows_registry_port": port,
                "windows_registry_config_dir": str(root / ("r%d-config" % (i + 1))),
            }
        hosts["r2"].update(windows_registry_lb="haproxy", windows_registry_lb_port=self.lb_port,
                           windows_registry_lb_bind_address="127.0.0.1", windows_registry_lb_image=lb_image,
                           windows_registry_lb_container_name=self.lb_name)
        group_vars = {
            "windows_registry_replicas_group": "registry_servers",
            "windows_registry_bind_address": "127.0.0.1",
            "windows_registry_data_dir": str(self.data_dir),
            "windows_registry_image_source": "pull",
            "windows_registry_image": registry_image,
            "windows_registry_version": "2.8.2",
            "windows_registry_health_timeout": 30,
        }
        group_vars.update(storage_vars, windows_registry_balanced_url="http://127.0.0.1:%d" % self.lb_port)
        self.inventory = str(root / "replicas.yml")
        with open(self.inventory, "w") as handle:
            yaml.safe_dump({"registry_servers": {"hosts": hosts, "vars": group_vars}}, handle)

    @property
    def lb(self):
        return "127.0.0.1:%d" % self.lb_port

    def urls(self):
        return ["http://127.0.0.1:%d" % port for port in self.ports]

    def deploy(self, check=False):
        return playbook.run_playbook("playbooks/site.yml", self.inventory, check=check)

    def cleanup(self):
        docker("container", "rm", "--force", self.lb_name, *self.names, *[n + "-previous" for n in self.names], check=False)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, registry_image, s3_server):  # noqa: F811
    lb_image = haproxy_image.haproxy_image()
    bucket = s3_server.create_bucket()
    storage = {
        "windows_registry_storage": "s3", "windows_registry_storage_s3_bucket": bucket,
        "windows_registry_storage_s3_regionendpoint": s3_server.url, "windows_registry_storage_s3_secure": False,
        "windows_registry_storage_s3_accesskey": ACCESS_KEY, "windows_registry_storage_s3_secretkey": SECRET_KEY,
        "windows_registry_storage_s3_rootdirectory": "/replicas",
    }
    reps = ReplicaSet(tmp_path_factory.mktemp("replicas"), registry_image, lb_image, storage)
    reps.s3, reps.bucket = s3_server, bucket
    check = reps.deploy(check=True)
    reps.after_check = [container(name) for name in reps.names + [reps.lb_name]]
    applied = reps.deploy()
    reps.runs = (check, applied)
    if applied.failed:
        reps.cleanup()
        pytest.fail("the replicas did not deploy: %r\n%s" % (applied, applied.stderr[-2000:]))
    yield reps
    reps.cleanup()


def test_replicas_share_secret_and_balancer_checks_them(replicas):
    check, applied = replicas.runs
    assert_ok(check)
    assert replicas.after_check == [None] * (REPLICAS + 1), "check mode must not create containers"
    assert_ok(applied)
    assert sorted(n.split(" : ")[-1] for n in check.changed_tasks() if LB_TASK in n) == \
        sorted(n.split(" : ")[-1] for n in applied.changed_tasks() if LB_TASK in n) == [LB_TASK + replicas.lb_name]

    # One http.secret on every replica, in the owner-only config each container reads; never in the output.
    secrets = set()
    for i in range(REPLICAS):
        config_dir = replicas.root / ("r%d-config" % (i + 1))
        files = list(config_dir.glob("config-*.yml"))
        assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == "0o600"
        config = yaml.safe_load(files[0].read_text())
        secrets.add(config["http"]["secret"])
        assert config["http"]["draintimeout"] == "8s"
        assert config["storage"]["s3"]["bucket"] == replicas.bucket and "filesystem" not in config["storage"]
        assert (config_dir / "auth" / "http.secret").read_text().strip() == config["http"]["secret"]
    assert len(secrets) == 1 and len(next(iter(secrets))) >= 32
    secret = next(iter(secrets))
    for run in (check, applied):
        assert secret not in json.dumps(run.data) and secret not in run.stderr

    lb = container(replicas.lb_name)
    assert lb["HostConfig"]["NetworkMode"] == "host" and lb["State"]["Running"] is True
    cfg = (replicas.root / "shared-data-lb" / "haproxy.cfg").read_text()
    for port in replicas.ports:
        assert "127.0.0.1:%d check" % port in cfg
    assert "bind 127.0.0.1:%d" % replicas.lb_port in cfg
    assert sorted(host for name, host, result in applied.tasks if COMPARE_TASK in name and not result.get("skipped")) == \
        ["r1", "r2"], "the balancer's host and the group's first host (windows_registry_balanced_url) compare"
    compared = applied.result(COMPARE_TASK)
    assert compared["consistent"] is True and [e["name"] for e in compared["endpoints"]] == \
        ["balanced"] + ["127.0.0.1:%d" % p for p in replicas.ports]

    again = assert_ok(replicas.deploy())
    assert again.changed == 0, again.changed_tasks()
    assert container(replicas.lb_name)["Id"] == lb["Id"]


def test_push_through_balancer_pull_from_every_replica(replicas, hello_image):
    ref = "%s/team/scale:1" % replicas.lb
    docker("image", "tag", hello_image, ref)
    pushed = docker("image", "push", ref, check=False)
    assert pushed.returncode == 0, pushed.stderr
    digest = manifest_digest("http://" + replicas.lb, "team/scale", "1")
    assert replicas.s3.blob_digests(replicas.bucket, "/replicas"), "the blobs are in the shared bucket"
    for url in replicas.urls():
        assert manifest_digest(url, "team/scale", "1") == digest
    for port in replicas.ports:
        replica_ref = "127.0.0.1:%d/team/scale@%s" % (port, digest)
        pulled = docker("image", "pull", replica_ref, check=False)
        assert pulled.returncode == 0, pulled.stderr
        assert images.image_id(replica_ref) == images.image_id(hello_image)
        docker("image", "rm", replica_ref, check=False)


def test_replica_stopped_during_pushes_and_pulls_loses_nothing(replicas):
    """Pushes (a new image each: upload session, two blobs, manifest) and pulls by digest through the balancer in
    two threads while replica r2 stops. The documented client retry: one more try of a failed operation after 1 s
    (docker push/pull retry more). Every digest pushed pulls from the balancer and the replicas afterwards."""
    api = RegistryAPI("http://" + replicas.lb)
    pushed, failures, retried = {}, [], []
    stop = threading.Event()

    def with_retry(what, call):
        try:
            return call()
        except (RegistryAPIError, OSError) as first:
            retried.append("%s: %s" % (what, first))
            time.sleep(1)
            try:
                return call()
            except (RegistryAPIError, OSError) as second:
                failures.append("%s: %s" % (what, second))
                return None

    def pusher():
        i = 0
        while not stop.is_set():
            repository = "load/img%03d" % i
            digest = with_retry("push " + repository, lambda: api.push_image(repository, "1", content=b"%d\n" % i))
            if digest:
                pushed[repository] = digest
            i += 1

    def puller():
        while not stop.is_set():
            for repository, digest in list(pushed.items())[-5:]:
                with_retry("pull " + repository, lambda: manifest_digest("http://" + replicas.lb, repository, digest))

    threads = [threading.Thread(target=pusher), threading.Thread(target=puller)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        docker("container", "stop", replicas.names[1])
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    try:
        assert len(pushed) >= 10, "too few pushes to prove anything: %d" % len(pushed)
        assert not failures, "client operations failed after the retry: %s (retried: %s)" % (failures, retried)
        live = [url for port, url in zip(replicas.ports, replicas.urls()) if port != replicas.ports[1]]
        for repository, digest in pushed.items():
            for base in ["http://" + replicas.lb] + live:
                assert manifest_digest(base, repository, "1") == digest, (base, repository)
    finally:
        docker("container", "start", replicas.names[1])
    print("pushes: %d, retried operations: %d %s" % (len(pushed), len(retried), retried[:3]))


def test_replicas_info_reports_a_replica_that_disagrees(replicas, registry_image, tmp_path):
    """A registry on its own (empty) storage, compared as if it were a replica: reported, and refused with
    fail_on_disagreement."""
    name, port = "dwr-test-%s-stray" % replicas.id, free_port()
    docker("container", "run", "--detach", "--name", name, "--publish", "127.0.0.1:%d:5000" % port, registry_image)
    try:
        argv = [str(playbook.ANSIBLE_PLAYBOOK).replace("ansible-playbook", "ansible"), "localhost", "-m",
                "dockerwin.registry.registry_replicas_info", "-a", json.dumps({
                    "url": "http://" + replicas.lb, "replicas": ["127.0.0.1:%d" % replicas.ports[0], "127.0.0.1:%d" % port],
                    "wait_timeout": 10, "fail_on_disagreement": True})]
        proc = subprocess.run(argv, cwd=playbook.REPO, capture_output=True, text=True, timeout=120,
                              env=dict(__import__("os").environ, ANSIBLE_CONFIG=str(playbook.REPO / "ansible.cfg"),
                                       ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"))
        assert proc.returncode != 0
        result = json.loads(proc.stdout[proc.stdout.index("{"):])["plays"][0]["tasks"][0]["hosts"]["localhost"]
        assert result["failed"] and result["consistent"] is False
        assert "the replicas of http://%s disagree" % replicas.lb in result["msg"]
        stray = "127.0.0.1:%d" % port
        assert result["disagreements"] and all(d["digests"][stray] is None for d in result["disagreements"])
        assert all(d["digests"]["127.0.0.1:%d" % replicas.ports[0]] == d["digests"]["balanced"] for d in result["disagreements"])
        assert {e["name"]: e["reachable"] for e in result["endpoints"]} == {"balanced": True, "127.0.0.1:%d" % replicas.ports[0]: True, stray: True}
    finally:
        docker("container", "rm", "--force", name, check=False)


# -- Docker Swarm: a single-node swarm on a test-only dockerd (never on the machine's own daemon) ------------------
SERVICE_TASK = "Run the registry as a Swarm service "


@pytest.fixture(scope="module")
def swarm_daemon(registry_image):
    """A test dockerd with a swarm of its own. `ip: 127.0.0.1` makes it publish host-mode ports on loopback only;
    its bridge is a /28 (the default test bridge, a /30, has one container address, too few for two replicas)."""
    daemon = TestDockerd({"ip": "127.0.0.1"})
    third, fourth = daemon.bridge_cidr.split(".")[2], int(daemon.bridge_cidr.split(".")[3].split("/")[0]) // 16 * 16
    daemon.bridge_cidr = "198.18.%s.%d/28" % (third, fourth + 1)
    daemon.start()
    try:
        # Its own manager port on loopback: the default 0.0.0.0:2377 collides with any other swarm on this machine.
        daemon.docker("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:%d" % free_port())
        daemon.load_from_main(registry_image)
        yield daemon
    finally:
        daemon.docker("swarm", "leave", "--force", check=False)
        daemon.stop()
        # The swarm's gateway bridge is made by that daemon in this machine's network namespace.
        subprocess.run(["ip", "link", "del", "docker_gwbridge"], capture_output=True)


def test_swarm_service_two_replicas_host_mode(swarm_daemon, registry_image, tmp_path):
    name = "dwr-test-%s-svc" % uuid.uuid4().hex[:8]
    host_vars = {
        "windows_registry_mode": "swarm",
        "windows_registry_docker_host": swarm_daemon.host,
        "windows_registry_swarm_replicas": 2,
        "windows_registry_swarm_dynamic_ports": True,
        "windows_registry_container_name": name,
        "windows_registry_data_dir": str(tmp_path / "data"),
        "windows_registry_image_source": "pull",
        "windows_registry_image": registry_image,
        "windows_registry_version": "2.8.2",
        "windows_registry_health_timeout": 30,
        "windows_registry_swarm_timeout": 90,
    }
    inventory = playbook.write_inventory(tmp_path / "swarm.yml", host_vars)
    check = assert_ok(playbook.run_playbook("playbooks/site.yml", inventory, check=True))
    assert any(SERVICE_TASK in n for n in check.changed_tasks())
    assert swarm_daemon.docker("service", "inspect", name, check=False).returncode != 0, "check mode must not create the service"

    applied = assert_ok(playbook.run_playbook("playbooks/site.yml", inventory))
    assert sorted(applied.changed_tasks()) == sorted(check.changed_tasks())
    endpoints = applied.result(SERVICE_TASK)["endpoints"]
    assert len(endpoints) == 2 and len(set(endpoints)) == 2 and all(e.startswith("127.0.0.1:") for e in endpoints), endpoints
    service = json.loads(swarm_daemon.docker("service", "inspect", name).stdout)[0]
    assert [(p["PublishMode"], p["TargetPort"]) for p in service["Spec"]["EndpointSpec"]["Ports"]] == [("host", 5000)]
    assert not (service.get("Endpoint") or {}).get("VirtualIPs"), "host mode: no ingress routing mesh address"
    assert service["Spec"]["Mode"]["Replicated"]["Replicas"] == 2
    compared = applied.result(COMPARE_TASK)
    assert compared["consistent"] is True and len(compared["endpoints"]) == 3

    # Pushed to one replica, served by the other (same store, same secret).
    first, second = ["http://" + e for e in endpoints]
    digest = RegistryAPI(first).push_image("swarm/hello", "1")
    assert manifest_digest(second, "swarm/hello", "1") == digest
    with urllib.request.urlopen("%s/v2/swarm/hello/manifests/%s" % (second, digest), timeout=10) as response:
        assert response.status == 200

    again = assert_ok(playbook.run_playbook("playbooks/site.yml", inventory))
    assert again.changed == 0, again.changed_tasks()
    assert sorted(again.result(SERVICE_TASK)["endpoints"]) == sorted(endpoints)
    assert json.loads(swarm_daemon.docker("service", "inspect", name).stdout)[0]["Version"] == service["Version"]
    swarm_daemon.docker("service", "rm", name, check=False)


def test_garbage_collect_refuses_a_run_without_every_replica(replicas):
    """A shared store is collected only with every replica read-only: a run limited to one replica stops before
    anything changes."""
    argv = [str(playbook.ANSIBLE_PLAYBOOK), "-i", replicas.inventory, str(playbook.REPO / "playbooks/garbage_collect.yml"),
            "--limit", "r2"]
    env = dict(__import__("os").environ, ANSIBLE_CONFIG=str(playbook.REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    before = container(replicas.names[1])["Id"]
    run = playbook.Run(argv, subprocess.run(argv, cwd=playbook.REPO, env=env, capture_output=True, text=True, timeout=300))
    assert run.failed
    message = run.result("Refuse to collect a shared store")["msg"]
    assert "r1 are not in this run" in message and "Run it on the whole group" in message, message
    assert container(replicas.names[1])["Id"] == before, "nothing changed"


# -- the shared Redis blob-descriptor cache, as the role renders it (v2 dialect), with Debian's redis-server --------
@pytest.mark.skipif(not shutil.which("redis-server"), reason="Debian's redis-server is not installed (tests/support/ensure_docker.sh)")
def test_redis_cache_section_is_used_by_two_registries_on_one_store(tmp_path):
    """Two registry processes (Debian's 2.8 binary) on one store with the redis section of registry_config: a push to
    one is served by the other, and both keep blob descriptors in the one Redis."""
    import sys
    sys.path.insert(0, str(playbook.REPO / ".collections"))  # the installed collection, as the playbooks use it
    from ansible_collections.dockerwin.registry.plugins.plugin_utils import _config
    from registry_process import RegistryProcess

    port = free_port()
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                              "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        for dummy in range(50):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        section = _config.redis_cache_section(2, "127.0.0.1:%d" % port)
        section["storage"]["filesystem"] = {"rootdirectory": str(tmp_path / "shared")}
        with RegistryProcess(tmp_path / "a", config=section) as first, RegistryProcess(tmp_path / "b", config=section) as second:
            digest = RegistryAPI(first.url).push_image("cache/hello", "1")
            assert manifest_digest(second.url, "cache/hello", "1") == digest
            keys = subprocess.run(["redis-cli", "-p", str(port), "--scan", "--pattern", "*"], capture_output=True, text=True).stdout.split()
            assert any(k.startswith("blobs::sha256:") for k in keys), keys
            assert any(k.startswith("repository::cache/hello::blobs") for k in keys), keys
    finally:
        redis.terminate()
        redis.wait(10)


def test_garbage_collect_on_the_group_every_replica_read_only_first_one_collection(replicas):
    """garbage_collect.yml (dry run) on the whole group: both replicas go read-only before the one collection (on the
    group's first host, r1), then both are back in normal mode and pushes through the balancer work again.
    (An image is pushed first: distribution's garbage-collect fails on an S3 store that holds no repository yet.)"""
    RegistryAPI("http://" + replicas.lb).push_image("before/gc", "1")
    run = assert_ok(playbook.run_playbook("playbooks/garbage_collect.yml", replicas.inventory, extra_vars={"registry_gc_dry_run": True}))
    names = [name for name, host, result in run.tasks]
    gc = [(host, result) for name, host, result in run.tasks if "Run registry garbage-collect" in name]
    assert [host for host, result in gc if not result.get("skipped")] == ["r1"] and len(gc) == 2, gc
    first_gc = names.index(next(name for name in names if "Run registry garbage-collect" in name))
    read_only = [(name, host) for name, host, result in run.tasks[:first_gc] if "Run the registry container" in name and result.get("changed")]
    assert sorted(host for name, host in read_only) == ["r1", "r2"], "both replicas recreated read-only before the collection"
    assert gc[0][1]["blobs_marked"] > 0
    for i in range(REPLICAS):
        config = next((replicas.root / ("r%d-config" % (i + 1))).glob("config-*.yml")).read_text()
        assert "readonly" not in config, "normal mode again"
    assert RegistryAPI("http://" + replicas.lb).push_image("after/gc", "1")


# -- Windows: the role runs no balancer there (the simulated Windows host of test_windows_simulated.py) -----------
def test_balancer_on_a_windows_host_is_refused_before_anything_changes(tmp_path, registry_image):
    from test_windows_simulated import PLUGINS, SimHost, read_only

    sim = SimHost(tmp_path, registry_image, client=False, windows_registry_lb="haproxy",
                  windows_registry_lb_backends=["10.0.0.11:5000", "10.0.0.12:5000"])
    try:
        run = sim.run()
        assert run.failed
        message = run.result("Check the scale-out settings")["msg"]
        assert message.startswith("windows_registry_lb=haproxy: the role runs its balancer on Linux hosts only.") and \
            "put an existing balancer" in message, message
        assert all(read_only(argv) for argv in sim.commands()), "nothing changed: %s" % sim.commands()
        assert not sim.containers()
        assert PLUGINS and "Check the registry variables" in [n.split(" : ")[-1] for n, h, r in run.tasks], run.tasks
    finally:
        sim.cleanup()
