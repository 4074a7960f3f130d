"""Root conftest: fixture modules from testkit/ shared by every test directory."""

pytest_plugins = [
    "testkit.plugins",
]
