# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands that win_command runs on the simulated host: `docker` on this machine's dockerd, through a mapping.

The mapping (documented in tests/README.md):
- Images keep their Windows names: `docker image pull <name>` of a name in the host's image map tags the
  mapped local Linux image under that name (no network); other pulls reach only registries on 127.0.0.1 /
  localhost. `docker image inspect` reports Os windows.
- `docker container run`: a host path (C:\\registry-data) becomes its folder on the virtual drive; the container
  paths C:\\data and C:\\config become the Linux image's /var/lib/registry and /etc/docker/registry; the config
  folder is mounted as a translated copy (shadow/<container>/: YAML files with those Windows paths rewritten to
  the Linux ones, other files as they are), refreshed on every run and start. A port published without an
  address (Windows NAT) is published on 127.0.0.1 only. --isolation and --user (ContainerAdministrator) are kept
  in a label and left out for Linux. `docker container inspect` maps all of it back, so the collection sees
  what Windows would show.
- `docker image build` is recorded (argv and the Dockerfile of the context folder, in state.json "builds") and
  answered by building the stand-in image: FROM the host's standin_image with the build's labels.
- `docker version` / `docker info` answer as a Windows engine: Os/OSType windows, and RegistryConfig from the
  daemon.json the simulated docker service read at its last (re)start.
