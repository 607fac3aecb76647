"""The customer archive in a real browser: active search, no-JS search, inline contacts, contact log, my day.

Run with `python -m pytest tests/browser -q`; screenshots land in tests/browser/screenshots/.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, TIMEOUT_MS, ui_login

OWN_NAMES = [
    "宁波恒达五金有限公司",
    "杭州华盛建材有限公司",
    "苏州瑞丰纺织有限公司",
    "广州万通物流有限公司",
    "青岛海纳机械有限公司",
    "成都天府食品有限公司",
]
QUERY = "恒达"
OWN_MATCH = "宁波恒达五金有限公司"
OTHER_MATCH = "深圳恒达电子有限公司"  # matches the query, but belongs to another salesperson

ROWS = "#customer-list table.list tbody tr"


def assert_no_console_errors(page, allow=()):
    """No console errors, except those matching one of the `allow` regexes (e.g. an expected 422)."""
    errors = [e for e in page.console_errors if not any(re.search(p, e) for p in allow)]
    assert errors == [], "browser console errors:\n" + "\n".join(errors)


def snap(page, name: str):
    """A full-page screenshot under tests/browser/screenshots/ that leaves the DOM as it was.

    Playwright's default `caret="hide"` leaves an empty style="" attribute on every input and textarea; on
    the next htmx swap, htmx settles attributes ("class", "style", ...) from the old element of the same id to
    the new one with setAttribute (on the record page both the contact and the log form have id="csrf_token"),
    and the CSP (style-src 'self') reports that as a console error. `caret="initial"` avoids it.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True, caret="initial")


def htmx_ready(page):
    page.wait_for_function("typeof window.htmx !== 'undefined'")


def set_marker(page):
    """A JS variable that only survives as long as no full navigation happens."""
    htmx_ready(page)
    page.evaluate("window.__m = 1")


def marker_survived(page) -> bool:
    return page.evaluate("window.__m === 1")


def watch_for_text(page, text: str):
    """Record whether `text` is ever shown anywhere in the body from now on (checked on every DOM change)."""
    page.evaluate("""(text) => {
        window.__seen = document.body.textContent.includes(text);
        new MutationObserver(() => {
            if (document.body.textContent.includes(text)) { window.__seen = true; }
        }).observe(document.body, {childList: true, subtree: true, characterData: true});
    }""", text)


def archive(make_user, make_customer):
    """A salesperson with six customers of their own, and another salesperson's customer matching QUERY."""
    sales = make_user("sales", display_name="王销售")
    other = make_user("sales", display_name="李销售")
    own = [make_customer(owner=sales, name=name, phone=f"0574-8888{i:04d}") for i, name in enumerate(OWN_NAMES)]
    make_customer(owner=other, name=OTHER_MATCH)
    return sales, own


def type_query_and_wait(page):
    """Type QUERY into #q; return the htmx requests to /customers/ made while typing."""
    requests = []
    page.on("request", lambda r: requests.append(r.url)
            if urlsplit(r.url).path == "/customers/" and r.headers.get("hx-request") == "true" else None)
    page.locator("#q").press_sequentially(QUERY, delay=50)
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first).to_contain_text(OWN_MATCH)
    # Let any late, debounced request fire before counting.
    page.wait_for_timeout(400)
    return requests


# 1. Active search -------------------------------------------------------------------------------------------------

