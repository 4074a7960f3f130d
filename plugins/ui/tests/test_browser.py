"""The pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

No browser is ever downloaded: ``make setup`` installs Debian's chromium when
it is missing (as root). Screenshots of every page go to
``$TACROUTE_UI_ARTIFACTS`` (default: a temporary folder); with
``TACROUTE_UI_SCREENSHOTS=docs/screenshots`` they also refresh the committed set.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.ui import ROOT, UI

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `make setup` as root")


@pytest.fixture
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = os.environ.get("TACROUTE_UI_ARTIFACTS")
    path = Path(out) if out else tmp_path_factory.mktemp("ui-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def shot(page: Any, artifacts: Path, name: str) -> None:
    target = artifacts / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    committed = os.environ.get("TACROUTE_UI_SCREENSHOTS")
    if committed:
        shutil.copy(target, ROOT / committed / target.name)


@pytest.fixture
def page(ui: UI, tmp_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1280, "height": 900})
        try:
            pg = context.new_page()
            pg.set_default_timeout(60_000)
            pg.goto(f"{ui.base}/?token={ui.token}")  # sets the cookie, lands on the rules page
            assert "token" not in pg.url
            yield pg
        finally:
            context.close()


def test_toggle_a_rule_changes_one_line_and_route_agrees(ui: UI, page: Any, artifacts: Path) -> None:
    shot(page, artifacts, "rules")
    before = ui.config.read_text()
    row = page.locator('tr.rule[data-name="docs-haiku"]')
    with page.expect_navigation():
        row.locator("button.toggle").click()
    assert page.locator('tr.rule[data-name="docs-haiku"]').get_attribute("data-enabled") == "false"
    diff = [ln for ln in difflib.ndiff(before.splitlines(), ui.config.read_text().splitlines()) if ln[:1] in "+-"]
    assert diff == ["+ enabled = false"]
    decision = json.loads(ui.route("--label", "docs", "--priority", "low", "--hour", "12"))
    assert decision["rule"] != "docs-haiku"


def test_add_a_rule_with_an_error_shows_the_message_by_the_field(ui: UI, page: Any, artifacts: Path) -> None:
    before = ui.config.read_text()
    form = page.locator("#rule-form")
    form.locator('input[name="name"]').fill("night")
    form.locator('input[name="priority"]').fill("50")
    form.locator('input[name="model"]').fill("claude-haiku-4")
    form.locator('textarea[name="conditions_text"]').fill("hour_range=[0, 25]")
    form.locator("#save").click()
    message = form.locator('.field-error[data-for="conditions"]')
    message.wait_for()
    assert "hours must be" in message.inner_text()
    shot(page, artifacts, "rules-error")
    assert ui.config.read_text() == before


def test_a_stale_page_offers_a_reload(ui: UI, page: Any) -> None:
    ui.config.write_text(ui.config.read_text() + "\n# changed elsewhere\n")
    page.locator('tr.rule[data-name="docs-haiku"] button.toggle').click()
    page.locator("#stale").wait_for(state="visible")
    assert "changed elsewhere" in ui.config.read_text() and "enabled = false" not in ui.config.read_text()


def test_try_a_task_updates_as_you_type(ui: UI, page: Any, artifacts: Path) -> None:
    page.goto(f"{ui.base}/try")
    page.locator('input[name="priority"]').fill("critical")
    page.locator('input[name="hour"]').fill("12")
    page.locator('input[name="user"]').fill("ann")
    page.locator("#decision .rule-name", has_text="critical-issues-opus").wait_for()
    assert page.locator("#decision tr.match").count() >= 1
    shot(page, artifacts, "try")


def test_run_a_whatif_and_save_it(ui: UI, page: Any, artifacts: Path) -> None:
    page.goto(f"{ui.base}/whatif")
    page.select_option('select[name="op"]', "disable")
    page.select_option('select[name="rule"]', "docs-haiku")
    page.locator("#run-whatif").click()
    page.locator("#whatif-result .whatif").wait_for()
    assert int(page.locator("#tasks-changed").inner_text()) > 0
    shot(page, artifacts, "whatif")
    assert "enabled = false" not in ui.config.read_text()  # nothing saved yet
    with page.expect_navigation():
        page.locator("#save-whatif").click()
    assert page.locator('tr.rule[data-name="docs-haiku"]').get_attribute("data-enabled") == "false"


def test_providers_and_the_stats_page_with_charts(ui: UI, page: Any, artifacts: Path) -> None:
    page.goto(f"{ui.base}/providers")
    assert page.locator("td.pass", has_text="available").count() >= 1
    shot(page, artifacts, "providers")
    page.goto(f"{ui.base}/history")
    assert page.locator("svg.chart").count() == 4
    assert page.locator("#runs tbody tr").count() == 12
    assert "No budgets configured" in page.locator("#budgets").inner_text()
    shot(page, artifacts, "history")
