"""``tacroute.tuples.NamedTuple`` makes the classes :class:`typing.NamedTuple` makes, without
compiling each field's annotation at import (the modules' annotations stay strings)."""

from __future__ import annotations
import __future__

import copy
import pickle
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from tacroute.tuples import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
FUTURE = __future__.annotations.compiler_flag


class Limits(NamedTuple):
    """Two limits."""

    rpm: int | None
    name: str = "x"
    tags: tuple[str, ...] = ()

    def doubled(self) -> int:
        return 2 * (self.rpm or 0)


class Typed(typing.NamedTuple):
    """Two limits."""

    rpm: int | None
    name: str = "x"
    tags: tuple[str, ...] = ()

    def doubled(self) -> int:
        return 2 * (self.rpm or 0)


class Boxed(NamedTuple, Generic[T]):
    item: T
    count: int = 1


def test_the_class_is_typings_but_for_the_annotations_being_left_as_written() -> None:
    a, b = Limits(3), Typed(3)
    assert a == b == (3, "x", ())
    assert repr(a) == "Limits(rpm=3, name='x', tags=())"
    assert Limits._fields == Typed._fields and Limits._field_defaults == Typed._field_defaults
    assert a._replace(name="y")._asdict() == {"rpm": 3, "name": "y", "tags": ()}
    assert a.doubled() == 6 and Limits.__doc__ == "Two limits."
    assert Limits.__mro__ == (Limits, tuple, object) and Limits.__module__ == __name__
    assert pickle.loads(pickle.dumps(a)) == a
    # typing turns each into a ForwardRef (compiling it); these are the strings, resolved alike
    assert Limits.__annotations__ == {"rpm": "int | None", "name": "str", "tags": "tuple[str, ...]"}
    assert not any(isinstance(v, typing.ForwardRef) for v in Limits.__new__.__annotations__.values())
    assert typing.get_type_hints(Limits) == typing.get_type_hints(Typed)


def test_the_same_attributes_and_constructor_as_typings() -> None:
    """A plain class is made without typing's metaclass on 3.11 (its per-field type check
    skipped): nothing else may differ."""
    pickled = {"__slotnames__"}  # set by the pickling above, on Limits only
    assert set(vars(Limits)) - pickled == set(vars(Typed)) - pickled
    assert set(dir(Limits)) - pickled == set(dir(Typed)) - pickled
    assert Limits.__new__.__defaults__ == Typed.__new__.__defaults__ == ("x", ())
    assert Limits(rpm=1, tags=("a",)) == Typed(rpm=1, tags=("a",))
    assert Limits.__bases__ == Typed.__bases__ == (tuple,) and type(Limits) is type(Typed) is type
    assert Limits.doubled.__qualname__ == "Limits.doubled"
    with pytest.raises(TypeError, match="Non-default namedtuple field c cannot follow default fields a, b"):
        class Bad(NamedTuple):
            a: int = 1
            b: int = 2
            c: int


def test_generic_tuples_and_typings_errors() -> None:
    assert Boxed[int](5) == (5, 1) and Boxed.__parameters__ == (T,)
    with pytest.raises(TypeError, match="Non-default namedtuple field b cannot follow default field a"):
        class Bad(NamedTuple):
            a: int = 1
            b: int
    with pytest.raises(AttributeError, match="Cannot overwrite NamedTuple attribute _replace"):
        class Worse(NamedTuple):
            a: int

            def _replace(self) -> None: ...


def test_no_module_takes_namedtuple_from_typing() -> None:
    """Every value type of the core and the plugins uses the cheap one (the slow one cost
    ``tacroute route`` ~1 ms of its start)."""
    pattern = re.compile(r"^\s*from typing import [^\n]*\bNamedTuple\b|\btyping\.NamedTuple\b", re.M)
    sources = [*(ROOT / "core").rglob("*.py"), *(ROOT / "plugins").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in sources
                 if "/tests/" not in p.as_posix() and p.name != "tuples.py" and pattern.search(p.read_text())]
    assert offenders == []


def _fields_source(count: int, defaults: int) -> str:
    lines = [f"    f{i}: int" + (f" = {i}" if i >= count - defaults else "") for i in range(count)]
    return "\n".join(lines) + "\n    def total(self) -> int:\n        return sum(self)\n"


def _both(count: int, defaults: int, generic: bool = False) -> tuple[type, type]:
    """The same class made by this module's NamedTuple and by typing's."""
    made: list[type] = []
    for base in ("NamedTuple", "typing.NamedTuple"):
        base += ", Generic[T]" if generic else ""
        ns: dict[str, object] = {"NamedTuple": NamedTuple, "typing": typing, "Generic": Generic, "T": T,
                                 "__name__": __name__}
        exec(f"from __future__ import annotations\nclass Shape({base}):\n{_fields_source(count, defaults)}", ns)
        made.append(ns["Shape"])  # type: ignore[arg-type]
    return made[0], made[1]


