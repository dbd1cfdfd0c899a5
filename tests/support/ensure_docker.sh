#!/usr/bin/env bash
# Make sure this (Debian) machine can run the demo and the tests: the Docker engine, Debian's registry
# binary (packaged into the registry image by image source "binary"), a static busybox (the image's
# /bin/sh), Debian's haproxy (packaged into the balancer image of the scale-out tests,
# tests/support/haproxy_image.py; the tests never use the package's service, whose default config listens
# nowhere) and redis-server (run by a scale-out test on its own port; its service is never used); then make
# sure dockerd answers, starting it when it does not (CI machines have no init
# system running it). Idempotent: does nothing when all is there and running.
# Usage: tests/support/ensure_docker.sh        DOCKER_WAIT=seconds (default 60), DOCKERD_LOG=path
set -euo pipefail

packages=(docker.io docker-registry busybox-static haproxy redis-server)
wait_s=${DOCKER_WAIT:-60}
log=${DOCKERD_LOG:-/var/log/dockerd.log}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "ensure_docker: installing ${missing[*]}"
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
  echo "ensure_docker: dockerd is running ($(docker version --format '{{.Server.Version}}'))"
  exit 0
fi

if ! pgrep -x dockerd >/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "ensure_docker: dockerd is not running; start it as root" >&2; exit 1; }
  echo "ensure_docker: starting dockerd (log: $log)"
  # setsid: the daemon outlives this script and the make/CI process that ran it.
  setsid dockerd >>"$log" 2>&1 </dev/null &
fi
for ((i = 0; i < wait_s; i++)); do
  if docker info >/dev/null 2>&1; then
    echo "ensure_docker: dockerd is running after ${i}s ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "ensure_docker: dockerd did not answer within ${wait_s}s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
