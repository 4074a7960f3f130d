"""The plugin: registers the ``redis`` state backend (``[state] backend = "redis"``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tacroute import hookimpl
from tacroute.types.plugin import StateBackendType  # the rest of the state seam loads when used

if TYPE_CHECKING:
    from tacroute.state import RegisterStateBackend, StateBackend, StateSettings

__all__ = ["RedisType", "register_state_backends"]

DEFAULT_URL = "redis://127.0.0.1:6379/0"


class RedisType(StateBackendType):
    name = "redis"
    description = "cooldowns, provider slots, rpm, spend and fleet stats shared on a Redis server"
    keys: ClassVar[Mapping[str, tuple[type, ...]]] = {
        "url": (str,), "prefix": (str,), "password_env": (str,), "password_file": (str,)}

    def check(self, table: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = []
        url = table.get("url", DEFAULT_URL)
        if not url.startswith(("redis://", "rediss://", "unix://")):
            problems.append(("url", "must start with redis://, rediss:// (TLS) or unix://"))
        if "prefix" in table and not table["prefix"]:
            problems.append(("prefix", "must not be empty"))
        if "password_env" in table and "password_file" in table:
            problems.append(("password_file", "give password_env or password_file, not both"))
        return problems

    def open(self, settings: StateSettings, env: Mapping[str, str]) -> StateBackend:
        from tacroute_redis.backend import RedisState

        opts = settings.options
        password = None
        if "password_env" in opts:
            password = (env.get(opts["password_env"]) or "").strip() or None
        elif "password_file" in opts:
            try:
                text = Path(opts["password_file"]).expanduser().read_text(encoding="utf-8")
                password = text.strip() or None
            except OSError:
                password = None  # the server refuses us: the degraded warning says so
        return RedisState(opts.get("url", DEFAULT_URL), prefix=opts.get("prefix", "tacroute:"),
                          password=password, timeout_s=settings.timeout_s, lease_ttl_s=settings.lease_ttl_s)


@hookimpl
def register_state_backends(register: RegisterStateBackend) -> None:
    register(RedisType())
