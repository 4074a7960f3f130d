"""Root conftest: fixture modules from testkit/ shared by every test directory."""

pytest_plugins = [
    "testkit.plugins",
    # issue 3: the real Claude CLI and the fake Anthropic API server
    "testkit.claude",
]
