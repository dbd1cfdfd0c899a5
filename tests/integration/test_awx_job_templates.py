# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job templates of playbooks/awx_configure.yml, run as an AWX job runs them, on the Linux twin.

What AWX does for a job, done here: a private data folder; the inventory (localhost in the template's group, with
inventories/awx/'s group_vars, which read what the credentials inject); the extra vars of the launch (survey
defaults, then the operator's answers, checked by AWX's survey rules) written to a file and given as
`--extra-vars @file`; each credential's injectors rendered into the environment and files of the job (extra vars
injectors into a file of their own, `-e @file`, as AWX does); `--check` for a job of type check; no TTY, stdin
closed. Secrets never appear in the argv, the survey's extra vars or the output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

import playbook
from registry_api import RegistryAPI
from registry_process import TEST_PASSWORD, TEST_PASSWORD_HASH, TEST_USER, registry_factory  # noqa: F401  (fixture)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "awx"))

import awx_rules  # noqa: E402  (tests/unit/awx)
from conftest import Instance  # noqa: E402

REPO = playbook.REPO
AWX = REPO / "extensions" / "awx"


def credential(name, inputs):
    return yaml.safe_load((AWX / "credential_types" / name).read_text()), inputs


class Job:
    """A private data folder for one job of a job template."""

    def __init__(self, tmp_path, template, group, host_vars):
        self.template = template
        self.dir = tmp_path / ("job-%s-%s" % (template, uuid.uuid4().hex[:6]))
        inventory = self.dir / "inventory"
        shutil.copytree(REPO / "inventories" / "awx" / "group_vars" / "all", inventory / "group_vars" / "all")
        self.inventory = playbook.write_inventory(inventory / "hosts.yml", host_vars, group=group)
        self.survey = json.loads((AWX / "surveys" / ("%s.json" % template)).read_text())

    def run(self, answers, credentials=(), job_type="run"):
        assert awx_rules.launch_errors(self.survey, answers) == [], "AWX would refuse this launch"
        extra_vars = awx_rules.launch_extra_vars(self.survey, answers)
        env_dir = self.dir / "env"
        env_dir.mkdir(parents=True, exist_ok=True)
        extravars = env_dir / "extravars"
        extravars.write_text(json.dumps(extra_vars))
        job_env, credential_args = {}, []
        for credential_type, inputs in credentials:
            injected_env, injected_vars, dummy = awx_rules.inject(credential_type, inputs, env_dir)
            job_env.update(injected_env)
            if injected_vars:
                credential_args += ["-e", "@%s" % awx_rules.write_extra_vars_file(injected_vars, self.dir)]
        argv = [str(playbook.ANSIBLE_PLAYBOOK), "-i", self.inventory, "--extra-vars", "@%s" % extravars, *credential_args,
                *(["--check"] if job_type == "check" else []), str(REPO / "playbooks" / ("%s.yml" % self.template))]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERWIN_REGISTRY_")}
        env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_DEPRECATION_WARNINGS="0", **job_env)
        # start_new_session: no controlling terminal, as in an AWX container
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL, start_new_session=True)
        run = playbook.Run(argv, proc)
        # Facts of a host reached by the local connection hold the controller's environment (ansible_env), as
        # with any AWX credential injected into the environment; hosts over PSRP/SSH never see it. Elsewhere in
        # the output, the argv and the extra vars the secret must not appear.
        for dummy, dummy, result in run.tasks:
            result.get("ansible_facts", {}).pop("ansible_env", None)
        shown = json.dumps(run.data) + proc.stderr + " ".join(argv) + extravars.read_text()
        for secret in [v for dummy, inputs in credentials for k, v in inputs.items() if k == "password"]:
            assert secret not in shown, "a secret leaked"
        return run


def assert_ok(run):
    assert not run.failed, "%r\n%s" % (run, run.stderr[-3000:])
    return run


def site_host_vars(instance):
    """What the AWX inventory holds for the registry host: its site settings, not the survey's questions."""
    keep = ("windows_registry_container_name", "windows_registry_bind_address", "windows_registry_data_dir",
            "windows_registry_port")
    return {k: v for k, v in instance.vars.items() if k in keep}


