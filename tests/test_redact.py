"""The one redactor (tacroute.redact): which values are secrets, what is masked, cut after masking."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tacroute.history.records import MAX_MESSAGE
from tacroute.history.records import redact as history_redact
from tacroute.redact import (
    MASK,
    BadKeyError,
    Redactor,
    clean_key,
    is_secret_name,
    redact_and_cut,
    secret_values,
)
from testkit.leaks import leaked_runs

KEY = "fake-or-key-Zq8xW3LpT7mN2vB9cR4kY6hJ1dF5gS0a"


def test_whole_key_and_runs_of_six_are_masked() -> None:
    r = Redactor([KEY])
    assert r(f"Bearer {KEY} rejected") == "Bearer *** rejected"
    # A prefix or suffix someone else cut: still masked when 6 characters or more.
    assert r(f"...Bearer {KEY[:18]}") == "...Bearer ***"
    assert r(f"{KEY[-6:]} was the end") == "*** was the end"
    assert r(f"middle {KEY[10:17]} only") == "middle *** only"


def test_runs_shorter_than_six_stay() -> None:
    r = Redactor([KEY])
    assert r(f"a {KEY[:5]} b {KEY[-5:]}") == f"a {KEY[:5]} b {KEY[-5:]}"
    assert r("nothing here") == "nothing here"
    assert r(None) is None
    assert r("") == ""


def test_values_shorter_than_six_are_not_secrets() -> None:
    r = Redactor(["abcde", "", None, "  xyz  "])
    assert not r
    assert r("abcde xyz") == "abcde xyz"
    assert Redactor(["abcdef"])("xabcdefx") == "x***x"


def test_overlapping_and_adjacent_secrets_merge_into_one_mask() -> None:
    one, two = "alpha-beta-gamma", "gamma-delta-omega"
    r = Redactor([one, two])
    # The text runs from one secret straight into the other (they share "gamma").
    assert r("[alpha-beta-gamma-delta-omega]") == "[***]"
    # A secret inside another: the longer run wins, no stray characters left.
    assert Redactor(["0123456789", "345678"])("x0123456789y") == "x***y"
    # Two separate runs stay separate masks.
    assert r("alpha-beta and delta-omega") == "*** and ***"


def test_escaped_forms_are_masked() -> None:
    # A key with a stray CR, quoted the ways errors quote it (bytes repr, str repr, JSON).
    key = "sk-abcdef123456\r"
    r = Redactor([key])
    assert r(repr(key.encode())) == "b'***'"
    assert r(f"Illegal header value {('Bearer ' + key).encode()!r}") == "Illegal header value b'Bearer ***'"
    assert r('{"k": "sk-abcdef123456\\r"}') == '{"k": "***"}'


def test_cut_comes_after_masking() -> None:
    r = Redactor([KEY])
    text = "x" * 260 + "Authorization: Bearer " + KEY + " more text after the key"
    out = r.cut(text, 300)
    assert len(out) <= 300 and out.endswith("…")
    assert leaked_runs(KEY, out) == []
    assert "Bearer ***" in out
    assert r.cut("short", 300) == "short"
    assert r.cut(None, 10) is None
    assert r.cut("abc" * 10, None) == "abc" * 10


def test_redact_and_cut_uses_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SERVICE_TOKEN", KEY)
    text = "y" * 480 + KEY
    out = redact_and_cut(text, 500)
    assert leaked_runs(KEY, out) == []
    assert len(out) <= 500


def test_history_masks_a_key_cut_short_before_it_got_there(monkeypatch: pytest.MonkeyPatch) -> None:
    # The message arrives with only the first 18 characters of the key (someone cut it at 300).
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    out = history_redact("x" * 270 + "Bearer " + KEY[:18])
    assert out is not None and leaked_runs(KEY, out) == [] and out.endswith(MASK)
    out = history_redact("x" * (MAX_MESSAGE - 10) + KEY)
    assert out is not None and leaked_runs(KEY, out) == [] and len(out) <= MAX_MESSAGE


def test_which_names_hold_secrets() -> None:
    for name in ("OPENROUTER_API_KEY", "GITHUB_TOKEN", "db_password", "ANTHROPIC_AUTH_TOKEN", "MY_SECRET"):
        assert is_secret_name(name), name
    # Where a secret lives, or the name of its variable: not a secret itself.
    for name in ("SSH_AUTH_SOCK", "XAUTHORITY", "TACROUTE_OPENROUTER_KEY_ENV", "GPG_KEY_FILE", "HOME", "PATH"):
        assert not is_secret_name(name), name


def test_secrets_come_from_the_environment_names_and_tables() -> None:
    env = {"MY_API_KEY": "env-secret-value", "HOME": "/home/someone", "PLAIN": "plain-value-1"}
    assert secret_values(env) == ["env-secret-value"]
    assert sorted(secret_values(env, ["PLAIN"])) == ["env-secret-value", "plain-value-1"]
    r = Redactor.from_env(env, ["ODD_NAME"], [{"ANTHROPIC_API_KEY": "table-secret-value"},
                                             {"ODD_NAME": "named-secret-value", "LANG": "C.UTF-8"}])
    text = "env-secret-value table-secret-value named-secret-value /home/someone C.UTF-8"
    assert r(text) == "*** *** *** /home/someone C.UTF-8"


def test_clean_key_strips_and_rejects_control_characters() -> None:
    assert clean_key("K", f"  {KEY}\r\n") == KEY
    assert clean_key("K", "\n") is None
    assert clean_key("K", None) is None
    with pytest.raises(BadKeyError) as info:
        clean_key("OPENROUTER_API_KEY", KEY[:10] + "\x01" + KEY[10:])
    message = str(info.value)
    assert "OPENROUTER_API_KEY" in message and leaked_runs(KEY, message) == []


_ALPHABET = string.ascii_letters + string.digits + "-_"


@given(secret=st.text(_ALPHABET, min_size=6, max_size=60),
       pieces=st.lists(st.tuples(st.integers(0, 59), st.integers(6, 60)), max_size=5),
       filler=st.lists(st.text(string.printable, max_size=40), min_size=6, max_size=6))
def test_no_run_of_six_survives(secret: str, pieces: list[tuple[int, int]], filler: list[str]) -> None:
    parts = [filler[0]]
    for (start, length), fill in zip(pieces, filler[1:], strict=False):
        parts += [secret[start:start + length], fill]
    text = "".join(parts)
    out = Redactor([secret])(text)
    assert leaked_runs(secret, out.replace(MASK, "\0")) == []


@given(secret=st.text(_ALPHABET, min_size=6, max_size=40), text=st.text(max_size=200))
def test_text_sharing_no_run_of_six_is_unchanged(secret: str, text: str) -> None:
    if leaked_runs(secret, text):
        return
    assert Redactor([secret])(text) == text
