"""User administration, company settings, audit trail."""
import io

from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog, CompanySettings, User
from tests.conftest import PASSWORD, login


def _png(size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_admin_creates_a_user_who_can_sign_in(app, client, login_as):
    login_as("admin")
    response = client.post("/admin/users/new", data={
        "username": "Wang.Fang", "display_name": "王芳", "role": "sales", "locale": "zh",
        "active": "y", "password": "Factory-Desk-2026"})
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "wang.fang"))
        assert user.display_name == "王芳" and user.role == "sales"
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "create", AuditLog.entity_id == user.id))
        assert entry.entity_type == "User" and entry.ip == "127.0.0.1"
    other = app.test_client()
    login(other, "wang.fang", "Factory-Desk-2026")


def test_new_user_form_errors_keep_values_and_change_nothing(app, client, login_as, make_user):
    login_as("admin")
    make_user("sales", username="taken")
    response = client.post("/admin/users/new", data={
        "username": "taken", "display_name": "保留的名字", "role": "sales", "locale": "zh", "password": "123"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "该用户名已被使用" in html and 'value="保留的名字"' in html
    with app.app_context():
        assert db.session.scalar(select(User).where(User.display_name == "保留的名字")) is None


def test_portal_user_needs_an_existing_customer_code(client, login_as, make_customer):
    login_as("admin")
    data = {"username": "buyerx", "display_name": "Buyer", "role": "customer", "locale": "en",
            "password": "Factory-Desk-2026", "active": "y"}
    assert client.post("/admin/users/new", data=data).status_code == 422
    assert "没有编号为" in client.post("/admin/users/new", data=data | {"customer_code": "C99999"}).get_data(as_text=True)
    customer = make_customer()
    assert client.post("/admin/users/new", data=data | {"customer_code": customer.code.lower()}).status_code == 303


def test_disabling_a_user_is_audited_and_signs_them_out(app, client, login_as, make_user):
    login_as("admin")
    victim = make_user("sales", display_name="Old Name")
    victim_client = app.test_client()
    login(victim_client, victim)
    response = client.post(f"/admin/users/{victim.id}", data={
        "username": victim.username, "display_name": "New Name", "role": "sales", "locale": "zh"})
    assert response.status_code == 303
    assert victim_client.get("/").status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "update", AuditLog.entity_id == victim.id))
        assert entry.changes["active"] == [True, False]
        assert entry.changes["display_name"] == ["Old Name", "New Name"]


def test_admin_cannot_disable_themself(client, login_as):
    admin = login_as("admin")
    response = client.post(f"/admin/users/{admin.id}", data={
        "username": admin.username, "display_name": "x", "role": "admin", "locale": "zh"})
    assert response.status_code == 422


def test_password_reset_ends_sessions_and_checks_policy(app, client, login_as, make_user):
    login_as("admin")
    victim = make_user("service")
    victim_client = app.test_client()
    login(victim_client, victim)
    assert client.post(f"/admin/users/{victim.id}/password", data={"password": "123456"}).status_code == 422
    assert victim_client.get("/").status_code == 200
    assert client.post(f"/admin/users/{victim.id}/password", data={"password": "Reset-By-Admin-9"}).status_code == 303
    assert victim_client.get("/").status_code == 302
    login(app.test_client(), victim, "Reset-By-Admin-9")


def test_settings_saved_with_logo_and_audited(app, client, login_as):
    login_as("admin")
    response = client.post("/admin/settings", data={
        "name_zh": "测试工厂", "name_en": "Test Factory", "email": "sales@example.com",
        "logo": (io.BytesIO(_png()), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 303
    logo = client.get("/company/logo")
    assert logo.status_code == 200 and logo.data == _png()
    assert "测试工厂" in app.test_client().get("/login").get_data(as_text=True)
    with app.app_context():
        settings = db.session.get(CompanySettings, 1)
        assert settings.name_en == "Test Factory" and settings.logo_file.endswith(".png")
        assert db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "CompanySettings"))


def test_logo_must_really_be_an_image(app, client, login_as):
    login_as("admin")
    fake = b"<html><script>alert(1)</script></html>"
    response = client.post("/admin/settings", data={
        "name_zh": "测试工厂", "logo": (io.BytesIO(fake), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "不是 PNG 或 JPEG 图片" in response.get_data(as_text=True)
    with app.app_context():
        settings = db.session.get(CompanySettings, 1)
        assert settings is None or settings.name_zh != "测试工厂"


def test_logo_size_is_capped(client, login_as):
    login_as("admin")
    big = _png() + b"\0" * (2 * 1024 * 1024)
    response = client.post("/admin/settings", data={
        "name_zh": "x", "logo": (io.BytesIO(big), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 422 and "超过" in response.get_data(as_text=True)


def test_no_logo_answers_404(client):
    assert client.get("/company/logo").status_code == 404


def test_audit_trail_filters_and_pages(app, client, login_as, make_user):
    admin = login_as("admin")
    for _ in range(3):
        client.post("/admin/users/new", data={})  # refused, no audit rows
    for i in range(55):
        make_user("sales", username=f"bulk{i}")
    with app.app_context():
        from portal import audit
        for i in range(55):
            audit.record("update", summary=f"entry {i}", user=db.session.get(User, admin.id))
        db.session.commit()
    page1 = client.get(f"/admin/audit?user={admin.username}&action=update")
    assert page1.status_code == 200 and "共 55 条" in page1.get_data(as_text=True)
    page2 = client.get(f"/admin/audit?user={admin.username}&action=update&page=2", headers={"HX-Request": "true"})
    assert "entry 0" in page2.get_data(as_text=True) and "<html" not in page2.get_data(as_text=True)
    assert "共 0 条" in client.get("/admin/audit?action=update&date_to=2000-01-01").get_data(as_text=True)
    assert client.get("/admin/audit?date_from=not-a-date").status_code == 422


def test_user_search(client, login_as, make_user):
    login_as("admin")
    make_user("sales", username="zhoujie")
    make_user("sales", username="wangfang")
    html = client.get("/admin/users?q=zhou", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "zhoujie" in html and "wangfang" not in html


def test_login_and_failed_login_are_audited(app, client, make_user):
    user = make_user("sales")
    client.post("/login", data={"username": user.username, "password": "nope"})
    login(client, user, PASSWORD)
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["login_failed", "login"]


def test_after_sales_settings_saved_and_checked(app, client, login_as):
    login_as("admin")
    response = client.post("/admin/settings", data={"name_zh": "测试工厂", "visit_delay_days": "10",
                                                    "ticket_days_critical": "1"})
    assert response.status_code == 303
    with app.app_context():
        settings = db.session.get(CompanySettings, 1)
        assert (settings.visit_delay_days, settings.ticket_days_critical, settings.ticket_days_major) == (10, 1, 5)
    response = client.post("/admin/settings", data={"name_zh": "测试工厂", "visit_delay_days": "0"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(CompanySettings, 1).visit_delay_days == 10
