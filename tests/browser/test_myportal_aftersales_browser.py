"""The customer portal on a phone (390×844): a buyer reports a problem with a photo (the order's items
appear when the order is chosen) and sees it listed; then answers the follow-up survey."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import ui_login
from tests.browser.test_customers_browser import assert_no_console_errors, snap


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1


def test_buyer_on_a_phone_reports_a_problem_and_answers_the_survey(app, make_page, make_user, make_customer,
                                                                   tmp_path):
    from portal import numbering
    from portal.extensions import db
    from portal.i18n import local_today
    from portal.models import FollowUpVisit, Order, OrderItem, Ticket

    sales = make_user("sales", display_name="李业务")
    customer = make_customer(owner=sales, name="Nordic Home Supplies AB", country="SE")
    buyer = make_user("customer", customer=customer, display_name="Erik", locale="en")
    with app.app_context():
        order = Order(number=numbering.next_number("order", 2026), contract_no="HT2026-0888", customer_id=customer.id,
                      state="shipped", currency="USD", contract_date=date.today(),
                      items=[OrderItem(position=1, description="Ball valve DN25", quantity=Decimal(500), unit="pcs",
                                       unit_price=Decimal("3.75")),
                             OrderItem(position=2, description="Soft-close hinge 35mm", quantity=Decimal(200),
                                       unit="pcs", unit_price=Decimal("1.20"))])
        db.session.add(order)
        db.session.flush()
        visit = FollowUpVisit(customer_id=customer.id, reason="delivery", order_id=order.id,
                              due_on=local_today() - timedelta(days=1))
        db.session.add(visit)
        db.session.commit()
        order_id, hinge_id, visit_id = order.id, order.items[1].id, visit.id
    photo = tmp_path / "scratch.png"
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(image, "PNG")
    photo.write_bytes(image.getvalue())

    page = make_page(390, 844)
    ui_login(page, buyer)
    expect(page.locator("#survey-prompt")).to_be_visible()
    _fits(page)
    page.click('nav.subnav a[href="/my/tickets/"]')
    page.click('a[href="/my/tickets/new"]')
    expect(page.locator("#ticket-items input[type=checkbox]")).to_have_count(0)
    page.select_option("#order_id", str(order_id))  # htmx brings the order's items
    expect(page.locator(f"#item-{hinge_id}")).to_be_visible()
    page.check(f"#item-{hinge_id}")
    page.fill(f"#qty-{hinge_id}", "15")
    page.select_option("#category", "quality")
    page.fill("#subject", "Hinges do not close softly")
    page.fill("#description", "15 hinges slam shut.")
    page.set_input_files("#photos", str(photo))
    _fits(page)
    snap(page, "portal-ticket-form-phone.png")
    with page.expect_navigation():
        page.click("form button.button.primary[type=submit]")
    expect(page.locator(".flash")).to_contain_text("TS")
    expect(page.locator("#files")).to_contain_text("scratch.png")
    expect(page.locator("#problem")).to_contain_text("Soft-close hinge 35mm")
    with app.app_context():
        ticket = db.session.query(Ticket).one()
        number = ticket.number
        assert ticket.channel == "portal" and [(line.order_item_id, line.quantity) for line in ticket.lines] == [
            (hinge_id, Decimal(15))]
    _fits(page)
    snap(page, "portal-ticket-phone.png")
    page.click('nav.subnav a[href="/my/tickets/"]')
    expect(page.locator("#tickets")).to_contain_text(number)
    expect(page.locator("#tickets")).to_contain_text("Hinges do not close softly")

    page.click('nav.subnav a[href="/my/survey"]')
    survey = page.locator("form.survey")
    survey.locator('input[name="quality_ok"][value="yes"]').check()
    survey.locator('input[name="service_timely"][value="yes"]').check()
    survey.locator('input[name="sales_rating"][value="5"]').check()
    with page.expect_navigation():  # the overall score forgotten: said beside it, nothing saved
        survey.locator("button[type=submit]").click()
    expect(page.locator("form.survey .errors")).to_be_visible()
    survey = page.locator("form.survey")
    survey.locator('input[name="quality_ok"][value="yes"]').check()
    survey.locator('input[name="service_timely"][value="yes"]').check()
    survey.locator('input[name="sales_rating"][value="5"]').check()
    survey.locator('input[name="score"][value="4"]').check()
    survey.locator('textarea[name="suggestions"]').fill("Send the catalogue in Swedish.")
    _fits(page)
    snap(page, "portal-survey-phone.png")
    with page.expect_navigation():
        survey.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Thank you")
    expect(page.locator("#survey-empty")).to_be_visible()
    with app.app_context():
        visit = db.session.get(FollowUpVisit, visit_id)
        assert (visit.state, visit.channel, visit.score, visit.answered_by) == ("done", "portal", 4, "Erik")
    assert_no_console_errors(page, allow=(r"422",))
