"""tacroute simulate: numbers checked by hand, the parallel and memo paths, bad input, the CLI.

Prices (USD per million tokens, built in): opus 15/75, sonnet 3/15, haiku 1/5.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import tacroute.whatif.simulate as simmod
from tacroute.cli import cli
from tacroute.config import parse_config
from tacroute.errors import UsageError
from tacroute.plugins import Registry
from tacroute.types import Usage
from tacroute.whatif.simulate import TaskFileError, simulate
from testkit.seed import seed_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# (line, expected rule, model, input, output)
TASKS = [
    ({"priority": "critical", "labels": ["security"], "hour": 14,
      "input_tokens": 100_000, "output_tokens": 10_000}, "critical-issues-opus", "claude-opus-4"),
    ({"priority": "low", "labels": ["documentation"], "hour": 14}, "docs-haiku", "claude-haiku-4"),
    ({"priority": "normal", "retry_count": 1, "hour": 3}, "retry-use-haiku", "claude-haiku-4"),
    ({"priority": "low", "labels": ["chore"], "hour": 3, "input_tokens": 1_000_000, "output_tokens": 0},
     "off-hours-haiku", "claude-haiku-4"),
    ({"priority": "low", "labels": ["x"], "hour": 12}, None, "claude-sonnet-4-5"),
    ({"priority": "high", "hour": 12, "team": "infra", "input_tokens": 0, "output_tokens": 1_000_000},
     "high-priority-sonnet", "claude-sonnet-4-5"),
]


@pytest.fixture(autouse=True)
def _no_pricing_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TACROUTE_PRICING_CACHE", str(tmp_path / "no-cache.json"))


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    p = tmp_path / "seed.toml"
    p.write_text(seed_text(enabled=True), encoding="utf-8")
    return p


def write_tasks(path: Path, tasks: list[dict[str, object]], blank_after: int | None = None) -> Path:
    lines = [json.dumps(t) for t in tasks]
    if blank_after is not None:
        lines.insert(blank_after, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def config(path: Path, reg: Registry, extra: str = ""):  # type: ignore[no-untyped-def]
    return parse_config(path.read_text(encoding="utf-8") + extra, path, registry=reg)


def test_seed_config_numbers_by_hand(tmp_path: Path, seed_file: Path, builtin_registry: Registry) -> None:
    cfg = config(seed_file, builtin_registry)
    assert cfg.routing_enabled
    tasks = write_tasks(tmp_path / "t.jsonl", [t for t, _, _ in TASKS], blank_after=2)
    r = simulate(cfg, tasks, defaults=Usage(50_000, 5_000)).as_dict()
    assert r["tasks"] == 6
    assert r["by_rule"] == {"critical-issues-opus": 1, "retry-use-haiku": 1, "high-priority-sonnet": 1,
                            "off-hours-haiku": 1, "docs-haiku": 1, "(default)": 1}
    by = {t["model"]: t for t in r["by_target"]}
    # opus: 100k * 15 + 10k * 75 = 1.5 + 0.75
    assert by["claude-opus-4"]["cost_usd"] == pytest.approx(2.25)
    # haiku: docs and retry take the defaults (50k/5k each), the chore 1M/0: 1.1M * 1 + 10k * 5
    assert by["claude-haiku-4"]["tasks"] == 3
    assert by["claude-haiku-4"]["input_tokens"] == 1_100_000
    assert by["claude-haiku-4"]["cost_usd"] == pytest.approx(1.15)
    # sonnet: default-routed 50k/5k (0.15 + 0.075) and 1M output (15.0)
    assert by["claude-sonnet-4-5"]["cost_usd"] == pytest.approx(15.225)
    assert by["claude-sonnet-4-5"]["share"] == pytest.approx(2 / 6)
    assert r["cost_usd"] == pytest.approx(2.25 + 1.15 + 15.225)
    # baseline: everything on sonnet: input 1.25M * 3 + output 1.025M * 15
    assert r["baseline_cost_usd"] == pytest.approx(3.75 + 15.375)
    assert r["savings_usd"] == pytest.approx(19.125 - 18.625)
    assert r["savings_pct"] == pytest.approx(100 * 0.5 / 19.125)
    assert r["baseline"] == {"provider": "claude-cli", "model": "claude-sonnet-4-5"}


def test_baseline_option_and_estimate_table(tmp_path: Path, seed_file: Path,
                                            builtin_registry: Registry) -> None:
    cfg = config(seed_file, builtin_registry, "\n[estimate]\ninput_tokens = 1000000\noutput_tokens = 0\n")
    tasks = write_tasks(tmp_path / "t.jsonl", [{"priority": "low", "hour": 12}] * 4)
    r = simulate(cfg, tasks, baseline="claude-cli/claude-opus-4").as_dict()
    assert r["default_tokens"]["input_tokens"] == 1_000_000
    assert r["cost_usd"] == pytest.approx(4 * 3.0)
    assert r["baseline_cost_usd"] == pytest.approx(4 * 15.0)
    assert r["savings_pct"] == pytest.approx(80.0)
    with pytest.raises(UsageError, match="--baseline must be PROVIDER/MODEL"):
        simulate(cfg, tasks, baseline="anthropic/claude-opus-4")
    with pytest.raises(UsageError, match="no price known for 'mystery'"):
        simulate(cfg, tasks, baseline="claude-cli/mystery")


def test_compare_lists_changed_tasks_and_cost_difference(tmp_path: Path, seed_file: Path,
                                                         builtin_registry: Registry) -> None:
    a = config(seed_file, builtin_registry)
    b_path = tmp_path / "b.toml"
    # B: critical work goes to sonnet instead of opus.
    b_path.write_text(seed_file.read_text(encoding="utf-8").replace(
        'conditions = { priority = "critical" }\nprovider = "claude-cli"\nmodel = "claude-opus-4"',
        'conditions = { priority = "critical" }\nprovider = "claude-cli"\nmodel = "claude-sonnet-4-5"'),
        encoding="utf-8")
    b = config(b_path, builtin_registry)
    tasks = write_tasks(tmp_path / "t.jsonl", [t for t, _, _ in TASKS] * 2)
    r = simulate(a, tasks, compare=b, defaults=Usage(50_000, 5_000)).as_dict()
    cmp = r["compare"]
    assert cmp["tasks_changed"] == 2
    assert cmp["changed_lines"] == [1, 7]
    assert cmp["changes"] == [{
        "from": "claude-cli/claude-opus-4", "to": "claude-cli/claude-sonnet-4-5", "tasks": 2,
        "cost_a_usd": pytest.approx(4.5), "cost_b_usd": pytest.approx(2 * (0.3 + 0.15)),
        "difference_usd": pytest.approx(0.9 - 4.5)}]
    assert cmp["difference_usd"] == pytest.approx(-3.6)
    assert cmp["cost_usd"] == pytest.approx(r["cost_usd"] - 3.6)
    assert cmp["by_rule"]["critical-issues-opus"] == 2


def test_parallel_and_unmemoised_runs_agree(tmp_path: Path, seed_file: Path, builtin_registry: Registry,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import make_tasks
    finally:
        sys.path.remove(str(EXAMPLES))
    path = tmp_path / "many.jsonl"
    make_tasks.main(["--count", "3000", "--seed", "9", "--output", str(path)])
    cfg = config(seed_file, builtin_registry)
    serial = simulate(cfg, path, workers=1).as_dict()
    monkeypatch.setattr(simmod, "PARALLEL_MIN_BYTES", 0)
    sim = simmod.Simulator(cfg)
    simmod.scan_file(sim, path, workers=2)
    assert sim.workers_used == 2, "the parallel path did not run (threads alive in the test process?)"
    parallel = simulate(cfg, path, workers=2).as_dict()
    monkeypatch.setattr(simmod, "MEMO_LIMIT", 0)
    unmemo = simulate(cfg, path, workers=1).as_dict()
    for other in (parallel, unmemo):
        assert other["by_rule"] == serial["by_rule"]
        assert other["cost_usd"] == pytest.approx(serial["cost_usd"])
        assert other["by_target"] == serial["by_target"]
    # By hand: the per-target costs are the token sums at each model's price.
    for row in serial["by_target"]:
        rates = {"claude-opus-4": (15, 75), "claude-sonnet-4-5": (3, 15), "claude-haiku-4": (1, 5)}
        i, o = rates[row["model"]]
        assert row["cost_usd"] == pytest.approx((row["input_tokens"] * i + row["output_tokens"] * o) / 1e6)


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object of task attributes, not list"),
    ('{"priority": "low", "input_tokens": -1}', "input_tokens must be a whole number >= 0 (or null for "
                                                "the default), not -1"),
    ('{"priority": "low", "output_tokens": 1.5}', "output_tokens must be a whole number >= 0"),
    ('{"priority": "low", "cache_read_tokens": "9"}', "cache_read_tokens must be a whole number >= 0"),
    ('{"priority": 3}', "priority must be a string"),
    ('{"hour": 24}', "hour must be a whole number from 0 to 23"),
    ('{"labels": [1]}', "labels must be a list of strings"),
    ('{"retry_count": -2}', "retry_count must be a whole number >= 0"),
])
def test_bad_lines_name_the_line(tmp_path: Path, seed_file: Path, builtin_registry: Registry,
                                 monkeypatch: pytest.MonkeyPatch, line: str, message: str) -> None:
    cfg = config(seed_file, builtin_registry)
    good = json.dumps({"priority": "low", "hour": 3})
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([good] * 40 + ["", line] + [good] * 40) + "\n", encoding="utf-8")
    for workers in (1, 2):
        monkeypatch.setattr(simmod, "PARALLEL_MIN_BYTES", 0 if workers == 2 else 1 << 30)
        with pytest.raises(TaskFileError) as info:
            simulate(cfg, path, workers=workers)
        assert info.value.line == 42
        assert str(info.value).startswith(f"{path}:42: ")
        assert message in str(info.value)


def test_null_token_counts_take_the_defaults(tmp_path: Path, seed_file: Path,
                                             builtin_registry: Registry) -> None:
    cfg = config(seed_file, builtin_registry)
    tasks = write_tasks(tmp_path / "t.jsonl", [
        {"priority": "low", "hour": 12, "input_tokens": None, "output_tokens": 10},
        {"priority": "low", "hour": 12, "cache_read_tokens": 1_000_000, "cache_creation_tokens": None}])
    r = simulate(cfg, tasks, defaults=Usage(1_000, 0, 0, 0)).as_dict()
    (row,) = r["by_target"]
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"]) == (2_000, 10, 1_000_000)
    # sonnet: 2k * 3 + 10 * 15 + 1M cache reads * 0.3, per million
    assert r["cost_usd"] == pytest.approx((6_000 + 150 + 300_000) / 1e6)


def test_weighted_rules_are_drawn_per_task(tmp_path: Path, seed_file: Path,
                                           builtin_registry: Registry) -> None:
    cfg = config(seed_file, builtin_registry, """
