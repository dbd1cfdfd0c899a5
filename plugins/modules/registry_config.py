# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_config.py.

DOCUMENTATION = r"""
module: registry_config
short_description: Lay out the folders of a Docker registry and write its configuration file
version_added: 0.1.0
description:
  - Creates the registry's data folder and config folder on the target and writes the registry's
    configuration (distribution's C(config.yml) format) into the config folder.
  - The configuration is rendered on the controller for the distribution major version (v2 or v3), from
    distribution's example configuration (format version 0.1, in-memory blob descriptor cache, filesystem storage
    at O(container_data_dir), the C(X-Content-Type-Options) header set to C(nosniff), storage health check; v3
    adds C(storage.tag.concurrencylimit)), with O(extra) deep-merged over it.
  - Each configuration gets its own file, C(config-<first 12 hex digits of its sha256>.yml), so a container that
    still reads the previous file keeps finding it; P(dockerwin.registry.registry_container#module) can remove the
    replaced file once a new container runs.
  - Windows targets (PowerShell shell) are handled with M(ansible.windows.win_file) and M(ansible.windows.win_copy),
    other targets with M(ansible.builtin.file) and M(ansible.builtin.copy).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff is the one of the copy of the configuration file.
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  data_dir:
    description:
      - Folder on the target for the registry's data (layers and manifests), for example V(C:\\registry-data) or
        V(/srv/registry-data). Created when missing.
    type: str
    required: true
  config_dir:
    description:
      - Folder on the target for the configuration file, mounted into the container as a folder (Windows cannot
        bind-mount single files). Created when missing.
      - Must differ from O(data_dir).
    type: str
    required: true
  version:
    description:
      - Distribution version the registry image holds, such as V(2.8.3), V(v3.0.0) or V(3.0.0-rc.1). Its major
        version (2 or 3) selects the configuration dialect; other majors are refused.
    type: str
    required: true
  container_data_dir:
    description:
      - The data folder as the registry sees it inside the container (C(storage.filesystem.rootdirectory)), for
        example V(C:\\data) or V(/var/lib/registry).
    type: str
    required: true
  storage_delete:
    description:
      - Allow deleting manifests and blobs through the registry API (C(storage.delete.enabled)).
    type: bool
    default: false
  extra:
    description:
      - Distribution configuration deep-merged over the rendered one. Mappings merge key by key, lists and scalars
        replace, and V(null) removes a key.
      - To use another storage driver, set C(storage.filesystem) to V(null) and add the driver; a configuration
        with more or fewer than one storage driver is refused.
      - The configuration is shown in the diff; keep secrets that must stay out of logs in files.
    type: dict
    default: {}
  tls_certificate:
    description:
      - Path inside the container of the PEM certificate chain the registry serves (C(http.tls.certificate)); sets
        C(http.tls.minimumtls) to V(tls1.2). P(dockerwin.registry.registry_secrets#module) writes it into the config
        folder's C(tls) folder.
    type: str
    default: ""
  tls_key:
    description: Path inside the container of the PEM private key of O(tls_certificate) (C(http.tls.key)).
    type: str
    default: ""
  htpasswd_path:
    description: Path inside the container of the htpasswd file (bcrypt); turns on C(auth.htpasswd).
    type: str
    default: ""
  htpasswd_realm:
    description: Realm of the basic authentication (C(auth.htpasswd.realm)).
    type: str
    default: Registry
  http_secret_file:
    description:
      - Path on the target of the file that holds C(http.secret) (made by P(dockerwin.registry.registry_secrets#module)).
        The plugin reads it on the host and puts it into the configuration file, which it then writes owner-only
        (mode 0600 on POSIX) and without the copy's diff or log; the diff it returns shows the value redacted.
      - The registry reads C(http.secret) only from its configuration or the environment; the environment is
        shown by C(docker inspect), so the configuration file holds it.
    type: str
    default: ""
  proxy_remote_url:
    description:
      - Upstream registry URL for the pull-through cache mode (C(proxy.remoteurl)), for example V(https://registry-1.docker.io).
        A registry in this mode serves the upstream's images and refuses pushes.
    type: str
    default: ""
  proxy_username:
    description: User for the upstream (C(proxy.username)); needs O(proxy_remote_url) and O(proxy_password).
    type: str
    default: ""
  proxy_password:
    description:
      - Password for the upstream (C(proxy.password)). The configuration file that holds it is written owner-only
        (mode 0600 on POSIX) and without the copy's diff or log; the diff returned shows it redacted.
    type: str
    default: ""
  redis_addr:
    description:
      - C(host:port) of a Redis server that the replicas of a scaled-out registry share as their blob-descriptor
        cache (C(storage.cache.blobdescriptor=redis) and the C(redis) section, in the dialect of the major version).
      - Empty keeps the in-memory cache of each registry.
    type: str
    default: ""
  redis_password:
    description: Password of the Redis server; the configuration file is then written owner-only, its diff redacted.
    type: str
    default: ""
  redis_db:
    description: Redis database number.
    type: int
    default: 0
  redis_tls:
    description: Connect to Redis with TLS.
    type: bool
    default: false
  storage:
    description:
      - Storage backend (driver) of the registry. V(filesystem) stores in O(container_data_dir); V(s3) and V(azure)
        take their settings from O(storage_s3) and O(storage_azure). Settings the driver does not take are refused
        with the name of the role variable to fix.
    type: str
    choices: [filesystem, s3, azure]
    default: filesystem
  storage_redirect:
    description:
      - With V(s3) or V(azure), let the registry answer blob reads with a redirect to the store (clients then fetch
        from the store, which they must reach and trust). V(false) sets C(storage.redirect.disable); the registry
        serves the blobs itself.
    type: bool
    default: false
  storage_s3:
    description:
      - S3 settings, used with O(storage=s3). The secret key is only written into the configuration file, which is
        then owner-only and its diff redacted.
    type: dict
    default: {}
    suboptions:
      bucket:
        description: Bucket name (it must exist).
        type: str
        default: ""
      region:
        description: Region; empty is V(us-east-1).
        type: str
        default: ""
      regionendpoint:
        description: Base URL of an S3-compatible endpoint; empty is AWS.
        type: str
        default: ""
      accesskey:
        description: Access key ID; empty (with an empty secret key) uses the host's instance role or environment.
        type: str
        default: ""
      secretkey:
        description: Secret access key.
        type: str
        default: ""
      secure:
        description: HTTPS to the endpoint.
        type: bool
        default: true
      skipverify:
        description: Do not check the endpoint's certificate.
        type: bool
        default: false
      forcepathstyle:
        description: Path-style requests to the endpoint (distribution 3).
        type: bool
        default: true
      rootdirectory:
        description: Key prefix of the registry's data in the bucket.
        type: str
        default: ""
      ca:
        description: PEM text of the endpoint's CA, written to C(storage-ca/storage-ca.crt) in O(config_dir).
        type: str
        default: ""
  storage_azure:
    description: Azure Blob settings, used with O(storage=azure). The account key is kept like the S3 secret key.
    type: dict
    default: {}
    suboptions:
      accountname:
        description: Storage account name.
        type: str
        default: ""
      accountkey:
        description: Storage account key.
        type: str
        default: ""
      container:
        description: Blob container (it must exist).
        type: str
        default: ""
      realm:
        description: Domain suffix of the Blob service; empty is V(core.windows.net).
        type: str
        default: ""
      rootdirectory:
        description: Blob name prefix (distribution 3 only).
        type: str
        default: ""
notes:
  - The registry reads the configuration only when it starts; P(dockerwin.registry.registry_container#module) replaces
    the container when the configuration digest it is given changes.
seealso:
  - module: dockerwin.registry.registry_container
  - module: dockerwin.registry.registry_image
  - name: Configuring a registry (distribution)
    description: The configuration file format and every option.
    link: https://distribution.github.io/distribution/about/configuration/
"""

