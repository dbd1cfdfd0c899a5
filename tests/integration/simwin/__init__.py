# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A simulated Windows Server host for the test suite (test-only, never part of the built collection).

See tests/README.md, "Simulated Windows host", for what it proves and what it does not.
"""
