"""Single-rule edits made on the text mean what tomlkit's edits mean.

Every edit is made twice on the same file: by the editor as it is (the
text-level edit, kept when it checks out) and with the text path switched off
(tomlkit). Both new texts must parse to the same document, or both must be
refused with the same problems; the text-level one must leave the lines
outside the rule byte for byte.
"""

from __future__ import annotations

import random
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.config import edit, load_config
from tacroute.errors import ConfigError, UsageError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "examples" / "config.toml").read_text(encoding="utf-8")
HEAD = EXAMPLE.split("[[routing.rules]]")[0].rsplit("\n# ", 1)[0] + "\n"


def generated(rules: int, seed: int) -> str:
    """``rules`` rules in assorted layouts: comments, missing keys, sub-tables, trailing tables."""
    rnd = random.Random(seed)
    out = [HEAD]
    for i in range(rules):
        style = rnd.randrange(6)
        if rnd.random() < 0.4:
            out.append(f"# rule {i} introduces itself\n")
        out.append("[[routing.rules]]\n" if style != 5 else "  [[ routing.rules ]]  # spaced header\n")
        out.append(f'name = "r{i}"\n' if style != 4 else f"name = 'r{i}'   # literal string\n")
        out.append(f"priority = {rnd.randrange(100)}\n" if style != 3 else f"  priority   =  {i % 100}  # why\n")
        if style == 2:
            out.append(f'[routing.rules.conditions]\nlabels = ["l{i}"]\n')
        else:
            out.append(f'conditions = {{ labels = ["l{i}"], retry_count = {{ gte = {i % 4} }} }}\n')
            if rnd.random() < 0.5:
                out.append('provider = "claude-cli"\n')
            out.append(f'model = "{rnd.choice(["claude-haiku-4", "claude-opus-4"])}"\n')
            if rnd.random() < 0.3:
                out.append(f"enabled = {rnd.choice(['true', 'false'])}\n")
        if style == 2:
            out.insert(len(out) - 1, 'model = "claude-sonnet-4-5"\n')
        out.append("\n" if rnd.random() < 0.8 else "\n\n# trailing note\n\n")
    out.append('[providers.extra]\nenabled = true\ncommand_template = ["x", "{prompt_file}"]\n')
    return "".join(out)


CONFIGS = {"seed": EXAMPLE, "200 rules": generated(200, 7), "60 rules": generated(60, 11)}


def _names(text: str) -> list[str]:
    return [r["name"] for r in tomllib.loads(text)["routing"]["rules"]]


EDITS = st.sampled_from(["priority", "model", "provider", "no provider", "conditions", "enable", "disable",
                         "delete", "add", "bad provider", "several"])


def _op(kind: str, value: int) -> Callable[[Path, str], str]:
    def run(path: Path, name: str) -> str:
        keys: dict[str, Any] = {
            "priority": {"priority": value % 101},
            "model": {"model": f"m-{value}"},
            "provider": {"provider": "openrouter"},
            "no provider": {"provider": None},
            "conditions": {"conditions": {"labels": [f"x{value}"], "retry_count": {"gte": 1}}},
            "enable": {"enabled": True},
            "disable": {"enabled": False},
            "bad provider": {"provider": "nowhere"},
            "several": {"priority": value % 7, "model": "claude-haiku-4", "enabled": bool(value % 2)},
        }.get(kind, {})
        if kind == "delete":
            return edit.remove_rule(path, name, write=False)
        if kind == "add":
            return edit.add_rule(path, f"new-{value}", priority=value % 100, model="claude-opus-4",
                                 provider=None if value % 2 else "claude-cli",
                                 conditions={"labels": ["n"]}, enabled=bool(value % 3), write=False)
        return edit.update_rule(path, name, **keys, write=False)
    return run


def _outcome(fn: Callable[[], str]) -> tuple[str, Any]:
    try:
        return "text", fn()
    except ConfigError as exc:
        return "config error", sorted((i.key, i.message) for i in exc.issues)
    except UsageError as exc:
        return "usage error", str(exc)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=st.sampled_from(sorted(CONFIGS)), kind=EDITS, pick=st.integers(0, 10_000))
def test_text_edit_means_the_tomlkit_edit(monkeypatch: pytest.MonkeyPatch, config: str, kind: str,
                                           pick: int) -> None:
    text = CONFIGS[config]
    name = _names(text)[pick % len(_names(text))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.toml"
        path.write_text(text, encoding="utf-8")
        used: list[bool] = []
        real = edit._tomlkit
        with monkeypatch.context() as m:
            m.setattr(edit, "_tomlkit", lambda *a: used.append(True) or real(*a))
            fast = _outcome(lambda: _op(kind, pick)(path, name))
        with monkeypatch.context() as m:
            m.setattr(edit, "before_doc", lambda *a: None)  # no parsed document: the tomlkit path
            slow = _outcome(lambda: _op(kind, pick)(path, name))
        assert path.read_text(encoding="utf-8") == text  # previews write nothing
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] != "text":
        assert fast[1] == slow[1]
        return
    assert tomllib.loads(fast[1]) == tomllib.loads(slow[1])
    if kind != "add" and not used:  # the text-level edit: lines before the rule's comment block stay
        head = text.split(f'"{name}"')[0].split(f"'{name}'")[0]
        head = head[:head.rfind("[[")].rstrip(" ")
        head = head[:head.rfind("\n\n") + 1] if "\n\n" in head else head
        assert fast[1].startswith(head)


def test_plain_rules_never_reach_tomlkit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = generated(200, 7)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")

    def refuse(*_: Any) -> Any:
        raise AssertionError("the text-level edit was not used")

    monkeypatch.setattr(edit, "_tomlkit", refuse)
    plain = [name for name in _names(text)
             if "[routing.rules.conditions]" not in text.split(f"{name}\"")[-1].split(f"{name}'")[-1]
             .split("[[")[0]][:40]
    assert len(plain) == 40
    for n, name in enumerate(plain):
        edit.set_rule_enabled(path, name, bool(n % 2))
        edit.update_rule(path, name, priority=n, model="claude-haiku-4", provider=None)
    edit.add_rule(path, "added", priority=5, model="claude-opus-4", provider=None, conditions={})
    edit.remove_rule(path, "added")
    edit.remove_rule(path, plain[0])
    config = load_config(path)  # what `tacroute config validate` loads
    rules = {r.name: r for r in config.rules}
    assert "added" not in rules and plain[0] not in rules
    for n, name in enumerate(plain[1:], 1):
        assert (rules[name].enabled, rules[name].priority, rules[name].model) == (bool(n % 2), n, "claude-haiku-4")
