# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale-out pieces without a daemon: the Redis cache section, the shared http.secret, the Swarm service spec
against `docker service inspect` JSON, the replicas comparison, and haproxy.cfg checked by Debian's haproxy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from ansible_collections.dockerwin.registry.plugins.modules import registry_replicas_info as R
from ansible_collections.dockerwin.registry.plugins.plugin_utils import _config, _secrets, _service

ROLE = Path(__file__).resolve().parents[4] / "roles" / "windows_registry"


# -- Redis blob-descriptor cache (distribution's configuration reference: v2 redigo keys, v3 go-redis keys) ----------
def test_redis_cache_v2_and_v3_dialects_and_password_redacted():
    v2 = _config.build_config("2.8.3", "/var/lib/registry", extra=_config.redis_cache_section(2, "redis.example.com:6379", "pw", 1))
    assert v2["storage"]["cache"] == {"blobdescriptor": "redis"}
    assert v2["redis"]["addr"] == "redis.example.com:6379" and v2["redis"]["db"] == 1 and "addrs" not in v2["redis"]
    assert v2["redis"]["pool"] == {"maxidle": 16, "maxactive": 64, "idletimeout": "300s"}
    v3 = _config.build_config("3.0.0", "/var/lib/registry", extra=_config.redis_cache_section(3, "10.0.0.5:6379", tls=True))
    assert v3["redis"]["addrs"] == ["10.0.0.5:6379"] and v3["redis"]["poolsize"] == 64 and v3["redis"]["tls"] == {"enabled": True}
    assert "password" not in v3["redis"] and "addr" not in v3["redis"]
    shown = _config.render(_config.redact(v2, "REDACTED"))
    assert "pw" not in shown.split("password:")[1].split("\n")[0] and "VALUE_REDACTED" in shown
    assert _config.redis_cache_section(3, "") == {}


def test_redis_address_without_port_is_refused_naming_the_variable():
    with pytest.raises(_config.ConfigError, match="windows_registry_redis_addr='redis.example.com': give host:port"):
        _config.redis_cache_section(2, "redis.example.com")


# -- the replicas' shared http.secret ----------------------------------------------------------------------------
SHARED = "s3cr3t-shared-by-every-replica-0123456789abcdef"


def test_shared_http_secret_replaces_a_host_secret_and_then_keeps():
    first = _secrets.plan({}, _secrets.Inputs(http_secret=SHARED))
    assert first.files[_secrets.HTTP_SECRET] == SHARED.encode() + b"\n"
    assert "http.secret: set to the replicas' shared secret" in first.reasons
    own = _secrets.plan({}, _secrets.Inputs()).files[_secrets.HTTP_SECRET]
    replaced = _secrets.plan({_secrets.HTTP_SECRET: own}, _secrets.Inputs(http_secret=SHARED))
    assert replaced.files[_secrets.HTTP_SECRET] == SHARED.encode() + b"\n"
    kept = _secrets.plan({_secrets.HTTP_SECRET: SHARED.encode() + b"\n"}, _secrets.Inputs(http_secret=SHARED))
    assert _secrets.HTTP_SECRET not in kept.files and not kept.reasons


@pytest.mark.parametrize("value", ["short-secret", "x" * 31, "has a space in it, which the config would not keep", "é" * 40])
def test_weak_shared_secret_is_refused_without_showing_it(value):
    with pytest.raises(_secrets.SecretsError) as info:
        _secrets.plan({}, _secrets.Inputs(http_secret=value))
    assert "windows_registry_http_secret" in str(info.value) and value not in str(info.value)


# -- the Swarm service -------------------------------------------------------------------------------------------
def spec(**changes):
    values = dict(name="registry", image="registry:2.8.3", image_id="sha256:abc", replicas=2,
                  command=["/etc/docker/registry/config-0123456789ab.yml"],
                  mounts=[("/srv/registry-data", "/var/lib/registry", False),
                          ("/srv/registry-data-config", "/etc/docker/registry", True)],
                  published_port=0, labels={"io.dockerwin.registry.config-digest": "d1"})
    values.update(changes)
    return _service.ServiceSpec(**values)


def inspect_of(service_spec):
    """`docker service inspect` of a service made from service_spec (the shape Docker 20.10 answers)."""
    return {
        "ID": "q1", "Version": {"Index": 11},
        "Spec": {
            "Name": service_spec.name, "Labels": service_spec.all_labels(),
            "TaskTemplate": {
                "ContainerSpec": {"Image": service_spec.image, "Args": list(service_spec.command),
                                  "Mounts": [dict({"Type": "bind", "Source": s, "Target": t}, **({"ReadOnly": True} if ro else {}))
                                             for s, t, ro in service_spec.mounts]},
                "Placement": {"MaxReplicas": 1} if service_spec.published_port else {},
            },
            "Mode": {"Replicated": {"Replicas": service_spec.replicas}},
            "EndpointSpec": {"Mode": "vip", "Ports": [dict({"Protocol": "tcp", "TargetPort": 5000, "PublishMode": "host"},
                                                           **({"PublishedPort": service_spec.published_port}
                                                              if service_spec.published_port else {}))]},
        },
        "Endpoint": {"Spec": {}},
    }


