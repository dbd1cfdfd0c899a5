# Copyright (c) Ansible Project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Created with antsibull-docs 2.28.0 (`antsibull-docs sphinx-init --use-current dockerwin.registry`), then changed:
# project and title, and intersphinx reads a local inventory (no network at build time, see below).
# `make docs` builds the site: build/docsite/rst (generated RST) -> build/docsite/html, warnings are errors.

import os

project = 'dockerwin.registry'
copyright = 'dockerwin.registry contributors'

title = 'dockerwin.registry documentation'
html_short_title = 'dockerwin.registry'

extensions = ['sphinx.ext.autodoc', 'sphinx.ext.intersphinx', 'sphinx_antsibull_ext']

pygments_style = 'ansible'

highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
html_show_sphinx = False

display_version = False

html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

# The generated pages link to Ansible's own docs (ansible.builtin and ansible.windows modules, return values, ...).
# The build runs offline: docs/site/ansible_inventory.py writes an inventory of exactly the labels the pages use,
# each checked (a module must exist in the installed collections), and Sphinx reads it from this file.
intersphinx_mapping = {
    'ansible_devel': (
        'https://docs.ansible.com/projects/ansible/devel/',
        os.environ.get('DOCKERWIN_DOCS_INVENTORY', os.path.join(os.path.dirname(__file__), '..', '..', 'build', 'docsite',
                                                               'ansible_devel.inv')),
    ),
}

default_role = 'any'

nitpicky = True
