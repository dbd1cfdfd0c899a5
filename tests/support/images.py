# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local test images, built without Docker Hub.

``registry_image()`` lays out Debian's ``docker-registry`` binary like the official ``registry`` image:
``/bin/registry``, ``/entrypoint.sh`` (static busybox as ``/bin/sh``) that takes a config path or a
sub-command, ``/etc/docker/registry/config.yml``, data in ``/var/lib/registry``. Its tag carries a hash of
its inputs, so an image left by an earlier run is reused only when it is the same image.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile

REGISTRY_BINARY = "/usr/bin/docker-registry"
BUSYBOX = "/bin/busybox"

ENTRYPOINT = """#!/bin/sh
set -e
case "$1" in
    *.yaml|*.yml) set -- registry serve "$@" ;;
    serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac
exec "$@"
"""

CONFIG = """version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""

DOCKERFILE = """FROM scratch
COPY rootfs/ /
EXPOSE 5000
VOLUME ["/var/lib/registry"]
ENTRYPOINT ["/entrypoint.sh"]
CMD ["/etc/docker/registry/config.yml"]
"""


def docker(*args, check=True, **kwargs):
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True, **kwargs)


def image_exists(ref):
    return docker("image", "inspect", ref, check=False).returncode == 0


def image_id(ref):
    return json.loads(docker("image", "inspect", ref).stdout)[0]["Id"]


def _libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False).stdout
    return [m.group(1) for m in re.finditer(r"(?:=>\s*|^\s*)(/\S+)\s+\(", out, re.M)]


def _digest(paths, texts):
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            digest.update(handle.read())
    for text in texts:
        digest.update(text.encode())
    return digest.hexdigest()[:12]


@contextlib.contextmanager
def build_lock(ref):
    """One build of a shared test image at a time (pytest-xdist workers): a second build of the same tag would
    re-point it to another image ID, and a role comparing image IDs would then recreate containers."""
    path = os.path.join(tempfile.gettempdir(), "dockerwin-test-image-%s.lock" % hashlib.sha256(ref.encode()).hexdigest()[:12])
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def registry_image(repository="dockerwin-test/registry"):
    """Reference of the official-layout registry image, built when this exact image is missing."""
    libs = _libraries(REGISTRY_BINARY)
    ref = "%s:2.8.2-%s" % (repository, _digest([REGISTRY_BINARY, BUSYBOX, *libs], [ENTRYPOINT, CONFIG, DOCKERFILE]))
    with build_lock(ref):
        if not image_exists(ref):
            _build_registry_image(ref, libs)
    return ref


def _build_registry_image(ref, libs):
    with tempfile.TemporaryDirectory() as context:
        rootfs = os.path.join(context, "rootfs")
        for directory in ("bin", "etc/docker/registry", "var/lib/registry", "tmp"):
            os.makedirs(os.path.join(rootfs, directory))
        shutil.copy(REGISTRY_BINARY, os.path.join(rootfs, "bin/registry"))
        shutil.copy(BUSYBOX, os.path.join(rootfs, "bin/busybox"))
        os.symlink("busybox", os.path.join(rootfs, "bin/sh"))
        for lib in libs:
            dest = os.path.join(rootfs, lib.lstrip("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy(lib, dest)  # follows symlinks: the loader link becomes the file
        _write(os.path.join(rootfs, "entrypoint.sh"), ENTRYPOINT, 0o755)
        _write(os.path.join(rootfs, "etc/docker/registry/config.yml"), CONFIG, 0o644)
        _write(os.path.join(context, "Dockerfile"), DOCKERFILE, 0o644)
        docker("image", "build", "--quiet", "--tag", ref, context)


def hello_image(ref, text="hello from dockerwin.registry tests\n"):
    """A one-file image FROM scratch, to push and pull."""
    with tempfile.TemporaryDirectory() as context:
        _write(os.path.join(context, "hello.txt"), text, 0o644)
        _write(os.path.join(context, "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\nCMD [\"/hello.txt\"]\n", 0o644)
        docker("image", "build", "--quiet", "--tag", ref, context)
    return ref


def _write(path, text, mode):
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)
