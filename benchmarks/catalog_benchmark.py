#!/usr/bin/env python3
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the registry API modules against a local registry with N repositories (not a test).

    .venv/bin/python benchmarks/catalog_benchmark.py [--repositories 5000] [--runs 5]

Starts distribution's registry (Debian's docker-registry binary, or $DOCKERWIN_TEST_REGISTRY_BINARY) on
127.0.0.1 with temporary storage, pushes one tiny image per repository through the HTTP API, then times
whole ansible-playbook runs (median of --runs, after one warm-up), each minus the median of the same
playbook with one ansible.builtin.ping task:

  (a) registry_catalog_info, default page size
  (b) a raw Python urllib loop over _catalog at the registry's largest page size (catalog.maxentries, 1000)
  (c) an ansible.builtin.uri task loop at n=100, following the Link header page by page
  (d) registry_tags_info over every repository (names from a vars file), 8 at a time
  (e) the same, concurrency 1 (a sequential loop)

The playbooks run in rounds, each in turn, so that load from elsewhere falls on all alike; the first round
is a warm-up.

and prints a table and whether the targets hold: (a) <= 1.3 x (b) + 0.3 s; (c) >= 5 x (a).
Uses the collection installed in .collections (run `make install` after changing plugins/).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CHECKOUT / "tests" / "support"))  # the test helpers: not part of the built collection

from registry_api import push_images  # noqa: E402
from registry_process import RegistryProcess  # noqa: E402

PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
%s
"""

PING = """    - name: Baseline
      ansible.builtin.ping:
"""

CATALOG_MODULE = """    - name: (a) registry_catalog_info
      dockerwin.registry.registry_catalog_info:
        url: "{{ registry_url }}"
      register: catalog
    - name: Check the count
      ansible.builtin.assert:
        that: catalog.count == expected_count | int
        quiet: true
"""

# (b): the whole listing in the playbook's own Python, at n=1000, in one command task.
RAW_LOOP = r'''
import json, sys, urllib.parse, urllib.request
base = sys.argv[1]
url, names = base + "/v2/_catalog?n=1000", []
while url:
    with urllib.request.urlopen(url, timeout=60) as response:
        names += json.load(response)["repositories"]
        link = response.headers.get("Link")
    url = urllib.parse.urljoin(base, link.split(";")[0].strip("<> ")) if link else None
print(len(names))
'''
RAW = """    - name: (b) raw urllib loop at n=1000
      ansible.builtin.command:
        argv: ["{{ ansible_playbook_python }}", "{{ raw_script }}", "{{ registry_url }}"]
      register: raw
      changed_when: false
    - name: Check the count
      ansible.builtin.assert:
        that: raw.stdout | int == expected_count | int
        quiet: true
"""

URI_LOOP = """    - name: (c) uri page by page at n=100, following Link
      ansible.builtin.include_tasks: "{{ page_tasks }}"
      vars:
        page_url: "{{ registry_url }}/v2/_catalog?n=100"
    - name: Check the count
      ansible.builtin.assert:
        that: uri_names | length == expected_count | int
        quiet: true
"""
URI_PAGE = """- name: One catalog page
  ansible.builtin.uri:
    url: "{{ page_url }}"
    return_content: true
  register: uri_page
- name: Collect the names
  ansible.builtin.set_fact:
    uri_names: "{{ (uri_names | default([])) + uri_page.json.repositories }}"
- name: Next page
  ansible.builtin.include_tasks: "{{ page_tasks }}"
  vars:
    page_url: "{{ registry_url }}{{ uri_page.link | regex_search('<([^>]*)>', '\\\\1') | first }}"
  when: uri_page.link is defined
"""

# (d), (e): the repository names come from a vars file (the list the benchmark pushed), so only the tags are timed.
TAGS = """    - name: (%s) registry_tags_info, concurrency %d
      dockerwin.registry.registry_tags_info:
        url: "{{ registry_url }}"
        repositories: "{{ bench_repositories }}"
        concurrency: %d
      register: tags
    - name: Check the count
      ansible.builtin.assert:
        that: tags.repository_count == expected_count | int
        quiet: true
