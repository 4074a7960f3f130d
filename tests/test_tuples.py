"""``tacroute.tuples.NamedTuple`` makes the classes :class:`typing.NamedTuple` makes, without
compiling each field's annotation at import (the modules' annotations stay strings)."""

from __future__ import annotations

import pickle
import re
import typing
from pathlib import Path
from typing import Generic, TypeVar

import pytest

from tacroute.tuples import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


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