def test_active_search_filters_inline_pushes_a_bookmarkable_url(page, make_user, make_customer, sign_in):
    sales, _ = archive(make_user, make_customer)
    sign_in(page, sales)
    page.goto("/customers/")

    rows = page.locator(ROWS)
    expect(rows).to_have_count(len(OWN_NAMES))
    expect(page.locator("#result-count")).to_have_text(f"共 {len(OWN_NAMES)} 个客户")
    for name in OWN_NAMES:
        expect(page.locator("#customer-list")).to_contain_text(name)
    expect(page.locator("#customer-list")).not_to_contain_text(OTHER_MATCH)
    snap(page, "customers-list.png")

    set_marker(page)
    watch_for_text(page, OTHER_MATCH)
    requests = type_query_and_wait(page)

    expect(page.locator("#result-count")).to_have_text("共 1 个客户")
    expect(page.locator("#customer-list")).not_to_contain_text("杭州华盛建材有限公司")
    assert page.evaluate("window.__seen") is False, "another salesperson's customer was shown"
    assert 1 <= len(requests) <= 2, f"{len(requests)} requests while typing two characters: {requests}"
    # The pushed URL carries the query; no full navigation happened; the page around the list is intact.
    assert parse_qs(urlsplit(page.url).query).get("q") == [QUERY], unquote(page.url)
    assert f"q={QUERY}" in unquote(page.url)
    assert marker_survived(page)
    assert page.locator("header.topbar").count() == 1
    assert page.locator("#customer-list #customer-list, #customer-list header, #customer-list h1").count() == 0
    expect(page.locator("#q")).to_have_value(QUERY)

    # Bookmarkable: loading the pushed URL shows the filtered list as a full page.
    pushed = page.url
    page.reload()
    assert page.url == pushed
    assert not marker_survived(page)
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("#q")).to_have_value(QUERY)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(OWN_MATCH)
    expect(page.locator("main")).not_to_contain_text(OTHER_MATCH)
    assert_no_console_errors(page)


def test_back_after_active_search_shows_all_own_customers_again(page, make_user, make_customer, sign_in):
    # With historyCacheSize 0, Back makes htmx re-request the URL with HX-Request and HX-History-Restore-Request;
    # the server must answer with the full page (portal/web.py wants_fragment), not the list fragment, or htmx
    # swaps the bare rows into <body> (the header, the search form and #customer-list disappear).
    sales, _ = archive(make_user, make_customer)
    sign_in(page, sales)
    page.goto("/customers/")
    expect(page.locator(ROWS)).to_have_count(len(OWN_NAMES))
    set_marker(page)
    type_query_and_wait(page)
    assert QUERY in unquote(page.url)

    page.go_back()

    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.locator(ROWS)).to_have_count(len(OWN_NAMES))
    for name in OWN_NAMES:
        expect(page.locator("#customer-list")).to_contain_text(name)
    expect(page.locator("#result-count")).to_have_text(f"共 {len(OWN_NAMES)} 个客户")
    # The whole page is back, not only the rows.
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("#customer-filters")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("客户")
    expect(page.locator("#q")).to_have_value("")
    assert marker_survived(page)  # htmx restored the page in place
    assert_no_console_errors(page)


def test_back_from_a_record_returns_to_the_filtered_list(page, make_user, make_customer, sign_in):
    sales, _ = archive(make_user, make_customer)
    sign_in(page, sales)
    page.goto("/customers/")
    expect(page.locator(ROWS)).to_have_count(len(OWN_NAMES))
    htmx_ready(page)
    type_query_and_wait(page)
    pushed = page.url

    with page.expect_navigation():
        page.locator(ROWS).first.get_by_role("link", name=OWN_MATCH).click()
    expect(page.locator("h1")).to_contain_text(OWN_MATCH)

    page.go_back()
    expect(page).to_have_url(pushed)
    # A full page (not the cached htmx fragment of the same URL), with the filtered list.
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("#customer-filters")).to_have_count(1)
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first).to_contain_text(OWN_MATCH)
    assert_no_console_errors(page)


# 2. Without JavaScript --------------------------------------------------------------------------------------------

