"""Follow-up visits in a real browser: the service desk finds a due visit through the htmx list (active search,
tabs kept in step), records the answers with htmx (no full page load), sees the problem mark and the complaint
form; a salesperson without JavaScript adds a note."""
from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from portal.extensions import db
from portal.models import FollowUpVisit
from tests.browser.conftest import TIMEOUT_MS, ui_login


def _visit(app, customer, due_on) -> int:
    with app.app_context():
        visit = FollowUpVisit(customer_id=customer.id, reason="manual", due_on=due_on)
        db.session.add(visit)
        db.session.commit()
        return visit.id


def test_answer_a_visit_with_htmx_and_note_without_js(app, browser, live_server, page, make_user, make_customer,
                                                       screenshot):
    service = make_user("service", display_name="赵售后", locale="en")
    sales = make_user("sales", display_name="王销售")
    customer = make_customer(owner=sales, name="宁波恒达五金有限公司")
    other = make_customer(owner=sales, name="杭州远东机械有限公司")
    today = date.today()
    visit_id = _visit(app, customer, today - timedelta(days=2))
    _visit(app, other, today)

    ui_login(page, service)
    page.goto("/aftersales/visits/")
    page.wait_for_function("typeof window.htmx !== 'undefined'")
    page.evaluate("window.__marker = 1")
    expect(page.locator("#visit-list tbody tr")).to_have_count(2)
    page.fill("#q", "恒达")
    expect(page.locator("#visit-list tbody tr")).to_have_count(1)
    expect(page.locator("#tab-overdue")).to_have_attribute(  # the tabs follow the search (out-of-band swap)
        "href", "/aftersales/visits/?tab=overdue&q=%E6%81%92%E8%BE%BE")
    assert page.evaluate("window.__marker === 1"), "the search reloaded the page"
    page.click(f"#visit-row-{visit_id} a >> nth=0")
    expect(page.locator("#visit-state")).to_have_class("state state-due")

    page.wait_for_function("typeof window.htmx !== 'undefined'")
    page.evaluate("window.__marker = 2")
    page.select_option("#channel", "wechat")
    page.fill("#answered_by", "李采购")
    page.check("#quality_ok-1")  # no
    page.fill("#quality_note", "两只阀门渗漏")
    page.check("#service_timely-0")
    page.check("#sales_rating-3")  # 4
    page.click("#answer-form button[type=submit]")
    expect(page.locator("#score-error")).to_be_visible()  # 422 swapped in, values kept
    expect(page.locator("#quality_note")).to_have_value("两只阀门渗漏")
    page.check("#score-1")  # 2
    page.click("#answer-form button[type=submit]")
    expect(page.locator("#visit-state")).to_have_class("state state-done")
    expect(page.locator("#visit-problem")).to_be_visible()
    expect(page.locator("#answer-score")).to_have_text("2")
    expect(page.locator("#action-ticket")).to_have_attribute("open", "")
    assert page.evaluate("window.__marker === 2"), "recording the answers reloaded the page"
    assert [e for e in page.console_errors if "status of 422" not in e] == [], "\n".join(page.console_errors)
    screenshot(page, "visit-done.png")  # last: Playwright's screenshot leaves style="" on inputs

    plain = browser.new_context(java_script_enabled=False, base_url=live_server, locale="zh-CN")
    plain.set_default_timeout(TIMEOUT_MS)
    try:
        page = plain.new_page()
        ui_login(page, sales)
        page.goto(f"/aftersales/visits/{visit_id}")
        expect(page.locator("#answer-form")).to_have_count(0)
        page.fill("#note", "客户下周来厂，当面处理")
        page.click("#note-form button[type=submit]")
        expect(page.locator("#visit-notes")).to_contain_text("客户下周来厂，当面处理")
        assert page.url.endswith(f"/aftersales/visits/{visit_id}#internal-notes")
    finally:
        plain.close()
