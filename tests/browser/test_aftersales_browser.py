"""A complaint recorded from the customer page and walked to closure in a real browser; the list filtered by
htmx; the printable service-record list."""
from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from tests.browser.conftest import ui_login
from tests.browser.test_customers_browser import assert_no_console_errors, snap


def _step(page, name: str, **fields):
    """Open the step's <details>, fill its fields (prefixed with the step) and submit it."""
    details = page.locator(f"#action-{name}")
    if not details.evaluate("d => d.open"):
        details.locator("summary").click()
    form = details.locator("form")
    for field, value in fields.items():
        target = form.locator(f'[name="{name}-{field}"]')
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")


def test_complaint_from_receipt_to_closure(page, app, make_user, make_customer):
    service = make_user("service", display_name="赵售后")
    customer = make_customer(owner=make_user("sales"), name="宁波海纳进出口有限公司")
    ui_login(page, service)
    page.goto(f"/customers/{customer.id}")
    with page.expect_navigation():
        page.locator(f'a[href="/aftersales/tickets/new?customer_id={customer.id}"]').click()
    expect(page.locator('[name="customer_code"]')).to_have_value(customer.code)
    page.fill('[name="subject"]', "阀门漏水")
    page.fill('[name="description"]', "两只 DN25 阀门在试压时漏水")
    page.select_option('[name="channel"]', "phone")
    with page.expect_navigation():
        page.locator("main form.card button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("TS")
    assert re.search(r"/aftersales/tickets/\d+$", page.url)
    expect(page.locator("#ticket-state")).to_have_class(re.compile("state-received"))

    _step(page, "assess", severity="critical")
    expect(page.locator("#ticket-state")).to_have_class(re.compile("state-assessed"))
    _step(page, "assign", department="quality", assignee_id=str(service.id))
    _step(page, "propose", cause="密封圈硬度不足", solution="更换密封圈", resolution="replacement")
    _step(page, "send")
    _step(page, "carry_out")
    _step(page, "confirm")
    snap(page, "aftersales-ticket-confirmed.png")
    duplicates = page.evaluate("""() => { const seen = {}; const twice = [];
        document.querySelectorAll('[id]').forEach(e => { if (seen[e.id]) twice.push(e.id); seen[e.id] = 1; });
        return twice; }""")
    assert duplicates == []
    _step(page, "close", summary="已更换，客户确认", preventive_action="来料检验增加硬度测试")
    expect(page.locator("#ticket-state")).to_have_class(re.compile("state-closed"))
    expect(page.locator("#second-visit")).to_be_visible()
    expect(page.locator("#timeline .timeline > li")).to_have_count(8)
    assert_no_console_errors(page)


def test_list_filters_swap_the_rows_in_place(page, app, make_user, make_customer):
    from portal import numbering
    from portal.extensions import db
    from portal.models import Ticket

    manager = make_user("manager")
    customer = make_customer(owner=make_user("sales"), name="慈溪明达机电有限公司")
    with app.app_context():
        for subject, severity, state in [("SEV-MINOR", "minor", "assessed"), ("SEV-CRITICAL", "critical", "assessed"),
                                         ("NOT-ASSESSED", None, "received")]:
            db.session.add(Ticket(number=numbering.next_number("ticket", 2026), customer_id=customer.id, state=state,
                                  channel="phone", category="quality", subject=subject, description="x",
                                  severity=severity, due_on=date(2030, 1, 1) if severity else None))
        db.session.commit()
    ui_login(page, manager)
    page.goto("/aftersales/tickets/")
    expect(page.locator("#ticket-list")).to_contain_text("SEV-MINOR")
    page.evaluate("document.body.dataset.marker = 'kept'")  # survives only if the page is not reloaded
    page.select_option("#severity", "critical")
    expect(page.locator("#ticket-list")).not_to_contain_text("SEV-MINOR")
    expect(page.locator("#ticket-list")).to_contain_text("SEV-CRITICAL")
    assert page.evaluate("document.body.dataset.marker") == "kept"
    expect(page).to_have_url(re.compile(r"severity=critical"))
    page.fill("#q", "慈溪")
    expect(page.locator("#ticket-list")).to_contain_text("SEV-CRITICAL")
    snap(page, "aftersales-list.png")
    assert_no_console_errors(page)


def test_service_records_print_layout(page, app, make_user, make_customer):
    from decimal import Decimal

    from portal.extensions import db
    from portal.models import ServiceRecord

    service = make_user("service")
    customer = make_customer(owner=make_user("sales"), name="余姚华丰塑业有限公司")
    with app.app_context():
        db.session.add(ServiceRecord(customer_id=customer.id, served_on=date(2026, 11, 5), fault="注塑机漏油",
                                     handling="更换油封", hours=Decimal("2.5"), technician="钱师傅"))
        db.session.commit()
    ui_login(page, service)
    page.goto("/aftersales/service-records/?month=2026-11")
    expect(page.locator("#record-totals")).to_contain_text("2.5")
    with page.expect_navigation():
        page.locator('a[href*="print=1"]').click()
    expect(page.locator(".service-records")).to_contain_text("注塑机漏油")
    assert page.locator("nav.mainnav").count() == 0
    page.emulate_media(media="print")
    expect(page.locator(".no-print").first).to_be_hidden()
    snap(page, "aftersales-service-records-print.png")
    assert_no_console_errors(page)
