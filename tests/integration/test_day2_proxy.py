# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pull-through cache: a separate instance of the role with windows_registry_proxy_remote_url and credentials, in
front of an upstream registry that requires them (Debian's binary with bearer-token auth from tests/support/token_server,
both reachable from the container at the bridge gateway; distribution's proxy sends its credentials to token realms
only, as Docker Hub uses them, not to Basic-auth upstreams). It serves the upstream's images with the same digests and
refuses pushes; the upstream password stays in the owner-only config file, out of -vvv output and diffs."""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

import playbook
from registry_api import RegistryAPI
from registry_process import free_port, registry_factory  # noqa: F401  (fixture)
from token_server import TokenServer
from test_day2_upgrade_gc import assert_ok, digests, docker


def bridge_gateway():
    """The host's address on Docker's default bridge (IPAM Gateway, else the subnet's first address)."""
    out = subprocess.run(["docker", "network", "inspect", "bridge"], capture_output=True, text=True, check=True).stdout
    config = json.loads(out)[0]["IPAM"]["Config"][0]
    if config.get("Gateway"):
        return config["Gateway"]
    return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


def test_proxy_instance_serves_upstream_images_and_refuses_pushes(request, make_instance, registry_factory, hello_image):  # noqa: F811
    password = "up-%s-pw" % uuid.uuid4().hex
    gateway = bridge_gateway()
    # The test pushes to a registry without auth; the upstream serves the same storage behind bearer tokens that the
    # token server gives "mirror" only (anonymous requests get a token without access).
    seed = registry_factory()
    upstream_digest = RegistryAPI(seed.url).push_image("team/app", "1")
    tokens = TokenServer(seed.workdir / "tokens", users={"mirror": password}, bind=gateway).start()
    request.addfinalizer(tokens.stop)
    port = free_port()
    # every address: the container reaches the upstream through the bridge gateway
    upstream = registry_factory(port=port, config=dict(tokens.registry_config(), http={"addr": "0.0.0.0:%d" % port},
                                                       storage={"filesystem": {"rootdirectory": str(seed.root)}}))
    anonymous = urllib.request.Request("%s/v2/team/app/manifests/1" % upstream.url, method="HEAD")
    with pytest.raises(urllib.error.HTTPError, match="401"):
        urllib.request.urlopen(anonymous, timeout=5)
    remote = "http://%s:%d" % (gateway, upstream.port)
    proxy = make_instance(windows_registry_proxy_remote_url=remote, windows_registry_proxy_username="mirror",
                          windows_registry_proxy_password=password)

    check = assert_ok(proxy.deploy(check=True))
    assert any("Run the registry container" in name for name in check.changed_tasks())
    assert proxy.container() is None
    applied = assert_ok(playbook.run_playbook("playbooks/site.yml", proxy.inventory, diff=True, verbosity=3))
    assert password not in json.dumps(applied.data) + applied.stderr, "the upstream password reached the -vvv/diff output"
    shown = applied.result("write config.yml")["diff"]["after"]
    assert "remoteurl: %s" % remote in shown and "username: mirror" in shown and "password: VALUE_REDACTED" in shown
    path = proxy.config_dir / proxy.container()["Config"]["Cmd"][0].rsplit("/", 1)[1]
    config = path.read_text()
    assert "remoteurl: %s" % remote in config and "password: %s" % password in config
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "the file with the upstream password is owner-only"
    assert assert_ok(proxy.deploy()).changed == 0

    assert digests(proxy, ["team/app:1"]) == {"team/app:1": upstream_digest}
    assert any(r["user"] == "mirror" and r["accepted"] for r in tokens.requests), "the cache logged in to the upstream's token realm"
    ref = "%s/team/app:1" % proxy.registry
    pulled = docker("image", "pull", ref, check=False)
    assert pulled.returncode == 0, pulled.stderr
    docker("image", "rm", ref, check=False)

    mine = "%s/team/mine:1" % proxy.registry
    docker("image", "tag", hello_image, mine)
    pushed = docker("image", "push", mine, check=False)
    docker("image", "rm", mine, check=False)
    assert pushed.returncode != 0
    assert digests(proxy, ["team/mine:1"])["team/mine:1"].startswith("HTTP 404")
