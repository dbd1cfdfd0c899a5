# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A recorded Docker host for contract tests of the action plugins (no target, no dockerd).

``FakeHost`` answers every stock module call the plugins make, in the shapes the modules document
(ansible.windows.win_command / ansible.builtin.command: ``rc``/``stdout``/``stderr``; win_file; win_copy;
win_tempfile ``path``; slurp ``content`` in base64), and records each call as ``Call(kind, module, args,
check_mode)``. Behind the command module sits a small model of the docker CLI: it parses ``docker
container run`` argv the way Docker does (``--volume src:dst[:ro]`` with drive letters on Windows,
``--publish [ip:]host:container[/proto]``), keeps containers and images, and answers ``inspect`` with JSON
shaped like Docker's (on Windows, ``Mounts[].Destination`` lowercased and ``HostConfig.Isolation`` filled
in). Unknown docker flags or module options fail the test, like the real CLI and modules would.

Nothing here imports the code under test.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import ntpath
import posixpath
import re
import shlex
import subprocess
import tarfile
import types
from typing import NamedTuple

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.action import ActionBase
from ansible.plugins.shell.powershell import ShellModule as PowerShellModule
from ansible.plugins.shell.sh import ShellModule as ShModule
from ansible.template import Templar

# Options each stock module documents (ansible.windows 2.x/3.x, ansible-core 2.20/2.21). A call with any
# other option would fail on a real host with "Unsupported parameters".
MODULE_OPTIONS = {
    "ansible.windows.win_command": {"_raw_params", "cmd", "argv", "chdir", "creates", "removes", "stdin", "output_encoding_override"},
    "ansible.windows.win_file": {"path", "dest", "name", "state"},
    "ansible.windows.win_copy": {"backup", "content", "decrypt", "dest", "force", "local_follow", "remote_src", "src"},
    "ansible.windows.win_tempfile": {"path", "prefix", "state", "suffix"},
    "ansible.builtin.slurp": {"src", "path"},
    "ansible.builtin.command": {
        "_raw_params", "cmd", "argv", "chdir", "creates", "removes", "stdin", "stdin_add_newline", "strip_empty_ends",
        "expand_argument_vars",
    },
    "ansible.builtin.file": {"path", "dest", "name", "state", "mode", "owner", "group", "recurse", "force", "follow", "src"},
    "ansible.builtin.copy": {"src", "content", "dest", "mode", "owner", "group", "backup", "force", "remote_src", "validate", "decrypt"},
    "ansible.builtin.tempfile": {"path", "prefix", "state", "suffix"},
}
COMMAND_MODULES = ("ansible.windows.win_command", "ansible.builtin.command")
WINDOWS_TEMP = "C:\\Users\\ADMINI~1\\AppData\\Local\\Temp"
POSIX_TEMP = "/tmp"

# Windows Server reports process isolation when none was asked for (Docker's default on Server).
WINDOWS_DEFAULT_ISOLATION = "process"


class Call(NamedTuple):
    kind: str  # "module" (ActionBase._execute_module) or "action" (a stock action plugin such as win_copy)
    module: str
    args: dict
    check_mode: bool

    @property
    def argv(self):
        return self.args.get("argv")


# -- Docker's own parsing of `docker container run` arguments ---------------------------------------
_WIN_SEGMENT = r'[^\\/:*?"<>|\r\n]+'
_WIN_HOST_DIR = r"[a-z]:\\(?:%s\\?)*" % _WIN_SEGMENT
_WIN_DEST = r"[a-z]:(?:\\(?:%s\\?)*)?" % _WIN_SEGMENT
WINDOWS_VOLUME = re.compile(
    r"^(?:(?P<source>%s|%s):)?(?P<destination>%s)(?::(?P<mode>ro|rw))?$" % (_WIN_HOST_DIR, _WIN_SEGMENT, _WIN_DEST),
    re.IGNORECASE,
)


class Volume(NamedTuple):
    source: str
    destination: str
    read_only: bool


class Publish(NamedTuple):
    host_ip: str
    host_port: str
    container_port: str
    protocol: str


