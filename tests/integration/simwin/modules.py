# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stock Windows modules, answered on the simulated host.

Each call's arguments are checked against the module's own documentation (DOCUMENTATION of the .py or
.yml beside the .ps1 that ansible-core sent): an unknown option, a missing required one, a wrong type or
a value outside `choices` fails the call with a message naming the option, as Ansible.Basic does on Windows.
Results carry the keys the modules document; check mode changes nothing and reports what would change;
modules without check-mode support are skipped in check mode with the wrapper's own message.
"""

from __future__ import annotations

import ast
import base64
import datetime
import hashlib
import json
import ntpath
import os
import re
import shutil
import time
import uuid
import zipfile

import yaml

from .vhost import ENV, HOSTS_FILE, PROFILE, TEMP, USER, SimError

from . import dockermap

# Options the action plugins of ansible.windows send that the docs do not list (win_copy's internal passes,
# the diff peek of ansible-core's _get_diff_data).
INTERNAL_OPTIONS = {
    "ansible.windows.win_copy": {"_copy_mode", "_original_basename", "files", "directories", "symlinks"},
    "ansible.windows.win_file": {"_diff_peek"},
}
NO_CHECK_MODE = {"ansible.windows.win_command", "ansible.windows.win_shell"}
_DOCS = {}


# -- argument checks ----------------------------------------------------------------------------------
def documentation(module, module_path):
    """The module's DOCUMENTATION (parsed) from the .py/.yml beside its .ps1 on the controller."""
    if module in _DOCS:
        return _DOCS[module]
    base = os.path.splitext(module_path)[0]
    doc = None
    if os.path.exists(base + ".py"):
        tree = ast.parse(open(base + ".py").read())
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
                doc = yaml.safe_load(node.value.value)
    elif os.path.exists(base + ".yml"):
        doc = yaml.safe_load(open(base + ".yml").read()).get("DOCUMENTATION")
    if not isinstance(doc, dict):
        raise SimError("no documentation found for %s beside %s: cannot check its arguments" % (module, module_path))
    fragments = doc.get("extends_documentation_fragment") or []
    for fragment in [fragments] if isinstance(fragments, str) else fragments:
        for name, spec in _fragment_options(module_path, fragment).items():
            doc.setdefault("options", {}).setdefault(name, spec)
    _DOCS[module] = doc
    return doc


_RETURNS = {}
# Internal passes of win_copy's action plugin: it builds the task result itself.
RETURN_EXEMPT = {"ansible.windows.win_copy"}


def documented_returns(module, module_path):
    """Keys the module's RETURN documents as returned always/on success."""
    if module not in _RETURNS:
        base = os.path.splitext(module_path)[0]
        ret = None
        if os.path.exists(base + ".py"):
            for node in ast.parse(open(base + ".py").read()).body:
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RETURN":
                    ret = yaml.safe_load(node.value.value)
        elif os.path.exists(base + ".yml"):
            ret = yaml.safe_load(open(base + ".yml").read()).get("RETURN")
        _RETURNS[module] = sorted(k for k, v in (ret or {}).items()
                                  if isinstance(v, dict) and str(v.get("returned", "")).lower() in ("always", "success"))
    return _RETURNS[module]


def _fragment_options(module_path, fragment):
    """Options of a collection doc fragment (ns.coll.name or ns.coll.name.variable) that a module extends."""
    parts = fragment.split(".")
    if len(parts) < 3:
        raise SimError("doc fragment %s of %s is not a collection fragment: not simulated" % (fragment, module_path))
    root = module_path[:module_path.index("ansible_collections") + len("ansible_collections")]
    path = os.path.join(root, parts[0], parts[1], "plugins", "doc_fragments", parts[2] + ".py")
    variable = parts[3].upper() if len(parts) > 3 else "DOCUMENTATION"
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == variable:
            return (yaml.safe_load(node.value.value) or {}).get("options") or {}
    raise SimError("doc fragment %s not found in %s" % (fragment, path))


def _coerce(module, name, spec, value):
    kind = spec.get("type", "str")
    if value is None:
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in ("yes", "true", "on", "1", "y"):
            return True
        if text in ("no", "false", "off", "0", "n"):
            return False
        raise SimError("argument for %s is of type %s and we were unable to convert to bool" % (name, type(value).__name__))
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SimError("argument for %s is of type %s and we were unable to convert to int" % (name, type(value).__name__))
    if kind == "list":
        if isinstance(value, list):
            return value
        return [v.strip() for v in str(value).split(",")] if isinstance(value, str) else [value]
    if kind == "dict":
        if not isinstance(value, dict):
            raise SimError("argument for %s is of type %s and we were unable to convert to dict" % (name, type(value).__name__))
        return value
    if kind in ("str", "path"):
        if isinstance(value, (dict, list)):
            raise SimError("argument for %s is of type %s and we were unable to convert to %s" % (name, type(value).__name__, kind))
        return str(value) if not isinstance(value, bool) else str(value)
    return value


