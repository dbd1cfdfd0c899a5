#!/usr/bin/env python3
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of push/pull throughput through one replica vs the balanced set (not a test).

    .venv/bin/python benchmarks/scale_out_benchmark.py [--replicas 3] [--images 24] [--size-kib 1024] [--workers 6] [--runs 3]

Deploys, with playbooks/site.yml and the role as an operator would, --replicas registry replicas on one shared
folder (inventory hosts on this machine, each its own container and 127.0.0.1 port, one http.secret) and the
role's HAProxy balancer in front (the local image built from Debian's haproxy, tests/support/haproxy_image.py).
Then, for each target, (1) replica 1 alone and (2) the balancer, in alternating rounds (median of --runs):

  push   --images images of one --size-kib layer (random bytes, so gzip keeps the size) by --workers threads
         through the HTTP API (upload session, PUT of config and layer, PUT of the manifest);
  pull   the same images by digest (manifest, then every blob) by --workers threads.

and prints MiB/s and images/s for each. On one machine the replicas share its CPUs and disk: the balanced set
shows the cost of the balancer and of spreading, not the gain of more hosts, which needs replicas on their own hosts.
Uses the collection installed in .collections (run `make install` after changing plugins/ or roles/).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import yaml

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CHECKOUT / "tests" / "support"))  # the test helpers: not part of the built collection

import haproxy_image  # noqa: E402
import images  # noqa: E402
import playbook  # noqa: E402
from registry_api import RegistryAPI  # noqa: E402

ACCEPT = "application/vnd.docker.distribution.manifest.v2+json"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def deploy(root, replicas):
    ident = uuid.uuid4().hex[:8]
    ports = [free_port() for dummy in range(replicas)]
    lb_port = free_port()
    names = ["dwr-bench-%s-r%d" % (ident, i + 1) for i in range(replicas)]
    hosts = {}
    for i, (name, port) in enumerate(zip(names, ports)):
        hosts["r%d" % (i + 1)] = {
            "ansible_connection": "local", "ansible_host": "127.0.0.1",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "windows_registry_container_name": name, "windows_registry_port": port,
            "windows_registry_config_dir": str(root / ("r%d-config" % (i + 1))),
        }
    hosts["r1"].update(windows_registry_lb="haproxy", windows_registry_lb_port=lb_port, windows_registry_lb_bind_address="127.0.0.1",
                       windows_registry_lb_image=haproxy_image.haproxy_image(), windows_registry_lb_container_name="dwr-bench-%s-lb" % ident)
    group_vars = {
        "windows_registry_replicas_group": "registry_servers", "windows_registry_bind_address": "127.0.0.1",
        "windows_registry_data_dir": str(root / "shared-data"), "windows_registry_image_source": "pull",
        "windows_registry_image": images.registry_image(), "windows_registry_version": "2.8.2",
    }
    inventory = root / "bench.yml"
    inventory.write_text(yaml.safe_dump({"registry_servers": {"hosts": hosts, "vars": group_vars}}))
    run = playbook.run_playbook("playbooks/site.yml", str(inventory))
    containers = names + ["dwr-bench-%s-lb" % ident]
    if run.failed:
        cleanup(containers)
        sys.exit("deployment failed: %r\n%s" % (run, run.stderr[-2000:]))
    return ["http://127.0.0.1:%d" % ports[0], "http://127.0.0.1:%d" % lb_port], containers


def cleanup(containers):
    subprocess.run(["docker", "container", "rm", "--force", *containers], capture_output=True)


def push_round(url, prefix, count, size, workers):
    api = RegistryAPI(url)
    payloads = [os.urandom(size) for dummy in range(count)]
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        digests = list(pool.map(lambda i: api.push_image("%s/img%03d" % (prefix, i), "1", content=payloads[i]), range(count)))
    return time.monotonic() - start, ["%s/img%03d" % (prefix, i) for i in range(count)], digests


def pull_one(url, repository, digest):
    request = urllib.request.Request("%s/v2/%s/manifests/%s" % (url, repository, digest), headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=60) as response:
        manifest = json.load(response)
    total = 0
    for blob in [manifest["config"]] + manifest["layers"]:
        with urllib.request.urlopen("%s/v2/%s/blobs/%s" % (url, repository, blob["digest"]), timeout=60) as response:
            total += len(response.read())
    return total


def pull_round(url, repositories, digests, workers):
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        sizes = list(pool.map(lambda pair: pull_one(url, *pair), zip(repositories, digests)))
    return time.monotonic() - start, sum(sizes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--size-kib", type=int, default=1024)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dwr-bench-"))
    size = args.size_kib * 1024
    containers = []
    try:
        print("deploying %d replicas and the balancer with playbooks/site.yml ..." % args.replicas, flush=True)
        targets, containers = deploy(root, args.replicas)
        labels = ["one replica", "balanced (%d)" % args.replicas]
        results = {label: {"push": [], "pull": []} for label in labels}
        for run in range(args.runs):
            for label, url in zip(labels, targets):
                prefix = "bench/r%d-%s" % (run, "lb" if "balanced" in label else "one")
                seconds, repositories, digests = push_round(url, prefix, args.images, size, args.workers)
                results[label]["push"].append(seconds)
                seconds, dummy = pull_round(url, repositories, digests, args.workers)
                results[label]["pull"].append(seconds)
        mib = args.images * size / (1024 * 1024)
        print("\n%d images of %d KiB, %d workers, median of %d runs (%s)" % (args.images, args.size_kib, args.workers, args.runs,
                                                                             time.strftime("%Y-%m-%d")))
        print("%-16s %12s %12s %12s %12s" % ("target", "push MiB/s", "push img/s", "pull MiB/s", "pull img/s"))
        for label in labels:
            push_s = statistics.median(results[label]["push"])
            pull_s = statistics.median(results[label]["pull"])
            print("%-16s %12.1f %12.1f %12.1f %12.1f" % (label, mib / push_s, args.images / push_s, mib / pull_s, args.images / pull_s))
    finally:
        cleanup(containers)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
