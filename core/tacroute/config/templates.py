"""Check the placeholders of a provider's ``command_template`` and ``stdin``.

A placeholder is plain text substitution: ``{model}``, ``{prompt_file}``,
``{prompt}``, ``{output_file}``. A format spec or a conversion (``{model:d}``,
``{model!r}``, ``{model:>10}``) would pass a naive check and then crash or
mangle the argv when the task runs, so it is refused when the config loads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from tacroute.config.unknown import did_you_mean

__all__ = ["PLACEHOLDERS", "check_template", "template_fields"]

#: Placeholders a command template or ``stdin`` may use.
PLACEHOLDERS = ("prompt_file", "prompt", "model", "output_file")

class _Adder(Protocol):
    """What the checker must offer (a :class:`~tacroute.config.checker.Checker`)."""

    def add(self, path: Sequence[str | int], message: str) -> None: ...


_VALID = ", ".join("{" + p + "}" for p in PLACEHOLDERS)


def template_fields(template: str) -> list[str]:
    """The placeholder names used in one template string.

    Raises ValueError for a malformed template (a lone ``{``).
    """
    return [name for _, name, _, _ in _parse(template) if name is not None]


def _parse(template: str) -> Iterator[tuple[str, str | None, str | None, str | None]]:
    """``string.Formatter().parse(template)``: the C parser that method returns, without
    importing ``string`` (it compiles a regex at import: ~0.4 ms of ``tacroute route``)."""
    try:
        from _string import formatter_parser  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # not CPython
        import string

        return iter(string.Formatter().parse(template))
    parsed: Iterator[tuple[str, str | None, str | None, str | None]] = formatter_parser(template)
    return parsed


def check_template(item: str, path: Sequence[str | int], chk: _Adder) -> None:
    """Report a malformed template, an unknown placeholder, or a spec/conversion on one."""
    try:
        fields = [f for f in _parse(item) if f[1] is not None]
    except ValueError as exc:
        chk.add(path, f"malformed template {item!r} ({exc}); write {{{{ and }}}} for literal braces")
        return
    for _, name, spec, conversion in fields:
        if name not in PLACEHOLDERS:
            chk.add(path, f"unknown placeholder {{{name}}} in {item!r}"
                    f"{did_you_mean(name or '', PLACEHOLDERS)}; valid placeholders: {_VALID}")
        elif spec or conversion:
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            chk.add(path, f"placeholder {{{written}}} in {item!r} has a format spec or conversion; "
                    f"placeholders are plain text, write {{{name}}}")
