"""Keep secrets out of messages: values of secret-looking variables become ``***``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["Redactor"]

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
_MIN_LEN = 6


class Redactor:
    """Replaces the values of secret-looking environment variables in text."""

    def __init__(self, env: Mapping[str, str], extra_names: Iterable[str] = ()) -> None:
        names = set(extra_names)
        values = {value for name, value in env.items()
                  if (name in names or _SECRET_NAME.search(name)) and len(value) >= _MIN_LEN}
        # Longest first, so a secret containing another is replaced whole.
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str | None) -> str | None:
        if text is None or not self._values:
            return text
        for value in self._values:
            if value in text:
                text = text.replace(value, "***")
        return text