EXAMPLES = r"""
- name: Write the configuration of a registry on a Windows Server host
  dockerwin.registry.registry_config:
    data_dir: C:\registry-data
    config_dir: C:\registry-data-config
    version: 3.0.0
    container_data_dir: C:\data
  register: registry_config

- name: Linux host, distribution 2.8.3, deletion allowed, read-only while garbage collection runs
  dockerwin.registry.registry_config:
    data_dir: /srv/registry-data
    config_dir: /srv/registry-data-config
    version: 2.8.3
    container_data_dir: /var/lib/registry
    storage_delete: true
    extra:
      storage:
        maintenance:
          readonly:
            enabled: true

- name: Store the layers in S3 instead of the data folder
  dockerwin.registry.registry_config:
    data_dir: /srv/registry-data
    config_dir: /srv/registry-data-config
    version: 3.0.0
    container_data_dir: /var/lib/registry
    extra:
      storage:
        filesystem: null
        s3:
          region: eu-west-1
          bucket: registry-layers
        redirect:
          disable: true
"""

RETURN = r"""
path:
  description: Path of the configuration file on the target.
  returned: success
  type: str
  sample: C:\registry-data-config\config-3b5d5c371295.yml
file:
  description: Name of the configuration file in O(config_dir), to give the container as its command.
  returned: success
  type: str
  sample: config-3b5d5c371295.yml
digest:
  description: SHA-256 of the configuration file's text, for the container's C(io.dockerwin.registry.config-digest) label.
  returned: success
  type: str
  sample: 3b5d5c3712955042212316173ccf37be800e3b5d5c3712955042212316173ccf
major_version:
  description: Distribution major version the configuration was written for.
  returned: success
  type: int
  sample: 3
storage:
  description: Where the configuration keeps the data, without secrets (storage driver and the settings that name the place).
  returned: success
  type: dict
  sample: {"driver": "s3", "location": {"bucket": "registry", "region": "us-east-1", "regionendpoint": "https://minio:9000"}}
"""
