"""Config: finding, loading, validating and editing tacroute's TOML file."""

from __future__ import annotations

from tacroute.config.discover import find_config
from tacroute.config.loader import load_config, parse_config
from tacroute.config.model import Config, ProviderConfig, RuleConfig

__all__ = ["Config", "ProviderConfig", "RuleConfig", "find_config", "load_config", "parse_config"]
