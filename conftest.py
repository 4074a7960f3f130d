"""Root conftest: fixture modules from testkit/ shared by every test directory."""

pytest_plugins = [
    "testkit.plugins",
    "testkit.history",  # a temporary history file per test
    # the real Claude CLI and the fake Anthropic API server
    "testkit.claude",
    # the fake OpenRouter server
    "testkit.openrouter_fixtures",
    # the real Codex and Gemini CLIs and their fake APIs
    "testkit.agents",
    # shared state: a real redis-server on a free loopback port
    "testkit.redis_server",
]
