from __future__ import annotations

from tacroute.config.locate import locate, split_dotted

TEXT = """\
# comment
[providers.claude-cli]
enabled = true
command_template = [
    "claude",
    "-p", "[weird]",
]

[providers."my.provider"]
enabled = false

[routing]
enabled = true

[[routing.rules]]
name = "a"
conditions = { priority = "x" }

[[routing.rules]]
name = "b"
conditions = { labels = ["docs"] }
model = "m"
"""


def test_split_dotted() -> None:
    assert split_dotted('a."b.c".d') == ["a", "b.c", "d"]
    assert split_dotted("providers.claude-cli") == ["providers", "claude-cli"]


def test_locate_keys_tables_and_array_of_tables() -> None:
    assert locate(TEXT, ["providers", "claude-cli", "enabled"]) == 3
    assert locate(TEXT, ["providers", "claude-cli", "command_template", 2]) == 4
    assert locate(TEXT, ["providers", "my.provider", "enabled"]) == 10
    assert locate(TEXT, ["routing", "enabled"]) == 13
    assert locate(TEXT, ["routing", "rules", 1, "conditions", "labels"]) == 21
    assert locate(TEXT, ["routing", "rules", 1, "model"]) == 22
    assert locate(TEXT, ["routing", "rules", 0]) == 15
    # A missing key resolves to its table's header.
    assert locate(TEXT, ["routing", "rules", 0, "provider"]) == 15
    assert locate(TEXT, ["nothing"]) is None