def check_args(module, module_path, raw):
    """Validated parameters (aliases resolved, defaults set, types converted); SimError on bad input."""
    doc = documentation(module, module_path)
    options = doc.get("options") or {}
    internal = {k: v for k, v in raw.items() if k.startswith("_ansible_")}
    ignore_unknown = bool(internal.get("_ansible_ignore_unknown_opts"))
    allowed_internal = INTERNAL_OPTIONS.get(module, set())
    names = {}
    for name, spec in options.items():
        names[name] = name
        for alias in spec.get("aliases") or []:
            names[alias] = name
    params, unknown = {}, []
    for key, value in raw.items():
        if key.startswith("_ansible_"):
            continue
        if key in allowed_internal:
            params[key] = value
            continue
        if key == "_raw_params" and "cmd" in options:  # free-form win_command
            params["cmd"] = value
            continue
        if key not in names:
            unknown.append(key)
            continue
        params[names[key]] = value
    if unknown and not ignore_unknown:
        raise SimError("Unsupported parameters for (%s) module: %s. Supported parameters include: %s"
                       % (module, ", ".join(sorted(unknown)), ", ".join(sorted(names))))
    missing = [name for name, spec in options.items() if spec.get("required") and params.get(name) is None]
    if missing:
        raise SimError("missing required arguments: %s" % ", ".join(sorted(missing)))
    for name, spec in options.items():
        if params.get(name) is None:
            params[name] = spec.get("default")
            if params[name] is None:
                continue
        params[name] = _coerce(module, name, spec, params[name])
        choices = spec.get("choices")
        if choices and params[name] is not None:
            values = params[name] if isinstance(params[name], list) else [params[name]]
            if spec.get("type", "str") == "str" and isinstance(params[name], str) and "," in params[name]:
                values = [v.strip() for v in params[name].split(",")]  # flag enums such as win_acl inherit
            lowered = {str(c).lower() for c in choices}
            bad = [v for v in values if str(v).lower() not in lowered]
            if bad:
                raise SimError("value of %s must be one of: %s, got: %s" % (name, ", ".join(str(c) for c in choices), params[name]))
    return params, internal


# -- helpers ------------------------------------------------------------------------------------------
def sha1(path):
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def _backup(host, dest, check):
    """Backup-File of ansible.windows: <dest>.<pid>.<yyyyMMdd-HHmmss>.bak beside the file."""
    name = "%s.%d.%s.bak" % (host.absolute(dest), os.getpid(), time.strftime("%Y%m%d-%H%M%S"))
    if not check:
        shutil.copy2(host.local(dest), host.local(name))
    return name


def _stat(host, path, checksum=True):
    local = host.local(path)
    if not local.exists():
        return {"exists": False}
    st = local.stat()
    out = {
        "exists": True, "path": host.absolute(path), "filename": local.name, "isdir": local.is_dir(),
        "isreg": local.is_file(), "islnk": False, "isshared": False, "ishidden": False, "isreadonly": False,
        "isarchive": False, "extension": os.path.splitext(local.name)[1] if local.is_file() else None,
        "creationtime": st.st_ctime, "lastaccesstime": st.st_atime, "lastwritetime": st.st_mtime,
        "owner": "BUILTIN\\Administrators", "nlink": 1, "attributes": "Directory" if local.is_dir() else "Archive",
        "file_id": str(st.st_ino), "hlnk_targets": [], "isjunction": False,
    }
    if local.is_file():
        out["size"] = st.st_size
        if checksum:
            out["checksum"] = sha1(local)
    else:
        out["size"] = sum(f.stat().st_size for f in local.rglob("*") if f.is_file())
    return out