- `dockerd --validate --config-file <file>` checks the file as JSON (UTF-8, UTF-8 with BOM, UTF-16 with BOM).
Anything else fails with a message that names the simulator.
"""

from __future__ import annotations

import json
import ntpath
import re
import shutil
import subprocess
import tempfile
import uuid

import yaml

from .vhost import SimError

LABEL = "io.dockerwin.simwin.run"
HOST_LABEL = "io.dockerwin.simwin.host"
CONTAINER_PATHS = {"c:\\data": "/var/lib/registry", "c:\\config": "/etc/docker/registry"}
DAEMON_JSON = "C:\\ProgramData\\docker\\config\\daemon.json"
LOCAL_REGISTRY = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|198\.1[89]\.\d+\.\d+)(:\d+)?/")
VALUE_OPTIONS = {"--name", "--restart", "--publish", "-p", "--volume", "-v", "--label", "-l", "--isolation", "--user", "-u",
                 "--entrypoint", "--env", "-e", "--network", "--workdir", "-w", "--mount", "--memory", "--cpus"}
FLAG_OPTIONS = {"--detach", "-d", "--rm", "--interactive", "-i", "--tty", "-t", "--read-only"}
SHORT = {"run": ("container", "run"), "create": ("container", "create"), "start": ("container", "start"),
         "stop": ("container", "stop"), "rm": ("container", "rm"), "rename": ("container", "rename"),
         "logs": ("container", "logs"), "pull": ("image", "pull"), "push": ("image", "push"), "tag": ("image", "tag"),
         "rmi": ("image", "rm"), "build": ("image", "build"), "load": ("image", "load"), "images": ("image", "ls"), "ps": ("container", "ls")}


def split_windows_cmdline(cmd):
    """argv of a Windows command line (double quotes group, backslash-quote is a quote; enough for plain commands)."""
    argv = []
    for quoted, bare in re.findall(r'"((?:\\.|[^"])*)"|(\S+)', cmd):
        argv.append(quoted.replace('\\"', '"') if quoted else bare)
    return argv


def join_windows_cmdline(argv):
    return " ".join('"%s"' % a if (not a or re.search(r"\s", a)) else a for a in argv)


def _real(*argv, stdin=None):
    proc = subprocess.run(["docker", *argv], input=stdin, capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


# -- the docker service --------------------------------------------------------------------------------
def decode_json_file(data, path):
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8-sig")
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise SimError("unable to configure the Docker daemon with file %s: %s" % (path, exc))
    if not isinstance(value, dict):
        raise SimError("unable to configure the Docker daemon with file %s: not a JSON object" % path)
    return value


def service_start(host, svc):
    """(Re)start a service; for docker, read daemon.json as the engine does, refusing a file it cannot parse."""
    if svc["name"].lower() == "docker":
        local = host.local(DAEMON_JSON)
        config = decode_json_file(local.read_bytes(), DAEMON_JSON) if local.is_file() else {}
        host.state["daemon"] = config
    svc["state"] = "started"
    svc["restarts"] = svc.get("restarts", 0) + 1


def registry_config(daemon):
    daemon = daemon or {}
    cidrs = ["127.0.0.0/8"]
    index = {"docker.io": {"Name": "docker.io", "Mirrors": list(daemon.get("registry-mirrors") or []), "Secure": True, "Official": True}}
    for entry in daemon.get("insecure-registries") or []:
        if re.match(r"^[0-9.]+/\d+$", entry):
            cidrs.append(entry)
        else:
            index[entry] = {"Name": entry, "Mirrors": [], "Secure": False, "Official": False}
    return {"AllowNondistributableArtifactsCIDRs": None, "AllowNondistributableArtifactsHostnames": None,
            "InsecureRegistryCIDRs": cidrs, "IndexConfigs": index, "Mirrors": list(daemon.get("registry-mirrors") or [])}


# -- entry point ---------------------------------------------------------------------------------------
def run(host, argv, stdin=None, chdir=None):
    """(rc, stdout, stderr) of argv on the simulated host."""
    exe = ntpath.basename(argv[0].replace("/", "\\")).lower()
    if exe in ("docker", "docker.exe"):
        return Docker(host).run(argv[1:], stdin)
    if exe in ("dockerd", "dockerd.exe"):
        if "--validate" in argv and "--config-file" in argv:
            path = argv[argv.index("--config-file") + 1]
            local = host.local(path)
            if not local.is_file():
                return 1, "", "unable to configure the Docker daemon with file %s: open %s: The system cannot find the file specified." % (path, path)
            try:
                decode_json_file(local.read_bytes(), path)
            except SimError as exc:
                return 1, "", str(exc)
            return 0, "configuration OK\n", ""
        return 1, "", "simulated host: dockerd runs only as --validate --config-file <file>"
    return 2, "", "simulated host: win_command runs docker and dockerd --validate only, not %r" % argv[0]


class Docker:
    def __init__(self, host):
        self.host = host

    def run(self, args, stdin):
        args = list(args)
        globals_ = []
        while args and args[0].startswith("-"):
            option = args.pop(0)
            if option in ("--config", "-H", "--host", "--context", "-c"):
                value = args.pop(0)
                if option == "--config":
                    local = self.host.local(value)
                    local.mkdir(parents=True, exist_ok=True)
                    globals_ += ["--config", str(local)]
                elif option in ("-H", "--host") and value.lower().startswith("npipe://"):
                    continue
                else:
                    return 1, "", "simulated host: docker %s %s is not simulated (the host's engine is the default npipe)" % (option, value)
            else:
                return 1, "", "simulated host: docker global option %s is not simulated" % option
        if not args:
            return 1, "", "simulated host: docker without a command"
        if args[0] in SHORT:
            args = list(SHORT[args[0]]) + args[1:]
        if args[0] in ("login", "logout"):
            return _real(*globals_, *args, stdin=stdin)
        if args[0] in ("version", "info"):
            return self.version_info(args)
        if len(args) < 2:
            return 1, "", "simulated host: docker %s is not simulated" % args[0]
        group, command, rest = args[0], args[1], args[2:]
        method = getattr(self, "%s_%s" % (group, command), None)
        if method is None:
            return 1, "", "simulated host: docker %s %s is not simulated" % (group, command)
        return method(rest, globals_, stdin)

    # -- engine ------------------------------------------------------------------------------------
    def _cached(self, *argv):
        """The machine's own `docker version`/`docker info` JSON, read once per host (the Windows parts are laid
        over it on every call): a docker CLI call costs seconds on a loaded machine."""
        path = self.host.root / ("engine-%s.json" % argv[0])
        if path.is_file():
            return 0, path.read_text(), ""
        rc, out, err = _real(*argv)
        if rc == 0:
            path.write_text(out)
        return rc, out, err

    def version_info(self, args):
        fmt = args[args.index("--format") + 1] if "--format" in args else None
        if args[0] == "version":
            if fmt != "{{json .Server}}":
                return 1, "", "simulated host: docker version answers --format '{{json .Server}}' only"
            rc, out, err = self._cached("version", "--format", "{{json .Server}}")
            if rc:
                return rc, out, err
            server = json.loads(out)
            server.update(Os="windows", Arch="amd64", KernelVersion="10.0 %d (%d.1.amd64fre.simwin)" % (self.host.release["build"], self.host.release["build"]))
            for component in server.get("Components") or []:
                component.setdefault("Details", {})["Os"] = "windows"
            return 0, json.dumps(server) + "\n", ""
        if fmt != "{{json .}}":
            return 1, "", "simulated host: docker info answers --format '{{json .}}' only"
        rc, out, err = self._cached("info", "--format", "{{json .}}")
        if rc:
            return rc, out, err
        info = json.loads(out)
        if self.host.state["services"]["docker"]["state"] != "started":
            return 1, "", "error during connect: this error may indicate that the docker daemon is not running"
        info.update(OSType="windows", OperatingSystem=self.host.release["name"], Architecture="x86_64",
                    KernelVersion="10.0 %d (%d.1.amd64fre.simwin)" % (self.host.release["build"], self.host.release["build"]),
                    Driver="windowsfilter", DockerRootDir="C:\\ProgramData\\docker", Isolation="process",
                    RegistryConfig=registry_config(self.host.state.get("daemon")))
        return 0, json.dumps(info) + "\n", ""

    # -- images --------------------------------------------------------------------------------------
    def image_inspect(self, rest, globals_, stdin):
        rc, out, err = _real("image", "inspect", *rest)
        if rc == 0 and "--format" not in rest:
            found = json.loads(out)
            for image in found:
                image.update(Os="windows", Architecture="amd64", OsVersion="%s.%d" % (self.host.version[:-2], self.host.release["ubr"]))
            out = json.dumps(found)
        return rc, out, err

    def image_pull(self, rest, globals_, stdin):
        ref = rest[-1]
        mapped = self.host.config["image_map"].get(ref)
        if mapped:
            rc, out, err = _real("image", "tag", mapped, ref)
            if rc:
                return rc, out, err
            return 0, "%s: Pulling from simulated image map\nStatus: Downloaded newer image for %s\n%s\n" % (ref.split(":")[0], ref, ref), ""
        if LOCAL_REGISTRY.match(ref):
            return _real(*globals_, "image", "pull", *rest)
        return 1, "", ("Error response from daemon: simulated host: %s is neither in the host's image map nor on a registry on this "
                       "machine (no pulls from the internet)" % ref)

    def image_push(self, rest, globals_, stdin):
        if not LOCAL_REGISTRY.match(rest[-1]):
            return 1, "", "simulated host: pushes go to registries on this machine only, not %s" % rest[-1]
        return _real(*globals_, "image", "push", *rest)

    def image_tag(self, rest, globals_, stdin):
        return _real("image", "tag", *rest)

    def image_rm(self, rest, globals_, stdin):
        return _real("image", "rm", *rest)

    def image_load(self, rest, globals_, stdin):
        rest = list(rest)
        for option in ("--input", "-i"):
            if option in rest:
                index = rest.index(option) + 1
                rest[index] = str(self.host.local(rest[index]))
        return _real("image", "load", *rest)

    def image_build(self, rest, globals_, stdin):
        context = rest[-1]
        options = rest[:-1]
        local = self.host.local(context)
        dockerfile = local / "Dockerfile"
        if not dockerfile.is_file():
            return 1, "", "unable to prepare context: unable to evaluate symlinks in Dockerfile path: %s\\Dockerfile not found" % context
        tags, labels = [], []
        index = 0
        while index < len(options):
            option = options[index]
            if option in ("--tag", "-t", "--label", "--isolation", "--file", "-f", "--build-arg"):
                value = options[index + 1]
                (tags if option in ("--tag", "-t") else labels if option == "--label" else []).append(value)
                index += 2
            elif option in ("--quiet", "-q", "--pull", "--no-cache"):
                index += 1
            else:
                return 1, "", "simulated host: docker image build option %s is not simulated" % option
        self.host.state["builds"].append({"argv": ["docker", *globals_, "image", "build", *rest], "context": context,
                                          "dockerfile": dockerfile.read_text(), "files": sorted(p.name for p in local.iterdir())})
        standin = self.host.config.get("standin_image")
        if not standin:
            return 1, "", "simulated host: no stand-in image configured for docker image build"
        with tempfile.TemporaryDirectory() as work:
            pairs = [label.split("=", 1) for label in labels]
            text = "FROM %s\n" % standin + "".join("LABEL %s=%s\n" % (json.dumps(k), json.dumps(v)) for k, v in pairs)
            with open(work + "/Dockerfile", "w") as handle:
                handle.write(text)
            argv = ["image", "build", "--quiet"]
            for tag in tags:
                argv += ["--tag", tag]
            return _real(*argv, work)

    # -- containers ----------------------------------------------------------------------------------
    def _shadow(self, name, source):
        """A translated copy of a Windows config folder for the Linux container (see module docs). The folder itself
        is kept when refreshed (a container binds its inode), only its content is replaced."""
        shadow = self.host.root / "shadow" / name
        shadow.mkdir(parents=True, exist_ok=True)
        for entry in list(shadow.iterdir()):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        local = self.host.local(source)
        if local.is_dir():
            shutil.copytree(local, shadow, dirs_exist_ok=True)
        for path in shadow.rglob("*.yml"):
            try:
                data = yaml.safe_load(path.read_text())
            except yaml.YAMLError:
                continue
            path.write_text(yaml.safe_dump(_translate(data), sort_keys=False))
        shadow.chmod(0o755)
        for path in shadow.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        return shadow

    def container_run(self, rest, globals_, stdin, create=False):
        rest = list(rest)
        opts, index = [], 0
        while index < len(rest) and rest[index].startswith("-"):
            option = rest[index]
            if option in VALUE_OPTIONS:
                opts.append((option, rest[index + 1]))
                index += 2
            elif option in FLAG_OPTIONS:
                opts.append((option, None))
                index += 1
            else:
                return 1, "", "simulated host: docker container run option %s is not simulated" % option
        image, command = rest[index], rest[index + 1:]
        record = {"binds": [], "publish": [], "isolation": "", "user": "", "cmd": command}
        name = next((v for o, v in opts if o == "--name"), "")
        argv = ["container", "create" if create else "run"]
        for option, value in opts:
            if option in ("--publish", "-p"):
                record["publish"].append(value)
                parts = value.split(":")
                argv += ["--publish", value if len(parts) == 3 else "127.0.0.1:" + value]
            elif option in ("--volume", "-v"):
                match = re.match(r"^([A-Za-z]:[^:]*|[^:]+):([A-Za-z]:[^:]*|[^:]+)(?::(ro|rw))?$", value)
                if not match:
                    return 1, "", "simulated host: cannot read the volume %r" % value
                source, target, mode = match.groups()
                linux_target = _container_path(target)
                if linux_target == CONTAINER_PATHS["c:\\config"]:
                    linux_source = str(self._shadow("%s-%s" % (name or "anonymous", uuid.uuid4().hex[:8]), source))
                else:
                    linux_source = str(self.host.local(source))
                    self.host.local(source).mkdir(parents=True, exist_ok=True)
                record["binds"].append([value, source, target, linux_source, linux_target])
                argv += ["--volume", "%s:%s%s" % (linux_source, linux_target, ":" + mode if mode else "")]
            elif option == "--isolation":
                record["isolation"] = value
            elif option in ("--user", "-u"):
                record["user"] = value
            elif value is None:
                argv.append(option)
            else:
                argv += [option, value]
        argv += ["--label", "%s=%s" % (LABEL, json.dumps(record)), "--label", "%s=%s" % (HOST_LABEL, self.host.config["host_id"]), image]
        argv += [_container_path(arg) if re.match(r"^[A-Za-z]:\\", arg) else arg for arg in command]
        return _real(*argv)

    def container_create(self, rest, globals_, stdin):
        return self.container_run(rest, globals_, stdin, create=True)

    def container_inspect(self, rest, globals_, stdin):
        rc, out, err = _real("container", "inspect", *rest)
        if rc or "--format" in rest:
            return rc, out, err
        return 0, json.dumps([self._windows_view(c) for c in json.loads(out)]), err

    def _windows_view(self, container):
        config = container.get("Config") or {}
        labels = config.get("Labels") or {}
        if LABEL not in labels:
            return container
        record = json.loads(labels.pop(LABEL))
        labels.pop(HOST_LABEL, None)
        host_config = container.setdefault("HostConfig", {})
        config["Cmd"] = record["cmd"] or config.get("Cmd")
        config["User"] = record["user"]
        host_config["Isolation"] = record["isolation"] or "process"
        host_config["Binds"] = [b[0] for b in record["binds"]]
        wanted_ip = {}
        for value in record["publish"]:
            parts = value.split(":")
            wanted_ip[parts[-2]] = parts[0] if len(parts) == 3 else ""
        for bindings in (host_config.get("PortBindings") or {}).values():
            for binding in bindings or []:
                binding["HostIp"] = wanted_ip.get(binding.get("HostPort"), binding.get("HostIp", ""))
        by_linux = {(b[3], b[4]): b for b in record["binds"]}
        for mount in container.get("Mounts") or []:
            bind = by_linux.get((mount.get("Source"), mount.get("Destination")))
            if bind:
                mount["Source"], mount["Destination"] = bind[1], bind[2]
        container["Platform"] = "windows"
        container["Driver"] = "windowsfilter"
        return container

    def container_start(self, rest, globals_, stdin):
        for name in [a for a in rest if not a.startswith("-")]:
            rc, out, dummy = _real("container", "inspect", name)
            if rc == 0:
                record = json.loads(((json.loads(out)[0].get("Config") or {}).get("Labels") or {}).get(LABEL) or "null")
                for bind in (record or {}).get("binds", []):
                    if bind[4] == CONTAINER_PATHS["c:\\config"]:
                        self._refresh_shadow(bind)
        return _real("container", "start", *rest)

    def _refresh_shadow(self, bind):
        shadow_name = bind[3].rsplit("/", 1)[1]
        self._shadow(shadow_name, bind[1])

    def container_ls(self, rest, globals_, stdin):
        """Only the containers of this simulated host (the machine's dockerd runs other tests' containers too)."""
        if "--format" in rest:
            return 1, "", "simulated host: docker container ls --format is not simulated"
        return _real("container", "ls", *rest, "--filter", "label=%s=%s" % (HOST_LABEL, self.host.config["host_id"]))

    def container_stop(self, rest, globals_, stdin):
        return _real("container", "stop", *rest)

    def container_rm(self, rest, globals_, stdin):
        return _real("container", "rm", *rest)

    def container_rename(self, rest, globals_, stdin):
        return _real("container", "rename", *rest)

    def container_logs(self, rest, globals_, stdin):
        return _real("container", "logs", *rest)


def _container_path(path):
    """A Windows path inside the container -> the Linux image's path (C:\\data, C:\\config; others under /simwin)."""
    norm = ntpath.normpath(path.replace("/", "\\"))
    lower = norm.lower()
    for windows, linux in CONTAINER_PATHS.items():
        if lower == windows or lower.startswith(windows + "\\"):
            return linux + norm[len(windows):].replace("\\", "/")
    return "/simwin/" + norm[3:].replace("\\", "/") if re.match(r"^[A-Za-z]:\\", norm) else path


def _translate(value):
    if isinstance(value, dict):
        return {k: _translate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_translate(v) for v in value]
    if isinstance(value, str) and re.match(r"^[A-Za-z]:\\", value):
        return _container_path(value)
    return value
