"""What a config section is: a top-level table some layer (core or plugin) owns.

A layer describes its table once, as a :class:`ConfigSection`, and registers
it (the core's layers in :mod:`tacroute.config.sections`, a plugin from its
``register_config_sections`` hook). The loader then checks every section in
the same pass as the rest of the file, and the :class:`~tacroute.config.model.Config`
it returns carries each section's typed value: ``config.section("myplugin")``.

::

    class MySettings(NamedTuple):
        url: str = "http://localhost:8080"
        retries: int = 3

    def check(value, chk, ctx):
        good = chk.table(value, ["myplugin"], {"url": (str,), "retries": (int,)})
        retries = chk.count(["myplugin", "retries"], good.get("retries", 3), low=0, high=10)
        return MySettings(good.get("url", MySettings.url), MySettings.retries if retries is None else retries)

    SECTION = ConfigSection("myplugin", "where my plugin sends reports", check)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.config.checker import Checker

__all__ = ["ConfigSection", "RegisterConfigSection", "SectionContext"]

T = TypeVar("T")


class SectionContext(NamedTuple):
    """What a section's ``check`` may need besides its own table."""

    #: The config file (None for text given without one).
    path: Path | None
    #: The folder relative paths in the config are resolved against.
    base_dir: Path
    #: The whole parsed document (read-only use), for a section that depends on another.
    doc: Mapping[str, Any]
    #: The plugin registry the config is loaded with (its condition types, say), when known.
    registry: Any = None


class ConfigSection(NamedTuple, Generic[T]):
    """A top-level table, its check, and its value when the table is absent.

    ``check(value, checker, ctx)`` receives the table as parsed from TOML
    (any type: the user may have written ``myplugin = 3``), reports each
    problem with ``checker.add(key_path, message)`` (see
    :class:`~tacroute.config.checker.Checker`) and returns the typed value
    (its best effort when there were problems: it is discarded then).

    ``default(ctx)`` gives the value when the file has no such table; without
    one, ``check({}, checker, ctx)`` is used, so a check that fills in its
    own defaults needs no separate default.
    """

    #: The top-level table's name, e.g. ``"runner"`` for ``[runner]``.
    name: str
    #: One line for people: what the table configures.
    description: str
    check: Callable[[Any, Checker, SectionContext], T]
    default: Callable[[SectionContext], T] | None = None


#: The ``register`` callable of the ``register_config_sections`` hook.
RegisterConfigSection = Callable[[ConfigSection[Any]], None]
