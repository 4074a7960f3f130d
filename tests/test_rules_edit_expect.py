"""Rule edits prepared against one version of the file: update_rule, previews, and stale refusals."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tacroute.config import load_config, parse_config
from tacroute.config.edit import ConfigChangedError, file_etag, remove_rule, set_rule_enabled, update_rule
from tacroute.errors import ConfigError
from tacroute.plugins import Registry


def test_update_rule_changes_only_the_given_keys(seed_file: Path, builtin_registry: Registry) -> None:
    before = seed_file.read_text()
    update_rule(seed_file, "off-hours-haiku", priority=101, expect=file_etag(seed_file.read_bytes()))
    after = seed_file.read_text()
    changed = [ln for ln in difflib.ndiff(before.splitlines(), after.splitlines()) if ln[:1] in "+-"]
    assert len(changed) == 2 and "priority = 101" in changed[1]
    assert load_config(seed_file).rules_by_priority()[0].name == "off-hours-haiku"


def test_update_rule_conditions_and_provider(seed_file: Path, builtin_registry: Registry) -> None:
    update_rule(seed_file, "off-hours-haiku", conditions={"labels": ["x"]}, provider=None)
    rule = next(r for r in load_config(seed_file).rules if r.name == "off-hours-haiku")
    assert dict(rule.conditions) == {"labels": ["x"]}
    assert "provider" not in rule.raw


def test_a_stale_etag_is_refused_and_nothing_is_written(seed_file: Path, builtin_registry: Registry) -> None:
    etag = file_etag(seed_file.read_bytes())
    set_rule_enabled(seed_file, "off-hours-haiku", False, expect=etag)  # the first edit lands
    edited = seed_file.read_bytes()
    for edit in (lambda: set_rule_enabled(seed_file, "off-hours-haiku", True, expect=etag),
                 lambda: update_rule(seed_file, "off-hours-haiku", priority=1, expect=etag),
                 lambda: remove_rule(seed_file, "off-hours-haiku", expect=etag)):
        with pytest.raises(ConfigChangedError) as info:
            edit()
        assert info.value.etag == file_etag(edited)
    assert seed_file.read_bytes() == edited


def test_preview_returns_the_text_without_writing(seed_file: Path, builtin_registry: Registry) -> None:
    before = seed_file.read_bytes()
    text = update_rule(seed_file, "off-hours-haiku", enabled=False, write=False)
    assert seed_file.read_bytes() == before
    assert not next(r for r in parse_config(text, seed_file).rules if r.name == "off-hours-haiku").enabled
    with pytest.raises(ConfigError) as info:
        update_rule(seed_file, "off-hours-haiku", conditions={"hour_range": [0, 25]}, write=False)
    assert "conditions.hour_range" in info.value.issues[0].key
