"""The portal in a real browser: sign-in, language switch, htmx under the CSP, customer portal, phone size.

Run with `python -m pytest tests/browser -q`; screenshots land in tests/browser/screenshots/.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import User

LOGIN_URL = re.compile(r"/login(\?.*)?$")


def assert_no_console_errors(page):
    errors = page.console_errors
    assert errors == [], "browser console errors:\n" + "\n".join(errors)


def test_sales_user_signs_in_and_sees_the_chinese_start_page(page, make_user, sign_in, screenshot, live_server):
    user = make_user("sales", display_name="李销售")

    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_title(re.compile("登录"))
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("#username")).to_be_visible()
    screenshot(page, "login.png")

    sign_in(page, user)

    expect(page).to_have_url(live_server + "/")
    expect(page.locator("h1")).to_contain_text("您好")
    expect(page.locator("h1")).to_contain_text("李销售")
    expect(page.locator("nav.mainnav")).to_contain_text("我的一天")
    expect(page.locator("header.topbar")).to_contain_text("退出登录")
    # The stylesheet applied: the top bar is laid out by app.css, not the browser's defaults.
    assert page.evaluate("document.styleSheets.length") >= 1
    assert page.evaluate("getComputedStyle(document.querySelector('header.topbar')).display") != "block"
    screenshot(page, "dashboard.png")
    assert_no_console_errors(page)


def test_language_switch_to_english_and_back_is_kept_on_the_user(page, make_user, sign_in, app, live_server):
    user = make_user("sales")
    sign_in(page, user)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("您好")

    page.click("header.topbar button[name=locale][value=en]")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Good day")
    expect(page.locator("nav.mainnav")).to_contain_text("My day")
    expect(page.locator("header.topbar button[name=locale][value=zh]")).to_have_text("中文")
    expect(page).to_have_url(live_server + "/")
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"

    page.reload()
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Good day")

    page.click("header.topbar button[name=locale][value=zh]")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("您好")
    expect(page.locator("nav.mainnav")).to_contain_text("我的一天")
    expect(page.locator("header.topbar button[name=locale][value=en]")).to_have_text("English")
    with app.app_context():
        assert db.session.get(User, user.id).locale == "zh"

    page.reload()
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("您好")
    assert_no_console_errors(page)


def test_admin_user_search_swaps_the_table_with_htmx_under_the_csp(page, make_user, sign_in, screenshot):
    admin = make_user("admin")
    make_user("sales", username="zhoujie", display_name="周杰")
    make_user("service", username="wangfang", display_name="王芳")
    sign_in(page, admin)

    response = page.goto("/admin/users")
    assert response is not None and response.status == 200
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp

    table = page.locator("#users-table")
    expect(table).to_contain_text("zhoujie")
    expect(table).to_contain_text("wangfang")
    expect(table).to_contain_text(admin.username)
    # htmx itself must have loaded (external script, allowed by the CSP).
    page.wait_for_function("typeof window.htmx !== 'undefined'")
    page.evaluate("""() => {
        window.__marker = 1;
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation',
            e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
    }""")

    with page.expect_response(lambda r: "/admin/users?q=" in r.url and r.request.headers.get("hx-request") == "true"):
        page.locator("#q").press_sequentially("zhou", delay=40)

    expect(table).not_to_contain_text("wangfang")
    expect(table).to_contain_text("zhoujie")
    expect(table).not_to_contain_text(admin.username)
    expect(page).to_have_url(re.compile(r"/admin/users\?(.*&)?q=zhou"))
    # Same document: no full navigation happened, and only the fragment was swapped in.
    assert page.evaluate("window.__marker") == 1
    assert page.locator("header.topbar").count() == 1
    assert page.locator("#users-table #users-table, #users-table header, #users-table h1").count() == 0
    expect(page.locator("#q")).to_have_value("zhou")
    screenshot(page, "admin-users-search.png")

    assert page.evaluate("window.__cspViolations") == []
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
    assert_no_console_errors(page)


def test_customer_signs_in_to_the_customer_portal(page, make_customer, make_user, sign_in, screenshot, live_server):
    customer = make_customer(name="上海测试机械有限公司")
    user = make_user("customer", customer=customer, display_name="张客户")
    sign_in(page, user)

    expect(page).to_have_url(live_server + "/my/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("上海测试机械有限公司")
    expect(page.locator("main")).to_contain_text(customer.code)
    expect(page.locator("main")).to_contain_text("张客户")
    # No staff navigation for a customer.
    expect(page.locator("nav.mainnav")).not_to_contain_text("我的一天")
    screenshot(page, "portal.png")
    assert_no_console_errors(page)


def test_login_page_fits_a_phone_screen(make_page, screenshot):
    page = make_page(390, 844)
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("form button.button.primary[type=submit]")).to_be_visible()
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"horizontal scroll on a phone: {scroll_width}px > {inner_width}px"
    # The inputs stay inside the viewport too.
    box = page.locator("#password").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= inner_width
    screenshot(page, "login-phone.png")
    assert_no_console_errors(page)


def test_sign_out_returns_to_login_and_protects_the_start_page(page, make_user, sign_in, live_server):
    user = make_user("manager")
    sign_in(page, user)
    expect(page).to_have_url(live_server + "/")

    with page.expect_navigation():
        page.locator("header.topbar").get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(LOGIN_URL)
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("header.topbar")).not_to_contain_text("退出登录")

    page.goto("/")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.locator("#username")).to_be_visible()
    assert_no_console_errors(page)


def test_the_site_has_a_favicon(page):
    page.goto("/login")
    icon = page.locator("link[rel~=icon]")
    href = icon.first.get_attribute("href") if icon.count() else "/favicon.ico"
    response = page.request.get(href)
    assert response.status == 200, f"{href} answered {response.status}"


def test_customer_contact_heading_reads_well_without_company_settings(page, make_customer, make_user, sign_in):
    customer = make_customer()
    sign_in(page, make_user("customer", customer=customer))
    heading = page.locator("#contact h2")
    expect(heading).to_contain_text("联系人")
    assert not re.search(r"您在\s*的联系人", heading.inner_text()), heading.inner_text()
