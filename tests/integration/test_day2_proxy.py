# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pull-through cache: a separate instance of the role whose config has proxy.remoteurl, in front of an upstream
registry (Debian's binary, reachable from the container at the bridge gateway). It serves the upstream's images
with the same digests and refuses pushes."""

from __future__ import annotations

import ipaddress
import json
import subprocess

from registry_api import RegistryAPI
from registry_process import free_port, registry_factory  # noqa: F401  (fixture)
from test_day2_upgrade_gc import assert_ok, digests, docker


def bridge_gateway():
    """The host's address on Docker's default bridge (IPAM Gateway, else the subnet's first address)."""
    out = subprocess.run(["docker", "network", "inspect", "bridge"], capture_output=True, text=True, check=True).stdout
    config = json.loads(out)[0]["IPAM"]["Config"][0]
    if config.get("Gateway"):
        return config["Gateway"]
    return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


def test_proxy_instance_serves_upstream_images_and_refuses_pushes(make_instance, registry_factory, hello_image):  # noqa: F811
    port = free_port()
    # every address: the container reaches the upstream through the bridge gateway, the test through 127.0.0.1
    upstream = registry_factory(port=port, config={"http": {"addr": "0.0.0.0:%d" % port}})
    upstream_digest = RegistryAPI(upstream.url).push_image("team/app", "1")
    remote = "http://%s:%d" % (bridge_gateway(), upstream.port)
    proxy = make_instance(windows_registry_config_extra={"proxy": {"remoteurl": remote}})

    check = assert_ok(proxy.deploy(check=True))
    assert any("Run the registry container" in name for name in check.changed_tasks())
    assert proxy.container() is None
    assert_ok(proxy.deploy())
    config = (proxy.config_dir / proxy.container()["Config"]["Cmd"][0].rsplit("/", 1)[1]).read_text()
    assert "remoteurl: %s" % remote in config
    assert assert_ok(proxy.deploy()).changed == 0

    assert digests(proxy, ["team/app:1"]) == {"team/app:1": upstream_digest}
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
