"""Overhead of ``tacroute-claude`` over calling the real Claude CLI directly.

A coordinator's call, both ways: ``claude -p PROMPT --model sonnet --output-format
stream-json --verbose`` and the same argv with ``tacroute-claude`` as the program
(config ``./adws/config.toml`` with one claude-cli provider), same environment,
same fake Anthropic API server on 127.0.0.1. Runs are interleaved so machine load
hits both alike. Reports the median wall time of each and the median of the
per-pair ratios (each pair runs back to back), which the target applies to.

Target: median ratio at most 1.1.

Run: .venv/bin/python bench/bench_claude_dropin.py [RUNS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.anthropic_server import FakeAnthropicServer, Text  # noqa: E402
from testkit.claude import claude_env, find_claude  # noqa: E402

TARGET = 1.1
MODEL = "claude-sonnet-4-5"


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:2]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    last = json.loads(proc.stdout.splitlines()[-1])
    if last.get("type") != "result" or last.get("is_error") is not False:
        raise SystemExit(f"{argv[:2]} did not succeed: {proc.stdout.decode()[-500:]}")
    return wall


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    claude = find_claude()
    if claude is None:
        print("FAIL: the Claude CLI is missing (run `make setup`)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="tacroute-bench-dropin-"))
    (work / "adws").mkdir()
    with FakeAnthropicServer() as server:
        server.script(Text("OK"))
        env = claude_env(work, server.base_url)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for key in [k for k in env if k.startswith("TACROUTE_")]:
            env.pop(key)
        (work / "adws" / "config.toml").write_text(
            f'[providers.claude]\ntype = "claude-cli"\ncommand_template = ["{claude}", "-p", "--model", '
            '"{model}", "--output-format", "stream-json", "--verbose"]\n\n'
            f'[routing]\ndefault_provider = "claude"\ndefault_model = "{MODEL}"\n'
            f'\n[runner]\noutput_dir = "{work / "runs"}"\n[history]\npath = "{work / "history.db"}"\n')
        tail = ["-p", "Say OK.", "--model", "sonnet", "--output-format", "stream-json", "--verbose"]
        direct = [str(claude), *tail]
        dropin = [str(Path(sys.executable).parent / "tacroute-claude"), *tail]
        for _ in range(2):  # warm caches (file cache, bytecode, entry-point cache)
            timed(direct, env, work)
            timed(dropin, env, work)
        walls_direct: list[float] = []
        walls_dropin: list[float] = []
        ratios: list[float] = []
        for i in range(runs):
            pair = [(direct, walls_direct), (dropin, walls_dropin)]
            if i % 2:
                pair.reverse()
            for argv, walls in pair:
                walls.append(timed(argv, env, work))
            ratios.append(walls_dropin[-1] / walls_direct[-1])
    med_direct, med_dropin = statistics.median(walls_direct), statistics.median(walls_dropin)
    ratio = statistics.median(ratios)
    load = os.getloadavg()
    print(f"runs: {runs} pairs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print(f"claude directly:   median {med_direct * 1000:.0f} ms")
    print(f"tacroute-claude:   median {med_dropin * 1000:.0f} ms (+{(med_dropin - med_direct) * 1000:.0f} ms)")
    print(f"median pair ratio: {ratio:.3f} (target <= {TARGET})")
    print("PASS" if ratio <= TARGET else "FAIL")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