def test_service_argv_publishes_in_host_mode_never_ingress():
    dynamic = spec().create_argv()
    assert dynamic[:4] == ["service", "create", "--detach", "--no-resolve-image"]
    assert dynamic[dynamic.index("--publish") + 1] == "mode=host,target=5000,protocol=tcp"
    assert "--replicas-max-per-node" not in dynamic
    assert "type=bind,source=/srv/registry-data-config,target=/etc/docker/registry,readonly" in dynamic
    assert dynamic[-2:] == ["registry:2.8.3", "/etc/docker/registry/config-0123456789ab.yml"]
    fixed = spec(published_port=5000).create_argv()
    assert fixed[fixed.index("--publish") + 1] == "mode=host,target=5000,published=5000,protocol=tcp"
    assert fixed[fixed.index("--replicas-max-per-node") + 1] == "1"


def test_service_unchanged_updated_or_recreated():
    wanted = spec()
    desired = _service.desired_state(wanted)
    assert _service.differences(desired, _service.actual_state(inspect_of(wanted), desired, False)) == []
    older = inspect_of(spec(replicas=3, labels={"io.dockerwin.registry.config-digest": "d0"}))
    changes = _service.differences(desired, _service.actual_state(older, desired, False))
    assert changes == ["replicas", "labels"] and all(c in _service.UPDATABLE for c in changes)
    argv = wanted.update_argv(older["Spec"]["Labels"])
    assert argv[-1] == "registry" and "--label-add" in argv and "io.dockerwin.registry.config-digest=d1" in argv
    assert argv[argv.index("--args") + 1] == "/etc/docker/registry/config-0123456789ab.yml"
    moved = inspect_of(spec(published_port=5000))
    assert _service.differences(desired, _service.actual_state(moved, desired, False)) == ["ports", "max_per_node"]
    resolved = inspect_of(wanted)
    resolved["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = "registry:2.8.3@sha256:" + "0" * 64
    assert _service.differences(desired, _service.actual_state(resolved, desired, False)) == []


def test_task_ports_and_errors():
    running = {"DesiredState": "running", "Status": {"State": "running", "PortStatus": {"Ports": [
        {"Protocol": "tcp", "TargetPort": 5000, "PublishedPort": 30001, "PublishMode": "host"}]}}}
    failed = {"DesiredState": "shutdown", "Status": {"State": "failed", "Err": "no available IPv4 addresses"}}
    assert _service.running_tasks([running, failed]) == [running]
    assert _service.task_ports(running) == [30001]
    assert _service.task_errors([running, failed]) == ["failed: no available IPv4 addresses"]


# -- the replicas comparison -------------------------------------------------------------------------------------
def test_compare_reports_each_reference_that_differs():
    same = {"team/app:1": "sha256:a", "team/app:2": "sha256:b"}
    assert R.compare({"balanced": same, "r1": dict(same), "r2": dict(same)}) == []
    found = R.compare({"balanced": same, "r1": dict(same), "r2": {"team/app:1": "sha256:x"}})
    assert found == [
        {"repository": "team/app", "tag": "1", "digests": {"balanced": "sha256:a", "r1": "sha256:a", "r2": "sha256:x"}},
        {"repository": "team/app", "tag": "2", "digests": {"balanced": "sha256:b", "r1": "sha256:b", "r2": None}},
    ]


# -- haproxy.cfg: rendered from the role's template, checked by Debian's haproxy (haproxy -c) -------------------
def render_haproxy(**variables):
    values = {"windows_registry_tls": "none", "windows_registry_lb_bind_address": "127.0.0.1", "windows_registry_lb_port": 5443,
              "__windows_registry_lb_backends": ["10.0.0.11:5000", "10.0.0.12:5000"]}
    values.update(variables)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), trim_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template("haproxy.cfg.j2").render(**values)


@pytest.mark.parametrize("tls", ["none", "self_signed"])
def test_haproxy_cfg_balances_every_replica_and_haproxy_accepts_it(tls, tmp_path):
    text = render_haproxy(windows_registry_tls=tls)
    assert "server replica1 10.0.0.11:5000 check" in text and "server replica2 10.0.0.12:5000 check" in text
    assert "bind 127.0.0.1:5443" in text and "http-check send meth GET uri /v2/" in text
    assert ("mode tcp" in text) == (tls != "none") and ("check-ssl verify none" in text) == (tls != "none")
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        pytest.skip("Debian's haproxy is not installed (tests/support/ensure_docker.sh installs it)")
    (tmp_path / "haproxy.cfg").write_text(text)
    checked = subprocess.run([haproxy, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_role_defaults_and_argument_specs_list_the_same_scale_out_variables():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    options = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    ours = [k for k in defaults if k.startswith(("windows_registry_lb", "windows_registry_swarm", "windows_registry_redis"))] + [
        "windows_registry_mode", "windows_registry_replicas_group", "windows_registry_http_secret", "windows_registry_docker_host"]
    for name in ours:
        assert name in options and options[name].get("default") == defaults[name], name
