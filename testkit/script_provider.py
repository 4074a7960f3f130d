"""A tiny provider plugin for runner tests: a Python script whose behaviour the model name picks.

The script (:data:`AGENT`) reads the prompt on stdin and, by model name:

``ok``       prints the prompt, then ``DONE``; exit 0
``fatal``    prints ``FATAL`` (the test parser signals ``auth``), then sleeps
``limit``    prints ``LIMIT`` (the test parser signals ``rate_limit``, retry-after 0.2 s)
``crash``    prints ``$MY_API_KEY`` to stderr; exit 3
``hang``     starts a child that ignores SIGTERM (pid in ``child.pid``), prints ``started`` (then
             creates ``printed``), sleeps
``tofile``   writes the prompt and ``DONE`` to its output-file argument, nothing to stdout
``slow``     appends ``start PID`` to ``$SLOT_LOG`` (O_APPEND), sleeps ``$SLOW_S`` (1) s, appends
             ``end PID``, then answers like ``ok``: overlapping attempts show in the log's order
``limit60``  prints ``LIMIT 60`` (``rate_limit`` with a retry-after of 60 s), then sleeps
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

from tacroute import ErrorClass, Outcome, OutputParserType, ParserSignal, ProviderType, Usage, hookimpl

__all__ = ["AGENT", "LinesParser", "ScriptPlugin", "ScriptType", "process_alive", "script_config"]

AGENT = textwrap.dedent("""\
    import os, signal, subprocess, sys, time
    model = sys.argv[1]
    prompt = sys.stdin.read()
    if model == "ok":
        print(prompt.strip(), flush=True)
        print("DONE", flush=True)
    elif model == "fatal":
        print("FATAL", flush=True)
        time.sleep(600)
    elif model == "limit":
        print("LIMIT", flush=True)
        time.sleep(600)
    elif model == "crash":
        print("partial", flush=True)
        print("failed with key " + os.environ.get("MY_API_KEY", ""), file=sys.stderr, flush=True)
        sys.exit(3)
    elif model == "hang":
        child = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
        open("child.pid.tmp", "w").write(str(child.pid))
        os.replace("child.pid.tmp", "child.pid")
        print("started", flush=True)
        open("printed.tmp", "w").close()  # the line is in the pipe once this file exists
        os.replace("printed.tmp", "printed")
        time.sleep(600)
    elif model == "slow":
        fd = os.open(os.environ["SLOT_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, ("start %d\\n" % os.getpid()).encode())
        time.sleep(float(os.environ.get("SLOW_S", "1")))
        os.write(fd, ("end %d\\n" % os.getpid()).encode())
        os.close(fd)
        print(prompt.strip(), flush=True)
        print("DONE", flush=True)
    elif model == "limit60":
        print("LIMIT 60", flush=True)
        time.sleep(600)
    elif model == "tofile":
        with open(sys.argv[2], "w") as fh:
            fh.write(prompt.strip() + "\\nDONE\\n")
    """)


class ScriptType(ProviderType):
    name = "script"
    description = "test provider: a Python script"
    default_stdin = "{prompt_file}"
    output_parser = "test-lines"


class LinesParser:
    """Success: a ``DONE`` line and exit 0. ``FATAL``/``LIMIT`` stop the process."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def feed(self, line: str) -> ParserSignal | None:
        self.lines.append(line)
        if line == "FATAL":
            return ParserSignal(ErrorClass.AUTH, "fatal line seen")
        if line == "LIMIT":
            return ParserSignal(ErrorClass.RATE_LIMIT, "limited", retry_after_s=0.2)
        if line.startswith("LIMIT "):
            return ParserSignal(ErrorClass.RATE_LIMIT, "limited", retry_after_s=float(line[6:]))
        return None

    def progress(self) -> Usage:
        return Usage(input_tokens=len(self.lines))

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        usage = Usage(input_tokens=len(self.lines), output_tokens=1)
        if exit_code == 0 and "DONE" in self.lines:
            body = "\n".join(x for x in self.lines if x != "DONE")
            return Outcome(True, result=body, usage=usage, cost_usd=0.01)
        return Outcome(False, ErrorClass.CRASH, f"exit {exit_code}; stderr: {stderr_tail.strip()}",
                       usage=usage)


class LinesParserType(OutputParserType):
    name = "test-lines"
    description = "test parser: DONE, FATAL and LIMIT lines"

    def create(self) -> LinesParser:
        return LinesParser()


class ScriptPlugin:
    """Registers the script provider and parser, and records observer calls."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(ScriptType())

    @hookimpl
    def register_output_parsers(self, register: Any) -> None:
        register(LinesParserType())

    @hookimpl
    def observe_decision(self, decision: Any, task: Any) -> None:
        self.events.append(("decision", decision))

    @hookimpl
    def observe_attempt(self, record: Any) -> None:
        self.events.append(("attempt", record))

    @hookimpl
    def observe_run(self, result: Any) -> None:
        self.events.append(("run", result))


def script_config(folder: Path, models: list[str], runner: str = "", extra_args: tuple[str, ...] = (),
                  providers: int = 1) -> Path:
    """A config whose default runs ``models[0]``, with rules making the rest fallbacks.

    Provider ``s0`` .. ``s{providers-1}`` all run the agent script; candidate i
    uses provider ``s{min(i, providers-1)}``.
    """
    agent = folder / "agent.py"
    agent.write_text(AGENT, encoding="utf-8")
    argv = [sys.executable, str(agent), "{model}", *extra_args]
    text = ""
    for p in range(providers):
        text += f'[providers.s{p}]\ntype = "script"\ncommand_template = {_toml_list(argv)}\n\n'
    text += f'[routing]\nenabled = true\ndefault_provider = "s0"\ndefault_model = "{models[-1]}"\n\n'
    for i, model in enumerate(models[:-1] if len(models) > 1 else []):
        prov = f"s{min(i, providers - 1)}"
        text += (f'[[routing.rules]]\nname = "r{i}"\npriority = {100 - i}\nconditions = {{}}\n'
                 f'provider = "{prov}"\nmodel = "{model}"\n\n')
    text += runner
    path = folder / "tacroute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def process_alive(pid: int, settle_s: float = 5.0) -> bool:
    """Whether ``pid`` still runs after up to ``settle_s`` seconds (a signal is delivered
    asynchronously); a zombie, dead but not yet reaped, counts as dead."""
    import time

    end = time.monotonic() + settle_s
    while _running(pid) and time.monotonic() < end:
        time.sleep(0.05)
    return _running(pid)


def _running(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _toml_list(items: list[str]) -> str:
    import json

    return json.dumps(items)