def _same_function(a: Any, b: Any) -> None:
    """The same function, but for ``__module__`` and the ``from __future__`` flag of the module it
    is written in: the methods are tacroute.tuples', not collections' (``__new__`` is namedtuple's
    to the flag: see the test)."""
    for attr in ("__name__", "__qualname__", "__doc__", "__defaults__", "__kwdefaults__"):
        assert getattr(a, attr) == getattr(b, attr), (a, attr)
    ca, cb = a.__code__, b.__code__
    for attr in ("co_code", "co_varnames", "co_argcount", "co_posonlyargcount", "co_kwonlyargcount",
                 "co_names", "co_consts", "co_name", "co_nlocals", "co_stacksize", "co_freevars"):
        assert getattr(ca, attr) == getattr(cb, attr), (a, attr)
    assert ca.co_flags & ~FUTURE == cb.co_flags & ~FUTURE


@pytest.mark.parametrize(("count", "defaults", "generic"), [
    (1, 0, False), (1, 1, False), (2, 0, False), (3, 2, False), (13, 5, False), (16, 16, False), (20, 0, False),
    (21, 3, False), (30, 0, False), (1, 0, True), (4, 1, True), (25, 2, True)])
def test_every_attribute_is_namedtuples(count: int, defaults: int, generic: bool) -> None:
    """The class is built without compiling ``__new__`` (up to 20 fields; more go to
    ``collections.namedtuple``): each attribute is what typing's ``NamedTuple`` gives, down to
    ``__new__``'s bytecode, its names, defaults and globals; a Generic one too."""
    ours, theirs = _both(count, defaults, generic)
    assert ours.__mro__[1:] == theirs.__mro__[1:] and ours.__bases__ == theirs.__bases__
    assert type(ours) is type(theirs) is type
    if generic:
        assert ours.__parameters__ == theirs.__parameters__ == (T,)  # type: ignore[attr-defined]
        assert ours[int](*range(count)) == tuple(range(count))  # type: ignore[index]
    assert set(vars(ours)) == set(vars(theirs))
    for key, value in vars(theirs).items():
        mine = vars(ours)[key]
        if key in ("__annotations__", "total", "__orig_bases__"):
            continue  # strings, not ForwardRefs (see above); the class body's; the base as named
        if key == "__new__":  # a staticmethod in the class's dict
            _same_function(ours.__new__, theirs.__new__)
            assert ours.__new__.__code__.co_flags == theirs.__new__.__code__.co_flags
            assert ours.__new__.__globals__ == theirs.__new__.__globals__
            assert ours.__new__.__module__ == theirs.__new__.__module__ == "namedtuple_Shape"
        elif key == "_make":
            _same_function(mine.__func__, value.__func__)
        elif isinstance(value, classmethod):  # Generic's __class_getitem__
            assert mine.__func__ is value.__func__, key
        elif callable(value) and hasattr(value, "__code__"):
            _same_function(mine, value)
        elif type(value).__name__ == "_tuplegetter":
            assert type(mine) is type(value) and mine.__doc__ == value.__doc__
        else:
            assert mine == value, key
    args = list(range(count))
    assert ours(*args) == theirs(*args) and repr(ours(*args)) == repr(theirs(*args))
    assert [getattr(ours(*args), f"f{i}") for i in range(count)] == args
    assert ours(*args).total() == sum(args)
    assert ours._make(args)._replace(f0=9)._asdict() == theirs._make(args)._replace(f0=9)._asdict()
    assert copy.copy(ours(*args)) == ours(*args) and copy.copy(ours(*args)).__class__ is ours
    for call in (lambda c: c(), lambda c: c(*args, 0), lambda c: c(*args, nope=1), lambda c: c(*args, f0=1),
                 lambda c: c._make(args[1:]), lambda c: c._make(args)._replace(nope=1)):
        assert _outcome(call, ours) == _outcome(call, theirs)


def _outcome(call: Callable[[type], object], cls: type) -> tuple[str, str]:
    """What ``call(cls)`` returns (its repr), or the error it raises (its class and text)."""
    try:
        return "ok", repr(call(cls))
    except (TypeError, ValueError) as exc:
        return type(exc).__name__, str(exc)


def test_field_names_namedtuple_refuses_are_refused_alike() -> None:
    with pytest.raises(ValueError, match="Field names cannot start with an underscore: '_x'"):
        class Hidden(NamedTuple):
            _x: int
