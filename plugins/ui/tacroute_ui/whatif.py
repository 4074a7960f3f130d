"""What-if: an unsaved rule edit against the saved config, on recorded history or uploaded tasks.

Both sides route the same tasks with tacroute's simulator (``simulate
--compare``): the saved config is side A, the edited text side B. On history,
each recorded run since ``since`` is a task (its recorded attributes, the hour
it started at when it has none, as ``replay`` does, and its recorded tokens):
every run counts, routed once per distinct attributes + hour from the sums
:class:`~tacroute_ui.rungroups.RunGroups` keeps. An upload is JSON lines as
``tacroute simulate`` reads them, parsed in memory, never saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tacroute_ui import core
from tacroute_ui.rules import EDIT_OPS, EditError, _fields, apply_edit
from tacroute_ui.state import AppState

__all__ = ["run_whatif"]

_AOT_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*routing[ \t]*\.[ \t]*rules[ \t]*\]\]", re.MULTILINE)


def _preview(snap: core.Snapshot, op: str, name: Any, fields: Mapping[str, Any],
             etag: str) -> core.Config | None:
    """The edited config from the loaded one with the edited rule alone checked (no text edited,
    nothing loaded again); None when only the editor can tell (a refused edit gets its message)."""
    if etag != snap.etag or op not in EDIT_OPS:
        return None
    tables = core.doc_rules(snap.config.raw)
    if tables is None or len(_AOT_HEADER.findall(snap.text)) != len(tables):
        return None  # rules the editor may refuse to edit (not written as [[routing.rules]] tables)
    kw = _fields(fields, adding=op == "add") if op in ("add", "update") else {}
    rule = kw.pop("name", None) if op == "add" else name
    if not isinstance(rule, str):
        return None
    edit = core.edited_tables(tables, op, rule, kw)
    return None if edit is None else core.with_rule_tables(snap.config, edit[0], edit[1])


def run_whatif(state: AppState, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /api/whatif``: the edit's effect; nothing is written."""
    edit = body.get("edit")
    if not isinstance(edit, dict):
        raise EditError('"edit" must be an object: {"op": "update", "name": RULE, ...fields}')
    op = str(edit.get("op", ""))
    name = edit.get("name")
    fields = {k: v for k, v in edit.items() if k not in ("op", "name") or (op == "add" and k == "name")}
    etag = body.get("etag")
    snap = state.snapshot()
    edited = _preview(snap, op, name, fields, str(etag) if etag else snap.etag)
    if edited is None:
        text = apply_edit(state.path, op, None if op == "add" else str(name), fields,
                          etag=str(etag) if etag else snap.etag, write=False)
        edited = core.parse_text(text, state.path)
    source = body.get("source", "history")
    if source == "tasks":
        tasks = body.get("tasks")
        if not isinstance(tasks, str) or not tasks.strip():
            raise EditError("upload a tasks file (JSON lines, as tacroute simulate reads)",
                            {"tasks": "tasks: no tasks given"})
        data, label = tasks.encode(), "uploaded tasks"
        report = core.simulate_tasks(snap.config, edited, data, label).as_dict()
    elif source == "history":
        since = str(body.get("since") or "30d")
        path = core.history_path(snap.config)
        if not path.exists():
            raise EditError(f"no history recorded yet: {path} does not exist; upload a tasks file instead")
        groups, _runs, stale = state.run_groups().groups(snap.config.timezone, core.since_epoch(since))
        label = f"history since {since}"
        decisions = state.saved_decisions()
        report = core.simulate_groups(snap.config, edited, groups, label,
                                      decisions if decisions.config is snap.config else None).as_dict()
        report["stale"] = stale
    else:
        raise EditError(f'"source" must be "history" or "tasks", got {source!r}')
    cmp = report["compare"]
    return {
        "source": label, "etag": snap.etag, "tasks": report["tasks"],
        "saved": {"cost_usd": report["cost_usd"], "by_rule": report["by_rule"],
                  "by_target": report["by_target"]},
        "edited": {"cost_usd": cmp["cost_usd"], "by_rule": cmp["by_rule"], "by_target": cmp["by_target"]},
        "difference_usd": cmp["difference_usd"], "difference_pct": cmp["difference_pct"],
        "tasks_changed": cmp["tasks_changed"], "changes": cmp["changes"],
        "edit": {"op": op, "name": name, **fields},
        **({"stale": report["stale"]} if "stale" in report else {}),
    }
