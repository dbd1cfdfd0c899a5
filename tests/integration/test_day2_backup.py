# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/backup.yml and restore.yml on the Linux twin: backup (read-only window) -> wipe -> restore gives the
same digests, verified by the restore playbook and by a real docker pull."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request

from conftest import container
import images
import playbook
from registry_api import RegistryAPI
from test_day2_upgrade_gc import assert_ok, digests, docker, pull_fresh


def wait_ready(reg, timeout=60):
    """Until GET /v2/ answers (a restarted container takes a moment to listen)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(reg.url + "/v2/", timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run(name, reg, check=False, **extra):
    return playbook.run_playbook("playbooks/%s" % name, reg.inventory, check=check, extra_vars=extra or None)


def test_backup_wipe_restore_keeps_every_digest(make_instance, hello_image, tmp_path):
    reg = make_instance()
    assert_ok(reg.deploy())
    ref = "%s/app/hello:1" % reg.registry
    docker("image", "tag", hello_image, ref)
    assert docker("image", "push", ref, check=False).returncode == 0
    api = RegistryAPI(reg.url)
    api.push_image("team/a", "1")
    api.push_manifest_list("multi", "1", [("linux", "amd64"), ("windows", "amd64")])
    refs = ["app/hello:1", "team/a:1", "multi:1"]
    before = digests(reg, refs)
    archive = tmp_path / "backups" / "registry.tar.gz"
    try:
        check = assert_ok(run("backup.yml", reg, check=True, registry_backup_archive=str(archive)))
        assert check.result("Archive the data folder")["changed"] is True and not archive.exists()

        applied = assert_ok(run("backup.yml", reg, registry_backup_archive=str(archive)))
        assert applied.result("Archive the data folder")["changed"] is True and archive.exists()
        assert json.loads((tmp_path / "backups" / "registry.tar.gz.json").read_text())["digests"] == before
        assert "readonly" not in (reg.config_dir / container(reg.name)["Config"]["Cmd"][0].rsplit("/", 1)[1]).read_text()
        listed = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True, check=True).stdout
        assert "./docker/registry/v2/repositories/multi/_manifests/tags/1/current/link" in listed

        again = assert_ok(run("backup.yml", reg, registry_backup_archive=str(archive)))
        assert again.result("Archive the data folder")["changed"] is False

        shutil.rmtree(reg.data_dir / "docker")
        docker("container", "restart", reg.name)
        wait_ready(reg)
        assert all(v == "HTTP 404" for v in digests(reg, refs).values()), "the wipe must lose the images"

        check = assert_ok(run("restore.yml", reg, check=True, registry_backup_archive=str(archive)))
        assert check.result("Unpack the archive")["changed"] is True and not (reg.data_dir / "docker").exists()

        restored = assert_ok(run("restore.yml", reg, registry_backup_archive=str(archive)))
        assert restored.result("Unpack the archive")["snapshot"] == before
        assert restored.result("Verify - every tag resolves").get("failed") is not True
        assert container(reg.name)["State"]["Running"] is True
        assert digests(reg, refs) == before
        assert pull_fresh(ref) == images.image_id(hello_image)
    finally:
        docker("image", "rm", ref, check=False)
