# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image sources read on the controller (plugins/plugin_utils/_image.py).

Archives are real tar files made here in the two layouts ``docker save`` writes:
- Docker before 25: ``manifest.json`` naming the config ``<hex>.json`` and layers ``<id>/layer.tar``, plus
  ``repositories``;
- Docker 25 and later (OCI image layout): ``oci-layout``, ``index.json``, ``blobs/sha256/<hex>``, and the same
  ``manifest.json`` with ``Config: blobs/sha256/<hex>``.
``docker save | gzip`` archives are accepted too. The image ID is the sha256 of the config blob.
``ldd`` output is the real output of ``ldd /usr/bin/docker-registry`` (Debian bookworm, docker-registry
2.8.2) and of ``ldd`` on a static busybox.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _image


def _add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _config_blob(os_name="linux", cmd="/etc/docker/registry/config.yml"):
    return json.dumps({
        "architecture": "amd64", "os": os_name,
        "config": {"Entrypoint": ["/entrypoint.sh"], "Cmd": [cmd], "ExposedPorts": {"5000/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(b"layer").hexdigest()]},
    }, separators=(",", ":")).encode()


def legacy_archive(path, images, compress=False):
    """`docker save` of Docker < 25. images: [(repo_tags, config bytes)]. Returns the image IDs."""
    manifest, ids, repositories = [], [], {}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for n, (tags, config) in enumerate(images):
            hex_id = hashlib.sha256(config).hexdigest()
            layer_dir = hashlib.sha256(b"layer %d" % n).hexdigest()
            _add(tar, "%s/VERSION" % layer_dir, b"1.0")
            _add(tar, "%s/json" % layer_dir, b"{}")
            _add(tar, "%s/layer.tar" % layer_dir, b"layer")
            _add(tar, hex_id + ".json", config)
            manifest.append({"Config": hex_id + ".json", "RepoTags": tags, "Layers": ["%s/layer.tar" % layer_dir]})
            for tag in tags or []:
                repo, dummy, version = tag.rpartition(":")
                repositories.setdefault(repo, {})[version] = layer_dir
            ids.append("sha256:" + hex_id)
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        _add(tar, "repositories", json.dumps(repositories).encode())
    data = raw.getvalue()
    path.write_bytes(gzip.compress(data) if compress else data)
    return ids


def oci_archive(path, tags, config):
    """`docker save` of Docker 25+: OCI image layout with a Docker manifest.json beside it."""
    config_hex = hashlib.sha256(config).hexdigest()
    layer = b"layer"
    layer_hex = hashlib.sha256(layer).hexdigest()
    manifest_blob = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + config_hex, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + layer_hex, "size": len(layer)}],
    }).encode()
    manifest_hex = hashlib.sha256(manifest_blob).hexdigest()
    index = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + manifest_hex,
                       "size": len(manifest_blob), "annotations": {"io.containerd.image.name": "docker.io/library/" + tags[0]}}],
    }).encode()
    with tarfile.open(path, "w") as tar:
        _add(tar, "blobs/sha256/" + config_hex, config)
        _add(tar, "blobs/sha256/" + layer_hex, layer)
        _add(tar, "blobs/sha256/" + manifest_hex, manifest_blob)
        _add(tar, "index.json", index)
        _add(tar, "manifest.json", json.dumps([{"Config": "blobs/sha256/" + config_hex, "RepoTags": tags,
                                                "Layers": ["blobs/sha256/" + layer_hex]}]).encode())
        _add(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    return "sha256:" + config_hex


# -- archive_images ---------------------------------------------------------------------------------------
def test_legacy_docker_save_archive(tmp_path):
    archive = tmp_path / "registry-2.8.3.tar"
    (image_id,) = legacy_archive(archive, [(["registry:2.8.3"], _config_blob())])
    assert _image.archive_images(str(archive)) == [{"id": image_id, "repo_tags": ["registry:2.8.3"]}]
    assert image_id == "sha256:" + hashlib.sha256(_config_blob()).hexdigest()


def test_oci_layout_docker_save_archive(tmp_path):
    archive = tmp_path / "registry-3.0.0.tar"
    config = _config_blob(cmd="/etc/distribution/config.yml")
    image_id = oci_archive(archive, ["registry:3.0.0"], config)
    assert _image.archive_images(str(archive)) == [{"id": image_id, "repo_tags": ["registry:3.0.0"]}]


def test_gzipped_archive(tmp_path):
    archive = tmp_path / "registry.tar.gz"
    (image_id,) = legacy_archive(archive, [(["dockerwin/registry:3.0.0-nanoserver-ltsc2022"], _config_blob("windows"))], compress=True)
    assert archive.read_bytes()[:2] == b"\x1f\x8b"
    assert _image.archive_images(str(archive)) == [{"id": image_id, "repo_tags": ["dockerwin/registry:3.0.0-nanoserver-ltsc2022"]}]


def test_archive_with_several_images_and_an_untagged_one(tmp_path):
    archive = tmp_path / "two.tar"
    ids = legacy_archive(archive, [(["registry:2.8.3", "registry:2"], _config_blob()), (None, _config_blob(cmd="/other.yml"))])
    assert _image.archive_images(str(archive)) == [
        {"id": ids[0], "repo_tags": ["registry:2.8.3", "registry:2"]},
        {"id": ids[1], "repo_tags": []},
    ]


def test_a_file_that_is_no_archive_is_refused(tmp_path):
    exe = tmp_path / "registry.exe"
    exe.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 600)
    with pytest.raises(_image.ArchiveError, match=r"cannot read image archive .*registry\.exe"):
        _image.archive_images(str(exe))


