"""A save while SQLite is locked by another program, in a real browser: htmx does not swap the 503, app.js shows
its "busy, try again" message, the form stays filled in, and the same save works once the lock is gone."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.test_faults import locked_by_another_process, sqlite_busy_timeout  # noqa: F401 (fixture)


def test_inline_save_under_a_lock_shows_try_again_and_keeps_the_form(
        page, make_user, make_customer, sign_in, app, sqlite_busy_timeout):  # noqa: F811
    sales = make_user("sales", display_name="王销售")
    customer = make_customer(owner=sales, name="宁波恒达五金有限公司")
    sign_in(page, sales)
    page.goto(f"/customers/{customer.id}")
    contacts = page.locator("#contacts")
    contacts.locator("#add-contact").click()
    contacts.locator("#name").fill("周杰")
    with locked_by_another_process(app):
        with page.expect_response(lambda r: r.request.method == "POST" and "/contacts" in r.url) as info:
            contacts.get_by_role("button", name="保存").click()
        assert info.value.status == 503
        expect(page.locator(".flash.flash-error")).to_contain_text("请稍候再试")
        expect(contacts.locator("#name")).to_have_value("周杰")  # nothing swapped: the form is still there
    contacts.get_by_role("button", name="保存").click()
    expect(contacts.locator("ul.contact-list > li").filter(has_text="周杰")).to_have_count(1)
    # Only the expected 503 reached the console.
    assert all("503" in error for error in page.console_errors), page.console_errors
