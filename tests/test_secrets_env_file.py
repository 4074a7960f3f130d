"""``[secrets] env_file``: keys a whitelisted environment lacks, read from a dotenv file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tacroute import ConfigError, load_config
from tacroute.providers import ProviderManager
from tacroute.redact import Redactor
from tacroute.secrets import with_env_file

BASE = ('[providers.p]\ntype = "claude-cli"\ncommand_template = ["true"]\napi_key_env = "TEAM_ROUTER"\n'
        '[routing]\ndefault_provider = "p"\ndefault_model = "m"\n')


def test_env_file_fills_missing_variables_and_never_overrides(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "c.toml").write_text(BASE + '[secrets]\nenv_file = "../.env"\n')
    (tmp_path / ".env").write_text('# keys\nexport TEAM_ROUTER="value-from-env-file"\nLANG=xx\n')
    config = load_config(tmp_path / "conf" / "c.toml")
    env = with_env_file(config, {"LANG": "C.UTF-8", "PATH": "/bin"})
    assert env["TEAM_ROUTER"] == "value-from-env-file" and env["LANG"] == "C.UTF-8"
    providers = ProviderManager(config, env={"PATH": "/bin:/usr/bin"})
    assert providers.is_available("p") == (True, None)  # the key came from the file
    # The value counts as a secret: its variable is an api_key_env name.
    names = [pc.api_key_env for pc in config.providers.values() if pc.api_key_env]
    assert Redactor.from_env(providers.env, names)("x value-from-env-file y") == "x *** y"
    (tmp_path / ".env").unlink()  # a missing file is no error: the environment may have the keys
    assert with_env_file(config, {"A": "1"}) == {"A": "1"}


@pytest.mark.parametrize(("table", "message"), [
    ("[secrets]\nenv_fle = '.env'\n", "did you mean `env_file`?"),
    ("[secrets]\nenv_file = 3\n", "secrets.env_file: must be a string"),
    ("secrets = 'x'\n", "must be a table"),
])
def test_bad_secrets_table_is_a_config_error(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(table + BASE)
    with pytest.raises(ConfigError, match=message.replace("?", r"\?").replace("`", "`")):
        load_config(path)
