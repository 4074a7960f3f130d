"""Rules as the UI shows them, and rule edits with errors mapped to the form's fields.

Every edit goes through tacroute's rule editor (comments and formatting kept,
file locked, atomic write, the new text must load) with ``expect`` set to the
etag the page was loaded with, so an edit prepared against an older file is
refused under the editor's lock instead of overwriting someone else's change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit

from tacroute_ui import core

__all__ = ["EDIT_OPS", "EditError", "apply_edit", "rules_payload"]

EDIT_OPS = ("add", "update", "delete", "enable", "disable")
_FIELDS = ("name", "priority", "model", "provider", "conditions", "enabled")
_ISSUE_FIELD = re.compile(r"^routing\.rules\[\d+\]\.(\w+)")


class EditError(core.UsageError):
    """An edit that was refused; ``fields`` maps a form field to its message (HTTP 422)."""

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class NotFound(core.UsageError):
    """No rule of that name (HTTP 404)."""


def _toml(value: Any) -> str:
    """A condition's value as TOML, as one writes it after ``NAME=`` (tables inline)."""
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        table.update(value)
        return str(table.as_string()).strip()
    return str(tomlkit.item(value).as_string())


def rule_view(rule: Any, warnings: list[str]) -> dict[str, Any]:
    conditions = dict(rule.conditions)
    return {
        "name": rule.name, "priority": rule.priority, "enabled": rule.enabled,
        "provider": rule.provider, "model": rule.model,
        "provider_explicit": "provider" in rule.raw,
        "conditions": conditions,
        "conditions_text": "\n".join(f"{k}={_toml(v)}" for k, v in conditions.items()),
        "strategy": rule.strategy if rule.targets else None,
        "targets": [f"{t.provider}/{t.model}" for t in rule.targets],
        "warnings": warnings,
    }


def rules_payload(snap: core.Snapshot) -> dict[str, Any]:
    cfg = snap.config
    return {
        "config": str(snap.path), "etag": snap.etag, "routing_enabled": cfg.routing_enabled,
        "default": {"provider": cfg.default_provider, "model": cfg.default_model},
        "rules": [rule_view(r, snap.rule_warnings.get(r.position, [])) for r in cfg.rules_by_priority()],
        "warnings": snap.warnings,
    }


def _fields(body: Mapping[str, Any], *, adding: bool) -> dict[str, Any]:
    """The editor's keyword arguments from a JSON body (API) or a form (``conditions_text``)."""
    unknown = sorted(set(body) - {*_FIELDS, "conditions_text", "etag"})
    if unknown:
        raise EditError(f"unknown field(s): {', '.join(unknown)}; fields: {', '.join(_FIELDS)}")
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if adding:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = "name: a rule needs a name"
        else:
            out["name"] = name.strip()
    if "priority" in body or adding:
        p = body.get("priority")
        if isinstance(p, str) and re.fullmatch(r"\s*-?\d+\s*", p):
            p = int(p)
        if isinstance(p, bool) or not isinstance(p, int):
            errors["priority"] = f"priority: must be a whole number (100 = highest), got {p!r}"
        else:
            out["priority"] = p
    for key in ("model", "provider"):
        if key in body or (adding and key == "model"):
            v = body.get(key)
            if key == "provider" and v in (None, ""):
                out[key] = None
            elif not isinstance(v, str) or not v.strip():
                errors[key] = f"{key}: must be a non-empty text" + (" (required)" if key == "model" else "")
            else:
                out[key] = v.strip()
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            errors["enabled"] = "enabled: must be true or false"
        else:
            out["enabled"] = body["enabled"]
    if "conditions_text" in body:
        try:
            out["conditions"] = dict(core.parse_condition(line) for line in
                                     str(body["conditions_text"]).splitlines() if line.strip())
        except core.UsageError as exc:
            errors["conditions"] = str(exc)
    elif "conditions" in body or adding:
        c = body.get("conditions", {})
        if not isinstance(c, dict):
            errors["conditions"] = "conditions: must be an object of NAME: VALUE"
        else:
            out["conditions"] = c
    if errors:
        raise EditError("; ".join(errors.values()), errors)
    return out


def apply_edit(path: Path, op: str, name: str | None, body: Mapping[str, Any], *, etag: str | None,
               write: bool = True) -> str:
    """Apply one edit (``write=False``: only check it); returns the new text of the file.

    Raises :class:`EditError` (field messages), :class:`NotFound`, or
    ``core.ConfigChangedError`` when the file is not at ``etag`` any more.
    """
    if op not in EDIT_OPS:
        raise EditError(f"unknown edit {op!r}; edits: {', '.join(EDIT_OPS)}")
    try:
        if op == "add":
            kw = _fields(body, adding=True)
            return core.add_rule(path, kw.pop("name"), priority=kw["priority"], model=kw["model"],
                                 provider=kw.get("provider"), conditions=kw["conditions"],
                                 enabled=kw.get("enabled", True), expect=etag, write=write)
        assert name is not None
        if op == "delete":
            return core.remove_rule(path, name, expect=etag, write=write)
        kw = {"enabled": op == "enable"} if op in ("enable", "disable") else _fields(body, adding=False)
        return core.update_rule(path, name, **kw, expect=etag, write=write)
    except (core.ConfigChangedError, EditError, NotFound):
        raise
    except core.ConfigError as exc:
        fields: dict[str, str] = {}
        for issue in exc.issues:
            m = _ISSUE_FIELD.match(issue.key)
            field = m.group(1) if m and m.group(1) in _FIELDS else "targets" if m else ""
            text = issue.format(exc.path)
            fields[field or "_"] = f"{fields[field or '_']}\n{text}" if (field or "_") in fields else text
        raise EditError(str(exc), fields) from None
    except core.UsageError as exc:
        msg = str(exc)
        if msg.startswith("no rule named"):
            raise NotFound(msg) from None
        raise EditError(msg, {"name": msg} if "already exists" in msg else {}) from None
