"""One order walked from inquiry to closed in a real browser, by the salesperson and the manager."""
from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import ui_login
from tests.browser.test_customers_browser import assert_no_console_errors, snap


def _form(page, action_suffix: str):
    return page.locator(f'form[action$="{action_suffix}"]').first


# The order page's folded blank forms (by the last part of the URL they post to), loaded when their <details> opens.
LAZY_FORMS = {"payments": "payment", "shipments": "shipment", "inspections": "inspection", "dunning": "dunning",
              "changes": "change"}


def _open(page, action_suffix: str):
    """The form posting to `action_suffix`; a folded one is opened, as a user does, and waited for."""
    form = _form(page, action_suffix)
    lazy = LAZY_FORMS.get(action_suffix.rsplit("/", 1)[-1])
    if lazy and not form.count():
        page.locator(f'details[hx-get$="?form={lazy}"] > summary').click()
        form.wait_for()  # htmx put it in the <details>
    return form


def _submit(page, action_suffix: str, **fields):
    """Fill the named fields of the form posting to `action_suffix`, submit it and wait for the next page."""
    form = _open(page, action_suffix)
    details = form.locator("xpath=ancestor::details[1]")
    if details.count() and not details.evaluate("d => d.open"):
        details.locator("summary").first.click()
    for name, value in fields.items():
        target = form.locator(f'[name="{name}"]')
        tag = target.first.evaluate("e => e.tagName + ':' + (e.type || '')")
        if tag.startswith("SELECT"):
            target.select_option(value)
        elif tag.endswith(":radio"):
            form.locator(f'[name="{name}"][value="{value}"]').check()
        else:
            target.fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").last.click()
    page.wait_for_load_state("load")


def _state(page) -> str:
    return page.locator("h1 .state").get_attribute("class")


def test_order_from_inquiry_to_closed(page, app, make_user, make_customer):
    sales = make_user("sales", display_name="李业务")
    manager = make_user("manager", display_name="王经理")
    customer = make_customer(owner=sales, name="宁波海纳进出口有限公司")
    today = date.today()

    ui_login(page, sales)
    page.goto(f"/customers/{customer.id}")
    with page.expect_navigation():
        page.locator(f'a[href="/orders/new?customer={customer.id}"]').click()
    expect(page.locator('[name="customer_code"]')).to_have_value(customer.code)
    page.fill('[name="customer_po"]', "PO-2026-88")
    page.fill('[name="promised_date"]', (today + timedelta(days=40)).isoformat())
    with page.expect_navigation():
        page.locator("main form.card button[type=submit]").click()
    order_url = page.url.split("#")[0]
    order_path = re.sub(r"^https?://[^/]+", "", order_url)
    assert re.search(r"/orders/\d+$", order_path)
    expect(page.locator("h1")).to_contain_text("DD")
    assert "state-inquiry" in _state(page)

    _submit(page, f"{order_path}/items", description="不锈钢球阀 DN25", quantity="200", unit="pcs",
            unit_price="26.80")
    expect(page.locator("#items")).to_contain_text("5,360.00")
    _submit(page, f"{order_path}/action/mark_quoted")
    _submit(page, f"{order_path}/action/sign_contract")
    assert "state-contract_signed" in _state(page)
    expect(page.locator("main")).to_contain_text(f"HT{today.year}-")

    _submit(page, f"{order_path}/payments", kind="deposit", amount="1608.00")
    assert "state-deposit_received" in _state(page)

    item_qty = page.locator(f'form[action$="{order_path}/plan"] input[name^="qty_"]').first
    _submit(page, f"{order_path}/plan", packaging="纸箱，每箱 20 只", **{item_qty.get_attribute("name"): "200"})
    _submit(page, f"{order_path}/plan/submit")
    snap(page, "order-plan-submitted.png")

    page.context.clear_cookies()
    ui_login(page, manager)
    page.goto(order_path)
    _submit(page, f"{order_path}/plan/approve")
    assert "state-plan_approved" in _state(page)

    page.context.clear_cookies()
    ui_login(page, sales)
    page.goto(order_path)
    _submit(page, f"{order_path}/action/start_production")
    assert "state-in_production" in _state(page)
    _submit(page, f"{order_path}/progress", progress="50")
    expect(page.locator("main")).to_contain_text("50%")
    _submit(page, f"{order_path}/inspections", inspector="质检 周工", result="pass")
    assert "state-inspected" in _state(page)

    shipment_qty = _open(page, f"{order_path}/shipments").locator('input[name^="qty_"]').first
    _submit(page, f"{order_path}/shipments", carrier="中远海运", bl_no="COSU6100001",
            **{shipment_qty.get_attribute("name"): "200"})
    assert "state-shipped" in _state(page)
    expect(page.locator("main")).to_contain_text("COSU6100001")

    _submit(page, f"{order_path}/payments", kind="balance", amount="3752.00")
    assert "state-balance_received" in _state(page)
    _submit(page, f"{order_path}/action/close")
    assert "state-closed" in _state(page)
    expect(page.locator(".steps li.current")).to_have_count(1)
    snap(page, "order-closed.png")
    assert_no_console_errors(page)
