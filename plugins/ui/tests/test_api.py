"""The JSON API against a real ``tacroute ui`` process (uvicorn on a free loopback port)."""

from __future__ import annotations

import difflib
import json
import subprocess

from tacroute_ui.security import MAX_BODY
from testkit.ui import TACROUTE, UI


def changed_lines(before: str, after: str) -> list[str]:
    return [ln for ln in difflib.ndiff(before.splitlines(), after.splitlines()) if ln[:1] in "+-"]


def test_rules_are_listed_in_priority_order_with_an_etag(ui: UI) -> None:
    with ui.client() as c:
        data = c.get("/api/rules").json()
    assert [r["priority"] for r in data["rules"]] == sorted((r["priority"] for r in data["rules"]), reverse=True)
    assert data["rules"][0]["name"] == "critical-issues-opus"
    assert data["rules"][0]["conditions"] == {"priority": "critical"}
    assert len(data["etag"]) == 64


def test_disable_changes_one_line_and_route_agrees(ui: UI) -> None:
    before = ui.config.read_text()
    assert json.loads(ui.route("--priority", "critical", "--hour", "12"))["rule"] == "critical-issues-opus"
    with ui.client() as c:
        etag = c.get("/api/rules").json()["etag"]
        r = c.post("/api/rules/critical-issues-opus/disable", headers={"If-Match": etag})
        assert r.status_code == 200, r.text
        assert r.json()["rule"]["enabled"] is False
    diff = changed_lines(before, ui.config.read_text())
    assert diff == ["+ enabled = false"]
    assert json.loads(ui.route("--priority", "critical", "--hour", "12"))["rule"] != "critical-issues-opus"


