"""Browser fixtures: the session's app served on a free port, Debian's Chromium driven by Playwright.

The app object is the one of tests/conftest.py, so `make_user`, `make_customer` and the per-test wipe
apply to what the browser sees. No browser is downloaded: Playwright drives /usr/bin/chromium.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-sandbox",
    "--disable-gpu",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
TIMEOUT_MS = 5_000

sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
def live_server(app):
    """Serve the test app on 127.0.0.1 and a free port; yields the base URL (no trailing slash)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def playwright_instance():
    with sync_api.sync_playwright() as p:
        sync_api.expect.set_options(timeout=TIMEOUT_MS)
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def make_page(browser, live_server):
    """make_page(width=1366, height=768) -> a Page in a fresh context (no cookies), closed after the test.

    Every page gets `page.console_errors`: console messages of type "error" (with the URL they are
    about in brackets) and uncaught page errors, as strings, in order.
    """
    contexts = []

    def make(width: int = 1366, height: int = 768):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      base_url=live_server)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        def on_console(msg):
            if msg.type == "error":
                where = (msg.location or {}).get("url") or ""
                errors.append(f"console: {msg.text} [{where}]")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        page.console_errors = errors
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(make_page):
    """A desktop-size page (1366x768, zh-CN) with `page.console_errors`."""
    return make_page()


@pytest.fixture
def screenshot():
    """screenshot(page, "name.png", full_page=True) -> the path written under tests/browser/screenshots/."""

    def take(page, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def ui_login(page, user_or_name, password: str = PASSWORD):
    """Sign in through the login form and wait for the page that follows."""
    username = getattr(user_or_name, "username", user_or_name)
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form button.button.primary[type=submit]")
    page.wait_for_load_state("load")
    return page


@pytest.fixture
def sign_in():
    """The `ui_login` helper as a fixture: sign_in(page, user, password=PASSWORD)."""
    return ui_login