@pytest.fixture
def nojs_page(browser, live_server):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 768},
                                  locale="zh-CN", base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_search_works_without_javascript(nojs_page, make_user, make_customer):
    page = nojs_page
    sales, _ = archive(make_user, make_customer)
    ui_login(page, sales)  # a plain form POST and redirect: no JavaScript needed
    expect(page.locator("h1")).to_contain_text("您好")

    page.goto("/customers/")
    expect(page.locator(ROWS)).to_have_count(len(OWN_NAMES))

    # Enter in the search box submits the GET form.
    page.fill("#q", QUERY)
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert parse_qs(urlsplit(page.url).query).get("q") == [QUERY], unquote(page.url)
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first).to_contain_text(OWN_MATCH)
    expect(page.locator("main")).not_to_contain_text(OTHER_MATCH)
    expect(page.locator("#q")).to_have_value(QUERY)

    # The 搜索 button does the same.
    page.fill("#q", "华盛")
    with page.expect_navigation():
        page.locator("#customer-filters").get_by_role("button", name="搜索").click()
    assert parse_qs(urlsplit(page.url).query).get("q") == ["华盛"], unquote(page.url)
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first).to_contain_text("杭州华盛建材有限公司")


# 3. Inline contact editing ----------------------------------------------------------------------------------------

def test_contacts_are_added_edited_validated_and_removed_inline(page, make_user, make_customer, sign_in, app):
    sales = make_user("sales", display_name="王销售")
    customer = make_customer(owner=sales, name="宁波恒达五金有限公司", phone="0574-88880000")
    sign_in(page, sales)
    page.goto(f"/customers/{customer.id}")
    contacts = page.locator("#contacts")
    expect(contacts).to_contain_text("暂无联系人")
    set_marker(page)

    # Add.
    contacts.locator("#add-contact").click()
    expect(contacts.locator("form.contact-form")).to_be_visible()
    contacts.locator("#name").fill("周杰")
    contacts.locator("#title").fill("采购经理")
    contacts.locator("#mobile").fill("13800138000")
    contacts.get_by_role("button", name="保存").click()
    expect(contacts.locator("form.contact-form")).to_have_count(0)
    row = contacts.locator("ul.contact-list > li").filter(has_text="周杰")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("13800138000")
    expect(row).to_contain_text("采购经理")
    expect(contacts).not_to_contain_text("暂无联系人")
    assert marker_survived(page)
    assert page.locator("#contacts").count() == 1
    snap(page, "customer-detail.png")

    # Edit.
    row.locator("a.edit-contact").click()
    expect(contacts.locator("form.contact-form")).to_be_visible()
    expect(contacts.locator("#name")).to_have_value("周杰")
    contacts.locator("#name").fill("周杰伦")
    contacts.get_by_role("button", name="保存").click()
    expect(contacts.locator("form.contact-form")).to_have_count(0)
    expect(contacts.locator("ul.contact-list > li strong")).to_have_text(["周杰伦"])
    assert marker_survived(page)

    # An empty name: the server answers 422 with the section and the error beside the field.
    outside = """() => [...document.querySelectorAll('main > *, main .grid.detail > *')]
        .filter(el => el.id !== 'contacts' && !el.querySelector('#contacts')).map(el => el.outerHTML)"""
    before = page.evaluate(outside)
    contacts.locator("a.edit-contact").click()
    expect(contacts.locator("#name")).to_have_value("周杰伦")
    contacts.locator("#name").fill("")
    with page.expect_response(lambda r: r.request.method == "POST" and "/contacts/" in r.url) as info:
        contacts.get_by_role("button", name="保存").click()
    assert info.value.status == 422
    expect(contacts.locator("#name-error")).to_be_visible()
    expect(contacts.locator("#name")).to_have_attribute("aria-invalid", "true")
    expect(contacts.locator(".field.has-error")).to_have_count(1)
    assert marker_survived(page)
    assert page.evaluate(outside) == before, "something outside the contacts section changed"
    expect(page.locator("#flashes")).to_be_empty()
    expect(page.locator("#contacts")).to_have_count(1)
    from portal.extensions import db
    from portal.models import Contact
    with app.app_context():
        assert [c.name for c in db.session.query(Contact).filter_by(customer_id=customer.id)] == ["周杰伦"]

    # Cancel, then remove (accepting the confirm dialog).
    contacts.get_by_role("link", name="取消").click()
    expect(contacts.locator("form.contact-form")).to_have_count(0)
    messages = []

    def accept(dialog):
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    contacts.get_by_role("button", name="删除").click()
    expect(contacts).to_contain_text("暂无联系人")
    expect(contacts).not_to_contain_text("周杰伦")
    assert messages and "周杰伦" in messages[0], messages
    assert marker_survived(page)
    with app.app_context():
        assert db.session.query(Contact).filter_by(customer_id=customer.id).count() == 0
    assert_no_console_errors(page, allow=[r"status of 422"])


