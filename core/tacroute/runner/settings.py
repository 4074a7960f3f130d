"""The ``[runner]`` config table: failover classes, attempt limits, timeouts.

::

    [runner]
    max_attempts = 4          # attempts in all, over every candidate (default 5)
    failover = ["auth", "rate_limit", "overloaded", "timeout", "spawn_failed", "model_not_found"]
    max_retry_after = 60      # longest retry-after (s) honoured by waiting (default 60)
    timeout = 1800            # per-attempt timeout (s) for providers without their own
    kill_grace = 3            # seconds between SIGTERM and SIGKILL of the process group
    output_dir = "runs"       # where attempt output files go (relative: to the config's folder)

Validated when the runner reads it; problems raise :class:`ConfigError` naming
the file, line, key path and what would be valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from tacroute.config.bounds import count_too_large, seconds_problem
from tacroute.config.loader import _Checker, format_key
from tacroute.config.model import Config
from tacroute.errors import ConfigError, ConfigIssue
from tacroute.types import ErrorClass

__all__ = ["DEFAULT_FAILOVER", "RunnerSettings", "load_runner_settings"]

#: Classes that move on to the next candidate unless ``runner.failover`` says otherwise.
DEFAULT_FAILOVER = frozenset({
    ErrorClass.AUTH, ErrorClass.RATE_LIMIT, ErrorClass.OVERLOADED, ErrorClass.TIMEOUT,
    ErrorClass.SPAWN_FAILED, ErrorClass.MODEL_NOT_FOUND,
})

_KEYS: dict[str, tuple[type, ...]] = {
    "max_attempts": (int,),
    "failover": (list,),
    "max_retry_after": (int, float),
    "timeout": (int, float),
    "kill_grace": (int, float),
    "output_dir": (str,),
}


class RunnerSettings(NamedTuple):
    """How the runner tries candidates (see the module docstring for the TOML)."""

    max_attempts: int = 5
    failover: frozenset[ErrorClass] = DEFAULT_FAILOVER
    max_retry_after: float = 60.0
    timeout: float | None = None
    kill_grace: float = 3.0
    output_dir: Path | None = None


def load_runner_settings(config: Config) -> RunnerSettings:
    """Read and check ``[runner]`` of a loaded config (defaults when absent)."""
    raw: Any = config.raw.get("runner")
    if raw is None:
        return RunnerSettings()
    chk = _Checker()
    good = chk.table(raw, ["runner"], _KEYS, "[runner]")
    values: dict[str, Any] = {}
    if "max_attempts" in good:
        if good["max_attempts"] < 1:
            chk.add(["runner", "max_attempts"], f"must be at least 1, not {good['max_attempts']}")
        elif problem := count_too_large("max_attempts", good["max_attempts"]):
            chk.add(["runner", "max_attempts"], problem)
        else:
            values["max_attempts"] = good["max_attempts"]
    if "failover" in good:
        values["failover"] = _failover(good["failover"], chk)
    for key in ("max_retry_after", "timeout", "kill_grace"):
        if key in good:
            problem = seconds_problem(good[key], zero_ok=key != "timeout")
            if problem:
                chk.add(["runner", key], problem)
            else:
                values[key] = float(good[key])
    if "output_dir" in good:
        path = Path(good["output_dir"]).expanduser()
        values["output_dir"] = path if path.is_absolute() else config.base_dir / path
    if chk.issues:
        raise ConfigError([ConfigIssue(format_key(p), msg, _line(config, p)) for p, msg in chk.issues],
                          config.path)
    return RunnerSettings(**values)


def _failover(items: list[Any], chk: _Checker) -> frozenset[ErrorClass]:
    valid = ", ".join(c.value for c in ErrorClass)
    out: set[ErrorClass] = set()
    for i, item in enumerate(items):
        try:
            out.add(ErrorClass(item))
        except ValueError:
            chk.add(["runner", "failover", i], f"unknown error class {item!r}; valid: {valid}")
    return frozenset(out)


def _line(config: Config, path: Any) -> int | None:
    if config.path is None:
        return None
    from tacroute.config.locate import locate  # only for errors: kept off the start-up path

    try:
        text = Path(config.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return locate(text, path)

