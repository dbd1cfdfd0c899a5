# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A second, test-only dockerd and a non-loopback test address, so client tests never touch the machine's
own daemon, its daemon.json or docker0.

``TestDockerd``: its own ``--config-file``, ``--data-root``, ``--exec-root``, unix socket, ``--pidfile``, log file,
vfs storage, and its own bridge (``ip link add NAME type bridge`` with an address in 198.18.0.0/15, ``-b NAME
--iptables=false``). Never ``--bridge=none``: that deletes docker0 and breaks the main daemon.

``TestAddress``: a /32 in 198.18.0.0/15 added to ``lo`` for the registry under test. Docker trusts every registry on
127.0.0.0/8 without TLS checks, so only a non-loopback address shows whether the client settings work.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import shlex
import signal
import subprocess
import tempfile
import time
import uuid


INIT_SCRIPT = """#!/bin/sh
# Test-only init script of the dockerwin.registry test dockerd %(id)s (tests/support/test_dockerd.py); removed after the test.
PIDFILE=%(pidfile)s
LOG=%(log)s
running() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
do_start() {
    running && return 0
    setsid %(argv)s >>"$LOG" 2>&1 </dev/null &
    i=0; while [ $i -lt 300 ] && ! running; do sleep 0.1; i=$((i+1)); done
    running
}
do_stop() {
    running || return 0
    pid=$(cat "$PIDFILE"); kill -TERM "$pid"
    i=0; while [ $i -lt 300 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i+1)); done
    ! kill -0 "$pid" 2>/dev/null
}
case "$1" in
    start) do_start ;;
    stop) do_stop ;;
    restart|force-reload) do_stop && do_start ;;
    reload) running && kill -HUP "$(cat "$PIDFILE")" ;;
    status) if running; then echo "running"; exit 0; else echo "stopped"; exit 3; fi ;;
    *) echo "Usage: $0 {start|stop|restart|reload|force-reload|status}" >&2; exit 2 ;;
esac
"""


def _used_addresses():
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    return {field.split("/")[0] for line in out.splitlines() for field in line.split() if field.count(".") == 3 and "/" in field}


def _free_address(prefix_pick):
    used = _used_addresses()
    for dummy in range(200):
        address = prefix_pick()
        if address not in used:
            return address
    raise RuntimeError("no free test address in 198.18.0.0/15")


class TestAddress:
    """A /32 on lo in 198.18.0.0/15 (benchmarking range, never routed), removed by remove()."""

    __test__ = False

    def __init__(self):
        self.address = _free_address(lambda: "198.19.%d.%d" % (random.randint(0, 255), random.randint(1, 254)))
        subprocess.run(["ip", "addr", "add", self.address + "/32", "dev", "lo"], check=True, capture_output=True)

    def remove(self):
        subprocess.run(["ip", "addr", "del", self.address + "/32", "dev", "lo"], capture_output=True, check=False)


class TestDockerd:
    """A dockerd of its own; `docker(*args)` runs the docker CLI against it."""

    __test__ = False

    def __init__(self, initial_config=None):
        self.id = uuid.uuid4().hex[:8]
        # Short paths: containerd and the daemon's sockets must fit in 108 bytes.
        self.root = tempfile.mkdtemp(prefix="dwd-%s-" % self.id, dir="/tmp")
        self.config = os.path.join(self.root, "daemon.json")
        self.socket = os.path.join(self.root, "docker.sock")
        self.host = "unix://" + self.socket
        self.pidfile = os.path.join(self.root, "docker.pid")
        self.log = os.path.join(self.root, "dockerd.log")
        self.bridge = "dwrb" + self.id[:8]
        third = random.randint(0, 255)
        fourth = random.randint(0, 63) * 4
        self.bridge_cidr = "198.18.%d.%d/30" % (third, fourth + 1)
        with open(self.config, "w") as handle:
            handle.write(json.dumps(initial_config if initial_config is not None else {}, indent=2) + "\n")
        self.proc = None
        self._log_handle = None

    def argv(self):
        return [
            "dockerd",
            "--config-file", self.config,
            "--data-root", os.path.join(self.root, "data"),
            "--exec-root", os.path.join(self.root, "exec"),
            "-H", self.host,
            "--pidfile", self.pidfile,
            "-b", self.bridge,
            "--iptables=false",
            "--ip-masq=false",
            "--storage-driver", "vfs",
            "--containerd-namespace", "dwr-test-" + self.id,
            "--containerd-plugins-namespace", "dwr-test-plugins-" + self.id,
        ]

    def start(self, timeout=60):
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True, capture_output=True)
        subprocess.run(["ip", "addr", "add", self.bridge_cidr, "dev", self.bridge], check=True, capture_output=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True, capture_output=True)
        argv = self.argv()
        self._log_handle = open(self.log, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log_handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("test dockerd exited (rc=%s): %s" % (self.proc.returncode, self.log_text()[-3000:]))
            if self.docker("info", "--format", "{{.ID}}", check=False).returncode == 0:
                return self
            time.sleep(0.5)
        raise RuntimeError("test dockerd did not answer within %ss: %s" % (timeout, self.log_text()[-3000:]))

    def docker(self, *args, check=True, **kwargs):
        proc = subprocess.run(["docker", "-H", self.host, *args], capture_output=True, text=True, check=False, **kwargs)
        if check and proc.returncode != 0:
            raise AssertionError("docker -H %s %s failed: %s" % (self.host, " ".join(args), proc.stderr))
        return proc

    def info(self):
        return json.loads(self.docker("info", "--format", "{{json .}}").stdout)

    def registry_config(self):
        return self.info()["RegistryConfig"]

    def pid(self):
        with open(self.pidfile) as handle:
            return int(handle.read().strip())

    def log_text(self):
        try:
            with open(self.log, errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def load_from_main(self, ref):
        """Copy an image of the machine's daemon into this one (docker save | docker load)."""
        saved = subprocess.run(["docker", "image", "save", ref], capture_output=True, check=True)
        subprocess.run(["docker", "-H", self.host, "image", "load"], input=saved.stdout, capture_output=True, check=True)

    def install_init_script(self):
        """An init script /etc/init.d/dwr-test-<id> for this daemon (start, stop, restart, reload = SIGHUP, status), so
        that ansible.builtin.service drives it where systemd does not run: the service/restart reload methods then run
        for real. Debian's /usr/sbin/service runs it (no systemd here); removed by stop(). Returns the service name."""
        self.service = "dwr-test-dockerd-" + self.id
        quoted = " ".join(shlex.quote(a) for a in self.argv())
        script = INIT_SCRIPT % {"id": self.id, "pidfile": shlex.quote(self.pidfile), "log": shlex.quote(self.log), "argv": quoted}
        path = os.path.join("/etc/init.d", self.service)
        with open(path, "w") as handle:
            handle.write(script)
        os.chmod(path, 0o755)
        return self.service

    def stop(self):
        if getattr(self, "service", None):
            try:
                os.remove(os.path.join("/etc/init.d", self.service))
            except OSError:
                pass
        # A daemon the init script restarted is not self.proc: stop it by its pidfile.
        try:
            started_elsewhere = self.pid() != (self.proc.pid if self.proc is not None else None)
        except (OSError, ValueError):
            started_elsewhere = False
        if started_elsewhere:
            pid = self.pid()
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
                time.sleep(0.2)
            if os.path.exists("/proc/%d" % pid):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log_handle:
            self._log_handle.close()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
        # vfs leaves no mounts; the exec root may hold a netns mount point on some kernels.
        subprocess.run(["umount", "-R", os.path.join(self.root, "exec")], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
