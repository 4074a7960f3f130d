"""Plain-text tables of the read commands (``stats``, ``stats --fleet``)."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["cost_text", "print_table", "secs_text"]


def secs_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def cost_text(value: float | None, source: str | None = None) -> str:
    """A cost; ``~`` in front when tacroute estimated it (all of it, or some: ``mixed``)."""
    if value is None:
        return "-"
    mark = "~" if source in ("estimated", "mixed") else ""
    return f"{mark}${value:.4f}"


def print_table(table: list[tuple[Any, ...]]) -> None:
    """Columns padded to their widest cell; the first left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    for row in table:
        cells = [str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths))]
        click.echo("  ".join(cells).rstrip())