# -- modules --------------------------------------------------------------------------------------------
def m_setup(host, p, check):
    build = host.release["build"]
    name = host.release["name"]
    hostname = host.config["hostname"]
    facts = {
        "ansible_os_family": "Windows", "ansible_system": "Win32NT", "ansible_os_name": name,
        "ansible_distribution": name, "ansible_distribution_version": host.version,
        "ansible_distribution_major_version": "10", "ansible_kernel": host.version,
        "ansible_os_product_type": "server", "ansible_os_installation_type": "Server",
        "ansible_architecture": "64-bit", "ansible_architecture2": "x86_64", "ansible_machine": "x86_64",
        "ansible_hostname": hostname, "ansible_nodename": hostname.lower() + ".sim.test",
        "ansible_fqdn": hostname.lower() + ".sim.test", "ansible_domain": "sim.test",
        "ansible_windows_domain": "WORKGROUP", "ansible_windows_domain_member": False, "ansible_windows_domain_role": "Stand-alone server",
        "ansible_user_id": USER, "ansible_user_dir": PROFILE, "ansible_user_sid": "S-1-5-21-1-2-3-500",
        "ansible_env": dict(ENV, COMPUTERNAME=hostname), "ansible_powershell_version": 5,
        "ansible_owner_name": "Windows User", "ansible_owner_contact": "", "ansible_reboot_pending": False,
        "ansible_system_vendor": "Microsoft Corporation", "ansible_product_name": "Virtual Machine",
        "ansible_os_build_number": str(build), "ansible_osversion": "%s.%d" % (host.version[:-2], host.release["ubr"]),
        "module_setup": True, "gather_subset": p.get("gather_subset") or ["all"],
    }
    return {"changed": False, "ansible_facts": facts}


def m_slurp(host, p, check):
    # The messages of ansible.windows' slurp.ps1, word for word (callers match on them).
    local = host.local(p["src"])
    if local.is_dir():
        raise SimError("Path %s is a directory" % p["src"])
    if not local.is_file():
        raise SimError("Path %s is not found" % p["src"])
    return {"changed": False, "content": base64.b64encode(local.read_bytes()).decode(), "encoding": "base64", "source": p["src"]}


def m_win_stat(host, p, check):
    return {"changed": False, "stat": _stat(host, p["path"], checksum=p.get("get_checksum", True) is not False)}


def m_win_file(host, p, check):
    path = host.absolute(p["path"])
    local = host.local(path)
    if p.get("_diff_peek"):
        return {"changed": False, "size": local.stat().st_size if local.is_file() else 0,
                "state": "file" if local.is_file() else ("directory" if local.is_dir() else "absent")}
    state = p.get("state") or ("directory" if local.is_dir() else "file" if local.exists() else None)
    result = {"changed": False}
    if state == "absent":
        if local.exists():
            result["changed"] = True
            if not check:
                shutil.rmtree(local) if local.is_dir() else local.unlink()
    elif state == "directory":
        if local.is_file():
            raise SimError("path %s is not a directory" % path)
        if not local.exists():
            result["changed"] = True
            if not check:
                local.mkdir(parents=True)
    elif state == "file":
        if not local.exists():
            raise SimError("path %s will not be created" % path)
        if local.is_dir():
            raise SimError("path %s is a directory" % path)
    elif state == "touch":
        result["changed"] = True
        if not check:
            if local.is_dir():
                os.utime(local)
            else:
                local.parent.mkdir(parents=True, exist_ok=True)
                local.touch()
    elif state is None:
        raise SimError("path %s will not be created" % path)
    return result


def m_win_tempfile(host, p, check):
    base = host.absolute(p.get("path") or TEMP)
    name = "%s%s%s" % (p.get("prefix") or "", uuid.uuid4().hex[:12], p.get("suffix") or "")
    path = ntpath.join(base, name)
    if not check:
        local = host.local(path)
        local.parent.mkdir(parents=True, exist_ok=True)
        local.mkdir() if p["state"] == "directory" else local.touch()
    return {"changed": True, "path": path, "state": p["state"]}


def _copy_one(host, src_local, dest, check, backup):
    """Copy-File of win_copy.ps1: copy when missing or different (sha1); returns (changed, checksum, backup)."""
    dest_local = host.local(dest)
    checksum = sha1(src_local)
    if dest_local.is_dir():
        raise SimError("cannot copy file from '%s' to '%s': dest is already a folder" % (src_local, dest))
    if dest_local.is_file() and sha1(dest_local) == checksum:
        return False, checksum, None
    backup_file = _backup(host, dest, check) if backup and dest_local.is_file() else None
    if not check:
        dest_local.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest_local.with_name(dest_local.name + ".simwin-tmp")
        shutil.copyfile(src_local, tmp)
        os.replace(tmp, dest_local)
    return True, checksum, backup_file