# 4. Contact log and my day ----------------------------------------------------------------------------------------

def test_log_entry_with_overdue_next_step_shows_in_my_day_and_can_be_done(page, make_user, make_customer, sign_in):
    sales = make_user("sales", display_name="王销售")
    customer = make_customer(owner=sales, name="杭州华盛建材有限公司")
    sign_in(page, sales)
    page.goto(f"/customers/{customer.id}")
    log = page.locator("#log")
    expect(log).to_contain_text("暂无拜访记录")
    set_marker(page)

    # An older entry first, so that "newest at the top" means something.
    log.locator("#kind").select_option("visit")
    log.locator("#summary").fill("初次拜访，了解需求")
    log.get_by_role("button", name="记入拜访记录").click()
    entries = page.locator("#log ol.timeline > li")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("初次拜访")

    due = date.today() - timedelta(days=3)
    log.locator("#kind").select_option("call")
    log.locator("#summary").fill("电话沟通报价，客户要求样品")
    log.locator("#next_step").fill("寄送样品并确认报价")
    log.locator("#next_date").fill(due.isoformat())
    log.get_by_role("button", name="记入拜访记录").click()
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("电话沟通报价")
    expect(entries.first).to_contain_text("寄送样品并确认报价")
    expect(entries.nth(1)).to_contain_text("初次拜访")
    expect(page.locator("#log h2")).to_contain_text("(2)")
    # A fresh form after a successful entry; no full navigation.
    expect(page.locator("#log #summary")).to_have_value("")
    expect(page.locator("#log #next_step")).to_have_value("")
    assert marker_survived(page)
    assert page.locator("#log").count() == 1

    page.goto("/")
    next_steps = page.locator("#next-steps")
    expect(next_steps).to_contain_text("待办跟进")
    row = next_steps.locator("tbody tr").filter(has_text="寄送样品并确认报价")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("杭州华盛建材有限公司")
    expect(row.locator(".badge")).to_have_text("已逾期")
    snap(page, "my-day.png")

    set_marker(page)
    row.get_by_role("button", name="完成").click()
    expect(row).to_have_count(0)
    expect(next_steps).not_to_contain_text("寄送样品并确认报价")
    assert marker_survived(page)
    # Done is stored: it does not come back on the next visit.
    page.reload()
    expect(page.locator("#next-steps")).not_to_contain_text("寄送样品并确认报价")
    assert_no_console_errors(page)


# 5. The new-customer form with errors ------------------------------------------------------------------------------

def test_new_customer_form_submitted_empty_shows_errors_beside_fields(page, make_user, sign_in):
    sales = make_user("sales", display_name="王销售")
    sign_in(page, sales)
    page.goto("/customers/new")
    expect(page.locator("h1")).to_have_text("新建客户")
    with page.expect_navigation() as nav:
        page.locator("form.card").get_by_role("button", name="保存").click()
    assert nav.value is not None and nav.value.status == 422
    name_field = page.locator(".field.has-error").filter(has=page.locator("#name"))
    expect(name_field).to_have_count(1)
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".flash.flash-error")).to_be_visible()
    snap(page, "customer-form.png")
    # Chrome reports the 422 of the document itself on the console; that is the expected answer here.
    assert_no_console_errors(page, allow=[r"status of 422 .*/customers/new\]$"])
