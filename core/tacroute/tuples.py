"""``NamedTuple`` for class syntax, without compiling every field's annotation at import.

With ``from __future__ import annotations`` (every module here), each field's
annotation is a string, and :class:`typing.NamedTuple` turns each into a
:class:`typing.ForwardRef`, which compiles it: about 20 us a field, 3-4 ms of
a ~50 ms ``tacroute route`` for the 30-odd classes it imports. This one builds
the same class through typing's own metaclass, hands it ``object`` for every
field's type (nothing is checked or compiled), then puts the annotation strings
back, as they are on any other class of such a module (``typing.get_type_hints``
resolves them alike). Everything else (fields, defaults, methods, docstring,
``Generic``) is typing's. Type checkers see :class:`typing.NamedTuple` itself::

    from tacroute.tuples import NamedTuple

    class Limits(NamedTuple):
        rpm: int | None = None
"""

from __future__ import annotations

import collections
import sys
import typing
from typing import TYPE_CHECKING, Any

__all__ = ["NamedTuple"]

if TYPE_CHECKING:
    from typing import NamedTuple
else:
    _TypingMeta: Any = getattr(typing, "NamedTupleMeta", None)
    _typing_base: Any = getattr(typing, "_NamedTuple", None)

    if _TypingMeta is None or _typing_base is None:  # another Python's typing: use it as it is
        NamedTuple = typing.NamedTuple
    else:

        # Python 3.11's NamedTupleMeta, step for step, for a plain ``class X(NamedTuple)``, but
        # for its check of every field's type (~4 us a field, on annotations left as strings
        # anyway) and for re-setting ``__bases__`` to what namedtuple made: ~25 us a class.
        # Typing's own private sets say what a class may not define. Other versions, and a
        # Generic base, go through typing's metaclass.
        _PLAIN = sys.version_info[:2] == (3, 11) and hasattr(typing, "_prohibited") \
            and hasattr(typing, "_special")

        def _plain(typename: str, annotations: dict[str, Any], ns: dict[str, Any]) -> Any:
            default_names: list[str] = []
            for field_name in annotations:
                if field_name in ns:
                    default_names.append(field_name)
                elif default_names:
                    raise TypeError(f"Non-default namedtuple field {field_name} "
                                    f"cannot follow default field"
                                    f"{'s' if len(default_names) > 1 else ''} "
                                    f"{', '.join(default_names)}")
            made = collections.namedtuple(typename, list(annotations),
                                          defaults=[ns[n] for n in default_names], module=ns["__module__"])
            prohibited, special = typing._prohibited, typing._special  # type: ignore[attr-defined]
            for key in ns:
                if key in prohibited:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in special and key not in made._fields:
                    setattr(made, key, ns[key])
            return made

        class _Meta(_TypingMeta):
            def __new__(cls, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
                annotations = dict(ns.get("__annotations__", {}))
                if _PLAIN and bases == (_Base,):
                    made = _plain(typename, annotations, ns)
                else:
                    ns["__annotations__"] = dict.fromkeys(annotations, object)
                    bases = tuple(_typing_base if base is _Base else base for base in bases)
                    made = super().__new__(cls, typename, bases, ns)
                made.__annotations__ = made.__new__.__annotations__ = annotations
                return made

        _Base = type.__new__(_Meta, "NamedTuple", (), {})

        def NamedTuple(typename: str, fields: Any = None, /, **kwargs: Any) -> Any:
            """The functional form is typing's own."""
            return typing.NamedTuple(typename, fields, **kwargs)

        NamedTuple.__mro_entries__ = lambda bases: (_Base,)
