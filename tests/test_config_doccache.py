"""The parsed-config cache (:mod:`tacroute.config.doccache`): used only for the exact text it
was made from, never for a config that failed, and never shared between loads."""

from __future__ import annotations

import json
import marshal
import math
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tacroute.config import doccache, load_config, parse_config
from tacroute.errors import ConfigError
from tacroute.plugins import Registry
from testkit.seed import seed_text

ROOT = Path(__file__).resolve().parent.parent

#: Loads the config named on the command line twice and prints whether tomllib was imported.
PROBE = """
import json, sys
from tacroute.config import load_config
cfg = load_config(sys.argv[1])
print(json.dumps({"tomllib": "tomllib" in sys.modules, "raw": cfg.raw, "rules": [r.name for r in cfg.rules]}))
"""


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TACROUTE_NO_CONFIG_CACHE", raising=False)
    return tmp_path / "cache" / "tacroute" / "config-docs"


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.marshal")) if folder.is_dir() else []


def test_a_hit_gives_the_same_document_without_importing_tomllib(cache_home: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(seed_text() + '\n[extra]\nnan = nan\nneg = -0.0\nbig = 9223372036854775807\n'
                      'keys = { b = 1, a = [1, "x", { c = true }] }\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TACROUTE_")}  # the fixture's cache
    runs = [subprocess.run([sys.executable, "-c", PROBE, str(config)], capture_output=True, text=True,
                           env=env, timeout=120, check=True) for _ in range(2)]
    first, second = (json.loads(r.stdout) for r in runs)
    assert first["tomllib"] and not second["tomllib"]  # the second start read the cache
    assert second["rules"] == first["rules"] and len(first["rules"]) == 5
    expected = tomllib.loads(config.read_text(encoding="utf-8"))
    doc = doccache.cached_doc(config.read_text(encoding="utf-8"), str(config))
    assert doc is not None
    # equal, key order, types and the float specials included (nan != nan: compare the marshal)
    assert marshal.dumps(doc) == marshal.dumps(expected)
    assert list(doc["extra"]["keys"]) == ["b", "a"] and math.copysign(1, doc["extra"]["neg"]) == -1


def test_every_load_gets_a_document_of_its_own(cache_home: Path, tmp_path: Path,
                                                 builtin_registry: Registry) -> None:
    config = tmp_path / "config.toml"
    config.write_text(seed_text(), encoding="utf-8")
    load_config(config, registry=builtin_registry)
    assert len(_files(cache_home)) == 1
    one, two = (load_config(config, registry=builtin_registry) for _ in range(2))
    assert one.raw == two.raw and one.raw is not two.raw
    one.raw["routing"]["rules"].clear()
    assert len(two.raw["routing"]["rules"]) == 5
    assert len(load_config(config, registry=builtin_registry).raw["routing"]["rules"]) == 5


def test_an_edit_of_the_same_size_and_mtime_is_read_again(cache_home: Path, tmp_path: Path,
                                                          builtin_registry: Registry) -> None:
    config = tmp_path / "config.toml"
    text = seed_text()
    config.write_text(text, encoding="utf-8")
    assert load_config(config, registry=builtin_registry).default_model == "claude-sonnet-4-5"
    st = config.stat()
    edited = text.replace('default_model = "claude-sonnet-4-5"', 'default_model = "claude-sonnet-4-6"')
    assert edited != text and len(edited) == len(text)
    config.write_text(edited, encoding="utf-8")
    os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert config.stat().st_size == st.st_size and config.stat().st_mtime_ns == st.st_mtime_ns
    assert load_config(config, registry=builtin_registry).default_model == "claude-sonnet-4-6"
    # and the cache now holds the edited text
    assert doccache.cached_doc(edited, str(config)) is not None
    assert doccache.cached_doc(text, str(config)) is None


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "wrong shape", "other path", "old format"])
def test_a_damaged_cache_file_is_a_miss_and_is_rewritten(cache_home: Path, tmp_path: Path,
                                                          builtin_registry: Registry, damage: str) -> None:
    config = tmp_path / "config.toml"
    text = seed_text()
    config.write_text(text, encoding="utf-8")
    load_config(config, registry=builtin_registry)
    (cache_file,) = _files(cache_home)
    data = cache_file.read_bytes()
    key = str(config)
    cache_file.write_bytes({
        "truncated": data[: len(data) // 2],
        "garbage": b"\xff\x00not marshal" * 10,
        "empty": b"",
        "wrong shape": marshal.dumps((doccache.FORMAT, key, text, ["not", "a", "dict"])),
        "other path": marshal.dumps((doccache.FORMAT, key + "x", text, {"routing": {}})),
        "old format": marshal.dumps((doccache.FORMAT - 1, key, text, {"routing": {}})),
    }[damage])
    assert doccache.cached_doc(text, key) is None
    cfg = load_config(config, registry=builtin_registry)
    assert cfg.raw == tomllib.loads(text) and len(cfg.rules) == 5
    assert cache_file.read_bytes() == data  # the miss wrote the good entry again


def test_an_unwritable_cache_only_costs_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              builtin_registry: Registry) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    config = tmp_path / "config.toml"
    config.write_text(seed_text(), encoding="utf-8")
    for _ in range(2):
        assert len(load_config(config, registry=builtin_registry).rules) == 5
    assert list(tmp_path.glob("**/*.tmp")) == []


