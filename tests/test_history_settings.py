"""The [history] table: where the file is, switches, cooldown policy, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tacroute.config import parse_config
from tacroute.errors import ConfigError, UsageError
from tacroute.history import CooldownPolicy, history_path, load_settings
from tacroute.history.since import parse_since
from tacroute.plugins import Registry
from tacroute.types import ErrorClass

BASE = ("[providers.p]\ncommand_template = ['x']\n[routing]\ndefault_provider = 'p'\n"
        "default_model = 'm'\n")


def _config(tmp_path: Path, extra: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "cfg" / "tacroute.toml"
    path.parent.mkdir(exist_ok=True)
    text = BASE + extra
    path.write_text(text)
    return parse_config(text, path, registry=Registry.from_plugins([]))


def test_default_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TACROUTE_HISTORY", str(tmp_path / "env.db"))
    assert history_path(None) == tmp_path / "env.db"
    assert history_path(_config(tmp_path, "")) == tmp_path / "env.db"
    monkeypatch.delenv("TACROUTE_HISTORY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert history_path(None) == tmp_path / "xdg" / "tacroute" / "history.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert history_path(None) == tmp_path / "home" / ".local" / "share" / "tacroute" / "history.db"


def test_config_path_wins_and_is_relative_to_the_config(tmp_path: Path) -> None:
    config = _config(tmp_path, "[history]\npath = 'state/h.db'\n")
    assert history_path(config) == tmp_path / "cfg" / "state" / "h.db"
    absolute = _config(tmp_path, f"[history]\npath = '{tmp_path / 'abs.db'}'\n")
    assert history_path(absolute) == tmp_path / "abs.db"


def test_cooldown_policy_from_config(tmp_path: Path) -> None:
    config = _config(tmp_path, "[history]\nenabled = false\n[history.cooldown]\nfailures = 5\n"
                               "window_s = 60\ncooldown_s = 30.5\nerror_classes = ['timeout', 'crash']\n")
    s = load_settings(config)
    assert not s.enabled
    classes = frozenset({ErrorClass.TIMEOUT, ErrorClass.CRASH})
    assert s.cooldown == CooldownPolicy(True, 5, 60.0, 30.5, classes)
    assert ErrorClass.BAD_REQUEST not in load_settings(None).cooldown.error_classes


BAD = ("[history]\nenabled = 'yes'\ncolour = 1\n\n[history.cooldown]\n"
       "failures = 0\nwindow_s = -1\nerror_classes = ['timeout', 'sleepy']\n")


def _check_bad_messages(text: str, where: str) -> None:
    assert f"{where}:7: history.enabled: must be true or false, not a string ('yes')" in text
    assert (f"{where}:8: history.colour: unknown key in [history]; "
            "valid keys are: cooldown, enabled, path") in text
    assert f"{where}:11: history.cooldown.failures: must be at least 1, not 0" in text
    assert "history.cooldown.window_s: must be a positive number of seconds, not -1" in text
    assert "history.cooldown.error_classes[1]: unknown error class 'sleepy'; valid: auth," in text


def test_bad_history_table_fails_at_load_naming_file_line_key_and_what_is_valid(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, BAD)
    _check_bad_messages(str(err.value), str(tmp_path / "cfg" / "tacroute.toml"))


def test_load_settings_validates_on_its_own(tmp_path: Path) -> None:
    # A Config assembled without the loader (embedding, tests) is still checked.
    import tomllib

    good = _config(tmp_path, "")
    path = good.path
    assert path is not None
    path.write_text(BASE + BAD)
    bad = good._replace(raw=tomllib.loads(BASE + BAD))
    with pytest.raises(ConfigError) as err:
        load_settings(bad)
    _check_bad_messages(str(err.value), str(path))


def test_history_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"t\.toml:1: history: must be a table"):
        parse_config("history = 3\n" + BASE, tmp_path / "t.toml", registry=Registry.from_plugins([]))


def test_empty_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"history\.path: must not be empty"):
        load_settings(_config(tmp_path, "[history]\npath = ' '\n"))


def test_parse_since() -> None:
    assert parse_since("90s", 1000.0) == 910.0
    assert parse_since("30m", 10_000.0) == 10_000.0 - 1800
    assert parse_since("12h", 100_000.0) == 100_000.0 - 43_200
    assert parse_since("7d", 1e6) == 1e6 - 7 * 86_400
    assert parse_since("2W", 2e6) == 2e6 - 14 * 86_400
    assert parse_since("1.5h", 10_000.0) == 10_000.0 - 5400
    assert parse_since("2026-11-01T00:00:00+00:00", 0.0) == 1793491200.0
    with pytest.raises(UsageError, match="90s, 30m, 12h, 7d, 2w"):
        parse_since("last tuesday", 0.0)


def test_default_cooldown_classes_are_every_error_class_but_bad_request_and_cancelled() -> None:
    from tacroute.history.settings import DEFAULT_COOLDOWN_CLASSES

    assert {c.value for c in ErrorClass} - {"bad_request", "cancelled"} == DEFAULT_COOLDOWN_CLASSES
    assert ErrorClass.TIMEOUT in DEFAULT_COOLDOWN_CLASSES


def test_cancelled_cannot_be_a_cooldown_class(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, "[history.cooldown]\nerror_classes = ['timeout', 'cancelled']\n")
    text = str(err.value)
    assert "history.cooldown.error_classes[1]: 'cancelled' cannot start a cooldown" in text
