# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local HAProxy image for the balancer tests, built without Docker Hub from Debian's ``haproxy`` package
(2.6, tests/support/ensure_docker.sh installs it): ``/usr/local/sbin/haproxy`` with its shared libraries FROM
scratch, ``haproxy`` on ``PATH`` as in the official image, which the role's default
(``windows_registry_lb_image: haproxy:2.6``) names. The tag carries a hash of its inputs.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import images

HAPROXY_BINARY = "/usr/sbin/haproxy"

DOCKERFILE = """FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/sbin:/bin
CMD ["haproxy", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
"""


def haproxy_image(repository="dockerwin-test/haproxy"):
    """Reference of the HAProxy image, built when this exact image is missing."""
    if not os.path.exists(HAPROXY_BINARY):
        raise RuntimeError("%s is missing: apt-get install haproxy (tests/support/ensure_docker.sh does)" % HAPROXY_BINARY)
    libs = images._libraries(HAPROXY_BINARY)
    ref = "%s:2.6-%s" % (repository, images._digest([HAPROXY_BINARY, *libs], [DOCKERFILE]))
    with images.build_lock(ref):
        if not images.image_exists(ref):
            _build(ref, libs)
    return ref


def _build(ref, libs):
    with tempfile.TemporaryDirectory() as context:
        rootfs = os.path.join(context, "rootfs")
        for directory in ("usr/local/sbin", "usr/local/etc/haproxy", "tmp", "var/lib/haproxy"):
            os.makedirs(os.path.join(rootfs, directory))
        shutil.copy(HAPROXY_BINARY, os.path.join(rootfs, "usr/local/sbin/haproxy"))
        for lib in libs:
            dest = os.path.join(rootfs, lib.lstrip("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy(lib, dest)
        images._write(os.path.join(context, "Dockerfile"), DOCKERFILE, 0o644)
        images.docker("image", "build", "--quiet", "--tag", ref, context)
