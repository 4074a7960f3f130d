"""A coordinator written like the public "AI Developer Workflow" ones (``adws/adw_modules/agent.py``).

It knows nothing of tacroute: it checks ``$CLAUDE_CODE_PATH --version``, runs
``$CLAUDE_CODE_PATH -p PROMPT --model M --output-format stream-json --verbose
--dangerously-skip-permissions`` with a whitelisted environment and stdout
redirected to ``raw_output.jsonl``, then reads the last ``result`` line.
Prints one JSON object: what it understood. Usage: adw_coordinator.py PROMPT OUTPUT_FILE
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CLAUDE_PATH = os.getenv("CLAUDE_CODE_PATH", "claude")


def get_claude_env() -> dict[str, str]:
    wanted = {
        "ANTHROPIC_API_KEY": os.getenv("ANTHROPIC_API_KEY"),
        "GITHUB_PAT": os.getenv("GITHUB_PAT"),
        "CLAUDE_CODE_PATH": os.getenv("CLAUDE_CODE_PATH", "claude"),
        "HOME": os.getenv("HOME"), "USER": os.getenv("USER"), "PATH": os.getenv("PATH"),
        "SHELL": os.getenv("SHELL"), "TERM": os.getenv("TERM"), "LANG": os.getenv("LANG"),
        "PYTHONUNBUFFERED": "1", "PWD": os.getcwd(),
    }
    return {k: v for k, v in wanted.items() if v is not None}


def check_claude_installed() -> str | None:
    try:
        result = subprocess.run([CLAUDE_PATH, "--version"], capture_output=True, text=True)
    except FileNotFoundError:
        return f"Claude Code CLI is not installed at {CLAUDE_PATH}"
    return None if result.returncode == 0 else f"Claude Code CLI is not installed at {CLAUDE_PATH}"


def parse_jsonl_output(output_file: str) -> tuple[list[dict[str, object]], dict[str, object] | None]:
    with open(output_file) as f:
        messages = [json.loads(line) for line in f if line.strip()]
    result = next((m for m in reversed(messages) if m.get("type") == "result"), None)
    return messages, result


def main() -> int:
    prompt, output_file = sys.argv[1], sys.argv[2]
    error = check_claude_installed()
    if error:
        print(json.dumps({"success": False, "output": error}))
        return 0
    cmd = [CLAUDE_PATH, "-p", prompt, "--model", "sonnet", "--output-format", "stream-json", "--verbose",
           "--dangerously-skip-permissions"]
    with open(output_file, "w") as f:
        result = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True, env=get_claude_env())
    messages, final = parse_jsonl_output(output_file)
    print(json.dumps({"returncode": result.returncode, "stderr": result.stderr,
                      "types": [m.get("type") for m in messages],
                      "session_id": final.get("session_id") if final else None,
                      "is_error": final.get("is_error") if final else None,
                      "result": final.get("result") if final else None,
                      "total_cost_usd": float(final["total_cost_usd"]) if final else None}))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
