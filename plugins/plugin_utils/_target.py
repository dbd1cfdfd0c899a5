# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One facade over the stock modules that the action plugins drive on a target.

Windows targets (PowerShell shell) get ansible.windows modules, everything else ansible.builtin ones.
This file is the only place where the two paths differ in module names and path flavour, so the
Linux end-to-end tests exercise the same logic that runs on Windows.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import ntpath
import posixpath

from ansible.errors import AnsibleActionFail

WINDOWS_MODULES = {
    "command": "ansible.windows.win_command",
    "file": "ansible.windows.win_file",
    "copy": "ansible.windows.win_copy",
    "slurp": "ansible.builtin.slurp",
    "tempfile": "ansible.windows.win_tempfile",
    "service": "ansible.windows.win_service",
    "hosts": "ansible.windows.win_hosts",
    "certificate_store": "ansible.windows.win_certificate_store",
    "acl": "ansible.windows.win_acl",
    "acl_inheritance": "ansible.windows.win_acl_inheritance",
    "uri": "ansible.windows.win_uri",
}
POSIX_MODULES = {
    "command": "ansible.builtin.command",
    "file": "ansible.builtin.file",
    "copy": "ansible.builtin.copy",
    "slurp": "ansible.builtin.slurp",
    "tempfile": "ansible.builtin.tempfile",
    "service": "ansible.builtin.service",
    "hosts": "ansible.builtin.lineinfile",
    "uri": "ansible.builtin.uri",
}