def parse_volume(value, windows):
    """`--volume` as Docker reads it: on Windows the colon after a drive letter is part of the path."""
    if windows:
        match = WINDOWS_VOLUME.match(value)
        if not match:
            raise AssertionError("docker would refuse --volume %r: invalid volume specification" % value)
        return Volume(match.group("source") or "", match.group("destination"), (match.group("mode") or "").lower() == "ro")
    parts = value.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")) or not parts[1].startswith("/"):
        raise AssertionError("docker would refuse --volume %r: invalid volume specification" % value)
    return Volume(parts[0], parts[1], len(parts) == 3 and parts[2] == "ro")


def parse_publish(value):
    """`--publish [ip:][hostPort:]containerPort[/protocol]`."""
    rest, dummy, protocol = value.partition("/")
    if rest.startswith("["):  # [IPv6]:host:container
        ip, dummy, rest = rest[1:].partition("]:")
        host_port, container_port = rest.split(":")
        return Publish(ip, host_port, container_port, protocol or "tcp")
    parts = rest.split(":")
    if len(parts) == 3:
        return Publish(parts[0], parts[1], parts[2], protocol or "tcp")
    if len(parts) == 2:
        return Publish("", parts[0], parts[1], protocol or "tcp")
    if len(parts) == 1:
        return Publish("", "", parts[0], protocol or "tcp")
    raise AssertionError("docker would refuse --publish %r" % value)


RUN_VALUE_FLAGS = {
    "--name": "name", "--restart": "restart", "--publish": "publish", "-p": "publish", "--volume": "volume",
    "-v": "volume", "--label": "label", "-l": "label", "--isolation": "isolation", "--user": "user", "-u": "user",
}
RUN_BOOL_FLAGS = {"--detach": "detach", "-d": "detach"}


def parse_run(argv, windows):
    """`docker container run|create` argv → dict of what Docker would run (options end at the image)."""
    if argv[1:3] not in (["container", "run"], ["container", "create"], ["run"], ["create"]):
        raise AssertionError("not a docker run/create argv: %r" % argv)
    rest = argv[3:] if argv[1] == "container" else argv[2:]
    parsed = {"detach": False, "publish": [], "volume": [], "label": {}, "name": "", "restart": "no", "isolation": "", "user": ""}
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        flag, eq, inline = rest[i].partition("=")
        if flag in RUN_BOOL_FLAGS:
            parsed[RUN_BOOL_FLAGS[flag]] = True
            i += 1
            continue
        if flag not in RUN_VALUE_FLAGS:
            raise AssertionError("docker run flag this model does not know: %r in %r" % (rest[i], argv))
        key = RUN_VALUE_FLAGS[flag]
        if eq:
            value = inline
            i += 1
        else:
            value = rest[i + 1]
            i += 2
        if key == "publish":
            parsed["publish"].append(parse_publish(value))
        elif key == "volume":
            parsed["volume"].append(parse_volume(value, windows))
            parsed.setdefault("binds", []).append(value)
        elif key == "label":
            label, dummy, label_value = value.partition("=")
            parsed["label"][label] = label_value
        else:
            parsed[key] = value
    if i >= len(rest):
        raise AssertionError("docker run argv without an image: %r" % argv)
    parsed["image"] = rest[i]
    parsed["command"] = rest[i + 1:]
    if argv[2:3] == ["create"] or argv[1:2] == ["create"]:
        assert not parsed["detach"], "docker create takes no --detach"
    return parsed


# -- docker save archives, read the way `docker load` does ------------------------------------------
def read_archive(path):
    with tarfile.open(path, "r:*") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        images = []
        for entry in manifest:
            config_name = entry["Config"]
            config = json.load(tar.extractfile(config_name))
            hex_id = hashlib.sha256(tar.extractfile(config_name).read()).hexdigest()
            images.append({"Id": "sha256:" + hex_id, "RepoTags": entry.get("RepoTags") or [], "Config": config.get("config") or {}})
    return images


def _hex(seed):
    return hashlib.sha256(seed.encode()).hexdigest()


