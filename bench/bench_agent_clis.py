"""The Codex and Gemini CLIs under tacroute: run overhead and auth-failure failover.

Overhead: ``tacroute run`` (the CLI, a new Python process each time) against
running the same command directly, with the same environment, prompt and fake
API server; pairs run back to back and interleaved, so machine load hits both
alike. Reported: the median of the per-pair wall-time ratios (target <= 1.1).

Failover: the CLI's API answers 401 (Codex) or 400 ``API_KEY_INVALID`` (Gemini);
the next candidate is ``sh -c 'date +%s.%N > FILE'``. Measured: from the moment
the fake server sent the auth error to the moment the next candidate started
(target < 1 s; the Codex CLI alone retries a 401 for about 7 s).

Run: .venv/bin/python bench/bench_agent_clis.py [RUNS]
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

from testkit.agent_api import FakeAgentServer, HttpError, Text  # noqa: E402
from testkit.agents import CODEX_ARGS, GEMINI_ARGS, find_tool  # noqa: E402
from testkit.gemini_server import FakeGeminiServer  # noqa: E402
from testkit.openai_server import FakeOpenAIServer  # noqa: E402

TACROUTE = str(ROOT / ".venv" / "bin" / "tacroute")
MODELS = {"codex": "gpt-5-codex", "gemini": "gemini-2.5-pro"}


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_", "GEMINI_", "GOOGLE_"))}
    env.update(OPENAI_API_KEY="sk-bench", GEMINI_API_KEY="bench-key", TACROUTE_STATE_DIR=str(state),
               TACROUTE_HISTORY=str(state / "history.db"))
    return env


def _table(kind: str, program: Path, server: FakeAgentServer) -> str:
    args = CODEX_ARGS if kind == "codex" else GEMINI_ARGS
    base = server.base_url  # type: ignore[attr-defined]
    return (f'[providers.{kind}]\ntype = "{kind}-cli"\ncommand_template = {json.dumps([str(program), *args])}\n'
            f'base_url = "{base}"\n')


def _direct(kind: str, program: Path, server: FakeAgentServer, work: Path, env: dict[str, str]) -> list[str]:
    """The same command with the environment tacroute would give it (home prepared once by tacroute)."""
    args = [a.replace("{model}", MODELS[kind]) for a in (CODEX_ARGS if kind == "codex" else GEMINI_ARGS)]
    state = Path(env["TACROUTE_STATE_DIR"]) / "providers" / kind
    if kind == "codex":
        env["CODEX_HOME"] = str(state / "codex-home")
    else:
        env["HOME"] = str(state / "home")
        env["GOOGLE_GEMINI_BASE_URL"] = server.base_url  # type: ignore[attr-defined]
    return [str(program), *args]


def overhead(kind: str, program: Path, runs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() if kind == "codex" else FakeGeminiServer() as srv:
        work = Path(tmp)
        srv.script(Text("OK"))
        env = _env(work / "state")
        config = work / "tacroute.toml"
        config.write_text(_table(kind, program, srv) + f'[routing]\ndefault_provider = "{kind}"\n'
                          f'default_model = "{MODELS[kind]}"\n[history]\nenabled = false\n')
        prompt = work / "prompt.txt"
        prompt.write_text("Say OK.\n")
        tac = [TACROUTE, "run", str(prompt), "--config", str(config), "--json", "--output-file", str(work / "o.jsonl")]
        subprocess.run(tac, env=env, cwd=work, capture_output=True, check=True)  # prepares the home
        direct_env = dict(env)
        argv = _direct(kind, program, srv, work, direct_env)
        ratios, t_direct, t_tac = [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            with open(prompt, "rb") as fh:
                subprocess.run(argv, stdin=fh, env=direct_env, cwd=work, capture_output=True, check=True)
            d = time.perf_counter() - t0
            t0 = time.perf_counter()
            subprocess.run(tac, env=env, cwd=work, capture_output=True, check=True)
            t = time.perf_counter() - t0
            t_direct.append(d)
            t_tac.append(t)
            ratios.append(t / d)
    ratio = statistics.median(ratios)
    print(f"{kind}: direct median {statistics.median(t_direct):.3f}s, tacroute run median "
          f"{statistics.median(t_tac):.3f}s, median ratio {ratio:.3f} (target <= 1.1)")
    return ratio


def failover(kind: str, program: Path, runs: int) -> float:
    gaps = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() if kind == "codex" else FakeGeminiServer() as srv:
        work = Path(tmp)
        error = (HttpError(401, "Incorrect API key provided") if kind == "codex" else
                 HttpError(400, "API key not valid. Please pass a valid API key.", reason="API_KEY_INVALID"))
        srv.script(error)
        env = _env(work / "state")
        mark = work / "started"
        nxt = ('[providers.next]\ntype = "claude-cli"\ncommand_template = ["sh", "-c", "date +%s.%N > ' + str(mark) + '; echo ok"]\n')
        config = work / "tacroute.toml"
        config.write_text(_table(kind, program, srv) + nxt + f'[routing]\nenabled = true\ndefault_provider = "{kind}"\n'
                          f'default_model = "{MODELS[kind]}"\n[[routing.rules]]\nname = "r"\npriority = 1\n'
                          f'conditions = {{ priority = "high" }}\ntargets = [{{ provider = "{kind}", model = '
                          f'"{MODELS[kind]}" }}, {{ provider = "next", model = "m" }}]\n[history]\nenabled = false\n')
        prompt = work / "prompt.txt"
        prompt.write_text("Say OK.\n")
        for _ in range(runs):
            srv.requests.clear()
            mark.unlink(missing_ok=True)
            subprocess.run([TACROUTE, "run", str(prompt), "--priority", "high", "--config", str(config), "--json"],
                           env=env, cwd=work, capture_output=True)
            first_error = min(r.at for r in srv.requests if r.main)
            gaps.append(float(mark.read_text()) - first_error)
    gap = statistics.median(gaps)
    print(f"{kind}: auth error -> next candidate start: median {gap * 1000:.0f} ms, max "
          f"{max(gaps) * 1000:.0f} ms over {runs} runs (target < 1000 ms)")
    return gap


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    ok = True
    for kind in ("codex", "gemini"):
        program = find_tool(kind)
        if program is None:
            print(f"FAIL: the {kind} CLI is missing (run `make setup`)")
            return 1
        ok &= overhead(kind, program, runs) <= 1.1
        ok &= failover(kind, program, runs) < 1.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
