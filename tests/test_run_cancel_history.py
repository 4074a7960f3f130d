"""``run_task(cancel=...)`` from a thread: recorded as cancelled, never a provider failure."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tacroute import ErrorClass, run_task
from tacroute.history import HistoryStore
from tacroute.history import plugin as history_plugin
from tacroute.plugins import Registry, set_registry
from tacroute.types import RunResult
from testkit.script_provider import ScriptPlugin, process_alive, script_config


@pytest.fixture
def plugin() -> Iterator[ScriptPlugin]:
    plugin = ScriptPlugin()
    set_registry(Registry.from_plugins([plugin, history_plugin]))
    yield plugin
    set_registry(None)


def _cancelled_run(tmp_path: Path, config: Path, prompt: Path) -> RunResult:
    """Run the ``hang`` model in a thread; cancel it once its child is running."""
    pidfile, printed = tmp_path / "child.pid", tmp_path / "printed"
    pidfile.unlink(missing_ok=True)
    printed.unlink(missing_ok=True)
    cancel = threading.Event()
    box: list[RunResult] = []
    worker = threading.Thread(target=lambda: box.append(
        run_task(prompt, {"labels": ["bug"]}, config=config, cancel=cancel, timeout=300, cwd=tmp_path)))
    worker.start()
    end = time.monotonic() + 60
    while not printed.exists() and worker.is_alive() and time.monotonic() < end:
        time.sleep(0.05)
    cancel.set()
    worker.join(timeout=120)
    assert box, "run_task did not return after the cancel"
    assert not process_alive(int(pidfile.read_text())), "the attempt's child survived the cancel"
    return box[0]


def test_cancelled_runs_are_recorded_and_count_toward_no_cooldown_or_rate(
        plugin: ScriptPlugin, tmp_path: Path, history_db: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("x\n", encoding="utf-8")
    # Without the cancel, crash would fail over to "ok": a cancelled run must not.
    config = script_config(tmp_path, ["hang", "ok"], runner='[runner]\nfailover = ["crash"]\n')
    (tmp_path / "ok").mkdir()
    ok_config = script_config(tmp_path / "ok", ["ok"])
    assert run_task(prompt, {"labels": ["bug"]}, config=ok_config).success

    for _ in range(3):  # the default cooldown: 3 failures within 600 s
        result = _cancelled_run(tmp_path, config, prompt)
        assert [(a.model, a.error_class) for a in result.attempts] == [("hang", ErrorClass.CANCELLED)]
        assert result.usage.input_tokens == 1  # the line seen before the stop is kept
        assert [e for e, _ in plugin.events][-2:] == ["attempt", "run"]

    with HistoryStore(history_db) as store:
        runs = store.recent()
        assert len(runs) == 4 and sorted(r.success for r in runs) == [False, False, False, True]
        assert store.cooldowns() == []
        assert store.count("attempts") == 4
        assert store.limits().running == {}  # every slot was given back
        # Cancelled attempts are no samples; the provider's rate is its one real run.
        assert store.model_stats("s0", "hang") is None
        assert ("s0", "hang") not in store.all_model_stats()
        assert store.all_model_stats()[("s0", "ok")].success_rate == 1.0
        ok = store.model_stats("s0", "ok")
        assert ok is not None and (ok.samples, ok.success_rate) == (1, 1.0)
        (row,) = store.stats(by="provider")
        assert (row.runs, row.successes, row.cancelled, row.success_rate) == (4, 1, 3, 1.0)
        (label,) = store.stats(by="label")
        assert (label.key, label.runs, label.cancelled, label.success_rate) == ("bug", 4, 3, 1.0)
        by_model = {r.key: r for r in store.stats(by="model")}
        assert (by_model["s0/hang"].cancelled, by_model["s0/hang"].success_rate) == (3, 0.0)
        assert by_model["s0/ok"].success_rate == 1.0
