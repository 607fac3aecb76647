"""The print centre in a real browser: pick delivery notes, start a background batch, watch the htmx
progress (under CSP), download the PDF."""
from __future__ import annotations

import io

from playwright.sync_api import expect
from pypdf import PdfReader

from tests import documents_data as data
from tests.browser.conftest import ui_login


def test_print_centre_batch_runs_in_the_background_and_downloads(app, page, live_server, make_user):
    from portal.extensions import db

    manager = make_user("manager")
    with app.app_context():
        data.company()
        customer = data.customer()
        for _ in range(7):
            order = data.order(customer, lines=2)
            data.shipment(order)
        db.session.commit()
    ui_login(page, manager)
    page.click(f"nav a[href='/documents/print']")
    expect(page.locator("#print-form tbody input[type=checkbox]")).to_have_count(7)
    page.click("#print-form button[type=submit]")
    expect(page).to_have_url(__import__("re").compile(r"/documents/print/jobs/\d+$"))
    download_link = page.locator("#job-download")
    expect(download_link).to_be_visible(timeout=60_000)  # the fragment polled by htmx replaced itself
    with page.expect_download() as info:
        download_link.click()
    pdf = open(info.value.path(), "rb").read()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 7
    assert not page.console_errors
