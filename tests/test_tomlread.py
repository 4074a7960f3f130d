"""The fast TOML path gives exactly what ``tomllib`` gives, or steps aside.

``fast_loads`` must, for every text, either answer None (the loader then uses
``tomllib``, errors and all) or the very values ``tomllib`` reads: same types,
same key order, same dates, times and offsets, same inf/nan with their sign.
It must never accept a text ``tomllib`` rejects.
"""

from __future__ import annotations

import datetime
import functools
import math
import random
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.config import parse_config, tomlread
from tacroute.config.tomlread import fast_loads, nesting_depth, read_toml
from tacroute.errors import ConfigError
from tacroute.plugins import Registry
from testkit import seed

ROOT = Path(__file__).resolve().parent.parent


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down, keys in the same order, float signs too."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        both_nan = math.isnan(a) and math.isnan(b)
        return (both_nan or a == b) and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, datetime.datetime | datetime.time):
        return a == b and repr(a) == repr(b) and type(a.tzinfo) is type(b.tzinfo)
    return bool(a == b)


def tomllib_or_error(text: str) -> Any:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        return exc


def check(text: str) -> bool:
    """Assert the contract on ``text``; True when the fast path answered."""
    expected = tomllib_or_error(text)
    got = fast_loads(text)
    if isinstance(expected, Exception):
        assert got is None, f"fast path accepted a text tomllib rejects ({expected}): {text!r}"
        return False
    assert got is None or same(expected, got), f"differs from tomllib on {text!r}: {got!r}"
    return got is not None


@functools.cache
def project_documents() -> tuple[str, ...]:
    docs = [p.read_text() for p in sorted((ROOT / "examples").glob("*.toml"))]
    docs.append((ROOT / "core/tacroute/config/starter.toml").read_text())
    docs += [v for k, v in vars(seed).items() if k.isupper() and isinstance(v, str)]
    # The seed document itself, where the shared folder is beside the checkout (or at its usual place).
    folders = [ROOT.parent / "shared" / "seed", Path("/work/shared/seed")]
    for f in sorted(f for folder in folders if folder.is_dir() for f in folder.glob("*.txt")):
        docs += re.findall(r"```toml\n(.*?)```", f.read_text(), re.S)
    return tuple(docs)


VALID = [
    # dates, times, offsets (Z and -00:00 are UTC; fractions past microseconds are cut)
    "a = 1979-05-27T07:32:00Z", "a = 1979-05-27T00:32:00-07:00", "a = 1979-05-27 07:32:00.999999+14:00",
    "a = 1979-05-27T00:32:00.9999999-07:00", "a = 1979-05-27t07:32:00z", "a = 1979-05-27T07:32:00-00:00",
    "a = 1979-05-27T07:32:00", "a = 1979-05-27", "a = 07:32:00", "a = 07:32:00.5", "a = 2000-02-29",
    # floats and integers
    "a = inf", "a = -inf", "a = +inf", "a = nan", "a = -nan", "a = +nan", "a = -0.0", "a = +0.0",
    "a = 1e1_0", "a = 5e-324", "a = 3.14_15", "a = 1e+01",
    "a = 9223372036854775807", "a = -9223372036854775808", "a = 0x7fffffffffffffff", "a = 0o777",
    "a = 0b101", "a = 0xDEADbeef", "a = 1_000", "a = -0",
    # strings
    'a = "\\u00e9\\U0001F600\\t\\""', "a = 'C:\\path'", 'a = "tab\there"', "a = 'x' # c'mon",
    # tables, inline tables, dotted keys, arrays of tables, key order
    "a = { b = 1, c.d = 2 }", "a.b.c = 1\na.b.d = 2", "[z]\nb = 1\n[a]\nc = 2", "[[a]]\nb = 1\n[[a]]\nb = 2\n[a.c]\nd = 1",
    '"a b" = 1\n\'a.b\' = 2\n"" = 3', "[a.b.c]\nd = 1\n[a]\nb.e = 1", "a = [1, [2, [3]], { b = [4] }]",
    "a = [\n  1,\n  2, # two\n]", "a = []\nb = {}",
]

