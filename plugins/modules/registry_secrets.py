# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the code is the action plugin plugins/action/registry_secrets.py.

DOCUMENTATION = r"""
module: registry_secrets
short_description: Keep a registry's TLS certificate, htpasswd users and http.secret on the registry host
version_added: 0.1.0
description:
  - Keeps the key material of a Docker registry (distribution) on the registry host itself, read back on every run,
    so that a controller that starts empty (an AWX execution environment, a new CI job) never makes a new CA, server
    key or C(http.secret).
  - The files that exist are read with M(ansible.builtin.slurp) inside the plugin; nothing read is returned or logged.
    What must change is decided on the controller (certificates read with the Python C(cryptography) library, hashes
    made with C(bcrypt)), and only the files that differ are written (M(ansible.windows.win_copy) or
    M(ansible.builtin.copy), with C(no_log) and without diff).
  - New TLS material is minted with C(community.crypto) on the controller (Windows hosts cannot run its Python
    modules), in three steps. O(step=plan) only reads the CA and server files and returns RV(mint), what is
    missing, and RV(sources), the kept PEMs the minting needs (the CA key and certificate that sign a renewed
    certificate, the kept server key); its result is then censored like a C(no_log) task's. The
    C(community.crypto) modules make the keys, signing requests and certificates (the role's
    C(tasks/secrets_mint.yml)). O(step=apply) takes them as O(minted), checks them like files read from the host
    (a CA pair, signed by that CA, for that key and those names, not expiring) and writes them.
  - The files are O(ca_dir)C(/ca.key) and C(ca.crt) (the CA of O(tls=self_signed); kept out of the folder the container
    mounts), O(config_dir)C(/tls/server.crt), C(server.key), C(ca.crt), O(config_dir)C(/auth/htpasswd) and
    C(http.secret).
  - Access is owner-only. POSIX targets get folders with mode 0700 and files with mode 0600. On Windows targets,
    the config folder and the CA folder grant full control to each of O(principals) and read access to each of
    O(readers) (M(ansible.windows.win_acl),
    inherited by what they hold), then lose their inherited entries (M(ansible.windows.win_acl_inheritance)).
  - O(tls=self_signed) asks for a CA (10 years) and a server certificate signed by it for every name and
    IP address of O(tls_names) (the role mints ECDSA P-256 keys). The certificate is issued again, by the same CA and
    for the same key, when it expires within O(tls_renew_days), when its names differ from O(tls_names), or when it
    does not match the CA or the key on the host.
  - O(tls=provided) writes the operator's certificate, chain and key (content, or files on the controller, which
    may be encrypted with Ansible Vault) after checking that the key belongs to the certificate and that the
    certificate has not expired; O(tls_ca) becomes the C(ca.crt) clients can fetch. A provided certificate that
    expires within O(tls_renew_days) gives a warning; it is never renewed here (the operator replaces it).
  - O(auth=htpasswd) writes one bcrypt hash per user. A user whose password still matches the hash on the host
    keeps that hash; a changed password gets a new hash; users no longer listed are removed.
  - C(http.secret) is made once (64 random URL-safe characters) and kept.
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.attributes
  - dockerwin.registry.attributes.ACTIONS
attributes:
  check_mode:
    support: full
    details: Files are read for real; nothing is written. Keys minted for a check-mode run are thrown away.
  diff_mode:
    support: none
    details: Secrets are never shown; RV(changed_files) and RV(reasons) tell what changes.
  platform:
    platforms: [posix, windows]
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  step:
    description:
      - V(plan) reads the CA and server files of O(tls=self_signed) and returns RV(mint) and RV(sources); it changes
        nothing and needs only O(config_dir), O(ca_dir), O(tls) and the C(tls_names)/C(tls_*_days) options.
      - V(apply) writes every file, with the new TLS material taken from O(minted); it fails, before any change, when
        the host needs TLS material that O(minted) does not hold.
    type: str
    choices: [plan, apply]
    default: apply
  minted:
    description:
      - For O(step=apply), the PEMs that C(community.crypto) minted for RV(mint) of O(step=plan); empty strings for
        what was not asked. Each is checked before it is written.
    type: dict
    suboptions:
      ca_key:
        description: The new CA's private key (C(openssl_privatekey_pipe)).
        type: str
        default: ""
      ca_cert:
        description: The new CA's self-signed certificate (C(x509_certificate_pipe), provider C(selfsigned)).
        type: str
        default: ""
      server_key:
        description: The new server key.
        type: str
        default: ""
      server_cert:
        description: The server certificate signed by the CA (C(x509_certificate_pipe), provider C(ownca)).
        type: str
        default: ""
  config_dir:
    description: The registry's config folder on the target (mounted into the container); C(tls) and C(auth) go into it.
    type: str
    required: true
  ca_dir:
    description: Folder on the target for the CA's key and certificate, not mounted into the container.
    type: str
    required: true
  tls:
    description: V(none), V(self_signed) or V(provided); see the description.
    type: str
    choices: [none, self_signed, provided]
    default: none
  tls_names:
    description:
      - DNS names and IP addresses of the registry, as clients reach it. The first is the certificate's common name.
      - Required for O(tls=self_signed); for O(tls=provided), names the certificate does not cover give a warning.
    type: list
    elements: str
    default: []
  tls_valid_days:
    description: Days a server certificate made for O(tls=self_signed) is valid.
    type: int
    default: 365
  tls_renew_days:
    description: A self-signed server certificate that expires within this many days is issued again (a provided one gives a warning).
    type: int
    default: 30
  tls_certificate:
    description: For O(tls=provided), the PEM server certificate, optionally followed by its chain.
    type: str
    default: ""
  tls_certificate_src:
    description: Path on the controller of O(tls_certificate) instead (relative paths are looked up in C(files/)).
    type: str
    default: ""
  tls_chain:
    description: For O(tls=provided), PEM intermediate certificates served after the server certificate.
    type: str
    default: ""
  tls_chain_src:
    description: Path on the controller of O(tls_chain) instead.
    type: str
    default: ""
  tls_key:
    description: For O(tls=provided), the unencrypted PEM private key of the certificate.
    type: str
    default: ""
  tls_key_src:
    description: Path on the controller of O(tls_key) instead (Ansible Vault files are decrypted).
    type: str
    default: ""
  tls_ca:
    description: For O(tls=provided), the PEM CA certificate(s) clients are to trust; it must have signed the chain.
    type: str
    default: ""
  tls_ca_src:
    description: Path on the controller of O(tls_ca) instead.
    type: str
    default: ""
  auth:
    description: V(none) or V(htpasswd) with O(users).
    type: str
    choices: [none, htpasswd]
    default: none
  users:
    description: Users of O(auth=htpasswd).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name (no C(:) or blanks).
        type: str
        required: true
      password:
        description: Password, at most 72 bytes (bcrypt's limit).
        type: str
        required: true
  realm:
    description: Realm of the basic authentication, returned as C(realm).
    type: str
    default: Registry
  principals:
    description:
      - Windows only. Users or groups (names or SIDs) that get full control of the config and CA folders; every
        other entry inherited from above is removed.
    type: list
    elements: str
    default: []
  readers:
    description:
      - Windows only. Users or groups (names or SIDs) that get read access to the config folder (not the CA folder), such as the
        identity the registry container runs as (V(S-1-5-93-2-1) for ContainerAdministrator).
    type: list
    elements: str
    default: []
  http_secret:
    description:
      - The C(http.secret) that every replica of a group must share (scale-out behind a load balancer or a Swarm
        service), at least 32 printable ASCII characters; written to C(auth/http.secret) instead of a generated one.
      - Empty keeps the secret on the host, or generates one when there is none.
    type: str
    default: ""
seealso:
  - module: dockerwin.registry.registry_config
  - name: Configuring a registry (distribution), http.tls and auth.htpasswd
    description: The configuration keys these files are for.
    link: https://distribution.github.io/distribution/about/configuration/
"""

