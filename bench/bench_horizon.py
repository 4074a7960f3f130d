"""The cooldown horizon: ``tacroute route``'s cold start with a history file, A/B.

``tacroute route --config examples/config.toml --priority critical --json`` with a
history file present, interleaved runs of:

- ``python -c "import click"`` (the baseline the 1.3x target is measured against);
- route on the tree under ``BASE`` (optional: a ``git archive`` of the tree to
  compare with; its ``core/`` goes first on ``PYTHONPATH``), with a history file
  that tree created;
- route on this tree, with a history file whose cooldown horizon has passed (the
  usual case: the database is not read);
- route on this tree while a cooldown runs (the horizon is an hour away: the
  database is read, as before).

Each tree has its own history file and ``XDG_CACHE_HOME``; ``PYTHONDONTWRITEBYTECODE``
is unset (the warm-up runs write the bytecode). Medians of wall and CPU (user +
system) time.

Run: .venv/bin/python bench/bench_horizon.py [RUNS] [BASE]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_cli_startup import timed_cpu  # noqa: E402 - one way to time a child process

ROUTE = ["route", "--config", "examples/config.toml", "--priority", "critical", "--json"]
MAKE_HISTORY = """
import sys, time
from tacroute.history.store import HistoryStore
with HistoryStore(sys.argv[1]) as store:
    if sys.argv[2] == "cooling":
        from tacroute.types import ErrorClass
        from testkit.history import make_attempt
        store.record_attempt(make_attempt("r", provider="claude-cli", model="claude-opus-4", success=False,
                                          error_class=ErrorClass.RATE_LIMIT, started_at=time.time(),
                                          duration_ms=0, retry_after_s=3600))
"""


def _env(folder: Path, tree: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TACROUTE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = f"{ROOT / 'bench' / 'fakebin'}:{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{tree / 'core'}:{ROOT}"
    env["TACROUTE_HISTORY"] = str(folder / f"{name}.db")
    env["XDG_CACHE_HOME"] = str(folder / f"cache-{name}")
    return env


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    base = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else None
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tacroute = str(Path(sys.executable).parent / "tacroute")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "import click": ([sys.executable, "-c", "import click"], _env(folder, ROOT, "click"))}
        setups = [("base", base, "quiet")] if base is not None else []
        setups += [("horizon passed", ROOT, "quiet"), ("cooldown running", ROOT, "cooling")]
        for name, tree, kind in setups:
            assert tree is not None
            env = _env(folder, tree, name.replace(" ", "-"))
            subprocess.run([sys.executable, "-c", MAKE_HISTORY, env["TACROUTE_HISTORY"], kind], env=env,
                           cwd=ROOT, check=True)
            cases[name] = ([tacroute, *ROUTE], env)
        for argv, env in cases.values():  # bytecode, the entry-point and parsed-config caches
            timed_cpu(argv, env)
            timed_cpu(argv, env)
        walls: dict[str, list[float]] = {k: [] for k in cases}
        cpus: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(runs):
            for k, (argv, env) in cases.items():
                wall, _, cpu = timed_cpu(argv, env)
                walls[k].append(wall)
                cpus[k].append(cpu)
    bw, bc = statistics.median(walls["import click"]), statistics.median(cpus["import click"])
    print(f"{runs} interleaved runs each, medians (route: {' '.join(ROUTE)}):")
    for k in cases:
        w, c = statistics.median(walls[k]), statistics.median(cpus[k])
        print(f"  {k:18s} wall {w * 1000:6.1f} ms ({w / bw:.3f}x, min {min(walls[k]) * 1000:5.1f})"
              f"   CPU {c * 1000:6.1f} ms ({c / bc:.3f}x)")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