INVALID = [
    "a = 1979-02-30", "a = 07:32", "a = 1979-05-27T07:32Z", "a = 1979-05-27T24:00:00", "a = 1.", "a = .1",
    "a = 01", "a = 1__0", "a = _1", "a = True", 'a = "\\e"', 'a = "\\x41"', "a = { b = 1, }",
    "a = { b = 1,\n c = 2 }", "a = { b = 1, b = 2 }", "[a]\nb=1\n[a]\nc=2", "a = [1]\n[[a]]", "[[a]]\n[a]",
    "a = {b=1}\n[a.c]", "a = {b=1}\na.c = 2", "a = 1\na = 1", "a b = 1", "= 1", "a =", "a = 1 b = 2",
    "a = 1 # \x01", "a = 1\rb = 2", "\ufeffa = 1", "[]", "[[]]", "a = 9223372036854775808x",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_edge_cases_read_as_tomllib_reads_them(text: str) -> None:
    assert check(text), f"the fast path should read {text!r}"


@pytest.mark.parametrize("text", INVALID)
def test_texts_tomllib_rejects_are_left_to_tomllib(text: str) -> None:
    assert isinstance(tomllib_or_error(text), Exception)
    check(text)


def test_the_projects_configs_read_as_tomllib_reads_them() -> None:
    docs = project_documents()
    assert len(docs) >= 4
    answered = sum(check(doc) for doc in docs)
    assert answered >= 3  # the examples and the seed's config have no multi-line strings


def test_a_large_rule_table_goes_through_the_fast_path() -> None:
    rules = "".join(f'\n[[routing.rules]]\nname = "r-{i}"\npriority = {i % 90}\n'
                    f'conditions = {{ labels = ["a-{i}", "b"], retry_count = {{ gte = 1 }} }}\nmodel = "m"\n'
                    for i in range(400))
    text = seed.SEED_CONFIG + rules
    assert len(text) >= tomlread.FAST_MIN_CHARS and nesting_depth(text) == 2
    assert check(text)
    assert same(read_toml(text), tomllib.loads(text))


def test_beyond_64_bits_and_out_of_range_floats_read_as_tomllib_reads_them() -> None:
    for text in ("a = 9223372036854775808", "a = -9223372036854775809", "a = 0xffffffffffffffff", "a = 1e1000",
                 "a = 99999999999999999999999999999999", "a = 1e-400"):
        check(text)
        assert same(read_toml(text + "\n#" + " " * tomlread.FAST_MIN_CHARS), tomllib.loads(text))


def test_depth_ignores_brackets_in_strings_and_comments() -> None:
    assert nesting_depth('a = ["[[[", \'{{{\', "\\"[["] # [[[[\nb = { c = [1] }') == 2
    assert nesting_depth('a = "]]]]]]"\nb = [[[1]]]') == 3
    assert nesting_depth('a = "unterminated [[[\nb = 1') is None
    assert nesting_depth('a = """\n]]]\n"""') is None
    assert nesting_depth("a = ]]]\nb = [[[[1]]]]") is None
    assert nesting_depth("a = 'é[' # ü]\nb = \"\\\\\" # [[[[") == 0


def test_deep_nesting_never_reaches_the_fast_parser() -> None:
    """toml_rs has no recursion limit: thousands of levels crash the process (SIGSEGV).
    The text must reach tomllib, whose RecursionError becomes the loader's message."""
    code = ("import sys, tomllib; from tacroute.config.tomlread import fast_loads, read_toml\n"
            "for text in sys.stdin.read().split('\\0'):\n"
            "    fast = 'fast' if fast_loads(text) is not None else 'none'\n"
            "    try: read_toml(text); print(fast, 'read')\n"
            "    except RecursionError: print(fast, 'recursion')\n"
            "    except tomllib.TOMLDecodeError: print(fast, 'invalid')\n")
    deep = [prefix + "a = " + "[" * n + "]" * n for n in (50, 20_000)
            for prefix in ("", 'x = "]]]]]]]]]]]]"\n', "x = ']]]]]]]]]]' # ]]]]]]]]\n")]
    deep += ['x = "unterminated ]]]]]]]]]]\na = ' + "[" * 20_000 + "]" * 20_000, "a = " + "[" * 20_000]
    done = subprocess.run([sys.executable, "-c", code], input="\0".join(deep), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["fast read"] * 3 + ["none recursion"] * 3 + ["none invalid", "none recursion"]


@pytest.fixture
def no_fast_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "toml_rs", None)  # import fails as if not installed
    monkeypatch.setattr(tomlread, "_loads", None)


def big_config(tail: str = "") -> str:
    rules = "".join(f'\n[[routing.rules]]\nname = "r-{i}"\npriority = {i}\n'
                    f'conditions = {{ priority = "high" }}\nmodel = "m-{i}"\n' for i in range(500))
    return seed.SEED_CONFIG.replace("enabled = false", "enabled = true") + rules + tail


def test_without_the_fast_parser_the_same_config_loads(no_fast_parser: None) -> None:
    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range"})
    text = big_config()
    assert fast_loads(text) is None
    slow = parse_config(text, registry=reg)
    tomlread._loads = None
    sys.modules.pop("toml_rs")
    assert fast_loads(text) is not None
    fast = parse_config(text, registry=reg)
    assert same(slow.raw, fast.raw) and [r.name for r in slow.rules] == [r.name for r in fast.rules]


def test_a_broken_fast_parser_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(text: str, **kw: Any) -> Any:
        raise SystemError("broken build")

    for loads in (boom, lambda text, **kw: [1]):
        monkeypatch.setitem(sys.modules, "toml_rs", types.SimpleNamespace(loads=loads))
        monkeypatch.setattr(tomlread, "_loads", None)
        assert same(read_toml(big_config()), tomllib.loads(big_config()))


@pytest.mark.parametrize("tail", ["\n[[routing.rules]]\nname = 'x'\nmodel = \n",
                                  "\n[routing]\nenabled = true\n", "\nbig = 99999999999999999999\n[["])
def test_errors_in_a_large_file_read_as_before(tail: str, no_fast_parser: None) -> None:
    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority"})
    with pytest.raises(ConfigError) as slow:
        parse_config(big_config(tail), Path("big.toml"), registry=reg)
    tomlread._loads = None
    sys.modules.pop("toml_rs")
    with pytest.raises(ConfigError) as fast:
        parse_config(big_config(tail), Path("big.toml"), registry=reg)
    assert str(fast.value) == str(slow.value) and "not valid TOML" in str(fast.value)


# Generated documents: values of every TOML type written by tomlkit, then read by both.
_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
_scalars = st.one_of(
    st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.dates(), st.times(), st.datetimes(),
    st.datetimes(timezones=st.sampled_from([datetime.UTC, datetime.timezone(datetime.timedelta(hours=-7))])),
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
                       max_leaves=20)
_documents = st.dictionaries(_keys, _values, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_generated_documents_read_as_tomllib_reads_them(doc: dict[str, Any]) -> None:
    try:
        text = tomlkit.dumps(doc)
    except (ValueError, TypeError):  # tomlkit cannot write every value (e.g. some keys)
        return
    check(text)


_ALPHABET = [*'[]{}"\'#=.,\n \t\\-+_:0123456789aeEfinrtuxzTZ', "\r", "\x00", "\x7f", "\ufeff", '"""', "'''",
             "inf", "nan", "1979-05-27", "T07:32:00", "é"]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**32))
def test_mutated_project_documents_never_split_the_parsers(seed_value: int) -> None:
    rng = random.Random(seed_value)
    valid = [d for d in project_documents() if not isinstance(tomllib_or_error(d), Exception)]
    text = rng.choice(valid)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.4:
            text = text[:at] + rng.choice(_ALPHABET) + text[at:]
        elif op < 0.7:
            text = text[:at] + text[at + rng.randint(1, 3):]
        else:
            src = rng.randrange(len(text) + 1)
            text = text[:at] + text[src:src + rng.randint(1, 20)] + text[at:]
    check(text)