def image_inspect(ref, labels=None, windows=True, image_id=None, cmd=None):
    """One `docker image inspect` object as Docker prints it (the fields these plugins read, and some)."""
    return {
        "Id": image_id or "sha256:" + _hex("image " + ref),
        "RepoTags": [ref],
        "RepoDigests": [],
        "Created": "2026-11-02T10:00:00.0000000Z",
        "Config": {
            "Entrypoint": ["C:\\registry\\registry.exe", "serve"] if windows else ["/bin/registry", "serve"],
            "Cmd": cmd or (["C:\\registry\\config.yml"] if windows else ["/etc/distribution/config.yml"]),
            "Labels": dict(labels or {}),
            "WorkingDir": "C:\\registry" if windows else "",
        },
        "Architecture": "amd64",
        "Os": "windows" if windows else "linux",
        "OsVersion": "10.0.20348.2762" if windows else "",
    }


# -- the host ------------------------------------------------------------------------------------------
class FakeHost:
    """A Docker host reached through stock modules; see the module docstring."""

    def __init__(self, windows=True, docker="docker"):
        self.windows = windows
        self.docker = docker
        self.path = ntpath if windows else posixpath
        self.calls = []
        self.containers = {}  # name -> inspect object
        self.images = {}  # reference -> inspect object
        self.dirs = set()
        self.files = {}  # normalized path -> (text or bytes, controller source or None)
        self.failures = []  # [(argv prefix, rc, stdout, stderr, create_anyway)]
        self.crash_after_inspects = {}  # container name -> inspects answered "running" before it exits
        self.logs = {}
        self.temp_names = iter("abc def ghi jkl mno pqr".split())

    # -- plumbing used by the tests -----------------------------------------------------------------
    def key(self, path):
        return self.path.normpath(path).lower() if self.windows else self.path.normpath(path)

    def add_image(self, ref, **kwargs):
        self.images[ref] = image_inspect(ref, windows=self.windows, **kwargs)
        return self.images[ref]

    def fail(self, *argv_prefix, rc=125, stdout="", stderr="", create_anyway=True):
        """Make the next command starting with `docker *argv_prefix` fail as Docker does."""
        self.failures.append((list(argv_prefix), rc, stdout, stderr, create_anyway))

    def module_calls(self, module=None):
        return [c for c in self.calls if module is None or c.module == module]

    def commands(self):
        return [c.argv for c in self.calls if c.module in COMMAND_MODULES]

    def changing_calls(self):
        """Calls that would change the host when run for real (everything but inspect/logs reads)."""
        out = []
        for call in self.calls:
            if call.module in COMMAND_MODULES and call.argv[1:3] in (["container", "inspect"], ["image", "inspect"], ["container", "logs"]):
                continue
            if call.module == "ansible.builtin.slurp":
                continue
            out.append(call)
        return out

    # -- ActionBase._execute_module -----------------------------------------------------------------
    def execute_module(self, action, module_name=None, module_args=None, tmp=None, task_vars=None, persist_files=False,
                       delete_remote_tmp=None, wrap_async=False, ignore_unknown_opts=False):
        check_mode = bool(action._task.check_mode)
        args = copy.deepcopy(module_args or {})
        self.calls.append(Call("module", module_name, args, check_mode))
        self._check_options(module_name, args)
        if self.windows != module_name.startswith("ansible.windows.") and module_name != "ansible.builtin.slurp":
            raise AssertionError("%s sent to a %s host" % (module_name, "Windows" if self.windows else "Linux"))
        if module_name in COMMAND_MODULES:
            if check_mode:
                # Neither win_command nor command runs in check mode: Ansible answers "skipped".
                return {"changed": False, "skipped": True, "msg": "remote module (%s) does not support check mode" % module_name}
            return self._command(module_name, args)
        short = module_name.rsplit(".", 1)[1].replace("win_", "")
        return getattr(self, "_module_" + short)(args, check_mode)

    def _check_options(self, module_name, args):
        if module_name not in MODULE_OPTIONS:
            raise AssertionError("module %s is not one the plugins may call" % module_name)
        unknown = set(args) - MODULE_OPTIONS[module_name]
        if unknown:
            raise AssertionError("Unsupported parameters for (%s) module: %s" % (module_name, ", ".join(sorted(unknown))))

    # -- file, tempfile, slurp -------------------------------------------------------------------------
    def _module_file(self, args, check_mode):
        path = args.get("path") or args.get("dest") or args.get("name")
        key = self.key(path)
        if args.get("state") == "directory":
            changed = key not in self.dirs
            if not check_mode:
                self.dirs.add(key)
            return {"changed": changed, "path": path, "state": "directory"} if not self.windows else {"changed": changed}
        if args.get("state") == "absent":
            inside = [k for k in list(self.dirs) + list(self.files) if k == key or k.startswith(key + self.path.sep)]
            if not check_mode:
                self.dirs.difference_update(inside)
                for k in inside:
                    self.files.pop(k, None)
            return {"changed": bool(inside)}
        raise AssertionError("file state the plugins should not use: %r" % args)

    def _module_tempfile(self, args, check_mode):
        assert args.get("state") == "directory", args
        base = WINDOWS_TEMP if self.windows else POSIX_TEMP
        path = self.path.join(base, args.get("prefix", "ansible.") + next(self.temp_names) + args.get("suffix", ""))
        self.dirs.add(self.key(path))
        return {"changed": True, "path": path, "state": "directory"} if not self.windows else {"changed": True, "path": path}

    def _module_slurp(self, args, check_mode):
        path = args.get("src") or args.get("path")
        found = self.files.get(self.key(path))
        if found is None:
            return {"failed": True, "msg": "Path %s is not found" % path if self.windows else "file not found: %s" % path}
        content = found[0].encode() if isinstance(found[0], str) else found[0]
        return {"changed": False, "content": base64.b64encode(content).decode(), "encoding": "base64", "source": path}

    # -- copy / win_copy (action plugins, through action_loader.get) ----------------------------------
    def action_loader(self):
        host = self

        class _Loader:
            def get(self, name, task=None, connection=None, play_context=None, loader=None, templar=None, shared_loader_obj=None):
                return _CopyAction(host, name, task)

        return _Loader()

    def copy_action(self, name, task):
        args = copy.deepcopy(task.args)
        check_mode = bool(task.check_mode)
        self.calls.append(Call("action", name, args, check_mode))
        self._check_options(name, args)
        if name not in ("ansible.windows.win_copy", "ansible.builtin.copy"):
            raise AssertionError("action %s is not one the plugins may call" % name)
        if self.windows != (name == "ansible.windows.win_copy"):
            raise AssertionError("%s sent to a %s host" % (name, "Windows" if self.windows else "Linux"))
        if ("src" in args) == ("content" in args):
            return {"failed": True, "msg": "src (or content) is required" if "src" not in args else "src and content are mutually exclusive"}
        dest = args["dest"]
        if "content" in args:
            data = args["content"]
            source = None
        else:
            with open(args["src"], "rb") as handle:
                data = handle.read()
            source = args["src"]
        raw = data.encode() if isinstance(data, str) else data
        old = self.files.get(self.key(dest))
        changed = old is None or old[0] != data
        if changed and not check_mode:
            self.files[self.key(dest)] = (data, source)
            self.dirs.add(self.key(self.path.dirname(dest)))
        result = {"changed": changed, "dest": dest, "checksum": hashlib.sha1(raw).hexdigest(), "operation": "file_copy"}
        if changed:
            result.update(size=len(raw), original_basename=self.path.basename(source or "source"))
        return result

    # -- the docker CLI -----------------------------------------------------------------------------
    def _answer(self, module_name, argv, rc, stdout="", stderr=""):
        cmd = subprocess.list2cmdline(argv) if self.windows else shlex.join(argv)
        result = {
            "changed": True, "cmd": cmd if self.windows else argv, "rc": rc, "stdout": stdout, "stderr": stderr,
            "stdout_lines": stdout.splitlines(), "stderr_lines": stderr.splitlines(),
            "start": "2026-12-04 16:00:00.000000", "end": "2026-12-04 16:00:00.250000", "delta": "0:00:00.250000",
        }
        if rc != 0:
            result.update(failed=True, msg="non-zero return code")
        return result

    def _command(self, module_name, args):
        if "argv" not in args:
            raise AssertionError("%s without argv: %r" % (module_name, args))
        argv = list(args["argv"])
        if argv[0] != self.docker:
            return self._answer(module_name, argv, 2, stderr="%s: command not found on this host model" % argv[0])
        for i, (prefix, rc, stdout, stderr, create_anyway) in enumerate(self.failures):
            if argv[1:1 + len(prefix)] == prefix:
                del self.failures[i]
                if create_anyway and argv[1:3] in (["container", "run"], ["container", "create"]):
                    self._create(argv, running=False, exit_code=128)
                return self._answer(module_name, argv, rc, stdout, stderr)
        words = argv[1:3]
        handler = {
            ("container", "inspect"): self._container_inspect,
            ("image", "inspect"): self._image_inspect,
            ("container", "run"): lambda rest: self._run(argv),
            ("container", "create"): lambda rest: self._run(argv),
            ("container", "stop"): self._stop,
            ("container", "start"): self._start,
            ("container", "rename"): self._rename,
            ("container", "rm"): self._rm,
            ("container", "logs"): self._logs,
            ("image", "load"): self._load,
            ("image", "build"): self._build,
            ("image", "tag"): self._tag,
            ("image", "pull"): self._pull,
        }.get(tuple(words))
        if handler is None:
            raise AssertionError("docker command this model does not know: %r" % argv)
        rc, stdout, stderr = handler(argv[3:])
        return self._answer(module_name, argv, rc, stdout, stderr)

    def _container_inspect(self, names):
        found = []
        for name in names:
            container = self.containers.get(name)
            if container is None:
                return 1, "[]\n", "Error response from daemon: No such container: %s\n" % name
            container = copy.deepcopy(container)
            left = self.crash_after_inspects.get(name)
            if left is not None:
                if left <= 0:
                    self.containers[name]["State"].update(Status="exited", Running=False, ExitCode=1)
                    container = copy.deepcopy(self.containers[name])
                self.crash_after_inspects[name] = left - 1
            found.append(container)
        return 0, json.dumps(found, indent=4) + "\n", ""

    def _find_image(self, ref):
        if ref in self.images:
            return self.images[ref]
        for image in self.images.values():
            if image["Id"] == ref:
                return image
        return None

    def _image_inspect(self, refs):
        found = []
        for ref in refs:
            image = self._find_image(ref)
            if image is None:
                return 1, "[]\n", "Error response from daemon: No such image: %s\n" % ref
            found.append(image)
        return 0, json.dumps(found, indent=4) + "\n", ""

    def _create(self, argv, running, exit_code=0):
        spec = parse_run(argv, self.windows)
        name = spec["name"] or "dreamy_%d" % len(self.containers)
        if name in self.containers:
            raise AssertionError("docker would refuse: Conflict. The container name \"/%s\" is already in use" % name)
        image = self._find_image(spec["image"])
        if image is None:
            raise AssertionError("docker run of an image the host does not have: %s" % spec["image"])
        labels = dict(image["Config"].get("Labels") or {})
        labels.update(spec["label"])
        bindings = {}
        for pub in spec["publish"]:
            bindings.setdefault("%s/%s" % (pub.container_port, pub.protocol), []).append({"HostIp": pub.host_ip, "HostPort": pub.host_port})
        mounts = [
            {
                "Type": "bind",
                "Source": vol.source,
                # Docker on Windows lowercases the container side of a bind mount.
                "Destination": vol.destination.lower() if self.windows else vol.destination,
                "Mode": "ro" if vol.read_only else "",
                "RW": not vol.read_only,
                "Propagation": "" if self.windows else "rprivate",
            }
            for vol in spec["volume"]
        ]
        isolation = spec["isolation"] or (WINDOWS_DEFAULT_ISOLATION if self.windows else "")
        container_id = _hex("container %s %d" % (name, len(self.calls)))
        self.containers[name] = {
            "Id": container_id,
            "Created": "2026-12-04T16:00:00.0000000Z",
            "Path": image["Config"]["Entrypoint"][0],
            "Args": image["Config"]["Entrypoint"][1:] + (spec["command"] or image["Config"]["Cmd"]),
            "State": {
                "Status": "running" if running else ("created" if exit_code == 128 else "exited"),
                "Running": running, "Paused": False, "Restarting": False, "OOMKilled": False, "Dead": False,
                "Pid": 4242 if running else 0, "ExitCode": 0 if running else exit_code, "Error": "",
                "StartedAt": "2026-12-04T16:00:01.0000000Z" if running else "0001-01-01T00:00:00Z",
                "FinishedAt": "0001-01-01T00:00:00Z",
            },
            "Image": image["Id"],
            "Name": "/" + name,
            "RestartCount": 0,
            "Driver": "windowsfilter" if self.windows else "overlay2",
            "Platform": "windows" if self.windows else "linux",
            "HostConfig": {
                "Binds": spec.get("binds", []),
                "NetworkMode": "default" if self.windows else "bridge",
                "PortBindings": bindings,
                "RestartPolicy": {"Name": spec["restart"], "MaximumRetryCount": 0},
                "Isolation": isolation,
            },
            "Mounts": mounts,
            "Config": {
                "Hostname": container_id[:12],
                "User": spec["user"],
                "ExposedPorts": {"5000/tcp": {}},
                "Cmd": spec["command"] or image["Config"]["Cmd"],
                "Image": spec["image"],
                "Entrypoint": image["Config"]["Entrypoint"],
                "Labels": labels,
            },
            "NetworkSettings": {
                "Ports": {k: [{"HostIp": b["HostIp"] or "0.0.0.0", "HostPort": b["HostPort"]} for b in v] for k, v in bindings.items()},
            },
        }
        return name

    def _run(self, argv):
        if argv[2] == "run" and "--detach" not in argv and "-d" not in argv:
            raise AssertionError("docker container run without --detach stays attached to the container: %r" % argv)
        name = self._create(argv, running=argv[2] == "run")
        return 0, self.containers[name]["Id"] + "\n", ""

    def _set_running(self, name, running):
        state = self.containers[name]["State"]
        state.update(Running=running, Status="running" if running else "exited", ExitCode=0 if running else 1073807364)

    def _stop(self, args):
        name = args[-1]
        if name not in self.containers:
            return 1, "", "Error response from daemon: No such container: %s\n" % name
        self._set_running(name, False)
        return 0, name + "\n", ""

    def _start(self, args):
        name = args[-1]
        if name not in self.containers:
            return 1, "", "Error response from daemon: No such container: %s\n" % name
        self._set_running(name, True)
        return 0, name + "\n", ""

    def _rename(self, args):
        old, new = args
        if old not in self.containers:
            return 1, "", "Error response from daemon: No such container: %s\n" % old
        if new in self.containers:
            return 1, "", "Error response from daemon: Error when allocating new name: Conflict. The container name \"/%s\" is already in use\n" % new
        self.containers[new] = self.containers.pop(old)
        self.containers[new]["Name"] = "/" + new
        return 0, "", ""

    def _rm(self, args):
        names = [a for a in args if not a.startswith("-")]
        for name in names:
            if name not in self.containers:
                return 1, "", "Error response from daemon: No such container: %s\n" % name
            if self.containers[name]["State"]["Running"] and "--force" not in args and "-f" not in args:
                return 1, "", "Error response from daemon: cannot remove container \"/%s\": container is running\n" % name
            del self.containers[name]
        return 0, "\n".join(names) + "\n", ""

    def _logs(self, args):
        name = args[-1]
        return 0, self.logs.get(name, ""), ""

    def _load(self, args):
        assert args[:1] == ["--input"] and len(args) == 2, args
        found = self.files.get(self.key(args[1]))
        if found is None:
            return 1, "", "open %s: The system cannot find the file specified.\n" % args[1]
        lines = []
        for image in read_archive(found[1]):
            for tag in image["RepoTags"]:
                self.images[tag] = image_inspect(tag, windows=self.windows, image_id=image["Id"])
                lines.append("Loaded image: %s" % tag)
            if not image["RepoTags"]:
                self.images[image["Id"]] = image_inspect(image["Id"], windows=self.windows, image_id=image["Id"])
                lines.append("Loaded image ID: %s" % image["Id"])
        return 0, "\n".join(lines) + "\n", ""

    def _build(self, args):
        tags, labels, rest = [], {}, list(args)
        isolation = ""
        while rest and rest[0].startswith("-"):
            flag, value = rest[0], rest[1]
            if flag in ("--tag", "-t"):
                tags.append(value)
            elif flag == "--label":
                key, dummy, val = value.partition("=")
                labels[key] = val
            elif flag == "--isolation":
                # `docker build --isolation`: Windows only (process, hyperv, default); Linux engines refuse others.
                if value not in ("process", "hyperv", "default"):
                    return 1, "", "invalid isolation: %r\n" % value
                if not self.windows and value != "default":
                    return 1, "", "Error response from daemon: isolation %s is not supported on linux\n" % value
                isolation = value
            else:
                raise AssertionError("docker build flag this model does not know: %r" % flag)
            rest = rest[2:]
        assert len(rest) == 1, "docker build takes one context folder: %r" % args
        context = self.key(rest[0])
        if context not in self.dirs:
            return 1, "", "unable to prepare context: path %r not found\n" % rest[0]
        if self.key(self.path.join(rest[0], "Dockerfile")) not in self.files:
            return 1, "", "failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory\n"
        self.build_contexts = getattr(self, "build_contexts", [])
        self.build_contexts.append({k: v for k, v in self.files.items() if k.startswith(context + self.path.sep)})
        self.build_isolations = getattr(self, "build_isolations", [])
        self.build_isolations.append(isolation)
        image_id = "sha256:" + _hex("build %s %r" % (tags, sorted(labels.items())))
        for tag in tags:
            self.images[tag] = image_inspect(tag, labels=labels, windows=self.windows, image_id=image_id)
        return 0, "Successfully built %s\nSuccessfully tagged %s\n" % (image_id[7:19], tags[0]), ""

    def _tag(self, args):
        source, target = args
        image = self._find_image(source)
        if image is None:
            return 1, "", "Error response from daemon: No such image: %s\n" % source
        self.images[target] = dict(copy.deepcopy(image), RepoTags=[target])
        return 0, "", ""

    def _pull(self, args):
        ref = args[-1]
        self.add_image(ref)
        return 0, "%s: Pulling from library\nStatus: Downloaded newer image for %s\n" % (ref, ref), ""


class _CopyAction:
    def __init__(self, host, name, task):
        self.host, self.name, self.task = host, name, task

    def run(self, tmp=None, task_vars=None):
        return self.host.copy_action(self.name, self.task)


def make_action(module, fqcn, args, host, check_mode=False, monkeypatch=None):
    """The real action plugin class from `module`, on a connection whose shell is PowerShell (Windows
    host) or sh, with a real Task; its module calls and the copy sub-actions go to `host`."""
    task = Task()
    task.action = fqcn
    task.args = copy.deepcopy(args)
    task.check_mode = check_mode
    shell = PowerShellModule() if host.windows else ShModule()
    connection = types.SimpleNamespace(_shell=shell, transport="winrm" if host.windows else "ssh")
    loader = DataLoader()
    action = module.ActionModule(task, connection, PlayContext(), loader, Templar(loader=loader), None)
    action._shared_loader_obj = types.SimpleNamespace(action_loader=host.action_loader())
    if monkeypatch is not None:
        def _execute_module(action_self, *args, **kwargs):
            return host.execute_module(action_self, *args, **kwargs)

        monkeypatch.setattr(ActionBase, "_execute_module", _execute_module)
    return action
