#!/usr/bin/python
# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_info
short_description: Check that a Docker registry answers, and how (API version, authentication, TLS certificate)
version_added: 0.1.0
description:
  - Sends C(GET /v2/) to a Docker registry (distribution, Harbor, a cloud registry) and reports whether it answers,
    its API version header, the authentication scheme it asks for, the response time and, over HTTPS, the
    registry's certificate (subject, subject alternative names, days to expiry) and the TLS session.
  - Without credentials, a registry that asks for authentication (HTTP 401) is reported, not failed
    (RV(status=401), RV(authenticated=false)). With credentials, they must be accepted.
  - Fails when the registry cannot be reached, its TLS certificate is refused, or the answer is not a registry's.
  - With O(wait_timeout), keeps trying until the registry answers, which makes it the wait step after starting one.
  - Runs where the task runs, usually the controller (C(delegate_to) another host to test from there).
author:
  - dockerwin.registry contributors (!UNKNOWN)
extends_documentation_fragment:
  - dockerwin.registry.registry_connection
  - dockerwin.registry.attributes.read_only_api
requirements:
  - The Python package C(cryptography) on the host that runs the module, to describe the certificate when
    O(validate_certs=false) (with validation, Python's C(ssl) describes it).
seealso:
  - module: dockerwin.registry.registry_catalog_info
  - module: dockerwin.registry.registry_tags_info
  - module: dockerwin.registry.registry_manifest_info
  - name: Docker Registry HTTP API V2, API version check
    description: What C(GET /v2/) answers.
    link: https://distribution.github.io/distribution/spec/api/#api-version-check
"""

EXAMPLES = r"""
- name: Wait up to a minute for a new registry, then report it
  dockerwin.registry.registry_info:
    url: https://registry.example.com
    ca_path: /etc/pki/registry/ca.crt
    wait_timeout: 60
  register: registry

- name: Fail when the certificate expires within 30 days
  ansible.builtin.assert:
    that: registry.tls.days_to_expiry >= 30
    fail_msg: "The certificate of {{ registry.url }} expires on {{ registry.tls.not_after }}"

- name: Check a registry by name at an address, with the credentials of a token-auth registry
  dockerwin.registry.registry_info:
    url: https://registry.example.com
    connect_address: 192.0.2.10
    url_username: ci
    url_password: "{{ registry_ci_password }}"
  delegate_to: localhost
"""

RETURN = r"""
url:
  description: The registry's base URL, normalized.
  returned: always
  type: str
  sample: https://registry.example.com
reachable:
  description: Whether the registry answered C(GET /v2/) as a registry does (V(false) only in a failed result).
  returned: always
  type: bool
  sample: true
status:
  description: HTTP status of the last answer to C(GET /v2/) (after authentication, when credentials were given).
  returned: success
  type: int
  sample: 200
authenticated:
  description: Whether C(GET /v2/) answered 200 (anonymously, with the given credentials, or with a token).
  returned: success
  type: bool
  sample: true
api_version:
  description: The registry's C(Docker-Distribution-API-Version) header.
  returned: success
  type: str
  sample: registry/2.0
auth_scheme:
  description: The authentication scheme the registry asks for (V(basic), V(bearer)), or V(null) when it asks for none.
  returned: success
  type: str
  sample: bearer
auth_realm:
  description: The realm of the registry's challenge (for V(bearer), the token server's URL).
  returned: success, when the registry asks for authentication
  type: str
  sample: https://auth.example.com/token
auth_service:
  description: The C(service) of a V(bearer) challenge.
  returned: success, when the registry asks for token authentication
  type: str
  sample: registry.example.com
response_time:
  description: Seconds from sending the last C(GET /v2/) to reading its answer, authentication round trips included.
  returned: success
  type: float
  sample: 0.0123
tls:
  description: The registry's TLS session and certificate, from its last connection; V(null) over plain HTTP.
  returned: success
  type: dict
  contains:
    version:
      description: TLS protocol version.
      type: str
      sample: TLSv1.3
    cipher:
      description: Cipher suite.
      type: str
      sample: TLS_AES_256_GCM_SHA384
    verified:
      description: Whether the certificate was checked (O(validate_certs)).
      type: bool
    subject:
      description: Subject distinguished name, in certificate order; V(null) when it could not be read.
      type: str
      sample: CN=registry.example.com, O=Example
    issuer:
      description: Issuer distinguished name.
      type: str
    subject_alt_names:
      description: Subject alternative names, as V(DNS:name) or V(IP:address).
      type: list
      elements: str
      sample: ["DNS:registry.example.com", "IP:192.0.2.10"]
    not_before:
      description: Start of validity, UTC (ISO 8601).
      type: str
    not_after:
      description: End of validity, UTC (ISO 8601).
      type: str
      sample: "2027-01-31T12:00:00Z"
    days_to_expiry:
      description: Whole days until RV(tls.not_after) (negative once expired).
      type: int
      sample: 364
    fingerprint_sha256:
      description: SHA-256 of the certificate (DER), hexadecimal.
      type: str
    parsed_by:
      description: V(ssl), V(cryptography), or V(null) when neither could read it (then only the session and fingerprint are given).
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dockerwin.registry.plugins.module_utils._registry_client import (
    REGISTRY_REQUIRED_TOGETHER,
    RegistryClient,
    RegistryError,
    check_common_params,
    registry_argument_spec,
)


def main():
    module = AnsibleModule(registry_argument_spec(), required_together=REGISTRY_REQUIRED_TOGETHER, supports_check_mode=True)
    params = module.params
    error = check_common_params(params)
    if error:
        module.fail_json(msg=error)

    result = dict(changed=False, url=params["url"], reachable=False)
    try:
        client = RegistryClient.from_params(params)
        result["url"] = client.url
        probe = client.probe(wait_timeout=params["wait_timeout"])
    except RegistryError as e:
        module.fail_json(msg=str(e), **result)
    for warning in client.warnings:
        module.warn(warning)

    challenge = probe.challenge or {}
    result.update(reachable=True, status=probe.status, authenticated=probe.authenticated, api_version=probe.api_version,
                  auth_scheme=challenge.get("scheme"), response_time=probe.response_time, tls=probe.tls)
    if challenge.get("realm"):
        result["auth_realm"] = challenge["realm"]
    if challenge.get("scheme") == "bearer" and challenge.get("service"):
        result["auth_service"] = challenge["service"]
    if probe.tls and probe.tls["parsed_by"] is None and not probe.tls["verified"]:
        module.warn("The certificate of %s was not described: install the Python package cryptography where the module "
                    "runs, or set validate_certs=true" % client.url)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