def m_win_copy(host, p, check):
    mode = p.get("_copy_mode") or "single"
    dest = host.absolute(p["dest"])
    result = {"changed": False}
    if mode == "query":
        files, directories = [], []
        for item in p.get("files") or []:
            path = ntpath.join(dest, item["dest"])
            local = host.local(path)
            if local.is_dir():
                path = ntpath.join(path, ntpath.basename(item["src"].replace("/", "\\")))
                local = host.local(path)
            if local.is_file():
                if p.get("force", True) and sha1(local) != item.get("checksum"):
                    files.append(item)
            elif local.is_dir():
                raise SimError("cannot copy file to dest '%s': object at path is already a directory" % path)
            else:
                files.append(item)
        for item in p.get("directories") or []:
            if not host.local(ntpath.join(dest, item["dest"])).is_dir():
                directories.append(item)
        return dict(result, files=files, directories=directories, symlinks=[])
    src = p.get("src")
    if not src:
        raise SimError("missing required argument: src")
    src_local = host.local(src)
    if mode == "explode":
        if not src_local.is_file():
            raise SimError("Cannot expand src zip file: '%s' as it does not exist" % host.absolute(src))
        with zipfile.ZipFile(src_local) as archive:
            for info in archive.infolist():
                target = host.local(ntpath.join(dest, info.filename.replace("/", "\\")))
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.read(info))
        return dict(result, changed=True)
    if not src_local.exists():
        raise SimError("Cannot copy src file: '%s' as it does not exist" % host.absolute(src))
    remote_dest = dest
    if p["dest"].endswith(("\\", "/")) or host.local(dest).is_dir():
        remote_dest = ntpath.join(dest, p.get("_original_basename") or src_local.name)
    parent = host.local(ntpath.dirname(remote_dest))
    if parent.is_file():
        raise SimError("object at destination parent dir '%s' is currently a file" % ntpath.dirname(remote_dest))
    if not parent.is_dir():
        if dest == remote_dest and mode == "single":
            raise SimError("Destination directory '%s' does not exist" % ntpath.dirname(remote_dest))
        if not check:
            parent.mkdir(parents=True)
    if mode == "single":
        backup_file = _backup(host, remote_dest, check) if p.get("backup") and host.local(remote_dest).is_file() else None
        if not check:
            tmp = host.local(remote_dest).with_name(host.local(remote_dest).name + ".simwin-tmp")
            shutil.copyfile(src_local, tmp)
            os.replace(tmp, host.local(remote_dest))
        result = dict(result, changed=True)
        if backup_file:
            result["backup_file"] = backup_file
        return result
    if mode == "remote":
        if src_local.is_dir():
            raise SimError("simulated host: win_copy remote_src of a folder is not simulated")
        changed, checksum, backup_file = _copy_one(host, src_local, remote_dest, check, p.get("backup"))
        result = dict(result, changed=changed, checksum=checksum, src=host.absolute(src), dest=remote_dest,
                      operation="file_copy", original_basename=src_local.name, size=src_local.stat().st_size)
        if backup_file:
            result["backup_file"] = backup_file
        return result
    raise SimError("_copy_mode %s is not simulated" % mode)


def m_win_command(host, p, check, stdin=None):
    start = datetime.datetime.now()
    if p.get("argv"):
        argv = [str(a) for a in p["argv"]]
    elif p.get("cmd"):
        argv = dockermap.split_windows_cmdline(p["cmd"])
    else:
        raise SimError("one of the following is required: argv, cmd")
    if p.get("creates") and host.local(p["creates"]).exists():
        return {"changed": False, "skipped": True, "msg": "skipped, since %s exists" % p["creates"], "rc": 0, "cmd": " ".join(argv)}
    if p.get("removes") and not host.local(p["removes"]).exists():
        return {"changed": False, "skipped": True, "msg": "skipped, since %s does not exist" % p["removes"], "rc": 0, "cmd": " ".join(argv)}
    rc, out, err = dockermap.run(host, argv, stdin=p.get("stdin"), chdir=p.get("chdir"))
    end = datetime.datetime.now()
    result = {
        "changed": True, "cmd": dockermap.join_windows_cmdline(argv), "rc": rc, "stdout": out, "stderr": err, "msg": "",
        "stdout_lines": out.splitlines(), "stderr_lines": err.splitlines(),
        "start": start.strftime("%Y-%m-%d %H:%M:%S.%f"), "end": end.strftime("%Y-%m-%d %H:%M:%S.%f"), "delta": str(end - start),
    }
    if rc != 0:
        result.update(failed=True, msg="non-zero return code")
    return result


