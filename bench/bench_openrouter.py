"""Benchmarks of the OpenRouter wrapper against the loopback fake OpenRouter server.

1. Wall time of ``tacroute-openrouter`` (a fresh process, as the runner starts
   it) vs. a minimal script making the same streamed request with plain httpx
   (also a fresh process). Runs alternate; the median ratio must be <= 1.2.
2. A 10,000-chunk stream through the wrapper: chunks per second (target
   >= 5,000/s, far above any model's token rate), and the ratio to the plain
   httpx + httpx-sse baseline on the same stream (reported).

Run: ``.venv/bin/python bench/bench_openrouter.py [--runs N]``. Exit 1 on FAIL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testkit.openrouter_server import FakeOpenRouter, stream_reply  # noqa: E402

BIN = Path(sys.executable).parent
RATIO_TARGET = 1.2
CHUNKS_TARGET = 5000.0

# The baseline: the least a program can do to stream the same answer with httpx.
BASELINE = r'''
import json, sys
import httpx
url, key, model, prompt_file = sys.argv[1:5]
body = {"model": model, "stream": True,
        "messages": [{"role": "user", "content": open(prompt_file, encoding="utf-8").read()}]}
text = []
with httpx.Client(timeout=120) as client:
    with client.stream("POST", url + "/chat/completions", json=body,
                       headers={"Authorization": "Bearer " + key}) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunk = json.loads(line[6:])
                if chunk.get("choices"):
                    text.append(chunk["choices"][0]["delta"].get("content") or "")
print("".join(text))
'''

BASELINE_SSE = r'''
import json, sys
import httpx
from httpx_sse import connect_sse
url, key, model, prompt_file = sys.argv[1:5]
body = {"model": model, "stream": True,
        "messages": [{"role": "user", "content": open(prompt_file, encoding="utf-8").read()}]}
text = []
with httpx.Client(timeout=120) as client:
    with connect_sse(client, "POST", url + "/chat/completions", json=body,
                     headers={"Authorization": "Bearer " + key}) as source:
        for sse in source.iter_sse():
            if sse.data and sse.data != "[DONE]":
                chunk = json.loads(sse.data)
                if chunk.get("choices"):
                    text.append(chunk["choices"][0]["delta"].get("content") or "")
print("".join(text))
'''


def _time(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {argv[:2]}\n{proc.stderr.decode()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    key = "sk-bench-key"
    server = FakeOpenRouter().start()
    tmp = Path(tempfile.mkdtemp(prefix="tacroute-bench-"))
    try:
        prompt = tmp / "prompt.txt"
        prompt.write_text("Write a haiku about routers.", encoding="utf-8")
        base = tmp / "baseline.py"
        base.write_text(BASELINE, encoding="utf-8")
        base_sse = tmp / "baseline_sse.py"
        base_sse.write_text(BASELINE_SSE, encoding="utf-8")
        env = {**os.environ, "OPENROUTER_API_KEY": key, "TACROUTE_PRICING_CACHE": str(tmp / "none.json")}
        words = [f"word{i} " for i in range(50)]
        wrapper = [str(BIN / "tacroute-openrouter"), "-p", str(prompt), "--model", "openai/gpt-4o-mini",
                   "--base-url", server.base_url, "--output-file", str(tmp / "out.jsonl")]
        plain = [sys.executable, str(base), server.base_url, key, "openai/gpt-4o-mini", str(prompt)]

        # 1. start-to-finish wall time, a typical 50-delta answer with keep-alives and usage.
        ours, theirs = [], []
        for i in range(args.runs + 2):
            server.script(stream_reply(words), stream_reply(words))
            a, b = _time(wrapper, env), _time(plain, env)
            if i >= 2:  # warm-up runs are not counted
                ours.append(a)
                theirs.append(b)
        ratios = [a / b for a, b in zip(ours, theirs)]
        ratio = statistics.median(ratios)
        print(f"wrapper  median {statistics.median(ours) * 1000:7.1f} ms over {len(ours)} runs")
        print(f"httpx    median {statistics.median(theirs) * 1000:7.1f} ms over {len(theirs)} runs")
        verdict1 = "PASS" if ratio <= RATIO_TARGET else "FAIL"
        print(f"median ratio wrapper/plain httpx: {ratio:.3f} (target <= {RATIO_TARGET}) {verdict1}")

        # 2. 10,000 chunks.
        n = 10_000
        big = [f"t{i} " for i in range(n)]
        sse = [sys.executable, str(base_sse), server.base_url, key, "openai/gpt-4o-mini", str(prompt)]
        ours_big, sse_big = [], []
        for _ in range(3):
            server.script(stream_reply(big, comments=5), stream_reply(big, comments=5))
            ours_big.append(_time(wrapper, env))
            sse_big.append(_time(sse, env))
        t_ours, t_sse = statistics.median(ours_big), statistics.median(sse_big)
        rate = n / t_ours
        verdict2 = "PASS" if rate >= CHUNKS_TARGET else "FAIL"
        print(f"10,000-chunk stream: wrapper {t_ours * 1000:.0f} ms = {rate:,.0f} chunks/s "
              f"(target >= {CHUNKS_TARGET:,.0f}) {verdict2}")
        print(f"  plain httpx + httpx-sse on the same stream: {t_sse * 1000:.0f} ms "
              f"= {n / t_sse:,.0f} chunks/s; ratio {t_ours / t_sse:.2f}")
        return 0 if verdict1 == verdict2 == "PASS" else 1
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
