# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scripted HTTP servers on 127.0.0.1 for the answers a registry does not give on demand."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

API_HEADERS = {"Docker-Distribution-API-Version": "registry/2.0", "Content-Type": "application/json"}


class ScriptedServer:
    """Answers GET with ``respond(path) -> (status, headers, body)``; ``paths``/``headers`` record requests."""

    def __init__(self, respond, port=0):
        self.paths = []
        self.headers = []
        paths, request_headers = self.paths, self.headers

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                paths.append(self.path)
                request_headers.append(self.headers)
                status, headers, body = respond(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def registry_answer(body, link=None, status=200, headers=None):
    answer = dict(API_HEADERS, **(headers or {}))
    if link:
        answer["Link"] = link
    return status, answer, body if isinstance(body, bytes) else json.dumps(body).encode()


@pytest.fixture
def scripted_server():
    """Start ScriptedServers: ``scripted_server(respond, port=0)``; all are closed after the test."""
    servers = []

    def start(respond, port=0):
        servers.append(ScriptedServer(respond, port))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
