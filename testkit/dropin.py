"""A folder where ``tacroute-claude`` runs a fake Claude CLI (a shell script): for tests
that check what the drop-in does around the CLI (imports, exit, history), not the CLI.

:func:`dropin_folder` writes the script and ``adws/config.toml`` (one claude-cli
provider running it, the run folders and the history file inside the folder);
:func:`dropin_env` is the environment to run in it (no ``TACROUTE_*`` of the caller,
an entry-point cache of its own).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DROPIN_ARGV", "FAKE_CLAUDE", "dropin_env", "dropin_folder"]

#: A coordinator's call (after the program's name).
DROPIN_ARGV = ["-p", "Say OK.", "--model", "sonnet", "--output-format", "stream-json", "--verbose"]

#: Reads its stdin (the prompt) and prints what ``claude -p --output-format stream-json`` prints.
FAKE_CLAUDE = """#!/bin/sh
cat >/dev/null
echo '{"type":"system","subtype":"init","session_id":"s1","model":"claude-sonnet-4-5"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"OK","session_id":"s1","usage":{"input_tokens":3,"output_tokens":1}}'
"""


def dropin_folder(folder: Path, script: str = FAKE_CLAUDE) -> Path:
    """Write the fake CLI (``folder/claude``) and the config; returns the history file's path."""
    claude = folder / "claude"
    claude.write_text(script, encoding="utf-8")
    claude.chmod(0o755)
    (folder / "adws").mkdir(exist_ok=True)
    history = folder / "history.db"
    (folder / "adws" / "config.toml").write_text(
        f'[providers.claude]\ntype = "claude-cli"\ncommand_template = ["{claude}", "-p", "--model", "{{model}}", '
        '"--output-format", "stream-json", "--verbose"]\n\n[routing]\ndefault_provider = "claude"\n'
        f'default_model = "claude-sonnet-4-5"\n\n[runner]\noutput_dir = "{folder / "runs"}"\n'
        f'[history]\npath = "{history}"\n', encoding="utf-8")
    return history


def dropin_env(folder: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without ``TACROUTE_*``, with an entry-point cache in ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TACROUTE_")}
    return {**env, "XDG_CACHE_HOME": str(folder / "cache"), **extra}