def push(registry, source, repository):
    ref = "%s/%s:1" % (registry, repository)
    subprocess.run(["docker", "image", "tag", source, ref], check=True, capture_output=True)
    try:
        subprocess.run(["docker", "image", "push", ref], check=True, capture_output=True)
    finally:
        subprocess.run(["docker", "image", "rm", ref], capture_output=True)


@pytest.fixture(scope="module")
def awx_registry(tmp_path_factory, registry_image):
    """The module's registry, deployed by the site job template; the job, its answers and its first run are kept
    for the deploy test, the day-2 job templates run on it (with the inventory's values the survey gave)."""
    tmp_path = tmp_path_factory.mktemp("awx")
    instance = Instance(tmp_path, registry_image)
    try:
        instance.site_job = Job(tmp_path, "site", "registry_servers", site_host_vars(instance))
        instance.site_answers = {  # the operator's survey (the UI sends the pre-filled defaults of required questions too)
            "windows_registry_state": "started",
            "windows_registry_restart_policy": "unless-stopped",
            "windows_registry_version": instance.vars["windows_registry_version"],
            "windows_registry_image_source": "pull",
            "windows_registry_image": registry_image,
            "windows_registry_port": instance.port,
            "windows_registry_health_timeout": 30,
        }
        instance.first_deploy = instance.site_job.run(instance.site_answers)
        yield instance
    finally:
        instance.cleanup()


@pytest.mark.smoke
def test_deploy_then_verify_templates(tmp_path, awx_registry, registry_image, hello_image):
    instance = awx_registry
    run = assert_ok(instance.first_deploy)
    assert run.changed, "the first deploy creates the registry"
    container = instance.container()
    assert container["State"]["Running"] and container["Config"]["Image"] == registry_image
    assert container["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    again = assert_ok(instance.site_job.run(instance.site_answers))
    assert again.changed_tasks() == [], "a second launch changes nothing"

    push(instance.registry, hello_image, "team/app")
    verify = Job(tmp_path, "verify", "registry_servers", site_host_vars(instance))
    checked = assert_ok(verify.run({"verify_expected_repositories": "team/app"}))
    assert checked.result("Read the catalog")["repositories"] == ["team/app"]
    missing = verify.run({"verify_expected_repositories": "team/app,team/absent"})
    assert missing.failed and "team/absent" in missing.failure_message()


def test_survey_refuses_a_bad_answer_before_the_job(tmp_path, make_instance):
    instance = make_instance()
    deploy = Job(tmp_path, "site", "registry_servers", site_host_vars(instance))
    assert awx_rules.launch_errors(deploy.survey, {"windows_registry_state": "running", "windows_registry_port": "5000"})


def test_clients_template_with_credentials(tmp_path, make_instance, hello_image):
    from test_dockerd import TestAddress, TestDockerd

    address = TestAddress()
    daemon = TestDockerd(initial_config={"log-level": "info"})
    try:
        instance = make_instance(windows_registry_bind_address=address.address, windows_registry_health_timeout=60)
        assert_ok(instance.deploy())
        registry = "%s:%d" % (address.address, instance.port)
        daemon.start()
        ca_key, ca_cert = tmp_path / "ca.key", tmp_path / "ca.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dwr-awx-ca",
                        "-keyout", str(ca_key), "-out", str(ca_cert)], check=True, capture_output=True)
        hosts_file = tmp_path / "hosts"
        hosts_file.write_text("127.0.0.1 localhost\n")
        name = "dwr-%s.test" % uuid.uuid4().hex[:6]
        host_vars = {  # the client host in the AWX inventory: its daemon, files and the registry's names
            "registry_client_insecure": True,
            "registry_client_daemon_json": daemon.config,
            "registry_client_docker_host": daemon.host,
            "registry_client_docker_pidfile": daemon.pidfile,
            "registry_client_daemon_log": daemon.log,
            "registry_client_certs_d_root": str(tmp_path / "certs.d"),
            "registry_client_hosts_names": [name],
            "registry_client_hosts_file": str(hosts_file),
            "registry_client_docker_config": str(tmp_path / "docker-config"),
        }
        clients = Job(tmp_path, "clients", "registry_clients", host_vars)
        password = "pw-%s" % uuid.uuid4().hex
        credentials = [credential("registry_user.yml", {"username": "ci", "password": password}),
                       credential("registry_tls.yml", {"ca_cert": ca_cert.read_text()})]
        answers = {"registry_client_state": "present", "registry_client_registry": registry,
                   "registry_client_hosts_address": address.address, "registry_client_reload_timeout": 30}
        assert_ok(clients.run(answers, credentials))
        assert registry in daemon.registry_config()["IndexConfigs"], "insecure-registries took effect"
        stored = json.loads((tmp_path / "docker-config" / "config.json").read_text())
        assert registry in stored["auths"], "docker login with the injected user"
        assert (tmp_path / "certs.d" / registry / "ca.crt").read_text().strip() == ca_cert.read_text().strip(), \
            "the CA from the injected file"
        assert "%s %s" % (address.address, name) in hosts_file.read_text()
        again = assert_ok(clients.run(answers, credentials))
        assert again.changed_tasks() == []
    finally:
        daemon.stop()
        address.remove()


