"""One coordinator "machine" for the shared-state tests: a process with its own HOME and history.

``python machine.py CONFIG MODE N``: registers the script provider, the history
plugin and tacroute-redis, then

- ``runs``: runs N tasks at once (threads, ``wait=300``) and prints one JSON line
  per finished run;
- ``route``: prints the decision's JSON;
- ``budgets``: prints ``tacroute budgets --json``'s rows;
- ``loop``: runs one task after another until the file ``$STOP_FILE`` exists,
  printing one JSON line per run.

``$TASK`` (a JSON object, default ``{}``) is the task's attributes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: testkit

from tacroute.errors import TacrouteError
from tacroute.history import plugin as history_plugin
from tacroute.plugins import Registry, set_registry
from tacroute.preferences import plugin as preferences_plugin
from tacroute.routing import router_with_history
from tacroute.runner import run_task
from tacroute_redis import plugin as redis_plugin
from testkit.script_provider import ScriptPlugin

_LOCK = threading.Lock()


def _say(data: dict[str, object]) -> None:
    with _LOCK:
        print(json.dumps(data), flush=True)


TASK = json.loads(os.environ.get("TASK", "{}"))


def _one(config: Path, prompt: Path, registry: Registry) -> None:
    try:
        result = run_task(prompt, dict(TASK), config=config, registry=registry, wait=300)
    except TacrouteError as exc:  # refused before any attempt (a budget)
        _say({"run": None, "success": False, "error": str(exc), "refused": True})
        return
    _say({"run": result.run_id, "success": result.success, "error": result.error})


def main() -> None:
    config, mode, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    registry = Registry.from_plugins([ScriptPlugin(), history_plugin, preferences_plugin, redis_plugin])
    set_registry(registry)
    prompt = config.parent / f"prompt-{os.getpid()}.txt"
    prompt.write_text("hello\n", encoding="utf-8")
    if mode == "route":
        from tacroute.config.loader import load_config

        decision = router_with_history(load_config(config, registry=registry), registry=registry).route(dict(TASK))
        _say(decision.as_dict())
    elif mode == "budgets":
        from tacroute.config.loader import load_config
        from tacroute.preferences.budgets import budget_states

        _say({"budgets": [b.as_dict() for b in budget_states(load_config(config, registry=registry))]})
    elif mode == "runs":
        threads = [threading.Thread(target=_one, args=(config, prompt, registry)) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        stop = Path(os.environ["STOP_FILE"])
        while not stop.exists():
            _one(config, prompt, registry)


if __name__ == "__main__":
    main()
