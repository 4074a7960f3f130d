"""Time from the first non-retryable ``api_retry`` line to the next candidate's start.

Two providers run the real Claude CLI: the first against a fake Anthropic API
server that answers 401, the second against one that answers. The parser is
wrapped to note when the first ``system/api_retry`` line with status 401
reaches it; the next candidate's start is the moment its process is spawned
(``subprocess.Popen`` returns). The difference covers stopping the first CLI's
process group (SIGTERM, wait) and building and spawning the next command.

Target: under 1 second (the CLI alone would keep retrying for minutes).

Run: .venv/bin/python bench/bench_failover.py [RUNS]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tacroute import OutputParserType, ParserSignal, hookimpl, run_task  # noqa: E402
from tacroute.config import parse_config  # noqa: E402
from tacroute.plugins import Registry  # noqa: E402
from tacroute_claude_cli.stream_json import ClaudeStreamJsonParser  # noqa: E402
from testkit.anthropic_server import FakeAnthropicServer, HttpError, Text  # noqa: E402
from testkit.claude import claude_env, find_claude  # noqa: E402

TARGET_S = 1.0
MODEL = "claude-sonnet-4-5"
_marks: dict[str, float] = {}


class TimedParser(ClaudeStreamJsonParser):
    def feed(self, line: str) -> ParserSignal | None:
        if '"api_retry"' in line and "api_retry" not in _marks:
            _marks["api_retry"] = time.perf_counter()
        return super().feed(line)


class TimedParserType(OutputParserType):
    name = "timed-stream-json"

    def create(self) -> TimedParser:
        return TimedParser()


class TimingPlugin:
    @hookimpl
    def register_output_parsers(self, register: Any) -> None:
        register(TimedParserType())


_popen_init = subprocess.Popen.__init__


def _timed_popen(self: Any, *args: Any, **kwargs: Any) -> None:
    _popen_init(self, *args, **kwargs)
    if "api_retry" in _marks:
        _marks.setdefault("next_start", time.perf_counter())


def provider(name: str, claude: Path, server: FakeAnthropicServer) -> str:
    argv = [str(claude), "-p", "--model", "{model}", "--output-format", "stream-json", "--verbose"]
    return (f'[providers.{name}]\ntype = "claude-cli"\noutput_parser = "timed-stream-json"\n'
            f'command_template = {json.dumps(argv)}\nenv = {{ ANTHROPIC_BASE_URL = "{server.base_url}" }}\n')


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    claude = find_claude()
    if claude is None:
        print("FAIL: the Claude CLI is missing (run `make setup`)")
        return 1
    import tacroute_claude_cli

    registry = Registry.from_plugins([tacroute_claude_cli, TimingPlugin()])
    subprocess.Popen.__init__ = _timed_popen  # type: ignore[method-assign]
    work = Path(tempfile.mkdtemp(prefix="tacroute-bench-"))
    prompt = work / "prompt.txt"
    prompt.write_text("Say OK.\n")
    gaps: list[float] = []
    attempt_ms: list[int] = []
    with FakeAnthropicServer() as bad, FakeAnthropicServer() as good:
        bad.script(HttpError(401))
        bad.side = HttpError(401)
        good.script(Text("OK"))
        text = (provider("first", claude, bad) + provider("second", claude, good)
                + f'\n[routing]\nenabled = true\ndefault_provider = "second"\ndefault_model = "{MODEL}"\n'
                f'\n[[routing.rules]]\nname = "all"\npriority = 1\nconditions = {{}}\n'
                f'provider = "first"\nmodel = "{MODEL}"\n'
                f'\n[runner]\noutput_dir = "{work / "runs"}"\n')
        config = parse_config(text, registry=registry)
        for i in range(runs + 1):
            _marks.clear()
            result = run_task(prompt, {}, config=config, registry=registry, env=claude_env(work),
                              cwd=work, timeout=120)
            classes = [a.error_class.value if a.error_class else None for a in result.attempts]
            if classes != ["auth", None]:
                print(f"FAIL: unexpected attempts {classes}: {result.error}")
                return 1
            if i == 0:
                continue  # warm-up
            gaps.append(_marks["next_start"] - _marks["api_retry"])
            attempt_ms.append(result.attempts[0].duration_ms)
    med = statistics.median(gaps)
    print(f"runs: {runs}; first provider answers 401, second answers; real claude {claude}")
    print(f"first attempt (spawn to auth stop), median: {statistics.median(attempt_ms):.0f} ms")
    print(f"first 401 api_retry line -> next candidate spawned: median {med * 1000:.1f} ms, "
          f"max {max(gaps) * 1000:.1f} ms (target < {TARGET_S * 1000:.0f} ms): "
          f"{'PASS' if med < TARGET_S else 'FAIL'}")
    return 0 if med < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
