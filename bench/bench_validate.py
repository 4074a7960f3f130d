"""``tacroute config validate`` on a config with many rules.

Target: near-linear in the rule count; 8,000 rules under 2 s (the whole
command, process start included). The generated rules mix condition shapes so
shadowing detection has real work: some rules are shadowed, most are not.

Run: .venv/bin/python bench/bench_validate.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.seed import seed_text

TACROUTE = Path(sys.executable).with_name("tacroute")
SHAPES = [
    'labels = ["area-{i}"]',
    'labels = ["area-{i}"], retry_count = {{ gte = {m} }}',
    'priority = "p{i}", hour_range = [{m}, {h}]',
    'retry_count = {{ gte = {m} }}',
    'priority = ["high", "normal"], labels = ["x-{i}", "y-{i}"]',
]


def many_rules(n: int) -> str:
    """The seed config plus n - 5 extra rules of mixed condition shapes and priorities."""
    extra = []
    for i in range(n - 5):
        cond = SHAPES[i % len(SHAPES)].format(i=i, m=i % 5, h=8 + i % 12)
        extra.append(f'\n# rule {i}\n[[routing.rules]]\nname = "extra-{i}"\npriority = {10 + i % 50}\n'
                     f'conditions = {{ {cond} }}\nmodel = "claude-haiku-4"\n')
    return seed_text() + "".join(extra)


def time_validate(path: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([str(TACROUTE), "config", "validate", "--config", str(path)],
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"validate failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout.strip().rsplit("(", 1)[-1].rstrip(")")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for n in (2_000, 8_000):
            path = Path(tmp) / f"rules-{n}.toml"
            path.write_text(many_rules(n), encoding="utf-8")
            best = min(time_validate(path)[0] for _ in range(3))
            _, summary = time_validate(path)
            verdict = "PASS" if n != 8_000 or best < 2.0 else "FAIL (target 2 s)"
            print(f"config validate, {n:>5} rules: best of 3 {best:.2f} s  ({summary})  {verdict}")


if __name__ == "__main__":
    main()