def test_day2_templates_seed_gc_upgrade(tmp_path, awx_registry, registry_factory):  # noqa: F811
    """The seed, garbage-collection and upgrade job templates on one registry of the role, as AWX runs them: the seed
    source answers only the login of the seed source credential (injected as extra vars); the GC switches are the
    strings "true"/"false" of the survey; the upgrade with every question left empty only verifies."""
    source = registry_factory(htpasswd={TEST_USER: TEST_PASSWORD_HASH})
    api = RegistryAPI(source.url, auth=(TEST_USER, TEST_PASSWORD))
    wanted = {"seed/app:1": api.push_image("seed/app", "1")}
    wanted["seed/index:1"], dummy = api.push_manifest_list("seed/index", "1", [("linux", "amd64"), ("linux", "arm64")], oci=True)
    api.push_image("seed/app", "2")  # not asked for
    instance = awx_registry
    assert_ok(instance.first_deploy)
    dest = RegistryAPI(instance.url)

    def all_tags():
        repositories = json.loads(dest.request("GET", "/v2/_catalog")[1])["repositories"]
        return sum(len(json.loads(dest.request("GET", "/v2/%s/tags/list" % name)[1])["tags"]) for name in repositories)

    def digest(ref):
        repository, tag = ref.rsplit(":", 1)
        return dest.request("HEAD", "/v2/%s/manifests/%s" % (repository, tag), headers={"Accept": ", ".join([
            "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.v2+json"])},
            expect=(200, 404))[0].get("Docker-Content-Digest")

    seed = Job(tmp_path, "seed_images", "registry_servers", instance.vars)
    answers = {"registry_seed_source_url": source.url, "registry_seed_images": "seed/app:1,seed/index:1"}
    login = [credential("registry_seed_source.yml", {"username": TEST_USER, "password": TEST_PASSWORD})]
    check = assert_ok(seed.run(answers, login, job_type="check"))
    assert sorted(e["dest"] for e in check.result("Copy the images by digest")["copied"]) == sorted(wanted)
    assert digest("seed/app:1") is None, "check mode copies nothing"
    assert_ok(seed.run(answers, login))
    assert {ref: digest(ref) for ref in wanted} == wanted
    assert digest("seed/app:2") is None
    again = assert_ok(seed.run(answers, login))
    assert again.changed_tasks() == []

    gc = Job(tmp_path, "garbage_collect", "registry_servers", instance.vars)
    labels = instance.container()["Config"]["Labels"]
    # "false" must be false: read as a string, registry_gc_delete_untagged would be refused on distribution 2.8.
    dry = assert_ok(gc.run({"registry_gc_dry_run": "true", "registry_gc_delete_untagged": "false", "windows_registry_gc_force": "false"}))
    result = dry.result("Run registry garbage-collect")
    assert result["changed"] is False and result["deleted_blobs"] == [] and result["blobs_eligible"] == 0
    assert "Dry run: 0 blobs eligible for deletion, 0 deleted" in dry.result("Report the space freed")["msg"]
    after = instance.container()
    assert after["State"]["Running"] and after["Config"]["Labels"] == labels, "normal mode again, same config"
    assert {ref: digest(ref) for ref in wanted} == wanted

    upgrade = Job(tmp_path, "upgrade", "registry_servers", instance.vars)
    same = assert_ok(upgrade.run({}))
    assert same.changed_tasks() == [], "nothing asked: the same image and version, verified only"
    assert "%d tags checked, same digests" % all_tags() in same.result("Report the upgrade")["msg"]
    assert instance.container()["Id"] == after["Id"]
