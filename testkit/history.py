"""History fixtures: every test records into its own temporary SQLite file.

Autouse, so a test that runs tasks through the real plugin registry never
writes to the user's ``~/.local/share/tacroute/history.db``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tacroute.history import damage
from tacroute.types import AttemptRecord, Decision, ErrorClass, RunResult, Usage

if TYPE_CHECKING:
    import sqlite3

    from tacroute.config.model import Config
    from tacroute.plugins import Registry

#: A config with no ``[history]`` table: records into ``$TACROUTE_HISTORY``.
PLAIN_CONFIG = ("[providers.p]\ncommand_template = ['x']\n[routing]\ndefault_provider = 'p'\n"
                "default_model = 'm'\n")


@pytest.fixture(autouse=True)
def _isolated_history(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the default history at a fresh temporary file."""
    folder = tmp_path_factory.mktemp("history")
    path = folder / "history.db"
    monkeypatch.setenv("TACROUTE_HISTORY", str(path))
    monkeypatch.setenv("XDG_DATA_HOME", str(folder / "data"))
    damage.reset()  # broken files and warnings given are remembered per process
    yield path


@pytest.fixture
def history_db(_isolated_history: Path) -> Path:
    """The temporary history file this test records into (``$TACROUTE_HISTORY``)."""
    return _isolated_history


def make_attempt(run_id: str = "r1", attempt: int = 1, *, provider: str = "claude-cli",
                 model: str = "claude-sonnet-4-5", success: bool = True,
                 error_class: ErrorClass | None = None, started_at: float = 1_000_000.0,
                 duration_ms: int = 1000, usage: Usage | None = None, cost_usd: float | None = None,
                 rule: str | None = "r", task: dict[str, Any] | None = None, message: str | None = None,
                 retry_after_s: float | None = None) -> AttemptRecord:
    """An AttemptRecord with sensible defaults, for history tests."""
    return AttemptRecord(run_id=run_id, attempt=attempt, task=task or {"priority": "high"},
                         provider=provider, provider_type="claude-cli", model=model, rule=rule,
                         success=success, error_class=error_class, message=message,
                         exit_code=0 if success else 1, started_at=started_at, duration_ms=duration_ms,
                         usage=usage or Usage(), cost_usd=cost_usd, output_file=None,
                         retry_after_s=retry_after_s)


def make_run(attempts: list[AttemptRecord], *, run_id: str | None = None, rule: str | None = "r",
             task: dict[str, Any] | None = None, duration_ms: int | None = None) -> RunResult:
    """A RunResult over ``attempts``: success when the last one succeeded."""
    last = attempts[-1]
    first = attempts[0]
    decision = Decision(first.provider, first.model, rule, "test")
    total = Usage()
    for a in attempts:
        total = total + a.usage
    return RunResult(run_id=run_id or first.run_id, task=task or dict(first.task), decision=decision,
                     attempts=tuple(attempts), success=last.success,
                     provider=last.provider if last.success else None,
                     model=last.model if last.success else None, result="done" if last.success else None,
                     usage=total, cost_usd=None,
                     duration_ms=(duration_ms if duration_ms is not None
                                  else sum(a.duration_ms for a in attempts)))


def plain_config(text: str = PLAIN_CONFIG, path: Path | None = None) -> Config:
    """A parsed config (no plugins needed): ``text`` at ``path``."""
    from tacroute.config import parse_config
    from tacroute.plugins import Registry

    return parse_config(text, path, registry=Registry.from_plugins([]))


def notify_run(reg: Registry, attempts: list[AttemptRecord], config: Config | None = None,
               **kw: Any) -> RunResult:
    """Send one run's events through ``reg``'s hooks, as the runner does."""
    from tacroute.context import RunContext

    result = make_run(attempts, **kw)
    ctx = RunContext(config=config or plain_config(), run_id=result.run_id, task=result.task,
                     decision=result.decision)
    reg.hooks.observe_decision(ctx)
    for a in attempts:
        reg.hooks.observe_attempt_start(ctx, a.attempt, a.provider, a.model)
        reg.hooks.observe_attempt(ctx, a)
    reg.hooks.observe_run(ctx, result)
    return result


def old_history_file(path: Path, version: int) -> sqlite3.Connection:
    """A history file as a tacroute of schema ``version`` made it (its first ``version``
    migrations), open for the caller to add rows to, then commit and close."""
    import sqlite3

    from tacroute.history.schema import MIGRATIONS, _statements

    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:version]:
        for statement in _statements(step):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {int(version)}")
    return conn
