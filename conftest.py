"""Root conftest: fixture modules from testkit/ shared by every test directory."""

pytest_plugins = [
    "testkit.plugins",
    "testkit.history",  # issue 5a: a temporary history file per test
    # issue 3: the real Claude CLI and the fake Anthropic API server
    "testkit.claude",
    # issue 4: fake OpenRouter server
    "testkit.openrouter_fixtures",
    # shared state: a real redis-server on a free loopback port
    "testkit.redis_server",
]
