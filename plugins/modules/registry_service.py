# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_service.py.

DOCUMENTATION = r"""
module: registry_service
short_description: Run a Docker registry as a Docker Swarm service with several replicas
version_added: 0.2.0
description:
  - Keeps one replicated Docker Swarm service of the registry in the wanted state through the docker CLI of a swarm
    manager (M(ansible.windows.win_command) on Windows targets, M(ansible.builtin.command) elsewhere, argv lists).
  - The port is published in host mode (C(--publish mode=host,...)), on the node of each replica, never through
    the ingress routing mesh, which would listen on every address of every node. With a fixed O(published_port),
    at most one replica runs per node (C(--replicas-max-per-node 1)); with V(0), Docker picks a port for each replica.
  - The controller compares the wanted service with C(docker service inspect) (image and its ID, command, replicas,
    labels, bind mounts, published port). Image, command, replicas and labels change with C(docker service update)
    (a rolling update); other changes remove and create the service again.
  - Waits until every replica runs, and returns C(host:port) of each (the node's address and its published port).
  - Fails, changing nothing, when the engine is not a swarm manager; it never initialises a swarm.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
    details: Only C(docker info), C(docker service inspect) and C(docker image inspect) run; the result names the changes.
  diff_mode:
    support: full
    details: The compared facts of the existing service and of the wanted one.
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  name:
    description: Name of the service.
    type: str
    required: true
  image:
    description: Image of the registry, on the manager (M(dockerwin.registry.registry_image)); required unless O(state=absent).
    type: str
  state:
    description: V(started) runs O(replicas) replicas, V(stopped) keeps the service with 0 replicas, V(absent) removes it.
    type: str
    choices: [started, stopped, absent]
    default: started
  replicas:
    description: Number of replicas.
    type: int
    default: 2
  command:
    description: Arguments after the image's entrypoint (the config file path).
    type: list
    elements: str
    default: []
  volumes:
    description:
      - Bind mounts. The source folders must exist on every node that runs a replica (a shared folder, or the
        config folder laid out by the role on each node).
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: Folder on the node.
        type: str
        required: true
      target:
        description: Folder in the container.
        type: str
        required: true
      read_only:
        description: Mount it read-only.
        type: bool
        default: false
  container_port:
    description: Port the registry listens on in the container.
    type: int
    default: 5000
  published_port:
    description: Port published in host mode on each node; V(0) lets Docker pick one for each replica.
    type: int
    default: 0
  labels:
    description: Labels of the service (compared); C(io.dockerwin.registry.managed) and the image ID label are always set.
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for every replica to run (and a rolling update to complete).
    type: int
    default: 120
  docker_cli:
    description: Docker CLI the target runs, a name on the PATH or a full path.
    type: str
    default: docker
  docker_host:
    description: Daemon of the swarm manager, put before every sub-command as C(-H <docker_host>); empty is the CLI's default.
    type: str
    default: ""
seealso:
  - module: dockerwin.registry.registry_container
  - module: dockerwin.registry.registry_replicas_info
"""

EXAMPLES = r"""
- name: Two replicas, a port for each picked by Docker, on the manager's test daemon
  dockerwin.registry.registry_service:
    name: registry
    image: registry:3.0.0
    replicas: 2
    command: [/etc/distribution/config-0123456789ab.yml]
    volumes:
      - {source: /srv/registry-data, target: /var/lib/registry}
      - {source: /srv/registry-data-config, target: /etc/distribution, read_only: true}
    published_port: 0
    docker_host: unix:///run/swarm-test/docker.sock
  register: service
"""

RETURN = r"""
service:
  description: Name of the service.
  returned: always
  type: str
  sample: registry
changes:
  description: Compared facts that differ (V(image), V(command), V(replicas), V(labels), V(mounts), V(ports), V(max_per_node)), or V(created).
  returned: when O(state) is not V(absent)
  type: list
  elements: str
  sample: [replicas]
actions:
  description: What was done (or would be done in check mode), V(create), V(update), V(recreate) or V(remove).
  returned: always
  type: list
  elements: str
  sample: [update]
endpoints:
  description: C(address:port) of each running replica (the node's swarm address and the published port), sorted.
  returned: when O(state) is not V(absent), outside check mode or when nothing changes
  type: list
  elements: str
  sample: ["10.0.0.11:5000", "10.0.0.12:5000"]
"""
