# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_image.py.

DOCUMENTATION = r"""
module: registry_image
short_description: Get a Docker registry image onto a Windows or Linux Docker host
version_added: 0.1.0
description:
  - Makes sure the image O(name) is on the target's Docker engine, through the docker CLI on the target.
  - O(source=pull) uses the image when the host has it and pulls it otherwise.
  - O(source=load) sends a C(docker save) archive from the controller (plain or gzip, Docker or OCI layout) and
    loads it, for hosts without access to a registry. The archive is read on the controller first, and nothing is
    sent when the host already has an image with the archive's image ID. When the archive's image is tagged
    otherwise, it is tagged O(name) after the load.
  - O(source=binary) packages a registry executable from the controller into an image, from O(dockerfile) and
    O(context_files) (the P(dockerwin.registry.windows_registry#role) role renders both). On Windows the build
    context holds C(registry.exe); on Linux it holds C(registry) and, in C(rootfs/), the shared libraries C(ldd)
    lists for it. The image carries the label C(io.dockerwin.registry.build-digest), a digest of the binary,
    the Dockerfile and the context files, and is only rebuilt when that digest changes.
  - O(source=build) builds the image from source on the target with O(dockerfile), a multi-stage Dockerfile (a Go
    builder stage that clones distribution and runs C(go build), then a minimal runtime stage; the
    P(dockerwin.registry.windows_registry#role) role renders it) and O(context_files); no binary is sent. The
    label C(io.dockerwin.registry.build-digest) covers the Dockerfile, the context files and the image ID of every
    C(FROM) image as C(docker image inspect) reports it on the target, so the image is rebuilt when one of those
    changes, for example after the operator pulls the monthly patch of a Windows base image, and at no other time.
    A C(FROM) image the host does not have is pulled first (C(docker image pull)), so that the digest names the
    image the build used; C(docker image build) never pulls on its own (no C(--pull)).
  - Files are sent into a fresh folder made with M(ansible.windows.win_tempfile) (Windows) or
    M(ansible.builtin.tempfile), and that folder is removed afterwards.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
    details: Only C(docker image inspect) runs; the result tells whether the image would be pulled, loaded or built.
  diff_mode:
    support: full
    details: The image ID before and after.
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  name:
    description:
      - Image reference on the host, for example V(dockerwin/registry:3.0.0-nanoserver-ltsc2022) or V(registry:3.0.0).
    type: str
    required: true
  source:
    description:
      - Where the image comes from.
    type: str
    choices: [pull, load, binary, build]
    default: pull
  archive:
    description:
      - Path on the controller of a C(docker save) archive, plain or gzip.
      - Required when O(source=load). With several images in the archive, the one tagged O(name) is used.
    type: path
  binary:
    description:
      - Path on the controller of a registry executable (C(registry.exe) on Windows).
      - Required when O(source=binary).
    type: path
  dockerfile:
    description:
      - Text of the Dockerfile that packages O(binary) (O(source=binary)) or builds the registry from source
        (O(source=build)).
      - Required when O(source=binary) or O(source=build). With O(source=build), every C(FROM) names its image in
        full (no build arguments), so that the host's copy of it can be inspected.
    type: str
  context_files:
    description:
      - More files for the build context, as a mapping of file name to text, for example a default C(config.yml).
    type: dict
    default: {}
  isolation:
    description:
      - Windows isolation mode for C(docker image build) (C(--isolation)), for O(source=binary) and O(source=build).
        V(hyperv) lets a host build from base images of an older Windows build. Empty is the engine's default
        (process isolation on Windows Server).
      - Refused on Linux hosts.
    type: str
    choices: ["", process, hyperv]
    default: ""
  docker_cli:
    description:
      - Docker CLI the target runs, a name on the PATH or a full path.
    type: str
    default: docker
  docker_host:
    description:
      - Daemon the docker CLI talks to, put before every sub-command as C(-H <docker_host>) (argv). Empty is the CLI's default.
    type: str
    default: ""
notes:
  - Windows base images must match the host's Windows build for process isolation; see the
    P(dockerwin.registry.windows_base_tag#filter) filter.
seealso:
  - module: dockerwin.registry.registry_container
  - module: dockerwin.registry.registry_config
  - name: docker image save
    description: How archives for O(source=load) are written.
    link: https://docs.docker.com/reference/cli/docker/image/save/
"""

EXAMPLES = r"""
- name: Pull the official registry image on a Linux host
  dockerwin.registry.registry_image:
    name: registry:3.0.0

- name: Load an archive made with `docker save dockerwin/registry:3.0.0-nanoserver-ltsc2022 | gzip`
  dockerwin.registry.registry_image:
    name: dockerwin/registry:3.0.0-nanoserver-ltsc2022
    source: load
    archive: files/registry-3.0.0-nanoserver-ltsc2022.tar.gz

- name: Package a registry.exe built with `go build ./cmd/registry` into a Nano Server image
  dockerwin.registry.registry_image:
    name: dockerwin/registry:3.0.0-nanoserver-ltsc2022
    source: binary
    binary: files/registry.exe
    dockerfile: |
      FROM mcr.microsoft.com/windows/nanoserver:ltsc2022
      COPY registry.exe C:/registry/registry.exe
      COPY config.yml C:/registry/config.yml
      EXPOSE 5000
      USER ContainerAdministrator
      ENTRYPOINT ["C:\\registry\\registry.exe", "serve"]
      CMD ["C:\\registry\\config.yml"]
    context_files:
      config.yml: |
        version: 0.1
        storage:
          filesystem:
            rootdirectory: C:\data
        http:
          addr: :5000
  register: registry_image

- name: Build the registry from source on a Windows Server 2022 host, Hyper-V isolated
  dockerwin.registry.registry_image:
    name: dockerwin/registry:3.0.0-nanoserver-ltsc2022
    source: build
    isolation: hyperv
    dockerfile: "{{ lookup('ansible.builtin.template', 'Dockerfile.build.windows.j2') }}"
    context_files:
      config.yml: "{{ lookup('ansible.builtin.template', 'config-default.yml.j2') }}"
"""

RETURN = r"""
image:
  description: The image reference, O(name).
  returned: always
  type: str
  sample: dockerwin/registry:3.0.0-nanoserver-ltsc2022
image_id:
  description:
    - ID of the image on the host after the task; empty in check mode when the image is not there yet.
  returned: always
  type: str
  sample: sha256:5f1c2b7a0d3e4c6b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b
actions:
  description: What was done (or would be done in check mode).
  returned: when changed
  type: list
  elements: str
  sample: [load]
build_digest:
  description: Digest of the build inputs, stored in the image label C(io.dockerwin.registry.build-digest).
  returned: when O(source=binary) or O(source=build), except in check mode when a base image is missing
  type: str
  sample: 0d2e8c4e1f6a3b7c9d5e2f8a1b4c7d0e3f6a9b2c5d8e1f4a7b0c3d6e9f2a5b8c
base_images:
  description:
    - The C(FROM) images of the Dockerfile and their image IDs on the host, as the build digest counts them
      (empty IDs in check mode for images that would be pulled).
  returned: when O(source=build)
  type: dict
  sample:
    golang:1.23-windowsservercore-ltsc2022: sha256:9a0b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b
    mcr.microsoft.com/windows/nanoserver:ltsc2022: sha256:1f2e3d4c5b6a7980f1e2d3c4b5a69788f9e0d1c2b3a4958677a8b9c0d1e2f3a4
"""
