# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_container.py.

DOCUMENTATION = r"""
module: registry_container
short_description: Run a Docker registry container on a Windows or Linux Docker host
version_added: 0.1.0
description:
  - Keeps one registry container in the wanted state through the docker CLI on the target
    (M(ansible.windows.win_command) on Windows targets, M(ansible.builtin.command) elsewhere, always with an argv
    list).
  - The controller compares the wanted container with C(docker container inspect) of the existing one (image ID,
    command, published ports (C(HostConfig.PortBindings); no host IP, V(0.0.0.0) and V(::) are the same), bind
    mounts (case-insensitive on Windows, where Docker lowercases the container side), restart policy, the labels
    given in O(labels) (labels that come from the image are ignored), and O(isolation) and O(user) when they are set).
  - Any difference replaces the container, keeping the old one until the new one runs; the old container is stopped
    and renamed C(<name>-previous), the new one is run, and the old one is removed once the new one has kept
    running for O(start_grace) seconds. When the new container does not start, it is removed, the old one gets its
    name back and is started again, and the task fails with Docker's error and the container's last log lines.
  - Every container made carries the label C(io.dockerwin.registry.managed=true).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
    details: Only C(docker container inspect) and C(docker image inspect) run; the result names the changes.
  diff_mode:
    support: full
    details: The compared facts of the existing container and of the wanted one.
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  name:
    description:
      - Name of the container. One registry container per name; C(<name>-previous) is used while replacing it.
    type: str
    required: true
  image:
    description:
      - Image reference to run. The image must be on the host already (see
        P(dockerwin.registry.registry_image#module)).
      - Required when O(state=started) or O(state=stopped).
    type: str
  state:
    description:
      - V(started) runs the container, V(stopped) keeps it created but stopped, V(absent) removes it (the host's
        folders and the image stay).
    type: str
    choices: [started, stopped, absent]
    default: started
  command:
    description:
      - Command (arguments after the image's entrypoint), for the registry images of this collection the path of
        the configuration file inside the container, for example V(C:\\config\\config-3b5d5c371295.yml).
      - Empty means the image's own command.
    type: list
    elements: str
    default: []
  published_ports:
    description:
      - Ports published on the host.
    type: list
    elements: dict
    default: []
    suboptions:
      host_port:
        description: Port on the host.
        type: int
        required: true
      container_port:
        description: Port in the container; the registry listens on 5000.
        type: int
        default: 5000
      host_ip:
        description:
          - Host address to publish on; empty publishes on every address.
          - Refused on Windows, where NAT networking publishes on every host address and takes no host IP; limit
            access with the Windows Firewall there.
        type: str
        default: ""
  volumes:
    description:
      - Host folders bind-mounted into the container (folders, not single files, on Windows).
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: Folder on the host, for example V(C:\\registry-data).
        type: str
        required: true
      target:
        description: Folder in the container, for example V(C:\\data).
        type: str
        required: true
      read_only:
        description: Mount read-only.
        type: bool
        default: false
  restart_policy:
    description:
      - Docker restart policy.
    type: str
    choices: ["no", always, unless-stopped, on-failure]
    default: unless-stopped
  labels:
    description:
      - Labels of the container, compared with the existing container's; for example the configuration digest
        (C(io.dockerwin.registry.config-digest)) so a new configuration replaces the container.
    type: dict
    default: {}
  isolation:
    description:
      - Windows isolation mode; V(hyperv) runs an image of an older Windows build on a newer host. Empty is Docker's
        default and is not compared.
    type: str
    choices: ["", process, hyperv]
    default: ""
  user:
    description:
      - User the registry runs as, for example V(ContainerAdministrator) on Nano Server. Empty is the image's user
        and is not compared.
    type: str
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
  network_mode:
    description:
      - Network of the container (C(--network)), for example V(host) for a load balancer that reaches the replicas on
        the host's addresses. Empty is Docker's default and is not compared.
    type: str
    default: ""
  start_grace:
    description:
      - Seconds a new container must keep running before the replaced one is removed.
    type: float
    default: 2.0
  prune_replaced_config:
    description:
      - After a successful replacement, remove the host file behind the replaced container's first command argument
        when it lies in one of that container's bind mounts and the new container does not use it (the previous
        C(config-<digest>.yml) written by P(dockerwin.registry.registry_config#module)).
    type: bool
    default: false
seealso:
  - module: dockerwin.registry.registry_config
  - module: dockerwin.registry.registry_image
  - name: Persistent storage in containers (Windows)
    description: Bind mounts of host folders into Windows containers.
    link: https://learn.microsoft.com/en-us/virtualization/windowscontainers/manage-containers/persistent-storage
"""

EXAMPLES = r"""
- name: Run the registry on a Windows Server 2022 host
  dockerwin.registry.registry_container:
    name: registry
    image: dockerwin/registry:3.0.0-nanoserver-ltsc2022
    command:
      - C:\config\{{ registry_config.file }}
    published_ports:
      - host_port: 5000
    volumes:
      - source: C:\registry-data
        target: C:\data
      - source: C:\registry-data-config
        target: C:\config
        read_only: true
    labels:
      io.dockerwin.registry.config-digest: "{{ registry_config.digest }}"
    user: ContainerAdministrator
    prune_replaced_config: true

- name: Run the official image on a Linux host, on the loopback address only
  dockerwin.registry.registry_container:
    name: registry
    image: registry:3.0.0
    command:
      - /etc/distribution/{{ registry_config.file }}
    published_ports:
      - host_port: 5000
        host_ip: 127.0.0.1
    volumes:
      - source: /srv/registry-data
        target: /var/lib/registry
      - source: /srv/registry-data-config
        target: /etc/distribution
        read_only: true
    labels:
      io.dockerwin.registry.config-digest: "{{ registry_config.digest }}"

- name: Remove the container (data and configuration stay on the host)
  dockerwin.registry.registry_container:
    name: registry
    state: absent
"""

RETURN = r"""
container:
  description: Name of the container.
  returned: always
  type: str
  sample: registry
image_id:
  description: ID of O(image) on the host.
  returned: when O(state) is not V(absent)
  type: str
  sample: sha256:5f1c2b7a0d3e4c6b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b
changes:
  description:
    - Compared facts that differ (V(image), V(command), V(ports), V(mounts), V(restart_policy), V(labels),
      V(isolation), V(user)), V(created) for a new container, or V(started)/V(stopped) for a state change only.
  returned: when O(state) is not V(absent)
  type: list
  elements: str
  sample: [labels, command]
actions:
  description: What was done (or would be done in check mode), V(create), V(recreate), V(start), V(stop) or V(remove).
  returned: when changed, and always when O(state=absent)
  type: list
  elements: str
  sample: [recreate]
container_id:
  description: ID of the container made.
  returned: when a container was created or replaced
  type: str
  sample: 0c6a8dd4c0e6f3b1d4b7f5f5b9d58c3fcb8c4a5a7b9d0e1f2a3b4c5d6e7f8a9b
"""
