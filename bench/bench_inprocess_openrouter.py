"""``tacroute run`` on an OpenRouter task: the in-process provider vs the wrapper process vs plain httpx.

Against the loopback fake OpenRouter server, a typical 50-delta streamed answer:

1. ``tacroute run --json`` as a fresh process (what a user or a script starts),
   with the provider in-process (the table names no command) and through the
   ``tacroute-openrouter`` wrapper process (``command_template`` names it), next
   to a fresh process making the same streamed request with plain httpx. The
   overhead is each path's median minus the plain request's.
2. ``run_task()`` called repeatedly in one warm process (a long-lived caller),
   both paths, next to the same plain httpx request made in that process.

Runs alternate between the variants. Run: ``.venv/bin/python bench/bench_inprocess_openrouter.py
[--runs N]``. Prints the figures; exits 1 only if a run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_openrouter import BASELINE as PLAIN  # noqa: E402 - the same plain-httpx script
from bench_openrouter import _time as _time_process  # noqa: E402

from testkit.openrouter_server import FakeOpenRouter, stream_reply  # noqa: E402

BIN = Path(sys.executable).parent
KEY = "sk-bench-key"
MODEL = "openai/gpt-4o-mini"

def _config(tmp: Path, server: FakeOpenRouter, wrapper: bool) -> Path:
    command = json.dumps([str(BIN / "tacroute-openrouter"), "-p", "{prompt_file}", "--model", "{model}",
                          "--output-file", "{output_file}"])
    text = (f'[providers.or]\ntype = "openrouter"\nbase_url = "{server.base_url}"\n'
            + (f"command_template = {command}\n" if wrapper else "")
            + f'\n[routing]\nenabled = true\ndefault_provider = "or"\ndefault_model = "{MODEL}"\n'
            + f'\n[runner]\noutput_dir = "{tmp / "runs"}"\n')
    path = tmp / ("wrapper.toml" if wrapper else "inprocess.toml")
    path.write_text(text, encoding="utf-8")
    return path


def _report(title: str, times: dict[str, list[float]], base: str) -> None:
    print(title)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    for name, m in med.items():
        extra = "" if name == base else f"   overhead {1000 * (m - med[base]):+7.1f} ms"
        print(f"  {name:<22} median {m * 1000:7.1f} ms over {len(times[name])} runs{extra}")


def _alternate(variants: dict[str, Callable[[], float]], runs: int, server: FakeOpenRouter,
               words: list[str]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(runs + 2):
        for name, fn in variants.items():
            server.script(stream_reply(words))
            elapsed = fn()
            if i >= 2:  # warm-up runs are not counted
                times[name].append(elapsed)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    server = FakeOpenRouter().start()
    tmp = Path(tempfile.mkdtemp(prefix="tacroute-bench-"))
    try:
        prompt = tmp / "prompt.txt"
        prompt.write_text("Write a haiku about routers.", encoding="utf-8")
        plain = tmp / "plain.py"
        plain.write_text(PLAIN, encoding="utf-8")
        env = {**os.environ, "OPENROUTER_API_KEY": KEY, "TACROUTE_HISTORY": str(tmp / "history.db"),
               "XDG_CACHE_HOME": str(tmp / "cache")}
        words = [f"word{i} " for i in range(50)]
        inproc_cfg, wrapper_cfg = _config(tmp, server, False), _config(tmp, server, True)
        tacroute = str(BIN / "tacroute")

        # 1. fresh processes
        cold = _alternate({
            "plain httpx process": lambda: _time_process(
                [sys.executable, str(plain), server.base_url, KEY, MODEL, str(prompt)], env),
            "tacroute run, in-proc": lambda: _time_process(
                [tacroute, "run", str(prompt), "--json", "--config", str(inproc_cfg)], env),
            "tacroute run, wrapper": lambda: _time_process(
                [tacroute, "run", str(prompt), "--json", "--config", str(wrapper_cfg)], env),
        }, args.runs, server, words)
        _report("1. `tacroute run` as a fresh process (start-up included):", cold, "plain httpx process")

        # 2. one warm process
        os.environ.update({k: env[k] for k in ("OPENROUTER_API_KEY", "TACROUTE_HISTORY", "XDG_CACHE_HOME")})
        import httpx

        from tacroute import run_task
        from tacroute.config import load_config
        from tacroute.plugins import get_registry

        registry = get_registry()
        configs = {False: load_config(inproc_cfg, registry=registry),
                   True: load_config(wrapper_cfg, registry=registry)}
        body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": prompt.read_text()}]}

        def plain_request() -> float:
            t0 = time.perf_counter()
            with httpx.Client(timeout=120) as client, client.stream(
                    "POST", server.base_url + "/chat/completions", json=body,
                    headers={"Authorization": "Bearer " + KEY}) as response:
                text = [json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                        for line in response.iter_lines()
                        if line.startswith("data: ") and line != "data: [DONE]"
                        and json.loads(line[6:]).get("choices")]
            assert "".join(text).startswith("word0")
            return time.perf_counter() - t0

        def run(wrapper: bool) -> float:
            t0 = time.perf_counter()
            result = run_task(prompt, {}, config=configs[wrapper], registry=registry)
            elapsed = time.perf_counter() - t0
            if not result.success:
                raise SystemExit(f"run failed: {result.error}")
            return elapsed

        warm = _alternate({"plain httpx request": plain_request,
                           "run_task(), in-proc": lambda: run(False),
                           "run_task(), wrapper": lambda: run(True)}, args.runs, server, words)
        _report("2. run_task() in one warm process:", warm, "plain httpx request")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
