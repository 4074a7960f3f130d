"""The ``[runner]`` config table: failover classes, attempt limits, timeouts.

::

    [runner]
    max_attempts = 4          # attempts in all, over every candidate (default 5)
    failover = ["auth", "rate_limit", "overloaded", "timeout", "spawn_failed", "model_not_found"]
    max_retry_after = 60      # longest retry-after (s) honoured by waiting (default 60)
    timeout = 1800            # per-attempt timeout (s) for providers without their own
    kill_grace = 3            # seconds between SIGTERM and SIGKILL of the process group
    output_dir = "runs"       # where attempt output files go (relative: to the config's folder)

Checked when the config loads, with the rest of the file (the ``runner``
section of :mod:`tacroute.config.sections`); problems raise :class:`ConfigError` naming
the file, line, key path and what would be valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.tuples import NamedTuple
from tacroute.types import ErrorClass

if TYPE_CHECKING:
    from tacroute.config.checker import Checker
    from tacroute.config.model import Config
    from tacroute.config.schema import SectionContext

__all__ = ["DEFAULT_FAILOVER", "RunnerSettings", "check_runner", "load_runner_settings"]

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
    """The checked ``[runner]`` of a loaded config (defaults when absent)."""
    settings: RunnerSettings = config.section("runner")
    return settings


def check_runner(raw: Any, chk: Checker, ctx: SectionContext) -> RunnerSettings:
    """Check a ``[runner]`` table into :class:`RunnerSettings`, reporting problems on ``chk``."""
    good = chk.table(raw, ["runner"], _KEYS, "[runner]")
    values: dict[str, Any] = {}
    if "max_attempts" in good:
        count = chk.count(["runner", "max_attempts"], good["max_attempts"])
        if count is not None:
            values["max_attempts"] = count
    if "failover" in good:
        values["failover"] = _failover(good["failover"], chk)
    for key in ("max_retry_after", "timeout", "kill_grace"):
        if key in good:
            seconds = chk.seconds(["runner", key], good[key], zero_ok=key != "timeout")
            if seconds is not None:
                values[key] = seconds
    if "output_dir" in good:
        path = Path(good["output_dir"]).expanduser()
        values["output_dir"] = path if path.is_absolute() else ctx.base_dir / path
    return RunnerSettings(**values)


def _failover(items: list[Any], chk: Checker) -> frozenset[ErrorClass]:
    valid = ", ".join(c.value for c in ErrorClass)
    out: set[ErrorClass] = set()
    for i, item in enumerate(items):
        try:
            out.add(ErrorClass(item))
        except ValueError:
            chk.add(["runner", "failover", i], f"unknown error class {item!r}; valid: {valid}")
    return frozenset(out)

