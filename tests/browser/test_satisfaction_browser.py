"""The monthly satisfaction form in a real browser: the chart is drawn without a CSP complaint and shows its
tooltips; the service lead saves and submits with htmx (no page load); without JavaScript a correction makes
revision 2; on a phone the chart fits the screen."""
from __future__ import annotations

from datetime import datetime, timezone

from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.conftest import SCREENSHOTS, TIMEOUT_MS, ui_login
from tests.test_satisfaction import add_visit


def test_monthly_form_save_submit_correct(app, browser, live_server, make_page, make_user, make_customer):
    lead = make_user("service", display_name="售后主管")
    sales = make_user("sales", display_name="李明")
    customer = make_customer(owner=sales, name="恒达五金有限公司")
    with app.app_context():
        add_visit(customer.id, sales.id, datetime(2026, 10, 10, 2, 0, tzinfo=timezone.utc), 5, 5)
        problem = add_visit(customer.id, sales.id, datetime(2026, 10, 12, 2, 0, tzinfo=timezone.utc), 2, 3,
                            quality_ok=False, quality_note="包装破损")
        db.session.commit()

    page = make_page()
    ui_login(page, lead)
    page.goto("/satisfaction/2026-10")
    page.wait_for_function("typeof window.htmx !== 'undefined'")
    expect(page.locator("#chart svg.sat-chart")).to_be_visible()
    assert page.locator("#chart svg g.point title").count() == 12
    expect(page.locator("#figures .sat-rate")).to_contain_text("50.0%")
    page.evaluate("window.__marker = 1")
    page.fill(f"#action-{problem}", "已补发包装")
    page.fill("#improvement_actions", "出货前加抽包装")
    page.click("#save-form")
    expect(page.locator("#month-message")).to_be_visible()
    expect(page.locator("#form-state")).to_have_class("state state-draft")
    expect(page.locator(f"#action-{problem}")).to_have_value("已补发包装")
    page.click("#submit-form")
    expect(page.locator("#form-state")).to_have_class("state state-submitted")
    expect(page.locator("#improvement-actions")).to_have_text("出货前加抽包装")
    expect(page.locator("#month-form")).to_have_count(0)
    assert page.evaluate("window.__marker === 1"), "saving or submitting reloaded the page instead of swapping it"
    assert page.console_errors == []
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "satisfaction-month.png"), full_page=True)

    plain = browser.new_context(java_script_enabled=False, base_url=live_server, locale="zh-CN")
    plain.set_default_timeout(TIMEOUT_MS)
    try:
        page = plain.new_page()
        ui_login(page, lead)
        page.goto("/satisfaction/2026-10")
        page.click("#correct summary")
        page.click("#correct button[type=submit]")  # no reason: 422, nothing created
        expect(page.locator("#reason-error")).to_be_visible()
        page.fill("#reason", "漏录一次回访")
        page.click("#correct button[type=submit]")
        expect(page.locator("#form-state")).to_contain_text("r2")
        expect(page.locator("#form-state")).to_have_class("state state-draft")
        expect(page.locator("#improvement_actions")).to_have_value("出货前加抽包装")
        expect(page.locator("#revision-1 a")).to_be_visible()
    finally:
        plain.close()


def test_index_on_a_phone(app, make_page, make_user):
    page = make_page(width=390, height=844)
    ui_login(page, make_user("manager"))
    page.goto("/satisfaction/")
    chart = page.locator("#chart svg.sat-chart")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box["width"] <= 390, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "satisfaction-index-phone.png"), full_page=True)
    assert page.console_errors == []
