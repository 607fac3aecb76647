"""A quotation in a real browser: lines added in place (a catalogue product fills the line), the total
re-rendered with them, no page reload; then submitted by the salesperson and approved by a manager."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import expect

from tests.browser.conftest import ui_login
from tests.browser.test_customers_browser import assert_no_console_errors, marker_survived, set_marker, snap


def test_add_lines_inline_see_the_total_then_submit_and_approve(app, make_page, make_user, make_customer):
    from portal import numbering
    from portal.extensions import db
    from portal.i18n import local_today
    from portal.models import Product, Quote

    sales = make_user("sales", display_name="王销售", locale="en")
    manager = make_user("manager", display_name="赵经理", locale="en")
    customer = make_customer(owner=sales, name="宁波恒达五金有限公司")
    with app.app_context():
        db.session.add(Product(code="V-100", name="闸阀", specification="DN50 PN16", unit="set",
                               default_price=Decimal("0.3333")))
        quote = Quote(number=numbering.next_number("quote", 2026), customer_id=customer.id, currency="CNY",
                      valid_until=local_today() + timedelta(days=30))
        db.session.add(quote)
        db.session.commit()
        url = f"/quotes/{quote.id}"

    page = make_page()
    ui_login(page, sales)
    page.goto(url)
    set_marker(page)
    expect(page.locator("#quote-total")).to_have_text("0.00")

    # A catalogue product fills description, specification, unit and price in place.
    page.select_option("#product_id", label="V-100 · 闸阀 · DN50 PN16")
    expect(page.locator("#description")).to_have_value("闸阀")
    expect(page.locator("#specification")).to_have_value("DN50 PN16")
    expect(page.locator("#unit")).to_have_value("set")
    expect(page.locator("#unit_price")).to_have_value("0.3333")
    page.fill("#quantity", "3")
    page.click("#items button[type=submit]:has-text('Add line')")
    expect(page.locator("#quote-total")).to_have_text("1.00")  # 3 × 0.3333 = 0.9999, rounded to the cent

    # A free-text line; the form is blank again after the first one.
    expect(page.locator("#description")).to_have_value("")
    page.fill("#description", "定制法兰")
    page.fill("#quantity", "1000000")
    page.fill("#unit_price", "12.5")
    page.click("#items button[type=submit]:has-text('Add line')")
    expect(page.locator("#quote-total")).to_have_text("12,500,001.00")
    expect(page.locator("#items tbody tr")).to_have_count(2)

    # A bad line is refused beside its field, nothing added, the total unchanged.
    page.fill("#description", "错误")
    page.fill("#quantity", "-1")
    page.fill("#unit_price", "1")
    page.click("#items button[type=submit]:has-text('Add line')")
    expect(page.locator("#quantity-error")).to_contain_text("greater than zero")
    expect(page.locator("#quantity")).to_have_value("-1")
    expect(page.locator("#quote-total")).to_have_text("12,500,001.00")

    # A line edited in place.
    page.click("#items tbody tr:nth-child(2) .edit-item")
    expect(page.locator("tr.editing #quantity")).to_have_value("1000000")
    page.fill("tr.editing #quantity", "2000000")
    page.click("tr.editing button[type=submit]")
    expect(page.locator("#quote-total")).to_have_text("25,000,001.00")
    expect(page.locator("tr.editing")).to_have_count(0)
    assert marker_survived(page), "the lines were expected to change without a page load"
    snap(page, "quote-lines.png")

    page.click("#action-submit button")
    expect(page.locator("#header .quote-state")).to_have_text("Waiting for approval")
    expect(page.locator("#actions")).to_contain_text("Waiting for a manager's approval.")
    expect(page.locator("#action-approve")).to_have_count(0)
    assert_no_console_errors(page, allow=[r"422"])

    boss = make_page()
    ui_login(boss, manager)
    boss.goto(url)
    boss.click("#action-approve button")
    expect(boss.locator("#header .quote-state")).to_have_text("Approved")
    expect(boss.locator("#header")).to_contain_text("赵经理")
    expect(boss.locator("#action-send")).to_be_visible()
    snap(boss, "quote-approved.png")
    assert_no_console_errors(boss)