class Target:
    """The host an action plugin works on, seen through stock modules."""

    def __init__(self, action, task_vars, docker_cli="docker", docker_options=()):
        self._action = action
        self._task_vars = task_vars
        self.windows = getattr(action._connection._shell, "SHELL_FAMILY", "") == "powershell"
        self.modules = WINDOWS_MODULES if self.windows else POSIX_MODULES
        self.path = ntpath if self.windows else posixpath
        self.docker_cli = docker_cli
        # Global docker CLI options put before every sub-command (`-H <host>`, `--config <dir>`): argv, not
        # environment, because win_command has no environment option.
        self.docker_options = [str(o) for o in docker_options]
        self.check_mode = bool(action._task.check_mode)

    # -- plumbing -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _real_run(self):
        """Run a read-only call for real even in check mode (inspect, ldd, stat)."""
        task = self._action._task
        saved = task.check_mode
        task.check_mode = False
        try:
            yield
        finally:
            task.check_mode = saved

    def module(self, kind, args, read_only=False):
        """Execute the stock module for `kind` (command, file, copy, slurp) with `args`."""
        name = self.modules[kind]
        if read_only:
            with self._real_run():
                return self._action._execute_module(module_name=name, module_args=args, task_vars=self._task_vars)
        return self._action._execute_module(module_name=name, module_args=args, task_vars=self._task_vars)

    def action(self, kind, args, secret=False):
        """Run the stock *action* plugin for `kind` (copy/win_copy transfer files from the controller).

        secret: the sub-task runs with no_log and without diff, so the content never reaches a result or a log.
        """
        name = self.modules[kind]
        task = self._action._task.copy()
        task.args = args
        if secret:
            task.no_log = True
            task.diff = False
        plugin = self._action._shared_loader_obj.action_loader.get(
            name,
            task=task,
            connection=self._action._connection,
            play_context=self._action._play_context,
            loader=self._action._loader,
            templar=self._action._templar,
            shared_loader_obj=self._action._shared_loader_obj,
        )
        return plugin.run(task_vars=self._task_vars)

    # -- commands -----------------------------------------------------------------------------
    def run(self, argv, read_only=False, stdin=None):
        """Run an argv list (never a shell string); returns the module result, rc included."""
        args = {"argv": [str(a) for a in argv]}
        if stdin is not None:
            args["stdin"] = stdin
            if not self.windows:
                args["stdin_add_newline"] = False
        result = self.module("command", args, read_only=read_only)
        result.setdefault("rc", 1 if result.get("failed") else 0)
        return result

    def docker(self, *args, read_only=False, stdin=None):
        return self.run([self.docker_cli, *self.docker_options, *args], read_only=read_only, stdin=stdin)

    def docker_checked(self, *args, what, read_only=False):
        """Run a docker command that must succeed; fail the task with Docker's own words otherwise."""
        result = self.docker(*args, read_only=read_only)
        if result["rc"] != 0:
            raise AnsibleActionFail(
                "%s failed (rc=%s): %s" % (what, result["rc"], command_error(result)),
                result={"cmd": result.get("cmd"), "stderr": result.get("stderr", "")},
            )
        return result

    def docker_json(self, *args):
        """`docker ... inspect` style call: parsed JSON list, or None when the object does not exist."""
        result = self.docker(*args, read_only=True)
        if result["rc"] != 0:
            error = command_error(result)
            if "no such" in error.lower() or "not found" in error.lower():
                return None
            raise AnsibleActionFail("docker %s failed: %s" % (" ".join(args[:2]), error))
        try:
            return json.loads(result.get("stdout") or "null")
        except ValueError as exc:
            raise AnsibleActionFail("docker %s printed no JSON: %s" % (" ".join(args[:2]), exc)) from exc

    def http_answers(self, url, statuses=(200, 401), timeout=5):
        """Whether a GET of `url` from the target gets one of `statuses` (certificates not checked: this asks
        whether a server answers, not whom to trust). uri/win_uri; their option for the timeout differs."""
        args = {"url": url, "method": "GET", "status_code": list(statuses), "validate_certs": False}
        args["url_timeout" if self.windows else "timeout"] = timeout
        return not self.module("uri", args, read_only=True).get("failed")

    # -- files --------------------------------------------------------------------------------
    def ensure_dir(self, path, mode=None):
        """Make a folder (mode applies on POSIX targets only)."""
        args = {"path": path, "state": "directory"}
        if mode and not self.windows:
            args["mode"] = mode
        return self.module("file", args)

    def write_file(self, path, content, mode=None, backup=False, secret=False):
        """Write text content atomically through copy/win_copy (they handle check mode and diff); with secret,
        nothing of the content is logged or diffed (see action())."""
        args = {"content": content, "dest": path}
        if backup:
            args["backup"] = True
        if mode and not self.windows:
            args["mode"] = mode
        return self.action("copy", args, secret=secret)

    def restrict_dir(self, path, principals, readers=()):
        """Owner-only access to a folder and what it holds. POSIX: mode 0700 (files are written 0600).
        Windows: full control for each of `principals` and read for each of `readers` (names or SIDs), inherited
        by files and sub-folders, then the inherited entries removed (explicit entries first, so the folder never
        has an empty DACL). Returns the module results."""
        if not self.windows:
            return [self.module("file", {"path": path, "state": "directory", "mode": "0700"})]
        results = []
        for principal, rights in [(p, "FullControl") for p in principals] + [(r, "ReadAndExecute") for r in readers]:
            results.append(self.module("acl", {
                "path": path, "user": principal, "rights": rights, "type": "allow", "state": "present",
                "inherit": "ContainerInherit, ObjectInherit", "propagation": "None",
            }))
        results.append(self.module("acl_inheritance", {"path": path, "state": "absent", "reorganize": False}))
        return results

    def upload(self, src, dest, mode=None, backup=False):
        """Copy a controller file to the target (mode applies on POSIX targets only); with backup, copy/win_copy
        keep the replaced file beside it and return its path as backup_file."""
        args = {"src": src, "dest": dest}
        if backup:
            args["backup"] = True
        if mode and not self.windows:
            args["mode"] = mode
        return self.action("copy", args)

    def read_file(self, path):
        """File content as bytes, or None when absent. Never printed: the slurp result stays here."""
        with self._real_run():
            result = self._action._execute_module(
                module_name=self.modules["slurp"], module_args={"src": path}, task_vars=self._task_vars
            )
        if result.get("failed"):
            if "not found" in result.get("msg", "").lower() or "no such file" in result.get("msg", "").lower():
                return None
            raise AnsibleActionFail("could not read %s: %s" % (path, result.get("msg")))
        return base64.b64decode(result["content"])

    def work_dir(self):
        """A fresh folder on the target for build contexts and archives; remove it with remove().

        Not the connection's own tmp folder: the copy actions used on the way remove that one.
        """
        result = self.module("tempfile", {"state": "directory", "prefix": "dockerwin-registry-"})
        if result.get("failed"):
            raise AnsibleActionFail("could not make a work folder on the target: %s" % result.get("msg"))
        return result["path"]

    def remove(self, path):
        return self.module("file", {"path": path, "state": "absent"})


def command_error(result):
    """The most useful line(s) a failed command left: stderr, then stdout, then msg."""
    for key in ("stderr", "stdout", "msg"):
        text = (result.get(key) or "").strip()
        if text:
            return text
    return "no output"


def validated_args(action, argument_spec, **kwargs):
    """The task's arguments checked by ``action.validate_argument_spec``, on a copy of the spec: validation fills
    sub-option defaults into the default values it is given, which would otherwise change the plugin's own spec."""
    dummy, args = action.validate_argument_spec(argument_spec=copy.deepcopy(argument_spec), **kwargs)
    return args
