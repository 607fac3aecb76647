"""Security headers, cookies, error pages, upload and body limits."""
import hashlib
from pathlib import Path

import pytest

from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("url", ["/login", "/healthz", "/nope", "/static/css/app.css"])
def test_security_headers_on_every_response(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_inline_script_or_style_in_pages(client, login_as):
    login_as("admin")
    for url in ["/login", "/", "/admin/users", "/admin/settings", "/admin/audit", "/account/password"]:
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html and " style=" not in html, url
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">")[0], url


def test_session_cookie_flags(client, make_user):
    user = make_user("sales")
    response = login(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # only with PORTAL_COOKIE_SECURE


def test_secure_cookie_setting(monkeypatch, tmp_path):
    from portal import create_app

    monkeypatch.setenv("PORTAL_COOKIE_SECURE", "1")
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    # The key is generated once and reused.
    again = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_signed_in_pages_are_not_cached(client, login_as):
    login_as("sales")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_fragment_responses_vary_on_hx_request(client, login_as):
    login_as("admin")
    full = client.get("/admin/users")
    fragment = client.get("/admin/users", headers={"HX-Request": "true"})
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True) and "<table" in fragment.get_data(as_text=True)


def test_404_page_in_the_users_language(client, make_user):
    assert "页面不存在" in client.get("/nope").get_data(as_text=True)
    login(client, make_user("sales", locale="en"))
    response = client.get("/nope")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def test_413_for_oversized_body(app, client, login_as):
    login_as("admin")
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/admin/settings", data=too_big, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "文件过大" in response.get_data(as_text=True)


def test_500_page_rolls_back_and_is_translated(app, client, login_as, monkeypatch):
    from portal.home import services

    user = login_as("sales")

    def boom(_user):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "my_day", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get("/")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert "出错了" in response.get_data(as_text=True)
    assert user


def test_database_error_gives_a_try_again_page(app, client, login_as, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from portal.home import services

    login_as("sales")

    def locked(_user):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(services, "my_day", locked)
    response = client.get("/")
    assert response.status_code == 503
    assert "请稍候再试" in response.get_data(as_text=True)


def test_vendored_htmx_matches_its_recorded_checksum():
    readme = (ROOT / "static/vendor/README.md").read_text()
    digest = hashlib.sha256((ROOT / "static/vendor/htmx-2.0.11.min.js").read_bytes()).hexdigest()
    assert digest in readme
    assert "htmx-2.0.11.min.js" in (ROOT / "templates/base.html").read_text()


def test_htmx_is_locked_down(client):
    html = client.get("/login").get_data(as_text=True)
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html
    assert '"historyCacheSize": 0' in html and '"code": "422", "swap": true' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_history_restore_gets_the_whole_page(client, login_as):
    """With historyCacheSize 0, Back makes htmx re-request the URL; it must get the page, not the rows."""
    login_as("admin")
    response = client.get("/admin/users?q=a", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_nul_characters_and_huge_ids_are_refused_cleanly(client, login_as, make_customer):
    user = login_as("sales")
    customer = make_customer(owner=user)
    response = client.post(f"/customers/{customer.id}/log", data={"kind": "call", "summary": "a\x00b"})
    assert response.status_code == 422
    assert client.get("/customers/?q=%00").status_code == 422
    assert client.get(f"/customers/{2**31}").status_code == 404
    assert client.get("/orders/99999999999999999999").status_code == 404


def test_session_cookie_is_re_signed_at_most_once_a_minute(app, client, make_user):
    """The idle expiry moves on with use, but an unchanged session is not re-signed on every response."""
    from datetime import timedelta

    login(client, make_user("sales"))
    client.get("/customers/")  # the session's CSRF secret is made on the first page after the login: a change
    response = client.get("/customers/")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    app.session_interface.refresh_after = timedelta(0)  # a minute later
    cookie = client.get("/customers/").headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie
    assert client.get("/customers/").status_code == 200  # the re-signed cookie is still the same login