def _service_result(svc):
    return {
        "exists": True, "name": svc["name"], "display_name": svc["display_name"], "state": svc["state"],
        "start_mode": svc["start_mode"], "path": svc["path"], "username": svc["username"], "can_pause_and_continue": False,
        "depended_by": [], "dependencies": [], "description": svc.get("description", ""), "desktop_interact": False,
    }


def m_win_service(host, p, check):
    services = host.state["services"]
    svc = services.get(p["name"].lower())
    if svc is None:
        if p.get("state") == "absent":
            return {"changed": False, "exists": False}
        raise SimError("Service '%s' is not installed, need to set 'path' to create a new service" % p["name"])
    changed = False
    if p.get("start_mode") and p["start_mode"] != svc["start_mode"]:
        changed = True
        if not check:
            svc["start_mode"] = p["start_mode"]
    wanted = p.get("state")
    if wanted == "restarted":
        changed = True
        if not check:
            dockermap.service_start(host, svc)
    elif wanted == "started" and svc["state"] != "started":
        changed = True
        if not check:
            dockermap.service_start(host, svc)
    elif wanted == "stopped" and svc["state"] != "stopped":
        changed = True
        if not check:
            svc["state"] = "stopped"
    elif wanted in ("absent", "paused"):
        raise SimError("simulated host: state=%s of a service is not simulated" % wanted)
    return dict(_service_result(svc), changed=changed)


def m_win_service_info(host, p, check):
    services = host.state["services"]
    name = (p.get("name") or "").lower()
    found = [s for key, s in sorted(services.items()) if not name or key == name or s["display_name"].lower() == name]
    return {"changed": False, "exists": bool(found), "services": [
        dict(_service_result(s), win32_exit_code=0, service_exit_code=0, checkpoint=0, wait_hint=0, process_id=1234 if s["state"] == "started" else 0,
             service_type="win32_own_process", error_control="normal", load_order_group="", required_privileges=[], triggers=[],
             failure_actions=[], failure_reset_period_sec=0, failure_command=None, failure_reboot_msg=None,
             failure_actions_on_non_crash_failure=False, preshutdown_timeout_ms=180000, sid_info="none", start_mode=s["start_mode"])
        for s in found]}


def m_win_feature_info(host, p, check):
    features = host.state["features"]
    pattern = re.compile("^" + re.escape(p.get("name") or "*").replace("\\*", ".*") + "$", re.I)
    return {"changed": False, "exists": any(pattern.match(n) for n in features), "features": [
        {"name": name, "display_name": name, "installed": installed, "install_state": "Installed" if installed else "Available",
         "feature_type": "Feature", "path": name, "depth": 1, "depends_on": [], "parent": None, "server_component_descriptor": None,
         "sub_features": [], "system_service": [], "best_practices_model_id": None, "event_query": None, "post_configuration_needed": False,
         "additional_info": {}, "description": "", "installed_by_default": False}
        for name, installed in sorted(features.items()) if pattern.match(name)]}


def m_win_feature(host, p, check):
    names = p["name"] if isinstance(p["name"], list) else [p["name"]]
    changed = False
    for name in names:
        want = p.get("state", "present") == "present"
        if host.state["features"].get(name, False) != want:
            changed = True
            if not check:
                host.state["features"][name] = want
    return {"changed": changed, "feature_result": [], "reboot_required": changed, "success": True, "exitcode": "Success" if changed else "NoChangeNeeded"}


def _reg_key(path):
    path = path.replace("/", "\\")
    match = re.match(r"^(HKLM|HKCU|HKCR|HKU|HKCC):\\?(.*)$", path, re.I)
    if not match:
        raise SimError("path: %s is not a valid powershell path, see module documentation for examples." % path)
    return "%s:\\%s" % (match.group(1).upper(), match.group(2).rstrip("\\")), ("%s:\\%s" % (match.group(1), match.group(2))).lower().rstrip("\\")


def m_win_reg_stat(host, p, check):
    dummy, key = _reg_key(p["path"])
    entry = host.state["registry"].get(key)
    if entry is None:
        return {"changed": False, "exists": False}
    if p.get("name") is not None:
        value = entry["values"].get(p["name"].lower())
        if value is None:
            return {"changed": False, "exists": False}
        types = {"string": "REG_SZ", "multistring": "REG_MULTI_SZ", "dword": "REG_DWORD", "qword": "REG_QWORD",
                 "expandstring": "REG_EXPAND_SZ", "binary": "REG_BINARY", "none": "REG_NONE"}
        return {"changed": False, "exists": True, "type": types[value["type"]], "value": value["data"], "raw_value": value["data"]}
    return {"changed": False, "exists": True, "properties": {v["name"]: {"type": v["type"], "value": v["data"]} for v in entry["values"].values()},
            "sub_keys": []}


