"""The kind of state backend a plugin registers, apart from the rest of the seam.

A plugin (``tacroute-redis``) subclasses :class:`StateBackendType` when it is
loaded, which every command does; the rest of :mod:`tacroute.state.api` (the
value types, the protocols) loads only when state is used. Re-exported by
:mod:`tacroute.state.api` and :mod:`tacroute.state`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from tacroute.state.api import StateBackend
    from tacroute.state.settings import StateSettings

__all__ = ["RegisterStateBackend", "StateBackendType"]


class StateBackendType:
    """A kind of state backend a plugin registers (``register_state_backends``).

    ``name`` is what ``[state] backend`` names; ``keys`` the extra ``[state]``
    keys it reads (name -> the types allowed), checked by the core; :meth:`check`
    may add its own problems as ``(key, message)``; :meth:`open` connects lazily
    (it must not block: the first call may fail with :class:`StateUnavailable`).
    """

    name: str = ""
    description: str = ""
    keys: ClassVar[Mapping[str, tuple[type, ...]]] = {}

    def check(self, table: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    def open(self, settings: StateSettings, env: Mapping[str, str]) -> StateBackend:
        raise NotImplementedError


#: The ``register`` argument of ``register_state_backends``.
RegisterStateBackend = Callable[[StateBackendType], None]
