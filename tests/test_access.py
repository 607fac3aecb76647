"""Every route, every role: who may open it, who gets 404, who is sent to sign in; CSRF on every POST."""
import pytest

from tests.conftest import login

ROLES = ("admin", "manager", "sales", "service", "customer")
STAFF = ("admin", "manager", "sales", "service")
EVERYONE = ROLES

# url -> roles that may open it. Every rule of the app must appear here (see the test below).
GET_ACCESS = {
    "/": EVERYONE,  # customers are redirected to /my/
    "/account/password": EVERYONE,
    "/admin/users": ("admin",),
    "/admin/users/new": ("admin",),
    "/admin/users/{user_id}": ("admin",),
    "/admin/settings": ("admin",),
    "/admin/audit": ("admin",),
    "/my/": ("customer",),
}
PUBLIC_GET = ("/login", "/healthz", "/account/language")
POST_ACCESS = {
    "/logout": EVERYONE,
    "/account/password": EVERYONE,
    "/admin/users/new": ("admin",),
    "/admin/users/{user_id}": ("admin",),
    "/admin/users/{user_id}/password": ("admin",),
    "/admin/settings": ("admin",),
}
PUBLIC_POST = ("/login", "/account/language")
# Rules whose GET needs a file that may not exist (tested on their own).
SPECIAL = {"/company/logo", "/static/<path:filename>"}


def _rule_template(rule: str) -> str:
    return rule.replace("<int:user_id>", "{user_id}")


def test_every_route_is_in_the_access_tables(app):
    known = set(GET_ACCESS) | set(POST_ACCESS) | set(PUBLIC_GET) | set(PUBLIC_POST) | SPECIAL
    for rule in app.url_map.iter_rules():
        assert _rule_template(rule.rule) in known, f"add {rule.rule} to the access tables of this test"


def test_every_view_is_public_or_declares_roles(app):
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        assert getattr(view, "is_public", False) or getattr(view, "roles", None), endpoint


@pytest.fixture
def signed_in(client, make_user, make_customer):
    def sign_in(role):
        customer = make_customer() if role == "customer" else None
        user = make_user(role, customer=customer)
        login(client, user)
        return user
    return sign_in


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", sorted(GET_ACCESS))
def test_get_access(client, signed_in, make_user, role, url):
    signed_in(role)
    target = make_user("sales")
    response = client.get(url.format(user_id=target.id))
    if role in GET_ACCESS[url]:
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            assert (url, role) == ("/", "customer") and response.headers["Location"] == "/my/"
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("url", sorted(GET_ACCESS))
def test_anonymous_is_sent_to_login(client, make_user, url):
    target = make_user("sales")
    response = client.get(url.format(user_id=target.id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", sorted(POST_ACCESS))
def test_post_refused_for_roles_that_may_not(client, signed_in, make_user, role, url):
    signed_in(role)
    target = make_user("sales")
    response = client.post(url.format(user_id=target.id), data={})
    if role in POST_ACCESS[url]:
        assert response.status_code in (303, 422)
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("url", sorted(POST_ACCESS) + list(PUBLIC_POST))
def test_every_post_refuses_a_missing_csrf_token(app, client, signed_in, make_user, url):
    signed_in("admin")
    target = make_user("sales")
    response = client.post(url.format(user_id=target.id), data={"locale": "en"}, csrf=False)
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_csrf_token_from_another_session_is_refused(app, make_user):
    user = make_user("admin")
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    foreign = first.csrf_token()
    response = second.post("/admin/settings", data={"name_zh": "x"}, headers={"X-CSRFToken": foreign}, csrf=False)
    assert response.status_code == 400


def test_healthz_needs_no_login_and_writes_nothing(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_staff_cannot_open_the_customer_portal(client, signed_in):
    signed_in("manager")
    assert client.get("/my/").status_code == 404


def test_portal_user_without_a_company_sees_nothing(client, make_user):
    user = make_user("customer")
    login(client, user)
    assert client.get("/my/").status_code == 404