def m_win_regedit(host, p, check):
    display, key = _reg_key(p["path"])
    registry = host.state["registry"]
    entry = registry.get(key)
    result = {"changed": False, "data_changed": False, "data_type_changed": False}
    if p["state"] == "absent":
        if p.get("name") is None:
            if entry is not None:
                result["changed"] = True
                if not check:
                    del registry[key]
        elif entry is not None and p["name"].lower() in entry["values"]:
            result["changed"] = True
            if not check:
                del entry["values"][p["name"].lower()]
        return result
    kind = p.get("type") or "string"
    data = p.get("data")
    if kind == "multistring":
        data = [] if data is None else ([str(x) for x in data] if isinstance(data, list) else [str(data)])
    elif kind in ("dword", "qword"):
        data = int(str(data), 0) if data is not None else 0
    elif data is not None:
        data = str(data)
    if entry is None:
        result["changed"] = True
        entry = {"path": display, "values": {}}
        if not check:
            registry[key] = entry
    if p.get("name") is not None:
        current = entry["values"].get(p["name"].lower())
        if current is None or current["data"] != data or current["type"] != kind:
            result.update(changed=True, data_changed=current is None or current["data"] != data,
                          data_type_changed=current is not None and current["type"] != kind)
            if not check:
                entry["values"][p["name"].lower()] = {"name": p["name"], "type": kind, "data": data}
    return result


def _hosts_lines(host):
    return host.local(HOSTS_FILE).read_bytes().decode("utf-8-sig").splitlines()


def m_win_hosts(host, p, check):
    """ansible.windows.win_hosts on C:\\Windows\\System32\\drivers\\etc\\hosts (entries: ip, canonical name, aliases)."""
    lines = _hosts_lines(host)
    parsed = []
    for index, line in enumerate(lines):
        body = line.split("#", 1)[0].split()
        if len(body) >= 2:
            parsed.append((index, body[0], body[1], body[2:]))
    state, ip, name = p["state"], p.get("ip_address"), p.get("canonical_name")
    aliases = [a for a in (p.get("aliases") or [])]
    if state == "present" and (not ip or not name):
        raise SimError("state is present but any of the following are missing: canonical_name, ip_address")
    if state == "absent" and not ip and not name:
        raise SimError("state is absent but all of the following are missing: ip_address, canonical_name")
    new_lines = list(lines)
    changed = False
    if state == "present":
        match = [e for e in parsed if e[1] == ip and e[2].lower() == name.lower()]
        if not match:
            # an entry of this name for the other address family or another address is replaced
            stale = [e for e in parsed if e[2].lower() == name.lower() and (":" in e[1]) == (":" in ip)]
            for entry in stale:
                new_lines[entry[0]] = None
            line = "%s %s%s" % (ip, name, "".join(" " + a for a in aliases) if p["action"] in ("set", "add") else "")
            new_lines.append(line)
            changed = True
        else:
            index, dummy, dummy, current = match[0]
            if p["action"] == "set":
                wanted = aliases
            elif p["action"] == "add":
                wanted = current + [a for a in aliases if a.lower() not in [c.lower() for c in current]]
            else:
                wanted = [c for c in current if c.lower() not in [a.lower() for a in aliases]]
            if [w.lower() for w in wanted] != [c.lower() for c in current]:
                new_lines[index] = "%s %s%s" % (ip, name, "".join(" " + a for a in wanted))
                changed = True
    else:
        for entry in parsed:
            if (not ip or entry[1] == ip) and (not name or entry[2].lower() == name.lower()):
                new_lines[entry[0]] = None
                changed = True
    if changed and not check:
        text = "\r\n".join(line for line in new_lines if line is not None) + "\r\n"
        host.local(HOSTS_FILE).write_bytes(text.encode("utf-8"))
    return {"changed": changed}


def m_win_acl(host, p, check):
    local = host.local(p["path"])
    if not local.exists():
        raise SimError("%s file or directory does not exist on the host" % host.absolute(p["path"]))
    key = host.key(host.absolute(p["path"]))
    aces = host.state["acls"].setdefault(key, [])
    inherit = p.get("inherit") or ("" if local.is_file() else "ContainerInherit, ObjectInherit")  # the module's default
    rule = {"user": p["user"], "rights": p["rights"], "type": p["type"], "inherit": inherit, "propagation": p.get("propagation") or "None"}
    same = [a for a in aces if a["user"].lower() == rule["user"].lower() and a["type"] == rule["type"]
            and a["rights"].lower() == rule["rights"].lower() and a["inherit"].replace(" ", "").lower() == rule["inherit"].replace(" ", "").lower()
            and a["propagation"].lower() == rule["propagation"].lower()]
    changed = False
    if p["state"] == "present" and not same:
        changed = True
        if not check:
            aces.append(rule)
    elif p["state"] == "absent" and same:
        changed = True
        if not check:
            for ace in same:
                aces.remove(ace)
    return {"changed": changed}


