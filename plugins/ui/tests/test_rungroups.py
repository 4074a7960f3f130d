"""What-if on history from grouped runs gives what routing every run gives, and every run counts."""

from __future__ import annotations

import random
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tacroute.history import HistoryStore
from tacroute.types import Usage
from tacroute_ui import core
from tacroute_ui.rungroups import RunGroups
from testkit.history import make_attempt, make_run

ROOT = Path(__file__).resolve().parents[3]
LABELS = ["docs", "bug", "security", "documentation", "ui"]


def _record(path: Path, now: float, n: int) -> list[tuple[float, dict[str, object], Usage]]:
    rnd = random.Random(5)
    runs = []
    with HistoryStore(path) as store:
        for i in range(n):
            started = now - rnd.random() * 5 * 86_400
            task: dict[str, object] = {"priority": rnd.choice(["low", "high", "critical"]),
                                       "labels": rnd.sample(LABELS, rnd.randrange(3)),
                                       "retry_count": rnd.randrange(3)}
            if i % 7 == 0:
                task["hour"] = rnd.randrange(24)
            usage = Usage(rnd.randrange(1, 50_000), rnd.randrange(1, 5_000), rnd.randrange(1_000), 0)
            a = make_attempt(f"run-{i}", started_at=started, usage=usage, rule=None, task=task)
            store.record_attempt(a)
            store.record_run(make_run([a], rule=None))
            runs.append((started, task, usage))
    return runs


def _per_run(runs: list[tuple[float, dict[str, object], Usage]], since: float, tz: object) -> bytes:
    """JSON lines of every run since ``since``, as the what-if built them before (one line per run)."""
    lines = []
    for started, task, u in runs:
        if started < since:
            continue
        t = dict(task)
        if t.get("hour") is None:
            t["hour"] = datetime.fromtimestamp(started, tz).hour  # type: ignore[arg-type]
        t.update(input_tokens=u.input_tokens, output_tokens=u.output_tokens,
                 cache_read_tokens=u.cache_read_tokens, cache_creation_tokens=u.cache_creation_tokens)
        lines.append(orjson.dumps(t))
    return b"\n".join(lines)


def _strip(report: dict[str, object]) -> dict[str, object]:
    report = dict(report)
    report["compare"] = {k: v for k, v in report["compare"].items()  # type: ignore[attr-defined]
                         if k != "changed_lines"}  # line numbers of the per-run lines: none for groups
    return {k: v for k, v in report.items() if k not in ("source", "changed_sample")}


def test_grouped_runs_price_like_every_run(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    now = time.time()
    runs = _record(db, now, 1500)
    saved = core.parse_text((ROOT / "examples" / "config.toml").read_text(encoding="utf-8"), tmp_path / "c.toml")
    cfg = tmp_path / "c.toml"  # the edited side: docs-haiku disabled, critical-issues-opus on haiku
    cfg.write_text((ROOT / "examples" / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    core.update_rule(cfg, "docs-haiku", enabled=False, write=True)
    edited_text = core.update_rule(cfg, "critical-issues-opus", model="claude-haiku-4", write=False)
    edited = core.parse_text(edited_text, cfg)
    groups = RunGroups(db)
    for days in (0.25, 1.5, 3.7, 10):
        since = now - days * 86_400
        got, n, stale = groups.groups(saved.timezone, since)
        want = core.simulate_tasks(saved, edited, _per_run(runs, since, saved.timezone), "x").as_dict()
        assert n == sum(1 for r in runs if r[0] >= since) == want["tasks"] and not stale
        assert len(got) < n or n < 50
        have = core.simulate_groups(saved, edited, got, "x").as_dict()
        assert _strip(have) == _strip(want)
        assert want["compare"]["tasks_changed"] > 0


def test_new_runs_are_counted_after_the_file_changes(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    now = time.time()
    _record(db, now, 50)
    groups = RunGroups(db)
    since = now - 10 * 86_400
    _, n, _ = groups.groups(None, since)
    assert n == 50
    with HistoryStore(db) as store:
        a = make_attempt("late", started_at=now - 3 * 86_400, usage=Usage(10, 10), rule=None)
        store.record_attempt(a)
        store.record_run(make_run([a], rule=None))
    deadline = time.monotonic() + 60
    while True:  # the rebuild runs in the background: stale answers meanwhile, then the new count
        _, n, stale = groups.groups(None, since)
        if not stale or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert n == 51


def test_whatif_answers_as_the_editor_and_a_full_load_would(tmp_path: Path, monkeypatch: Any) -> None:
    """The what-if's preview (the loaded config with one rule edited) and its kept decisions give the
    answer the editor's text, loaded in full and routed for every group, gives."""
    from tacroute_ui import whatif
    from tacroute_ui.state import AppState

    db = tmp_path / "history.db"
    _record(db, time.time(), 400)
    monkeypatch.setenv("TACROUTE_HISTORY", str(db))
    cfg = tmp_path / "c.toml"
    cfg.write_text((ROOT / "examples" / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    state = AppState(cfg)
    edits: list[dict[str, Any]] = [
        {"op": "update", "name": "docs-haiku", "conditions": {"labels": ["bug"]}},
        {"op": "update", "name": "critical-issues-opus", "model": "claude-haiku-4", "priority": 1},
        {"op": "add", "name": "all-opus", "priority": 99, "model": "claude-opus-4", "conditions": {}},
        {"op": "disable", "name": "retry-use-haiku"}, {"op": "delete", "name": "high-priority-sonnet"},
        {"op": "update", "name": "docs-haiku", "provider": "openrouter"},
    ]
    fast = [whatif.run_whatif(state, {"edit": e, "source": "history", "since": "10d"}) for e in edits]
    import tacroute.whatif.grouped

    monkeypatch.setattr(whatif, "_preview", lambda *a: None)  # the editor's text, loaded in full
    monkeypatch.setattr(tacroute.whatif.grouped, "changed_rules", lambda a, b: None)  # every group routed
    slow = [whatif.run_whatif(state, {"edit": e, "source": "history", "since": "10d"}) for e in edits]
    for answer in (*fast, *slow):
        del answer["stale"]  # the first read of a new database file changes its stamp (WAL)
    assert fast == slow
    assert all(a["tasks"] == 400 for a in fast) and sum(a["tasks_changed"] for a in fast) > 0


def test_whatif_of_rules_the_editor_cannot_edit_says_so(tmp_path: Path, monkeypatch: Any) -> None:
    """Rules written as an inline array: the preview leaves the edit to the editor, which refuses it."""
    import pytest

    from tacroute_ui import whatif
    from tacroute_ui.rules import EditError
    from tacroute_ui.state import AppState

    db = tmp_path / "history.db"
    _record(db, time.time(), 20)
    monkeypatch.setenv("TACROUTE_HISTORY", str(db))
    head = (ROOT / "examples" / "config.toml").read_text(encoding="utf-8").split("# Routing Rules")[0]
    cfg = tmp_path / "c.toml"
    cfg.write_text(head + 'rules = [{ name = "a", priority = 1, conditions = {}, model = "claude-haiku-4" }]\n',
                   encoding="utf-8")
    with pytest.raises(EditError, match="not written as"):
        whatif.run_whatif(AppState(cfg), {"edit": {"op": "update", "name": "a", "priority": 5}, "source": "history"})
