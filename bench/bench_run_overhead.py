"""Overhead of ``tacroute run`` over running the same ``claude`` command directly.

Both run the real Claude CLI (``.tools/node_modules/.bin/claude``, installed by
``make setup``) against the same fake Anthropic API server on 127.0.0.1, with the
same environment and prompt; runs are interleaved so machine load hits both
alike. Reports the median wall time of each, and the median of the per-pair
ratios (each pair runs back to back), which is what the target applies to.

Target: median ratio at most 1.1.

Run: .venv/bin/python bench/bench_run_overhead.py [RUNS]
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


ATTEMPT_MS: list[float] = []


def timed(argv: list[str], env: dict[str, str], stdin: Path | None, cwd: Path) -> float:
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as fh:
        t0 = time.perf_counter()
        proc = subprocess.run(argv, stdin=fh, capture_output=True, env=env, cwd=cwd)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:2]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    if b'"is_error":false' not in proc.stdout and b'"success": true' not in proc.stdout:
        raise SystemExit(f"{argv[:2]} did not succeed: {proc.stdout.decode()[-500:]}")
    if b'"attempts"' in proc.stdout:
        ATTEMPT_MS.append(json.loads(proc.stdout)["attempts"][0]["duration_ms"])
    return wall


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    claude = find_claude()
    if claude is None:
        print("FAIL: the Claude CLI is missing (run `make setup`)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="tacroute-bench-"))
    prompt = work / "prompt.txt"
    prompt.write_text("Say OK.\n")
    with FakeAnthropicServer() as server:
        server.script(Text("OK"))
        env = claude_env(work, server.base_url)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        direct = [str(claude), "-p", "--model", MODEL, "--output-format", "stream-json", "--verbose"]
        config = work / "tacroute.toml"
        config.write_text(
            f'[providers.claude]\ntype = "claude-cli"\ncommand_template = ["{claude}", "-p", "--model", '
            '"{model}", "--output-format", "stream-json", "--verbose"]\n\n'
            f'[routing]\ndefault_provider = "claude"\ndefault_model = "{MODEL}"\n'
            f'\n[runner]\noutput_dir = "{work / "runs"}"\n')
        routed = [str(Path(sys.executable).parent / "tacroute"), "run", str(prompt), "--json",
                  "--config", str(config)]
        for _ in range(2):  # warm caches (file cache, bytecode, entry-point cache)
            timed(direct, env, prompt, work)
            timed(routed, env, None, work)
        from tacroute import run_task
        from tacroute.config import load_config

        cfg = load_config(config)
        d_w, r_w, lib_w = [], [], []
        for i in range(runs):
            # Alternate which goes first, so neither always runs on a warmer machine.
            pair = [(d_w, direct, prompt), (r_w, routed, None)]
            for bucket, argv, stdin in pair if i % 2 == 0 else reversed(pair):
                bucket.append(timed(argv, env, stdin, work))
            t0 = time.perf_counter()
            res = run_task(prompt, {}, config=cfg, env=env, cwd=work)
            lib_w.append(time.perf_counter() - t0)
            if not res.success:
                raise SystemExit(f"run_task failed: {res.error}")
    d, r = statistics.median(d_w), statistics.median(r_w)
    # Each pair ran back to back, so its ratio is least disturbed by load drifting
    # over the run; the target is on the median of these ratios.
    ratio = statistics.median(rw / dw for rw, dw in zip(r_w, d_w))
    print(f"runs: {runs} each, interleaved; fake Anthropic API on 127.0.0.1; claude {claude}")
    print(f"claude -p ... < prompt (direct):   median {d * 1000:7.1f} ms  (min {min(d_w) * 1000:.1f})")
    print(f"tacroute run prompt --json:        median {r * 1000:7.1f} ms  (min {min(r_w) * 1000:.1f})")
    print(f"  of which the attempt (spawn to exit, as tacroute measures it): median "
          f"{statistics.median(ATTEMPT_MS[-runs:]):.1f} ms")
    lib = statistics.median(lib_w)
    print(f"tacroute.run_task(...) in-process: median {lib * 1000:7.1f} ms  (ratio {lib / d:.3f}, "
          "for coordinators that import tacroute)")
    print(f"ratio of medians {r / d:.3f}, of minimums {min(r_w) / min(d_w):.3f}")
    print(f"overhead: {(r - d) * 1000:.1f} ms; median of paired ratios {ratio:.3f} (target <= {TARGET}): "
          f"{'PASS' if ratio <= TARGET else 'FAIL'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