def m_win_acl_inheritance(host, p, check):
    if not host.local(p["path"]).exists():
        raise SimError("%s file or directory does not exist on the host" % host.absolute(p["path"]))
    key = host.key(host.absolute(p["path"]))
    protected = host.state["acl_protected"].get(key, False)
    want = p["state"] == "absent"
    if protected == want:
        return {"changed": False}
    if not check:
        host.state["acl_protected"][key] = want
    return {"changed": True}


def m_win_certificate_store(host, p, check):
    from cryptography import x509  # a test dependency of the collection's own tests

    store = "%s\\%s" % (p["store_location"], p["store_name"])
    certs = host.state["certs"].setdefault(store, {})
    if p["state"] == "exported":
        raise SimError("simulated host: state=exported is not simulated")
    thumbprints = []
    if p.get("path"):
        local = host.local(p["path"])
        if not local.is_file():
            raise SimError("file at path '%s' either does not exist or is not a file" % p["path"])
        data = local.read_bytes()
        found = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(data)]
        for cert in found:
            der = cert.public_bytes(encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
            thumbprints.append((hashlib.sha1(der).hexdigest().upper(), cert.subject.rfc4514_string()))
    elif p.get("thumbprint"):
        thumbprints.append((p["thumbprint"].upper(), ""))
    else:
        raise SimError("one of the following is required: path, thumbprint")
    changed = False
    for thumbprint, subject in thumbprints:
        if p["state"] == "present" and thumbprint not in certs:
            changed = True
            if not check:
                certs[thumbprint] = {"subject": subject}
        elif p["state"] == "absent" and thumbprint in certs:
            changed = True
            if not check:
                del certs[thumbprint]
    return {"changed": changed, "thumbprints": [t for t, dummy in thumbprints]}


def m_win_firewall_rule(host, p, check):
    name = p.get("name")
    if not name:
        raise SimError("name is required")
    rules = host.state["firewall"]
    if p["state"] == "absent":
        if name in rules:
            if not check:
                del rules[name]
            return {"changed": True, "msg": "Firewall rule(s) removed"}
        return {"changed": False}
    current = rules.get(name, {})
    wanted = dict(current)
    for option in ("description", "localport", "remoteport", "localip", "remoteip", "protocol", "direction", "action",
                   "enabled", "program", "service", "group", "profiles"):
        if p.get(option) is not None:
            wanted[option] = p[option]
    wanted.setdefault("enabled", True)
    changed = wanted != current
    if changed and not check:
        rules[name] = wanted
    return {"changed": changed, "rules": [dict(wanted, name=name)]}


def m_win_powershell(host, p, check):
    """Only the two Defender scripts the role runs (Get-MpPreference / Add-MpPreference), on a recorded list."""
    script = p.get("script") or ""
    excluded = host.state["defender"]
    if script.strip() == "(Get-MpPreference).ExclusionPath":
        return {"changed": True, "output": list(excluded), "error": [], "result": {}, "host_out": "", "host_err": "",
                "information": [], "warning": [], "verbose": [], "debug": []}
    if "Add-MpPreference -ExclusionPath $Path" in script:
        path = (p.get("parameters") or {}).get("Path")
        if not check:
            excluded.append(path)
        return {"changed": True, "output": [], "error": [], "result": {}, "host_out": "", "host_err": "", "information": [],
                "warning": [], "verbose": [], "debug": []}
    raise SimError("simulated host: win_powershell runs only the role's Defender scripts, not %r" % script[:80])


def m_win_uri(host, p, check):
    """A request from this machine (the simulated host is this machine on the network), sent in check mode too as
    win_uri does; status_code checked as the module does, certificates not checked when validate_certs is false."""
    import ssl
    import urllib.error
    import urllib.request

    method = (p.get("url_method") or "GET").upper()
    context = ssl.create_default_context()
    if p.get("validate_certs") is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(p["url"], method=method, headers={str(k): str(v) for k, v in (p.get("headers") or {}).items()})
    timeout = float(p.get("url_timeout") or 30)
    result = {"changed": False, "url": p["url"], "elapsed": 0.0}
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, reason, body = response.status, response.reason, response.read()
    except urllib.error.HTTPError as exc:
        status, reason, body = exc.code, exc.reason, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise SimError("Unhandled exception occurred when sending web request. Exception: %s" % getattr(exc, "reason", exc))
    result.update(status_code=status, status_description=reason, elapsed=time.monotonic() - start, content_length=len(body))
    if p.get("return_content"):
        result["content"] = body.decode("utf-8", "replace")
    wanted = [int(c) for c in p.get("status_code") or [200]]
    if status not in wanted:
        result.update(failed=True, msg="Status code of request '%d' is not in list of valid status codes %s : %s'."
                      % (status, wanted, reason))
    return result


HANDLERS = {
    "ansible.windows.win_uri": m_win_uri,
    "ansible.windows.setup": m_setup,
    "ansible.windows.slurp": m_slurp,
    "ansible.windows.win_stat": m_win_stat,
    "ansible.windows.win_file": m_win_file,
    "ansible.windows.win_tempfile": m_win_tempfile,
    "ansible.windows.win_copy": m_win_copy,
    "ansible.windows.win_command": m_win_command,
    "ansible.windows.win_service": m_win_service,
    "ansible.windows.win_service_info": m_win_service_info,
    "ansible.windows.win_feature": m_win_feature,
    "ansible.windows.win_feature_info": m_win_feature_info,
    "ansible.windows.win_reg_stat": m_win_reg_stat,
    "ansible.windows.win_regedit": m_win_regedit,
    "ansible.windows.win_hosts": m_win_hosts,
    "ansible.windows.win_acl": m_win_acl,
    "ansible.windows.win_acl_inheritance": m_win_acl_inheritance,
    "ansible.windows.win_certificate_store": m_win_certificate_store,
    "community.windows.win_firewall_rule": m_win_firewall_rule,
    "ansible.windows.win_powershell": m_win_powershell,
}
SUPPORTED = sorted(HANDLERS)


def _redact(args, doc, no_log):
    options = (doc or {}).get("options") or {}
    out = {}
    for key, value in args.items():
        if key.startswith("_ansible_"):
            continue
        secret = no_log or (options.get(key) or {}).get("no_log") or key in ("password", "stdin", "content")
        out[key] = "********" if secret and value is not None else value
    return out


def execute(host, module, module_path, raw_args):
    """Run one module call on the host; returns the result dict (failed=True with msg on errors)."""
    check = bool(raw_args.get("_ansible_check_mode"))
    no_log = bool(raw_args.get("_ansible_no_log"))
    entry = {"module": module, "check_mode": check, "time": time.time()}
    try:
        if module not in HANDLERS:
            raise SimError("simulated Windows host: module %s is not simulated (it answers %s); add it to "
                           "tests/integration/simwin/modules.py" % (module, ", ".join(SUPPORTED)))
        params, dummy = check_args(module, module_path, raw_args)
        # The arguments as sent (defaults left out), so tests assert on what the collection asked for.
        entry["args"] = _redact(raw_args, _DOCS.get(module), no_log)
        if check and module in NO_CHECK_MODE:
            result = {"changed": False, "skipped": True, "msg": "remote module (%s) does not support check mode" % module.rsplit(".", 1)[1]}
        else:
            with host.locked():
                result = HANDLERS[module](host, params, check)
    except SimError as exc:
        entry.setdefault("args", _redact({k: v for k, v in raw_args.items()}, None, no_log))
        result = {"failed": True, "changed": False, "msg": str(exc)}
    if not result.get("failed") and not result.get("skipped") and module not in RETURN_EXEMPT:
        missing = [k for k in documented_returns(module, module_path) if k not in result and k != "changed"]
        if missing:  # the simulator's own defect: its result must have the documented shape
            result = {"failed": True, "changed": False, "msg": "simulated Windows host: the result of %s lacks the documented "
                      "return values %s (tests/integration/simwin/modules.py)" % (module, ", ".join(missing))}
    entry["changed"] = bool(result.get("changed"))
    entry["failed"] = bool(result.get("failed"))
    entry["skipped"] = bool(result.get("skipped"))
    if module == "ansible.windows.win_command" and not no_log:
        entry["rc"] = result.get("rc")
    host.log_call(entry)
    result.setdefault("invocation", {"module_args": entry.get("args", {})})
    return result


def json_dumps(result):
    return json.dumps(result, default=str)
