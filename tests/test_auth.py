"""Sign-in, throttling, sessions, passwords, language."""
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditLog, User, UserSession
from tests.conftest import PASSWORD, login


def test_login_page_is_chinese_by_default_with_english_switch(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert "登录" in html
    assert 'value="en"' in html and "English" in html


@pytest.mark.parametrize("role, landing", [
    ("admin", "/"), ("manager", "/"), ("sales", "/"), ("service", "/"), ("customer", "/my/"),
])
def test_each_role_lands_on_its_start_page(client, make_user, make_customer, role, landing):
    customer = make_customer() if role == "customer" else None
    user = make_user(role, customer=customer)
    response = login(client, user)
    assert response.headers["Location"] == landing
    assert client.get(landing).status_code == 200


def test_wrong_password_is_refused_with_422_logged_and_audited(app, client, make_user, caplog):
    user = make_user("sales")
    response = client.post("/login", data={"username": user.username, "password": "wrong-password"})
    assert response.status_code == 422
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert "login failed" in caplog.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "login_failed", AuditLog.summary == user.username)) == 1
    assert client.get("/").status_code == 302


def test_disabled_user_cannot_sign_in(client, make_user):
    user = make_user("sales", active=False)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 422


def test_username_is_case_insensitive(client, make_user):
    user = make_user("sales", username="mixedcase")
    response = client.post("/login", data={"username": "  MixedCase ", "password": PASSWORD})
    assert response.status_code == 303


def test_account_is_throttled_after_repeated_failures(client, make_user, caplog):
    user = make_user("sales")
    for _ in range(5):
        assert client.post("/login", data={"username": user.username, "password": "bad"}).status_code == 422
    blocked = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    assert "rate limit hit" in caplog.text
    # Another account from the same address is not locked by this one.
    other = make_user("sales")
    assert client.post("/login", data={"username": other.username, "password": PASSWORD}).status_code == 303


def test_address_is_throttled_across_accounts(client):
    for i in range(20):
        response = client.post("/login", data={"username": f"nobody{i}", "password": "bad"})
        assert response.status_code == 422
    assert client.post("/login", data={"username": "nobody-else", "password": "bad"}).status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(client, make_user):
    user = make_user("sales")
    for _ in range(8):
        login(client, user)
        client.post("/logout")


def test_login_rotates_the_session_and_csrf_token(client, make_user):
    user = make_user("sales")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by attacker"
        before = session.get("csrf_token")
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before
        assert session.get("_user_id")


def test_logout_ends_the_session_on_the_server(app, client, make_user):
    user = make_user("sales")
    login(client, user)
    with client.session_transaction() as session:
        stolen = dict(session)
    assert client.post("/logout").status_code == 303
    # A copy of the old cookie is worthless: the server has forgotten the session.
    with client.session_transaction() as session:
        session.update(stolen)
    assert client.get("/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_logout_is_post_only(client, login_as):
    login_as("sales")
    assert client.get("/logout").status_code == 405


def test_disabling_a_user_ends_their_sessions_at_once(app, client, make_user):
    user = make_user("sales")
    login(client, user)
    assert client.get("/").status_code == 200
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert client.get("/").status_code == 302


def test_password_change_ends_other_sessions_but_keeps_this_one(app, make_user):
    user = make_user("sales")
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    response = first.post("/account/password", data={
        "current": PASSWORD, "new": "Another-Good-Pass-7", "confirm": "Another-Good-Pass-7"})
    assert response.status_code == 303
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 422
    login(fresh, user, "Another-Good-Pass-7")


@pytest.mark.parametrize("new, message", [
    ("short1", "至少"),
    ("password123", "太常见"),
    ("aaaaaaaaaaaa", "过于简单"),
])
def test_password_policy(client, login_as, new, message):
    login_as("sales")
    response = client.post("/account/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_password_containing_username_is_refused(client, login_as):
    user = login_as("sales", username="zhangwei")
    response = client.post("/account/password", data={
        "current": PASSWORD, "new": "zhangwei-2026!", "confirm": "zhangwei-2026!"})
    assert response.status_code == 422
    assert user.username


def test_password_change_needs_the_current_password(client, login_as):
    login_as("sales")
    response = client.post("/account/password", data={
        "current": "not-it", "new": "Another-Good-Pass-7", "confirm": "Another-Good-Pass-7"})
    assert response.status_code == 422
    assert "当前密码不正确" in response.get_data(as_text=True)


def test_passwords_are_argon2id_hashes_with_strong_default_parameters(app, make_user, monkeypatch, tmp_path):
    from flask import Flask

    from portal.config import load

    user = make_user("sales")
    with app.app_context():
        stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    monkeypatch.setenv("PORTAL_SECRET_KEY", "x")
    probe = Flask("probe", instance_path=str(tmp_path))
    load(probe, None)
    params = probe.config["PASSWORD_HASH_PARAMS"]
    assert params["memory_cost"] >= 65536 and params["time_cost"] >= 3


def test_stored_hash_is_upgraded_when_parameters_change(app, client, make_user):
    user = make_user("sales")
    with app.app_context():
        old = db.session.get(User, user.id).password_hash
    app.config["PASSWORD_HASH_PARAMS"] = {"time_cost": 2, "memory_cost": 16, "parallelism": 1}
    try:
        login(client, user)
    finally:
        app.config["PASSWORD_HASH_PARAMS"] = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    with app.app_context():
        new = db.session.get(User, user.id).password_hash
    assert new != old and "t=2" in new


@pytest.mark.parametrize("target, expected", [
    ("/admin/users", "/admin/users"),
    ("https://evil.example/", "/"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
])
def test_next_redirect_only_to_this_site(client, make_user, target, expected):
    user = make_user("admin")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD, "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_customer_is_not_sent_to_a_staff_next(client, make_user, make_customer):
    user = make_user("customer", customer=make_customer())
    response = client.post("/login", data={"username": user.username, "password": PASSWORD, "next": "/admin/users"})
    assert response.headers["Location"] == "/my/"


def test_protected_page_redirects_to_login_with_next(client):
    response = client.get("/admin/audit?user=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "next=/admin/audit" in response.headers["Location"]


def test_htmx_request_without_login_gets_hx_redirect(client):
    response = client.get("/admin/users", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_language_switch_before_and_after_login(app, client, make_user):
    response = client.post("/account/language", data={"locale": "en", "next": "/login"})
    assert response.status_code == 303
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html
    user = make_user("sales", locale="zh")
    login(client, user)
    assert "我的一天" in client.get("/").get_data(as_text=True)  # the user's stored choice wins
    client.post("/account/language", data={"locale": "en", "next": "/"})
    assert "My day" in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"


def test_unknown_language_is_refused(client):
    assert client.post("/account/language", data={"locale": "fr"}).status_code == 422
