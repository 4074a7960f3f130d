"""Routing at scale: decision time against the size of the rule table, through the
history gate, the CLI's cold start, and loading a 5,000-rule config.

Targets (PASS/FAIL each; exit 1 if any fails):
- one decision, 5,000 rules: median <= 5 us; the seed's 5 rules: <= 0.5 us;
- through the history gate: <= 2x the plain router at every size;
- ``tacroute route`` (seed config, history file present) and ``tacroute --help``:
  <= 1.3x ``python -c "import click"`` (medians, interleaved runs);
- ``load_config`` of 5,000 rules plus the first decision: <= 150 ms (reading
  the TOML, and stdlib tomllib for reference, are reported on their own).

Rule tables are random but seeded: priorities, labels, retry_count ranges,
hour ranges and priority values mixed, some rules disabled; the tasks are 200
random tasks, so the figure is a median over many match sets, not one probe.

Run: .venv/bin/python bench/bench_scale.py [CLI_RUNS]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_cli_startup import timed_cpu  # noqa: E402 - one way to time a child process

from tacroute.config import load_config, parse_config  # noqa: E402
from tacroute.config.tomlread import read_toml  # noqa: E402
from tacroute.history.gate import HistoryGate  # noqa: E402
from tacroute.history.store import HistoryStore  # noqa: E402
from tacroute.plugins import Registry  # noqa: E402
from tacroute.routing import ModelRouter  # noqa: E402
from testkit.seed import seed_text  # noqa: E402

SIZES = (5, 50, 500, 5000)
LABELS = [f"area-{i}" for i in range(300)] + ["bug", "docs", "security", "chore", "feature"]
PRIORITIES = ["critical", "high", "normal", "low"]
RESULTS: list[tuple[str, bool]] = []


def verdict(what: str, ok: bool) -> str:
    RESULTS.append((what, ok))
    return "PASS" if ok else "FAIL"


def rule_table(n: int, rng: random.Random) -> str:
    """The seed config plus n - 5 random rules (seeded)."""
    out = [seed_text()]
    for i in range(n - 5):
        conds: list[str] = []
        if rng.random() < 0.6:
            conds.append(f'labels = ["{rng.choice(LABELS)}", "{rng.choice(LABELS)}"]')
        if rng.random() < 0.4:
            conds.append(f'priority = "{rng.choice(PRIORITIES)}"')
        if rng.random() < 0.3:
            conds.append(f"retry_count = {{ gte = {rng.randint(0, 3)}, lte = {rng.randint(2, 6)} }}")
        if rng.random() < 0.2:
            conds.append(f"hour_range = [{rng.randint(0, 23)}, {rng.randint(0, 24)}]")
        enabled = "" if rng.random() < 0.9 else "enabled = false\n"
        out.append(f'\n[[routing.rules]]\nname = "extra-{i}"\npriority = {rng.randint(0, 99)}\n{enabled}'
                   f'conditions = {{ {", ".join(conds)} }}\nmodel = "m-{i % 7}"\n')
    return "".join(out)


def tasks(rng: random.Random, count: int = 200) -> list[dict[str, Any]]:
    out = []
    for _ in range(count):
        t: dict[str, Any] = {"priority": rng.choice(PRIORITIES), "retry_count": rng.choice([0, 0, 0, 1, 2, 4])}
        t["labels"] = rng.sample(LABELS, rng.randint(0, 2))
        if rng.random() < 0.7:
            t["hour"] = rng.randint(0, 23)
        out.append(t)
    return out


CPU: dict[str, float] = {}  # the same passes' CPU time per decision (this thread's), by figure


def per_decision_ns(router: ModelRouter, batch: list[dict[str, Any]], repeats: int = 9,
                    name: str = "") -> float:
    """Median over ``repeats`` passes of the time per decision (each pass routes the batch).

    The median CPU time of this thread over the same passes goes to ``CPU[name]``: on a
    shared machine, the wall time also counts the moments another process had the core."""
    route = router.route
    for task in batch:  # warm the decision cache, as a long-running router's is
        route(task)
    loops = max(1, 20_000 // len(batch))
    samples, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        for _ in range(loops):
            for task in batch:
                route(task)
        cpu.append((time.thread_time_ns() - c0) / (loops * len(batch)))
        samples.append((time.perf_counter_ns() - t0) / (loops * len(batch)))
    CPU[name] = statistics.median(cpu)
    return statistics.median(samples)


def decisions(reg: Registry, history: Path) -> None:
    rng = random.Random(7)
    batch = tasks(rng)
    seed_tasks = [{"priority": p, "labels": [lbl], "retry_count": r, "hour": h}
                  for p, lbl, r, h in (("critical", "security", 0, 14), ("low", "documentation", 0, 14),
                                       ("normal", "feature", 1, 14), ("high", "bug", 0, 14),
                                       ("low", "chore", 0, 3))]
    print("one decision (median ns; 200 random tasks; 'gate': a HistoryGate on a real SQLite file):")
    with HistoryStore(history) as store:
        for n in SIZES:
            config = parse_config(rule_table(n, random.Random(n)), Path(f"scale-{n}.toml"), registry=reg)
            plain = ModelRouter(config, registry=reg)
            gated = ModelRouter(config, registry=reg, gate=HistoryGate(store, config))
            probe = seed_tasks if n == 5 else batch
            p, g = per_decision_ns(plain, probe, name="plain"), per_decision_ns(gated, probe, name="gate")
            print(f"  {n:5d} rules: plain {p:8.0f} ns   gate {g:8.0f} ns   (gate/plain {g / p:.2f}: "
                  f"{verdict(f'gate <= 2x plain at {n} rules', g <= 2 * p)}); CPU time: plain "
                  f"{CPU['plain']:.0f} ns, gate {CPU['gate']:.0f} ns")
            if n == 5:
                print(f"    seed rules <= 500 ns: {verdict('5 rules <= 0.5 us', p <= 500)}")
            if n == 5000:
                print(f"    5,000 rules <= 5,000 ns: {verdict('5,000 rules <= 5 us', p <= 5000)}")


def loading(reg: Registry, folder: Path) -> None:
    text = rule_table(5000, random.Random(5000))
    path = folder / "big.toml"
    path.write_text(text)
    parse_s, read_s, total_s, cached_s = [], [], [], []
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")  # the parsed-config cache's folder
    for _ in range(5):
        t0 = time.perf_counter()
        tomllib.loads(text)
        parse_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        read_toml(text)
        read_s.append(time.perf_counter() - t0)
        os.environ["TACROUTE_NO_CONFIG_CACHE"] = "1"  # the text parsed, as on a first load or an edit
        t0 = time.perf_counter()
        config = load_config(path, registry=reg)
        ModelRouter(config, registry=reg).route({"priority": "high", "labels": ["bug"]})
        total_s.append(time.perf_counter() - t0)
        del os.environ["TACROUTE_NO_CONFIG_CACHE"]
        load_config(path, registry=reg)  # (re)writes the cache entry
        t0 = time.perf_counter()
        config = load_config(path, registry=reg)
        ModelRouter(config, registry=reg).route({"priority": "high", "labels": ["bug"]})
        cached_s.append(time.perf_counter() - t0)
    parse, total = statistics.median(parse_s) * 1000, statistics.median(total_s) * 1000
    read, cached = statistics.median(read_s) * 1000, statistics.median(cached_s) * 1000
    print(f"\nload_config, 5,000 rules, + first decision: median {total:.1f} ms "
          f"(reading the TOML alone {read:.1f} ms = {read / total:.0%}, the rest {total - read:.1f} ms; "
          f"stdlib tomllib alone {parse:.1f} ms): "
          f"{verdict('5,000-rule load + decision <= 150 ms', total <= 150)}")
    print(f"  the same with the document from the parsed-config cache (the file unchanged): {cached:.1f} ms")


def cold_start(runs: int, folder: Path) -> None:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = f"{ROOT / 'bench' / 'fakebin'}:{env.get('PATH', '')}"
    env["TACROUTE_HISTORY"] = str(folder / "history.db")  # present: the gate opens it
    env["XDG_CACHE_HOME"] = str(folder / "cache")
    bin_dir = Path(sys.executable).parent
    base = [sys.executable, "-c", "import click"]
    cmds = {"tacroute route": [str(bin_dir / "tacroute"), "route", "--config", "examples/config.toml",
                               "--priority", "critical", "--json"],
            "tacroute --help": [str(bin_dir / "tacroute"), "--help"]}
    for argv in (base, *cmds.values()):  # warm the file cache and the entry-point cache
        timed_cpu(argv, env)
    walls: dict[str, list[float]] = {"base": [], **{k: [] for k in cmds}}
    cpus: dict[str, list[float]] = {k: [] for k in walls}
    for _ in range(runs):
        for k, argv in (("base", base), *cmds.items()):
            wall, _, cpu = timed_cpu(argv, env)
            walls[k].append(wall)
            cpus[k].append(cpu)
    b, bc = statistics.median(walls["base"]), statistics.median(cpus["base"])
    print(f"\ncold start ({runs} interleaved runs each; history file present; the target is on wall "
          "time, CPU time (user + system) shown as the figure load disturbs least):")
    print(f"  python -c 'import click': median {b * 1000:6.1f} ms (CPU {bc * 1000:5.1f} ms)")
    for k in cmds:
        w, c = statistics.median(walls[k]), statistics.median(cpus[k])
        print(f"  {k:26s} median {w * 1000:6.1f} ms, ratio {w / b:.2f} (<= 1.3): "
              f"{verdict(f'{k} <= 1.3x import click', w / b <= 1.3)}; CPU {c * 1000:5.1f} ms, "
              f"ratio {c / bc:.2f}")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    os.environ["PATH"] = f"{ROOT / 'bench' / 'fakebin'}:{os.environ.get('PATH', '')}"
    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,claude_cli,openrouter"})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with HistoryStore(folder / "history.db"):
            pass  # an empty history file: what `route` finds on a machine that ran tasks before
        decisions(reg, folder / "history.db")
        loading(reg, folder)
        cold_start(runs, folder)
    print(f"\nload average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    failed = [what for what, ok in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)} of {len(RESULTS)} targets met" +
          (f"; not met: {'; '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
