"""A reviewer opens a run's analytics in real Chromium: tables, figures, downloads, axe-clean."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.a11y import axe_context, run_axe
from tests.browser_support import save_screenshot
from tests.cast import RITA, account
from tests.quality.factories import esconv_record, import_records


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/login/?next=/analytics/")
    page.fill("#id_username", RITA.name)
    page.fill("#id_password", RITA.password)
    page.click("input[type=submit]")
    page.wait_for_url("**/analytics/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_reads_a_run_s_report_and_downloads_it(asgi_server: str, page: Page) -> None:
    account(RITA)
    records = [esconv_record(f"browser {i}", feedback={1: 4, 3: 5}) for i in range(4)]
    import_records(records, status="approved", run_name="browser-analytics")

    _log_in(page, asgi_server)
    page.get_by_role("link", name="browser-analytics").click()

    expect(page.get_by_role("heading", name="Analytics of browser-analytics")).to_be_visible()
    expect(page.get_by_test_id("report-stamp")).to_contain_text("over 4 conversations")
    expect(page.get_by_test_id("strategies")).to_contain_text("Question")
    expect(page.get_by_test_id("overview")).to_contain_text("64")
    figure = page.get_by_test_id("figure-strategy_by_progress").locator("img")
    figure.scroll_into_view_if_needed()
    expect(figure).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=figure.element_handle()
    )
    save_screenshot(page, "analytics-run")

    with page.expect_download() as download:
        page.get_by_test_id("download-json").click()
    report = json.loads(download.value.path().read_text())
    assert report["dialogues"] == 4 and report["feedback"]["n"] == 8

    page.get_by_label("Conversations").select_option("all")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{asgi_server}/analytics/runs/browser-analytics/?status=all")
    expect(page.get_by_test_id("report-stamp")).to_contain_text("over 4 conversations")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_analytics_page_has_no_accessibility_violations(
    asgi_server: str, browser: Browser
) -> None:
    account(RITA)
    import_records([esconv_record("a11y analytics")], status="approved", run_name="a11y-analytics")
    context = axe_context(browser)
    page = context.new_page()
    _log_in(page, asgi_server)
    page.goto(f"{asgi_server}/analytics/runs/a11y-analytics/")

    violations = run_axe(page, "analytics")

    context.close()
    assert violations == [], "\n".join(v.describe() for v in violations)
