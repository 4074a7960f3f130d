"""Helpers for provider types that run another vendor's coding-agent CLI.

What the Codex and Gemini plugins share: a private home per provider (so a
run never reads or writes the user's own login and settings), a file written
there atomically, the ``--version`` check behind ``tacroute providers --check``
and the error class of an HTTP status.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.fastexit import open_own
from tacroute.types.run import ErrorClass

if TYPE_CHECKING:
    from tacroute.config.model import ProviderConfig

__all__ = ["classify_status", "provider_home", "version_check", "write_private"]

#: Longest ``--version`` may take (a cold node start on a loaded machine).
VERSION_TIMEOUT_S = 60.0


def provider_home(provider: str, kind: str) -> Path:
    """``$XDG_STATE_HOME/tacroute/providers/PROVIDER/KIND`` (``~/.local/state`` by default), created.

    ``TACROUTE_STATE_DIR`` replaces ``$XDG_STATE_HOME/tacroute``.
    """
    base = os.environ.get("TACROUTE_STATE_DIR")
    if not base:
        xdg = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        base = os.path.join(xdg, "tacroute")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in provider) or "_"
    path = Path(base) / "providers" / safe / kind
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it already holds it; atomically (rename), mode 0600."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open_own(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def version_check(config: ProviderConfig, env: Mapping[str, str],
                  argv: Sequence[str] = ("--version",)) -> dict[str, Any]:
    """Whether the table's program starts (``PROGRAM --version``) and its key is set; never the key."""
    import shutil

    program = config.command_template[0] if config.command_template else ""
    path = shutil.which(program, path=env.get("PATH")) if program else None
    if path is None:
        return {"ok": False, "message": f"{program or 'the command'} not found on PATH"}
    key = config.api_key_env
    if key and not (env.get(key) or "").strip():
        return {"ok": False, "message": f"{key} is not set"}
    try:
        proc = subprocess.run([path, *argv], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=dict(env), timeout=VERSION_TIMEOUT_S, errors="replace")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"ok": False, "message": f"{program} --version did not run: {exc}"}
    version = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    first = version[0][:200] if version else ""
    if proc.returncode != 0:
        return {"ok": False, "message": f"{program} --version exited with code {proc.returncode}: {first}"}
    keyed = f"; {key} is set" if key else ""
    return {"ok": True, "message": f"{first or program} starts{keyed}", "version": first}


def classify_status(status: int | None) -> ErrorClass:
    """The error class of an API's HTTP status (None: a network failure or a cut stream)."""
    if status is None:
        return ErrorClass.OVERLOADED
    if status in (401, 402, 403):
        return ErrorClass.AUTH
    if status == 404:
        return ErrorClass.MODEL_NOT_FOUND
    if status == 429:
        return ErrorClass.RATE_LIMIT
    if status >= 500:
        return ErrorClass.OVERLOADED
    if 400 <= status < 500:
        return ErrorClass.BAD_REQUEST
    return ErrorClass.CRASH

