"""The customer portal on a phone: a buyer follows an order and evaluates a sample."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from playwright.sync_api import expect

from tests.browser.conftest import ui_login
from tests.browser.test_customers_browser import assert_no_console_errors, snap


def test_buyer_on_a_phone_follows_an_order_and_evaluates_a_sample(app, make_page, make_user, make_customer):
    from portal import numbering
    from portal.extensions import db
    from portal.models import Order, OrderEvent, OrderItem, SampleRequest, Shipment, ShipmentLine

    sales = make_user("sales", display_name="李业务")
    customer = make_customer(owner=sales, name="Nordic Home Supplies AB", country="SE")
    buyer = make_user("customer", customer=customer, display_name="Erik", locale="en")
    with app.app_context():
        item = OrderItem(position=1, description="Ball valve DN25", quantity=Decimal(500), unit="pcs",
                         unit_price=Decimal("3.75"))
        order = Order(number=numbering.next_number("order", 2026), contract_no="HT2026-0777", customer_id=customer.id,
                      state="shipped", currency="USD", contract_date=date.today(), items=[item],
                      shipments=[Shipment(ship_date=date.today(), carrier="COSCO", bl_no="COSU7770001",
                                          lines=[ShipmentLine(order_item=item, quantity=Decimal(500))])],
                      events=[OrderEvent(kind="shipped", state_from="inspected", state_to="shipped",
                                         customer_visible=True)])
        sample = SampleRequest(number="DY2026-0777", customer_id=customer.id, title="Soft-close hinge 35mm",
                               state="sent", courier_company="DHL", tracking_no="DHL123456")
        db.session.add_all([order, sample])
        db.session.commit()
        order_id = order.id

    page = make_page(390, 844)
    ui_login(page, buyer)
    assert page.url.endswith("/my/")
    expect(page.locator("#open-orders")).to_contain_text("HT2026-0777")
    expect(page.locator("#samples-on-the-way")).to_contain_text("DHL123456")
    # nothing wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.click(f'a[href="/my/orders/{order_id}"]')
    expect(page.locator("#shipments")).to_contain_text("COSU7770001")
    expect(page.locator("h1")).to_contain_text("HT2026-0777")
    snap(page, "portal-order-phone.png")

    page.click('nav.subnav a[href="/my/samples/"]')
    form = page.locator("form.evaluate").first
    form.locator('input[value="changes_needed"]').check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("form.evaluate .error").first).to_be_visible()  # say what should change
    form = page.locator("form.evaluate").first
    form.locator('input[value="changes_needed"]').check()
    form.locator("textarea").fill("Please make the colour darker.")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("DY2026-0777")
    expect(page.locator("main")).to_contain_text("Please make the colour darker.")
    snap(page, "portal-samples-phone.png")
    assert_no_console_errors(page, allow=(r"422",))