EXAMPLES = r"""
- name: Read the CA and server files and say what community.crypto must mint
  dockerwin.registry.registry_secrets:
    step: plan
    config_dir: C:\registry-data-config
    ca_dir: C:\registry-data-config-ca
    tls: self_signed
    tls_names: [registry.example.com, 192.0.2.10]
  register: plan

# The role's tasks/secrets_mint.yml mints every item of plan.mint (CA, server key, server certificate) with
# community.crypto on the controller. A renewal needs only the server certificate, signed again by the CA and for
# the server key that stay on the host (plan.sources):
- name: Make the signing request for the kept server key
  community.crypto.openssl_csr_pipe:
    privatekey_content: "{{ plan.sources.server_key }}"
    common_name: "{{ plan.mint.server_cert.common_name }}"
    subject_alt_name: "{{ plan.mint.server_cert.subject_alt_name }}"
    use_common_name_for_san: false
    key_usage: "{{ plan.mint.server_cert.key_usage }}"
    extended_key_usage: [serverAuth]
  delegate_to: localhost
  no_log: true
  register: csr
  when: plan.mint.keys() | list == ['server_cert']

- name: Sign it with the kept CA
  community.crypto.x509_certificate_pipe:
    provider: ownca
    csr_content: "{{ csr.csr }}"
    ownca_content: "{{ plan.sources.ca_cert }}"
    ownca_privatekey_content: "{{ plan.sources.ca_key }}"
    ownca_not_after: "+{{ plan.mint.server_cert.valid_days }}d"
  delegate_to: localhost
  no_log: true
  register: server_cert
  when: csr is not skipped

- name: Write the certificate, two users and http.secret on a Windows Server host
  dockerwin.registry.registry_secrets:
    config_dir: C:\registry-data-config
    ca_dir: C:\registry-data-config-ca
    tls: self_signed
    tls_names: [registry.example.com, 192.0.2.10]
    minted:
      server_cert: "{{ server_cert.certificate | default('') }}"
    auth: htpasswd
    users:
      - name: ci
        password: "{{ vault_registry_ci_password }}"
      - name: reader
        password: "{{ vault_registry_reader_password }}"
    principals: [S-1-5-32-544, S-1-5-18]
    readers: [S-1-5-93-2-1]
  register: registry_secrets

- name: A certificate from the company CA, files kept in Ansible Vault on the controller
  dockerwin.registry.registry_secrets:
    config_dir: /srv/registry-data-config
    ca_dir: /srv/registry-data-config-ca
    tls: provided
    tls_certificate_src: registry.crt
    tls_key_src: registry.key.vault
    tls_ca_src: company-root.crt
"""

