# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Options of plugins/module_utils/_registry_client.py registry_argument_spec().
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the registry, V(http://host:port) or V(https://host:port), without a path.
      - The host is also the name checked in the registry's TLS certificate; see O(connect_address) to reach
        the registry at another address.
    type: str
    required: true
  url_username:
    description:
      - User name for the registry's basic authentication (htpasswd), or for its token server.
      - Sent only when the registry asks for it (HTTP 401 with a C(Basic) challenge), or to the token server
        named by a C(Bearer) challenge.
    type: str
  url_password:
    description:
      - Password of O(url_username).
    type: str
  ca_path:
    description:
      - PEM file of the CA certificate(s) that signed the registry's certificate.
      - When not set, the system's trusted CAs are used.
    type: path
  validate_certs:
    description:
      - Whether to check the registry's TLS certificate (CA and name).
      - Set to V(false) only for tests or when O(ca_path) cannot be given.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each connection and answer.
    type: int
    default: 10
  connect_address:
    description:
      - Connect to this address instead of resolving the host of O(url), like C(curl --connect-to).
      - The host of O(url) stays the HTTP C(Host) header and the name checked in the TLS certificate, so a
        certificate for V(registry.example.com) can be checked while connecting to V(127.0.0.1) or to a host
        that has no DNS entry yet.
      - V(host), V(host:port), V(IPv4:port), V([IPv6]:port); without a port, the port of O(url) is used.
      - HTTP proxies from the environment are not used when this is set.
    type: str
  client_cert:
    description:
      - PEM file of a client certificate to present to a registry that asks for one (mutual TLS,
        C(http.tls.clientcas) in the registry's configuration).
      - It may also hold the key; otherwise set O(client_key).
    type: path
  client_key:
    description:
      - PEM file of the unencrypted private key of O(client_cert).
    type: path
  retries:
    description:
      - How many more times to send a request that failed for a reason that may pass (connection refused or
        reset, no answer within O(timeout), or a server error, HTTP 5xx).
      - The retries are 0.5, 1, 2, 4 seconds... apart (at most 8). Other errors (TLS, authentication, 4xx,
        not a registry) are not retried.
    type: int
    default: 2
  wait_timeout:
    description:
      - Seconds to keep trying C(GET /v2/) while the registry refuses connections, resets them, does not answer
        in time, or answers with a server error (5xx), for use right after the registry container starts.
      - V(0) does not wait (the request is still tried O(retries) more times).
      - Other errors (TLS, authentication, not a registry) fail at once.
    type: int
    default: 0
notes:
  - Registries that use token authentication (a C(Bearer realm=...,service=...,scope=...) challenge in
    C(WWW-Authenticate), as distribution's C(auth.token), Harbor and cloud registries send) are supported. The module
    asks the realm for a token, with O(url_username) and O(url_password) when set, caches it for its scope and sends
    the request again with it.
  - Pages (C(Link) headers) are followed only when they stay on the scheme, host and port of O(url), up to
    10,000 pages; a page seen before ends the listing with a warning.
"""