"""


def run_playbook(path, extra_vars, env):
    started = time.perf_counter()
    process = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), str(path)]
                             + [arg for value in extra_vars for arg in ("-e", value)],
                             env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if process.returncode:
        raise SystemExit("%s failed:\n%s\n%s" % (path.name, process.stdout[-3000:], process.stderr[-3000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repositories", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not (CHECKOUT / ".collections/ansible_collections/dockerwin/registry/plugins/modules/registry_tags_info.py").exists():
        raise SystemExit("The collection is not installed in .collections: run `make install` first")

    work = Path(tempfile.mkdtemp(prefix="dockerwin-bench-"))
    env = dict(os.environ, ANSIBLE_CONFIG=str(CHECKOUT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(CHECKOUT / ".collections"),
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    registry = RegistryProcess(work / "registry")
    try:
        registry.start()
        started = time.perf_counter()
        names = ["bench/repo%05d" % i for i in range(args.repositories)]
        push_images(registry.url, names, workers=16)
        print("pushed %d repositories in %.1f s to %s" % (len(names), time.perf_counter() - started, registry.url), flush=True)

        (work / "raw_catalog.py").write_text(RAW_LOOP)
        (work / "uri_page.yml").write_text(URI_PAGE)
        (work / "repositories.json").write_text(json.dumps({"bench_repositories": names}))
        plays = {"ping": PING, "a": CATALOG_MODULE, "b": RAW, "c": URI_LOOP, "d": TAGS % ("d", 8, 8), "e": TAGS % ("e", 1, 1)}
        extra = [json.dumps({"registry_url": registry.url, "expected_count": len(names), "raw_script": str(work / "raw_catalog.py"),
                             "page_tasks": str(work / "uri_page.yml")}), "@" + str(work / "repositories.json")]
        paths = {}
        for key, tasks in plays.items():
            paths[key] = work / ("play_%s.yml" % key)
            paths[key].write_text(PLAY % tasks)
        # Rounds of every playbook in turn (the first round is a warm-up), so that load from elsewhere on the
        # machine falls on all of them alike; the median of each over the counted rounds.
        samples = {key: [] for key in plays}
        for round_number in range(args.runs + 1):
            for key, path in paths.items():
                elapsed = run_playbook(path, extra, env)
                if round_number:
                    samples[key].append(elapsed)
            print("  round %d/%d: %s" % (round_number, args.runs, " ".join("%s=%.2f" % (k, v[-1] if v else 0) for k, v in samples.items())),
                  flush=True)
        times = {key: statistics.median(values) for key, values in samples.items()}
        net = {k: max(0.0, v - times["ping"]) for k, v in times.items() if k != "ping"}
    finally:
        registry.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    labels = {
        "a": "(a) registry_catalog_info, default page size (1000)",
        "b": "(b) raw urllib loop, n=1000",
        "c": "(c) ansible.builtin.uri loop, n=100, following Link",
        "d": "(d) registry_tags_info, all repositories, concurrency 8",
        "e": "(e) registry_tags_info, all repositories, concurrency 1",
    }
    print()
    print("%d repositories; ansible-playbook wall time, median, minus the ping playbook (%.2f s)" % (args.repositories, times["ping"]))
    print("| measurement | seconds |")
    print("| --- | ---: |")
    for key, label in labels.items():
        print("| %s | %.2f |" % (label, net[key]))
    limit = 1.3 * net["b"] + 0.3
    print()
    print("target (a) <= 1.3 x (b) + 0.3 s = %.2f s: %s (%.2f s)" % (limit, "holds" if net["a"] <= limit else "MISSED", net["a"]))
    ratio = net["c"] / net["a"] if net["a"] else float("inf")
    print("target (c) >= 5 x (a): %s (%.1f x)" % ("holds" if ratio >= 5 else "MISSED", ratio))
    print("tags: concurrency 8 is %.1f x faster than the sequential loop" % (net["e"] / net["d"] if net["d"] else float("inf")))


if __name__ == "__main__":
    main()