RETURN = r"""
mint:
  description:
    - O(step=plan) only. What C(community.crypto) must mint before O(step=apply) can write the files; empty when
      nothing. C(ca) (C(common_name), C(organization_name), C(valid_days)), C(server_key) (an empty dict), and
      C(server_cert) (C(common_name), C(subject_alt_name) as C(DNS:) / C(IP:) entries, C(key_usage), C(valid_days)).
  returned: success
  type: dict
  sample: {server_cert: {common_name: registry.example.com, subject_alt_name: ["DNS:registry.example.com", "IP:192.0.2.10"],
           key_usage: [digitalSignature], valid_days: 365}}
sources:
  description:
    - O(step=plan) only. The PEMs kept on the host that the minting needs (C(ca_key) and C(ca_cert) to sign a new
      server certificate with the kept CA, C(server_key) when the key stays). Secret; when it is not empty the
      whole result is censored in every output, as for C(no_log).
  returned: success
  type: dict
tls:
  description: The TLS mode.
  returned: success
  type: str
  sample: self_signed
names:
  description: Names and IP addresses the server certificate is valid for.
  returned: when tls is not none
  type: list
  elements: str
  sample: [registry.example.com, 192.0.2.10]
not_after:
  description: Expiry of the server certificate (ISO 8601, UTC).
  returned: when tls is not none
  type: str
  sample: "2027-12-04T16:00:00+00:00"
fingerprint_sha256:
  description: SHA-256 fingerprint of the server certificate.
  returned: when tls is not none
  type: str
ca_fingerprint_sha256:
  description: SHA-256 fingerprint of the CA certificate (empty for a provided certificate without O(tls_ca)).
  returned: when tls is not none
  type: str
ca_cert:
  description: The CA certificate in PEM (public), for clients to trust.
  returned: when tls is not none
  type: str
auth:
  description: The authentication mode.
  returned: success
  type: str
users:
  description: Names of the htpasswd users.
  returned: when auth is htpasswd
  type: list
  elements: str
users_added:
  description: Users added to the htpasswd file by this run.
  returned: when auth is htpasswd
  type: list
  elements: str
users_changed:
  description: Users whose password (hash) this run replaced.
  returned: when auth is htpasswd
  type: list
  elements: str
users_removed:
  description: Users this run removed from the htpasswd file.
  returned: when auth is htpasswd
  type: list
  elements: str
changed_files:
  description: Paths on the target written by this run (or that would be, in check mode).
  returned: success
  type: list
  elements: str
reasons:
  description: Why files change, for example C(server certificate expires on 2027-01-02, within 30 days; renewed).
  returned: success
  type: list
  elements: str
secrets_digest:
  description:
    - SHA-256 over the SHA-256 of each file the registry reads, for the container's C(io.dockerwin.registry.secrets-digest)
      label, so that a new certificate or user list recreates the container. It reveals nothing of the files.
  returned: success
  type: str
paths:
  description: Path on the target of each managed file (C(ca_key), C(ca_cert), C(server_key), C(server_cert), C(tls_ca), C(htpasswd), C(http_secret)).
  returned: success
  type: dict
"""
