"""The seed document's config text, verbatim, for tests."""

from __future__ import annotations

# The seed's adws/config.toml, verbatim (routing disabled, as the seed ships it).
SEED_CONFIG = """\
# Provider configurations
[providers.claude-cli]
enabled = true
command_template = [
    "claude",
    "-p", "{prompt_file}",
    "--model", "{model}",
    "--output-format", "stream-json",
    "--verbose",
    "--dangerously-skip-permissions"
]

[providers.openrouter]
enabled = true
requires_api_key = true
api_key_env = "OPENROUTER_API_KEY"
command_template = [
    "tools/openrouter-cli.py",
    "-p", "{prompt_file}",
    "--model", "{model}",
    "--output-file", "{output_file}",
    "--output-format", "stream-json"
]

# Default provider and model
[llm]
provider = "claude-cli"
model_default = "claude-sonnet-4-5"

# Routing configuration
[routing]
enabled = false  # Set to true to enable intelligent routing
default_provider = "claude-cli"
default_model = "claude-sonnet-4-5"
"""

SEED_RULES = """
# Critical tasks use most powerful model
[[routing.rules]]
name = "critical-issues-opus"
priority = 100
conditions = { priority = "critical" }
provider = "claude-cli"
model = "claude-opus-4"

# Retries use cheaper model (checked before priority rules)
[[routing.rules]]
name = "retry-use-haiku"
priority = 95
conditions = { retry_count = { gte = 1 } }
provider = "claude-cli"
model = "claude-haiku-4"

# Normal/high priority use Sonnet
[[routing.rules]]
name = "high-priority-sonnet"
priority = 90
conditions = { priority = ["high", "normal"] }
provider = "claude-cli"
model = "claude-sonnet-4-5"

# Off-hours use cheaper model
[[routing.rules]]
name = "off-hours-haiku"
priority = 70
conditions = { hour_range = [0, 8] }
provider = "claude-cli"
model = "claude-haiku-4"

# Documentation tasks use Haiku
[[routing.rules]]
name = "docs-haiku"
priority = 60
conditions = { labels = ["documentation", "docs"] }
provider = "claude-cli"
model = "claude-haiku-4"
"""


def seed_text(enabled: bool = True) -> str:
    text = SEED_CONFIG + SEED_RULES
    if enabled:
        text = text.replace("enabled = false  #", "enabled = true  #")
    return text
