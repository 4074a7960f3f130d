"""Test helpers shared by the core and plugin test suites: fake servers and fixtures.

Not shipped in any distribution. Modules listed in the root conftest's
``pytest_plugins`` provide fixtures to every test directory.
"""