def test_add_with_an_error_gives_the_cli_message_on_the_field(ui: UI) -> None:
    before = ui.config.read_text()
    with ui.client() as c:
        r = c.post("/api/rules", json={"name": "night", "priority": 50, "model": "claude-haiku-4",
                                       "conditions": {"hour_range": [0, 25]}})
        assert r.status_code == 422
        fields = r.json()["fields"]
        r2 = c.post("/api/rules", json={"name": "x", "priority": "high", "model": "m"})
        assert r2.status_code == 422 and "whole number" in r2.json()["fields"]["priority"]
        r3 = c.post("/api/rules", json={"name": "critical-issues-opus", "priority": 1, "model": "m"})
        assert r3.status_code == 422 and "already exists" in r3.json()["fields"]["name"]
    assert ui.config.read_text() == before
    cli = subprocess.run([str(TACROUTE), "rules", "add", "night", "--priority", "50", "--model",
                          "claude-haiku-4", "--when", "hour_range=[0, 25]", "--config", str(ui.config)],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2
    assert "hours must be" in fields["conditions"]
    assert fields["conditions"] in cli.stderr  # the same message as the CLI, file:line and key included


def test_add_patch_delete(ui: UI) -> None:
    with ui.client() as c:
        r = c.post("/api/rules", json={"name": "security-opus", "priority": 98, "model": "claude-opus-4",
                                       "conditions": {"labels": ["security"]}})
        assert r.status_code == 201, r.text
        assert r.json()["rule"]["conditions"] == {"labels": ["security"]}
        r = c.patch("/api/rules/security-opus", json={"priority": 101})
        assert r.status_code == 200, r.text
        assert c.get("/api/rules").json()["rules"][0]["name"] == "security-opus"  # reordered
        assert c.delete("/api/rules/security-opus").status_code == 200
        assert c.delete("/api/rules/security-opus").status_code == 404
        assert c.patch("/api/rules/nope", json={"priority": 1}).status_code == 404
    assert "security-opus" not in ui.config.read_text()


def test_an_edit_against_an_older_file_is_refused(ui: UI) -> None:
    with ui.client() as c:
        etag = c.get("/api/rules").json()["etag"]
        ui.config.write_text(ui.config.read_text() + "\n# edited by hand\n")
        on_disk = ui.config.read_text()
        r = c.post("/api/rules/docs-haiku/disable", headers={"If-Match": etag})
        assert r.status_code == 409
        assert r.json()["etag"] == c.get("/api/rules").json()["etag"] != etag
        r = c.patch("/api/rules/docs-haiku", json={"priority": 5, "etag": etag})
        assert r.status_code == 409
    assert ui.config.read_text() == on_disk


def test_route_returns_the_decision_and_the_trace(ui: UI) -> None:
    with ui.client() as c:
        r = c.post("/api/route", json={"task": {"priority": "critical", "user": "ann", "project": "p1",
                                                "hour": 12}})
        assert r.status_code == 200, r.text
        data = r.json()
        bad = c.post("/api/route", json={"hour": 99})
    assert data["decision"]["rule"] == "critical-issues-opus"
    assert data["task"]["user"] == "ann"
    first = data["explain"][0]
    assert first["matched"] and first["conditions"] == [{"name": "priority", "value": "critical", "passed": True}]
    assert bad.status_code == 422 and "hour" in bad.json()["error"]


def test_whatif_on_history_and_on_an_upload_writes_nothing(ui: UI) -> None:
    before = ui.config.read_bytes()
    with ui.client() as c:
        hist = c.post("/api/whatif", json={"edit": {"op": "disable", "name": "docs-haiku"}, "source": "history"})
        assert hist.status_code == 200, hist.text
        tasks = "\n".join(json.dumps({"priority": "low", "labels": ["docs"], "hour": 12}) for _ in range(5))
        up = c.post("/api/whatif", json={"edit": {"op": "update", "name": "docs-haiku", "model": "claude-opus-4"},
                                         "source": "tasks", "tasks": tasks})
        assert up.status_code == 200, up.text
        bad = c.post("/api/whatif", json={"edit": {"op": "update", "name": "docs-haiku", "priority": "x"},
                                          "source": "tasks", "tasks": tasks})
    h = hist.json()
    assert h["tasks"] == 12 and h["tasks_changed"] > 0
    assert h["saved"]["by_rule"]["docs-haiku"] > 0 and "docs-haiku" not in h["edited"]["by_rule"]
    assert h["difference_usd"] > 0  # haiku -> the sonnet default costs more
    u = up.json()
    assert u["tasks"] == 5 and u["tasks_changed"] == 5
    assert u["changes"][0]["from"].endswith("claude-haiku-4") and u["changes"][0]["to"].endswith("claude-opus-4")
    assert bad.status_code == 422 and "priority" in bad.json()["fields"]
    assert ui.config.read_bytes() == before


def test_providers_stats_budgets_history(ui: UI) -> None:
    with ui.client() as c:
        providers = c.get("/api/providers").json()["providers"]
        stats = c.get("/api/stats").json()
        budgets = c.get("/api/budgets").json()
        runs = c.get("/api/history?limit=5").json()
    claude = next(p for p in providers if p["name"] == "claude-cli")
    assert claude["available"] is True
    assert stats["total_runs"] == 12
    assert stats["by_model"][0]["runs"] == 12 and stats["by_model"][0]["successes"] == 9
    assert abs(sum(sum(v) for v in stats["cost_per_day"].values()) - 12 * 0.09) < 1e-6
    assert budgets == []
    assert len(runs) == 5 and runs[0]["attempts"][0]["provider"] == "claude-cli"


def test_large_and_malformed_bodies_are_refused(ui: UI) -> None:
    with ui.client() as c:
        big = c.post("/api/whatif", content=b"x" * (MAX_BODY + 1), headers={"Content-Type": "application/json"})
        assert big.status_code == 413
        bad = c.post("/api/rules", content=b"{not json")
        assert bad.status_code == 400 or bad.status_code == 422
        assert "not JSON" in bad.json()["error"]


def test_budgets_come_from_the_preferences_layer(ui: UI) -> None:
    with ui.config.open("a") as fh:
        fh.write('\n[projects."acme/api"]\nbudget = { monthly_usd = 50, over = "block" }\n')
    with ui.client() as c:
        budgets = c.get("/api/budgets").json()
        page = c.get("/history").text
    assert [(b["kind"], b["entry"], b["period"], b["limit_usd"], b["state"]) for b in budgets] == [
        ("project", "acme/api", "month", 50.0, "ok")]
    assert budgets[0]["spent_usd"] == 0 and budgets[0]["remaining_usd"] == 50.0
    assert "acme/api" in page and "No budgets configured" not in page
