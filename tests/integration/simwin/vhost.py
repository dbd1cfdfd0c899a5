# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated host's state: a virtual C: drive in a folder, and a JSON file for the rest.

Layout of a host root (made by `create()`):
    host.json    the host's configuration (Windows Server release, image mapping, stand-in image, names)
    state.json   registry keys and values, services, features, firewall rules, certificate stores, ACLs,
                 the Docker service's effective daemon.json, recorded image builds, Defender exclusions
    calls.jsonl  one line per module call (module, arguments with no_log values hidden, check mode, result)
    C/           the virtual C: drive; C:\\foo\\bar is C/foo/bar (looked up case-insensitively, as NTFS does)
    shadow/      translated copies of config folders that run containers mount (see dockermap.py)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import ntpath
import os
import re
import time
import uuid
from pathlib import Path

# What `setup` reports on each release (ansible.windows.setup on a fresh install, English, Datacenter).
RELEASES = {
    "2019": {"build": 17763, "ubr": 6414, "name": "Microsoft Windows Server 2019 Datacenter"},
    "2022": {"build": 20348, "ubr": 2762, "name": "Microsoft Windows Server 2022 Datacenter"},
    "2025": {"build": 26100, "ubr": 2314, "name": "Microsoft Windows Server 2025 Datacenter"},
}
USER = "Administrator"
PROFILE = "C:\\Users\\Administrator"
TEMP = PROFILE + "\\AppData\\Local\\Temp"
HOSTS_FILE = "C:\\Windows\\System32\\drivers\\etc\\hosts"
HOSTS_TEXT = (
    "# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.\r\n"
    "#\r\n# localhost name resolution is handled within DNS itself.\r\n#\t127.0.0.1       localhost\r\n#\t::1             localhost\r\n"
)
ENV = {
    "USERPROFILE": PROFILE, "TEMP": TEMP, "TMP": TEMP, "SystemRoot": "C:\\Windows", "windir": "C:\\Windows",
    "ProgramData": "C:\\ProgramData", "ProgramFiles": "C:\\Program Files", "APPDATA": PROFILE + "\\AppData\\Roaming",
    "LOCALAPPDATA": PROFILE + "\\AppData\\Local", "USERNAME": USER, "COMPUTERNAME": "SIMWIN", "HOMEDRIVE": "C:",
    "HOMEPATH": "\\Users\\Administrator", "PSModulePath": "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules",
}


class SimError(Exception):
    """A call the simulated host refuses; the message goes to the module result."""


def create(root, release="2022", hostname="SIMWIN", image_map=None, standin_image="", extra=None):
    """Make a fresh host under root (an empty or missing folder) and return its Host."""
    if release not in RELEASES:
        raise ValueError("release %r: use one of %s" % (release, ", ".join(RELEASES)))
    root = Path(root)
    (root / "C").mkdir(parents=True, exist_ok=True)
    (root / "shadow").mkdir(exist_ok=True)
    config = {
        "release": release, "hostname": hostname, "image_map": dict(image_map or {}), "standin_image": standin_image,
        "host_id": uuid.uuid4().hex[:12],
    }
    config.update(extra or {})
    (root / "host.json").write_text(json.dumps(config, indent=1))
    state = {
        "registry": {}, "services": {
            "docker": {"name": "docker", "display_name": "Docker Engine", "state": "started", "start_mode": "auto",
                       "path": "\"C:\\Program Files\\docker\\dockerd.exe\" --run-service", "username": "LocalSystem",
                       "restarts": 0},
        },
        "features": {"Containers": True}, "firewall": {}, "certs": {}, "acls": {}, "acl_protected": {},
        "daemon": None, "builds": [], "defender": [],
    }
    (root / "state.json").write_text(json.dumps(state, indent=1))
    host = Host(root)
    for folder in (PROFILE, TEMP, "C:\\Windows\\System32\\drivers\\etc", "C:\\ProgramData\\docker\\config",
                   "C:\\Program Files\\docker"):
        host.local(folder).mkdir(parents=True, exist_ok=True)
    host.local(HOSTS_FILE).write_bytes(HOSTS_TEXT.encode("ascii"))
    return host


class Host:
    def __init__(self, root):
        self.root = Path(root)
        self.config = json.loads((self.root / "host.json").read_text())
        self.release = RELEASES[self.config["release"]]
        self._state = None

    # -- state ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self):
        """Hold the host's lock and its state for one call; the state is saved when the block ends."""
        with open(self.root / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._state = json.loads((self.root / "state.json").read_text())
                yield self._state
                tmp = self.root / "state.json.tmp"
                tmp.write_text(json.dumps(self._state, indent=1, sort_keys=True))
                os.replace(tmp, self.root / "state.json")
            finally:
                self._state = None
                fcntl.flock(lock, fcntl.LOCK_UN)

    @property
    def state(self):
        if self._state is None:
            return json.loads((self.root / "state.json").read_text())
        return self._state

    def log_call(self, entry):
        with open(self.root / "calls.jsonl", "a") as handle:
            handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")

    def calls(self, module=None):
        path = self.root / "calls.jsonl"
        if not path.exists():
            return []
        found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [c for c in found if module is None or c["module"] == module]

    # -- paths ----------------------------------------------------------------------------------
    def expand(self, path):
        """Environment variables (%TEMP%) and ~ as PowerShell would expand them for the connection's user."""
        path = re.sub(r"%([^%]+)%", lambda m: next((v for k, v in ENV.items() if k.lower() == m.group(1).lower()), m.group(0)), path)
        if path == "~" or path.startswith("~\\") or path.startswith("~/"):
            path = PROFILE + path[1:]
        return path

    def absolute(self, path):
        """A normalised absolute Windows path (C:\\...) for path; relative paths start at the user's profile."""
        path = self.expand(str(path)).replace("/", "\\")
        if not re.match(r"^[A-Za-z]:", path):
            path = ntpath.join(PROFILE, path)
        if not re.match(r"^[Cc]:", path):
            raise SimError("the simulated host has only a C: drive, not %s" % path[:2])
        norm = ntpath.normpath(path)
        return "C:" + norm[2:] if len(norm) > 2 else "C:\\"

    def local(self, path):
        """The file behind a Windows path on the virtual drive (existing components matched case-insensitively)."""
        parts = [p for p in self.absolute(path)[3:].split("\\") if p]
        current = self.root / "C"
        for part in parts:
            candidate = current / part
            if not candidate.exists() and current.is_dir():
                for entry in os.listdir(current):
                    if entry.lower() == part.lower():
                        candidate = current / entry
                        break
            current = candidate
        return current

    def windows_path(self, local):
        """The Windows path of a file on the virtual drive (inverse of local())."""
        rel = Path(local).resolve().relative_to((self.root / "C").resolve())
        return "C:\\" + "\\".join(rel.parts)

    @staticmethod
    def key(path):
        """Case-insensitive identity of a Windows path (ACLs, comparisons)."""
        return ntpath.normpath(path.replace("/", "\\")).rstrip("\\").lower()

    # -- facts ------------------------------------------------------------------------------------
    @property
    def version(self):
        return "10.0.%d.0" % self.release["build"]

    def now(self):
        return time.strftime("%Y-%m-%d %H:%M:%S")
