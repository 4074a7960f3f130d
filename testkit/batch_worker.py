"""A Claude-compatible worker for ``tacroute batch`` tests and the batch benchmark.

The script (:data:`WORKER`) reads the prompt on stdin and, by its text:

``fail``  exits 3 without a result (a crash)
``hang``  writes its pid to ``$PID_DIR/<pid>``, then sleeps
else      appends ``start PID`` to ``$SLOT_LOG`` (O_APPEND; when set), sleeps ``$SLEEP_S``
          (default 0) s, appends ``end PID TIME``, then prints a successful result line
          whose ``result`` is the prompt and ``session_id`` ``s-<prompt>``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["WORKER", "batch_config"]

WORKER = """\
import json, os, sys, time
prompt = sys.stdin.read().strip()
if prompt == "fail":
    sys.exit(3)
if prompt == "hang":
    open(os.path.join(os.environ["PID_DIR"], str(os.getpid())), "w").close()
    time.sleep(600)
log = os.environ.get("SLOT_LOG")
if log:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, ("start %d %.3f\\n" % (os.getpid(), time.time())).encode())
time.sleep(float(os.environ.get("SLEEP_S", "0")))
if log:
    os.write(fd, ("end %d %.3f\\n" % (os.getpid(), time.time())).encode())
    os.close(fd)
print(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": prompt,
                  "session_id": "s-" + prompt, "total_cost_usd": 0.001, "num_turns": 1,
                  "usage": {"input_tokens": 3, "output_tokens": 1}}), flush=True)
"""


def batch_config(folder: Path, provider_extra: str = "", runner: str = "[runner]\nkill_grace = 1\n") -> Path:
    """A config whose one claude-cli provider ``w`` runs :data:`WORKER`."""
    worker = folder / "batch_worker.py"
    worker.write_text(WORKER, encoding="utf-8")
    config = folder / "tacroute.toml"
    config.write_text(
        f'[providers.w]\ntype = "claude-cli"\ncommand_template = {json.dumps([sys.executable, str(worker)])}\n'
        f'{provider_extra}\n[routing]\nenabled = true\ndefault_provider = "w"\ndefault_model = "m"\n{runner}',
        encoding="utf-8")
    return config
