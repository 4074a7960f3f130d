"""``NamedTuple`` for class syntax, without compiling every field's annotation at import.

With ``from __future__ import annotations`` (every module here), each field's
annotation is a string, and :class:`typing.NamedTuple` turns each into a
:class:`typing.ForwardRef`, which compiles it: about 20 us a field, 3-4 ms of
a ~50 ms ``tacroute route`` for the 30-odd classes it imports. This one builds
the same class through typing's own metaclass, hands it ``object`` for every
field's type (nothing is checked or compiled), then puts the annotation strings
back, as they are on any other class of such a module (``typing.get_type_hints``
resolves them alike). Everything else (fields, defaults, methods, docstring,
``Generic``) is typing's. A plain class is not even compiled anything for: its
``__new__`` is a renamed copy of one compiled with this module, where
``collections.namedtuple`` compiles the same code from text for each class.
Type checkers see :class:`typing.NamedTuple` itself::

    from tacroute.tuples import NamedTuple

    class Limits(NamedTuple):
        rpm: int | None = None
"""

from __future__ import annotations
import __future__

import collections
import sys
import typing
from keyword import iskeyword
from types import FunctionType
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

        # Python 3.11's NamedTupleMeta, step for step, for ``class X(NamedTuple)`` and ``class
        # X(NamedTuple, Generic[T])``, but for its check of every field's type (~4 us a field, on
        # annotations left as strings anyway) and, for a plain class, for re-setting ``__bases__``
        # to what namedtuple made: ~25 us a class. Typing's own private sets say what a class may
        # not define. Other versions, and other bases, go through typing's metaclass.
        _PLAIN = sys.version_info[:2] == (3, 11) and hasattr(typing, "_prohibited") \
            and hasattr(typing, "_special")

        _tuple_new = tuple.__new__
        _FUTURE_FLAGS = __future__.annotations.compiler_flag
        _tuplegetter: Any = getattr(collections, "_tuplegetter", None)

        # ``__new__`` of a class of 1 to 20 fields, compiled with this module: a class takes a
        # copy of the one with as many fields, its parameters renamed (``CodeType.replace``).
        # ``collections.namedtuple`` compiles this same code (tests compare the bytecode) from
        # text, for each class: ~30 us a class, ~0.6 ms of ``tacroute route``.
        _NEW = (
            lambda _cls, a: _tuple_new(_cls, (a,)),
            lambda _cls, a, b: _tuple_new(_cls, (a, b)),
            lambda _cls, a, b, c: _tuple_new(_cls, (a, b, c)),
            lambda _cls, a, b, c, d: _tuple_new(_cls, (a, b, c, d)),
            lambda _cls, a, b, c, d, e: _tuple_new(_cls, (a, b, c, d, e)),
            lambda _cls, a, b, c, d, e, f: _tuple_new(_cls, (a, b, c, d, e, f)),
            lambda _cls, a, b, c, d, e, f, g: _tuple_new(_cls, (a, b, c, d, e, f, g)),
            lambda _cls, a, b, c, d, e, f, g, h: _tuple_new(_cls, (a, b, c, d, e, f, g, h)),
            lambda _cls, a, b, c, d, e, f, g, h, i: _tuple_new(_cls, (a, b, c, d, e, f, g, h, i)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j: _tuple_new(_cls, (a, b, c, d, e, f, g, h, i, j)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k: _tuple_new(_cls, (a, b, c, d, e, f, g, h, i, j, k)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m, n: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m, n)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m, n, o: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m, n, o)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s, t: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s, t)),
            lambda _cls, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s, t, u: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s, t, u)),
        )

        def _namedtuple(typename: str, field_names: tuple[str, ...], defaults: list[Any], module: str) -> Any:
            """``collections.namedtuple(typename, field_names, defaults=defaults, module=module)``
            (Python 3.11's, step for step), but for ``__new__`` (see ``_NEW``). Names it would
            refuse, and more fields than ``_NEW`` has, go to namedtuple itself."""
            if not 0 < len(field_names) <= len(_NEW) or _tuplegetter is None \
                    or not all(f.isidentifier() and not iskeyword(f) and f[0] != "_" for f in field_names):
                return collections.namedtuple(typename, field_names, defaults=defaults, module=module)
            typename = sys.intern(typename)
            field_names = tuple(map(sys.intern, field_names))
            num_fields = len(field_names)
            arg_list = ", ".join(field_names) + ("," if num_fields == 1 else "")
            repr_fmt = "(" + ", ".join(f"{name}=%r" for name in field_names) + ")"
            tuple_new = _tuple_new
            _dict, _tuple, _len, _map, _zip = dict, tuple, len, map, zip
            namespace = {"_tuple_new": tuple_new, "__builtins__": {}, "__name__": f"namedtuple_{typename}"}
            code = _NEW[num_fields - 1].__code__  # less this module's ``from __future__`` flag
            code = code.replace(co_varnames=("_cls", *field_names), co_flags=code.co_flags & ~_FUTURE_FLAGS)
            __new__ = FunctionType(code, namespace)
            __new__.__name__ = "__new__"
            __new__.__doc__ = f"Create new instance of {typename}({arg_list})"
            __new__.__defaults__ = tuple(defaults)
            field_defaults = dict(zip(field_names[num_fields - len(defaults):], defaults))

            @classmethod
            def _make(cls: Any, iterable: Any) -> Any:
                result = tuple_new(cls, iterable)
                if _len(result) != num_fields:
                    raise TypeError(f"Expected {num_fields} arguments, got {len(result)}")
                return result

            _make.__func__.__doc__ = f"Make a new {typename} object from a sequence or iterable"

            def _replace(self: Any, /, **kwds: Any) -> Any:
                result = self._make(_map(kwds.pop, field_names, self))
                if kwds:
                    raise ValueError(f"Got unexpected field names: {list(kwds)!r}")
                return result

            _replace.__doc__ = f"Return a new {typename} object replacing specified fields with new values"

            def __repr__(self: Any) -> str:
                "Return a nicely formatted representation string"
                return self.__class__.__name__ + repr_fmt % self

            def _asdict(self: Any) -> dict[str, Any]:
                "Return a new dict which maps field names to their values."
                return _dict(_zip(self._fields, self))

            def __getnewargs__(self: Any) -> tuple[Any, ...]:
                "Return self as a plain tuple.  Used by copy and pickle."
                return _tuple(self)

            for method in (__new__, _make.__func__, _replace, __repr__, _asdict, __getnewargs__):
                method.__qualname__ = f"{typename}.{method.__name__}"
            class_namespace: dict[str, Any] = {
                "__doc__": f"{typename}({arg_list})", "__slots__": (), "_fields": field_names,
                "_field_defaults": field_defaults, "__new__": __new__, "_make": _make,
                "_replace": _replace, "__repr__": __repr__, "_asdict": _asdict,
                "__getnewargs__": __getnewargs__, "__match_args__": field_names,
            }
            for index, name in enumerate(field_names):
                class_namespace[name] = _tuplegetter(index, sys.intern(f"Alias for field number {index}"))
            result = type(typename, (tuple,), class_namespace)
            result.__module__ = module
            return result

        def _plain(typename: str, annotations: dict[str, Any], ns: dict[str, Any], generic: bool) -> Any:
            default_names: list[str] = []
            for field_name in annotations:
                if field_name in ns:
                    default_names.append(field_name)
                elif default_names:
                    raise TypeError(f"Non-default namedtuple field {field_name} "
                                    f"cannot follow default field"
                                    f"{'s' if len(default_names) > 1 else ''} "
                                    f"{', '.join(default_names)}")
            made = _namedtuple(typename, tuple(annotations), [ns[n] for n in default_names],
                               ns["__module__"])
            if generic:
                made.__bases__ = (tuple, typing.Generic)
                made.__class_getitem__ = classmethod(typing.Generic.__class_getitem__.__func__)
            prohibited, special = typing._prohibited, typing._special  # type: ignore[attr-defined]
            for key in ns:
                if key in prohibited:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in special and key not in made._fields:
                    setattr(made, key, ns[key])
            if generic:
                made.__init_subclass__()
            return made

        class _Meta(_TypingMeta):
            def __new__(cls, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
                annotations = dict(ns.get("__annotations__", {}))
                if _PLAIN and bases in ((_Base,), (_Base, typing.Generic)):
                    made = _plain(typename, annotations, ns, generic=len(bases) == 2)
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
