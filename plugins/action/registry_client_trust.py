# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make a Docker host trust and reach a registry: its CA in certs.d (and optionally the Windows
LocalMachine Root store), and a hosts-file name for it."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _client as C
from ansible_collections.dockerwin.registry.plugins.plugin_utils._target import Target, validated_args

ARGUMENT_SPEC = {
    "registry": {"type": "str", "required": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "ca_cert": {"type": "str", "default": ""},
    "ca_pending": {"type": "bool", "default": False},
    "certs_d_root": {"type": "str", "default": ""},
    "root_store": {"type": "bool", "default": False},
    "hosts_names": {"type": "list", "elements": "str", "default": []},
    "hosts_address": {"type": "str", "default": ""},
    "hosts_file": {"type": "str", "default": ""},
}
LINUX_HOSTS = "/etc/hosts"


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_diff = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = validated_args(self, ARGUMENT_SPEC)
        target = Target(self, task_vars)
        try:
            result.update(_Trust(target, args).converge())
        except C.ClientError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


class _Trust:
    def __init__(self, target, args):
        self.target = target
        self.args = args
        self.windows = target.windows
        self.present = args["state"] == "present"
        C.split_registry(args["registry"])  # fails early on a URL or a path
        if args["root_store"] and not self.windows:
            raise AnsibleActionFail("root_store=true: the LocalMachine Root store exists on Windows only; on Linux certs.d is enough")
        if args["hosts_file"] and self.windows:
            raise AnsibleActionFail(
                "hosts_file=%r: on Windows ansible.windows.win_hosts edits the system hosts file and takes no path; leave it empty"
                % args["hosts_file"]
            )
        if bool(args["hosts_names"]) != bool(args["hosts_address"]) and self.present:
            raise AnsibleActionFail("hosts_names and hosts_address go together: give both to add a hosts-file name, or neither")
        self.certs = C.pem_certificates(args["ca_cert"]) if args["ca_cert"] else []
        if args["ca_pending"] and (args["ca_cert"] or not target.check_mode or not self.present):
            raise AnsibleActionFail("ca_pending=true is for check mode only, with state=present and no ca_cert: "
                                    "it stands for a CA that the registry's own check-mode run has not created yet")

    def converge(self):
        steps = []
        if self.certs:
            steps += self.ca()
        elif self.args["ca_pending"]:
            # Check mode on a fresh registry host: its CA does not exist yet, the real run reads and trusts it.
            folder = C.certs_d_dir(self.args["registry"], self.windows, self.args["certs_d_root"] or None)
            steps.append(("trust the CA that the registry host will create, in %s" % folder, {"changed": True}))
        if self.args["hosts_names"]:
            steps.append(self.hosts())
        failed = [s for s in steps if s[1].get("failed")]
        if failed:
            name, step = failed[0]
            raise AnsibleActionFail("%s failed: %s" % (name, step.get("msg")), result=step)
        result = {
            "changed": any(step.get("changed") for dummy, step in steps),
            "ca_path": C.certs_d_ca(self.args["registry"], self.windows, self.args["certs_d_root"] or None) if self.certs else "",
            "thumbprints": [C.thumbprint(der) for der in self.certs],
            "steps": [name for name, step in steps if step.get("changed")],
        }
        diffs = [step["diff"] for dummy, step in steps if step.get("diff")]
        if diffs:
            result["diff"] = diffs
        return result

    def ca(self):
        registry, root = self.args["registry"], self.args["certs_d_root"] or None
        folder = C.certs_d_dir(registry, self.windows, root)
        path = C.certs_d_ca(registry, self.windows, root)
        steps = []
        if self.present:
            steps.append(("create %s" % folder, self.target.ensure_dir(folder)))
            text = self.args["ca_cert"].strip() + "\n"
            steps.append(("write %s" % path, self.target.write_file(path, text, mode="0644")))
            if self.args["root_store"]:
                if self.target.check_mode and steps[-1][1].get("changed"):
                    # The CA file is not there yet in check mode: win_certificate_store would fail to read it.
                    steps.append(("import into LocalMachine\\Root", {"changed": True}))
                else:
                    steps.append(("import into LocalMachine\\Root", self.target.module("certificate_store", {
                        "path": path, "store_name": "Root", "store_location": "LocalMachine", "state": "present"})))
        else:
            if self.args["root_store"]:
                for der in self.certs:
                    steps.append(("remove %s from LocalMachine\\Root" % C.thumbprint(der), self.target.module("certificate_store", {
                        "thumbprint": C.thumbprint(der), "store_name": "Root", "store_location": "LocalMachine", "state": "absent"})))
            # Only the file this role writes goes; the folder may hold client certificates of the operator.
            steps.append(("remove %s" % path, self.target.remove(path)))
        return steps

    def hosts(self):
        names, address = self.args["hosts_names"], self.args["hosts_address"]
        if self.windows:
            args = {"state": "present" if self.present else "absent", "canonical_name": names[0]}
            if address:
                args["ip_address"] = address
            if self.present:
                args.update(aliases=names[1:], action="set") if names[1:] else args.update(action="set")
            return ("hosts entry %s" % names[0], self.target.module("hosts", args))
        args = {"path": self.args["hosts_file"] or LINUX_HOSTS, "regexp": C.hosts_regexp(names),
                "state": "present" if self.present else "absent"}
        if self.present:
            args["line"] = C.hosts_line(address, names)
        return ("hosts entry %s" % names[0], self.target.module("hosts", args))