[[routing.rules]]
name = "spread"
priority = 200
conditions = { labels = ["spread"] }
strategy = "weighted"
targets = [{ model = "claude-haiku-4", weight = 1 }, { model = "claude-sonnet-4-5", weight = 3 }]
""")
    tasks = write_tasks(tmp_path / "t.jsonl", [{"labels": ["spread"], "hour": 12}] * 4000)
    r = simulate(cfg, tasks).as_dict()
    by = {t["model"]: t["tasks"] for t in r["by_target"]}
    assert by["claude-haiku-4"] + by["claude-sonnet-4-5"] == 4000
    assert abs(by["claude-haiku-4"] / 4000 - 0.25) < 0.03
    assert simulate(cfg, tasks).as_dict()["by_target"] == r["by_target"]  # same seed, same draws


def test_missing_price_is_a_clear_error(tmp_path: Path, seed_file: Path, builtin_registry: Registry) -> None:
    cfg = config(seed_file, builtin_registry, '\n[[routing.rules]]\nname = "z"\nmodel = "zz-model"\n')
    tasks = write_tasks(tmp_path / "t.jsonl", [{}])
    with pytest.raises(UsageError, match=r"no price known for 'zz-model'.*\[pricing"):
        simulate(cfg, tasks)
    cfg = config(seed_file, builtin_registry, '\n[[routing.rules]]\nname = "z"\nmodel = "zz-model"\n'
                 '\n[pricing."zz-model"]\ninput = 2\noutput = 4\n')
    assert simulate(cfg, tasks, defaults=Usage(1_000_000, 0)).as_dict()["cost_usd"] == pytest.approx(2.0)


def test_example_tasks_follow_the_seed_shares() -> None:
    lines = [json.loads(x) for x in (EXAMPLES / "tasks.jsonl").read_text(encoding="utf-8").splitlines()]
    n = len(lines)
    assert n == 1000
    assert sum(t["retry_count"] >= 1 for t in lines) == 200
    assert sum(t["hour"] < 8 for t in lines) == 300
    assert sum(bool({"docs", "documentation"} & set(t["labels"])) for t in lines) == 150


# ------------------------------------------------------------------------ CLI
def test_cli_text_and_json(tmp_path: Path, seed_file: Path, builtin_registry: Registry) -> None:
    tasks = write_tasks(tmp_path / "t.jsonl", [t for t, _, _ in TASKS])
    runner = CliRunner()
    res = runner.invoke(cli, ["simulate", str(tasks), "--config", str(seed_file)])
    assert res.exit_code == 0, res.output
    assert "Simulated 6 tasks" in res.output
    assert "(default)" in res.output and "Savings:" in res.output
    res = runner.invoke(cli, ["simulate", str(tasks), "--config", str(seed_file), "--json",
                              "--input-tokens", "0", "--output-tokens", "0"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"tasks", "cost_usd", "baseline_cost_usd", "savings_pct", "by_rule"} <= set(data)
    assert data["default_tokens"]["input_tokens"] == 0
    # Only the tasks with their own counts cost anything now: opus 2.25, haiku 1.0, sonnet 15.0.
    assert data["cost_usd"] == pytest.approx(18.25)


def test_cli_bad_line_exits_2(tmp_path: Path, seed_file: Path, builtin_registry: Registry) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"priority": "low"}\n{"priority": "low",\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["simulate", str(path), "--config", str(seed_file)])
    assert res.exit_code == 2
    assert f"{path}:2: not valid JSON" in res.output
    res = CliRunner().invoke(cli, ["simulate", str(tmp_path / "nope.jsonl"), "--config", str(seed_file)])
    assert res.exit_code == 2 and "tasks file not found" in res.output