def test_a_tar_without_manifest_is_refused(tmp_path):
    archive = tmp_path / "files.tar"
    with tarfile.open(archive, "w") as tar:
        _add(tar, "registry.exe", b"MZ")
    with pytest.raises(_image.ArchiveError, match=r"has no manifest\.json: it is not an archive written by `docker save`"):
        _image.archive_images(str(archive))


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(_image.ArchiveError, match="cannot read image archive"):
        _image.archive_images(str(tmp_path / "absent.tar"))


def test_a_manifest_that_is_not_json_is_refused(tmp_path):
    archive = tmp_path / "bad.tar"
    with tarfile.open(archive, "w") as tar:
        _add(tar, "manifest.json", b"not json")
    with pytest.raises(_image.ArchiveError, match="cannot read image archive"):
        _image.archive_images(str(archive))


def test_a_manifest_entry_without_config_is_refused(tmp_path):
    archive = tmp_path / "noconfig.tar"
    with tarfile.open(archive, "w") as tar:
        _add(tar, "manifest.json", json.dumps([{"RepoTags": ["x:1"], "Layers": []}]).encode())
    with pytest.raises(_image.ArchiveError, match="manifest entry without an image config"):
        _image.archive_images(str(archive))


def test_an_empty_manifest_is_refused(tmp_path):
    archive = tmp_path / "empty.tar"
    with tarfile.open(archive, "w") as tar:
        _add(tar, "manifest.json", b"[]")
    with pytest.raises(_image.ArchiveError, match="holds no image"):
        _image.archive_images(str(archive))


# -- build digest -----------------------------------------------------------------------------------------
def test_file_sha256(tmp_path):
    exe = tmp_path / "registry.exe"
    exe.write_bytes(b"x" * (3 << 20))
    assert _image.file_sha256(str(exe)) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()


def test_build_digest_changes_with_each_input_and_not_with_dict_order():
    base = _image.build_digest("FROM scratch\n", {"a": "1", "b": "2"}, "0" * 64)
    assert len(base) == 64
    assert base == _image.build_digest("FROM scratch\n", {"b": "2", "a": "1"}, "0" * 64)
    assert base != _image.build_digest("FROM scratch \n", {"a": "1", "b": "2"}, "0" * 64)
    assert base != _image.build_digest("FROM scratch\n", {"a": "1", "b": "3"}, "0" * 64)
    assert base != _image.build_digest("FROM scratch\n", {"a": "1", "b": "2"}, "1" * 64)
    # file name and content are kept apart: {"ab": ""} is not {"a": "b"}
    assert _image.build_digest("", {"ab": ""}) != _image.build_digest("", {"a": "b"})


# -- ldd ---------------------------------------------------------------------------------------------------
LDD_DOCKER_REGISTRY = (
    "\tlinux-vdso.so.1 (0x00007f4dba15a000)\n"
    "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f4db9f67000)\n"
    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f4dba15c000)\n"
)
LDD_STATIC = "\tnot a dynamic executable\n"


def test_ldd_paths_of_debians_docker_registry():
    assert _image.ldd_paths(LDD_DOCKER_REGISTRY) == ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]


def test_ldd_paths_of_a_static_binary():
    assert _image.ldd_paths(LDD_STATIC) == []
    assert _image.ldd_paths("\tstatically linked\n") == []
    assert _image.ldd_paths("") == []


def test_ldd_paths_lists_each_library_once():
    out = LDD_DOCKER_REGISTRY + "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n"
    assert _image.ldd_paths(out) == ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]


@pytest.mark.skipif(not (shutil.which("ldd") and os.path.exists("/usr/bin/docker-registry")), reason="needs ldd and Debian's docker-registry")
def test_ldd_paths_on_this_machines_docker_registry():
    out = subprocess.run(["ldd", "/usr/bin/docker-registry"], capture_output=True, text=True, check=True).stdout
    paths = _image.ldd_paths(out)
    assert paths and all(os.path.isabs(p) and os.path.exists(p) for p in paths)
    assert any(os.path.basename(p).startswith("libc.so") for p in paths)


def test_ldd_paths_refuses_a_binary_whose_library_is_missing():
    out = (
        "\tlinux-vdso.so.1 (0x00007ffd5b5f2000)\n"
        "\tlibmissing.so.3 => not found\n"
        "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f475f5a0000)\n"
    )
    with pytest.raises(_image.MissingLibraryError, match="libmissing.so.3"):
        _image.ldd_paths(out)
