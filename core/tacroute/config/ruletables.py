"""A rule edit on the parsed rule tables: what :mod:`tacroute.config.edit` writes, as tables.

The editor and the what-if preview (:mod:`tacroute.config.preview`) both
take an edit's meaning from here: the table ``add_rule`` appends, the keys
``update_rule`` changes, and the list of tables after any one edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["edited_tables"]

#: ``update_rule``'s "leave this key as it is".
_KEEP: Any = object()


def _new_table(name: str, priority: int, model: str, provider: str | None, conditions: Mapping[str, Any],
               enabled: bool) -> dict[str, Any]:
    """The table :func:`add_rule` appends."""
    table: dict[str, Any] = {"name": name, "priority": priority, "conditions": dict(conditions)}
    if provider is not None:
        table["provider"] = provider
    table["model"] = model
    if not enabled:
        table["enabled"] = False
    return table


def edited_tables(rules: list[Any], op: str, name: str, fields: Mapping[str, Any],
                  ) -> tuple[list[Any], int | None] | None:
    """The rule tables after one edit as :func:`add_rule` (``op`` "add"), :func:`update_rule`
    ("update", "enable", "disable") or :func:`remove_rule` ("delete") make it, given their keyword
    arguments (``fields``), with the index of the new or changed table (None: none); None when the
    edit is refused (no such rule, the name is taken)."""
    index = next((i for i, t in enumerate(rules) if t.get("name") == name), None)
    if op == "add":
        if index is not None:
            return None
        return [*rules, _new_table(name, fields["priority"], fields["model"], fields.get("provider"),
                                   fields["conditions"], fields.get("enabled", True))], len(rules)
    if index is None:
        return None
    if op == "delete":
        return rules[:index] + rules[index + 1:], None
    kw = {"enabled": op == "enable"} if op in ("enable", "disable") else fields
    changes = _changes(rules[index], *(kw.get(k, _KEEP) for k in ("priority", "model", "provider",
                                                                   "conditions", "enabled")))
    if not changes:
        return list(rules), None
    out = list(rules)
    out[index] = _changed(rules[index], changes)
    return out, index


def _changes(table: Mapping[str, Any], priority: Any, model: Any, provider: Any, conditions: Any,
             enabled: Any) -> dict[str, Any]:
    """key -> new value (None: remove the key) of an update, as ``update_rule`` means it."""
    out: dict[str, Any] = {}
    for key, value in (("priority", priority), ("model", model), ("enabled", enabled)):
        if value is not _KEEP and value is not None and table.get(key) != value:
            out[key] = value
    if provider is None and "provider" in table:
        out["provider"] = None
    elif provider is not _KEEP and provider is not None and table.get("provider") != provider:
        out["provider"] = provider
    if conditions is not _KEEP and dict(table.get("conditions", {})) != dict(conditions):
        out["conditions"] = dict(conditions)
    return out


def _changed(rule: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(rule)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out