def test_a_config_that_fails_is_never_cached_and_fails_the_same_way(cache_home: Path, tmp_path: Path,
                                                                     builtin_registry: Registry) -> None:
    config = tmp_path / "config.toml"
    not_toml = seed_text() + "\n[routing\n"
    invalid = seed_text().replace('default_provider = "claude-cli"', 'default_provider = "nobody"')
    assert invalid != seed_text()
    for text in (not_toml, invalid):
        config.write_text(text, encoding="utf-8")
        messages = []
        for _ in range(2):
            with pytest.raises(ConfigError) as info:
                load_config(config, registry=builtin_registry)
            messages.append(str(info.value))
        with pytest.raises(ConfigError) as uncached:
            parse_config(text, config, registry=builtin_registry)
        assert messages == [str(uncached.value)] * 2
        assert _files(cache_home) == []
    assert "not valid TOML" in messages[0] or "nobody" in messages[0]
    # a good config cached first, then broken: the error still names the file, line and key
    config.write_text(seed_text(), encoding="utf-8")
    load_config(config, registry=builtin_registry)
    config.write_text(invalid, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config, registry=builtin_registry)
    line = next(i for i, ln in enumerate(invalid.splitlines(), 1) if "nobody" in ln)
    assert str(info.value).startswith(f"{config}:{line}: routing.default_provider: names provider 'nobody'")


def test_warnings_are_the_same_from_the_cache(cache_home: Path, tmp_path: Path,
                                              builtin_registry: Registry) -> None:
    config = tmp_path / "config.toml"
    config.write_text(seed_text() + "\n[routng]\nenabled = true\n", encoding="utf-8")
    first = load_config(config, registry=builtin_registry)
    assert _files(cache_home) and first.warnings
    assert load_config(config, registry=builtin_registry).warnings == first.warnings


def test_dates_are_not_cached_and_the_switch_turns_the_cache_off(cache_home: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  builtin_registry: Registry) -> None:
    config = tmp_path / "config.toml"
    config.write_text(seed_text() + "\n[notes]\nwhen = 1979-05-27T07:32:00Z\n", encoding="utf-8")
    for _ in range(2):
        assert str(load_config(config, registry=builtin_registry).raw["notes"]["when"]).startswith("1979-05-27")
    assert _files(cache_home) == []
    config.write_text(seed_text(), encoding="utf-8")
    monkeypatch.setenv("TACROUTE_NO_CONFIG_CACHE", "1")
    load_config(config, registry=builtin_registry)
    parse_config(seed_text(), config, registry=builtin_registry)  # not from the file: never cached
    assert _files(cache_home) == []


def test_the_cache_keeps_a_bounded_number_of_files(cache_home: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   builtin_registry: Registry) -> None:
    monkeypatch.setattr(doccache, "MAX_FILES", 3)
    for i in range(5):
        config = tmp_path / f"config-{i}.toml"
        config.write_text(seed_text(), encoding="utf-8")
        load_config(config, registry=builtin_registry)
        os.utime(doccache.doc_file(str(config)), ns=(i, i))  # written in this order, not in one clock tick
    assert len(_files(cache_home)) == 3
    assert doccache.cached_doc(seed_text(), str(tmp_path / "config-4.toml")) is not None
