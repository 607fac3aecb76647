"""Sample requests in a real browser: a salesperson files and submits a sheet without JavaScript, the manager
approves it with htmx (no full page load), and the salesperson starts it, again without JavaScript."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, ui_login


def test_create_submit_approve_with_htmx_and_without_js(browser, live_server, make_page, make_user, make_customer):
    sales = make_user("sales")
    manager = make_user("manager", display_name="王经理")
    customer = make_customer(owner=sales, name="宁波恒达五金有限公司")

    plain = browser.new_context(java_script_enabled=False, base_url=live_server, locale="zh-CN")
    plain.set_default_timeout(TIMEOUT_MS)
    try:
        page = plain.new_page()
        ui_login(page, sales)
        page.goto(f"/samples/new?customer={customer.id}")
        expect(page.locator("#customer_code")).to_have_value(customer.code)
        page.fill("#title", "不锈钢阀门样品")
        page.fill("#requirement", "DN50，304 不锈钢，带出厂报告")
        page.fill("#retained_quantity", "0")
        page.click("form.card button[type=submit]")
        expect(page.locator("#retained_quantity-error")).to_be_visible()  # 422, value kept, nothing created
        expect(page.locator("#title")).to_have_value("不锈钢阀门样品")
        page.fill("#retained_quantity", "2")
        page.click("form.card button[type=submit]")
        expect(page.locator("#sample-state")).to_have_class("state state-draft")
        sample_url = page.url
        page.click("#action-submit button")
        expect(page.locator("#sample-state")).to_have_class("state state-submitted")
        assert page.url == sample_url  # the 303 brought us back to the sheet
        expect(page.locator("#action-approve")).to_have_count(0)  # a salesperson cannot approve
    finally:
        plain.close()

    page = make_page()
    ui_login(page, manager)
    page.goto(sample_url)
    page.wait_for_function("typeof window.htmx !== 'undefined'")
    page.evaluate("window.__marker = 1")
    page.click("#action-approve button")
    expect(page.locator("#sample-state")).to_have_class("state state-approved")
    expect(page.locator("#signature")).to_contain_text("王经理")
    expect(page.locator("#sample-message")).to_be_visible()
    assert page.evaluate("window.__marker === 1"), "the approval reloaded the page instead of swapping the sheet"
    assert page.console_errors == []

    plain = browser.new_context(java_script_enabled=False, base_url=live_server, locale="zh-CN")
    plain.set_default_timeout(TIMEOUT_MS)
    try:
        page = plain.new_page()
        ui_login(page, sales)
        page.goto(sample_url)
        expect(page.locator("#signature")).to_contain_text("王经理")
        page.click("#action-start button")
        expect(page.locator("#sample-state")).to_have_class("state state-in_progress")
        expect(page.locator("#photos input[type=file]")).to_be_visible()
    finally:
        plain.close()
