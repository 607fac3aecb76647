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
    "/customers/": STAFF,
    "/customers/new": ("admin", "manager", "sales"),
    "/customers/{customer_id}": STAFF,
    "/customers/{customer_id}/edit": ("admin", "manager", "sales"),
    "/customers/{customer_id}/contacts": STAFF,
    "/customers/export.xlsx": STAFF,
    "/customers/import": ("admin", "manager", "sales"),
    "/customers/import/template.xlsx": ("admin", "manager", "sales"),
}
PUBLIC_GET = ("/login", "/healthz", "/account/language")
POST_ACCESS = {
    "/logout": EVERYONE,
    "/account/password": EVERYONE,
    "/admin/users/new": ("admin",),
    "/admin/users/{user_id}": ("admin",),
    "/admin/users/{user_id}/password": ("admin",),
    "/admin/settings": ("admin",),
    "/customers/new": ("admin", "manager", "sales"),
    "/customers/{customer_id}/edit": ("admin", "manager", "sales"),
    "/customers/{customer_id}/reassign": ("admin", "manager"),
    "/customers/{customer_id}/contacts": ("admin", "manager", "sales"),
    "/customers/{customer_id}/contacts/{contact_id}": ("admin", "manager", "sales"),
    "/customers/{customer_id}/contacts/{contact_id}/delete": ("admin", "manager", "sales"),
    "/customers/{customer_id}/log": ("admin", "manager", "sales"),
    "/customers/{customer_id}/log/{log_id}/done": ("admin", "manager", "sales"),
    "/customers/import": ("admin", "manager", "sales"),
    "/customers/import/confirm": ("admin", "manager", "sales"),
}
PUBLIC_POST = ("/login", "/account/language")
# Rules whose GET needs a file that may not exist (tested on their own).
SPECIAL = {"/company/logo", "/static/<path:filename>"}


def _area_tables():
    """Areas keep their own tables in tests/test_<area>_access.py: GET_ACCESS, POST_ACCESS, optional SPECIAL and
    make_records(owner, ids) -> more ids (records of the customer ids["customer_id"], owned by `owner`), called in an
    app context. Their rules are tested here by the same tests as the core's."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("test_*_access.py")):
        yield importlib.import_module(f"tests.{path.stem}")


AREAS = list(_area_tables())
ALL_GET = dict(GET_ACCESS)
ALL_POST = dict(POST_ACCESS)
MAKERS = []
for _module in AREAS:
    ALL_GET.update(_module.GET_ACCESS)
    ALL_POST.update(_module.POST_ACCESS)
    if hasattr(_module, "make_records"):
        MAKERS.append(_module.make_records)


def test_every_route_is_in_the_access_tables(app):
    """Each (rule, method) of the app is reached by some URL of the tables (or is listed as SPECIAL)."""
    import re

    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RequestRedirect

    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, urls in (("GET", list(ALL_GET) + list(PUBLIC_GET)), ("POST", list(ALL_POST) + list(PUBLIC_POST))):
        for url in urls:
            try:
                endpoint, _args = adapter.match(re.sub(r"{\w+}", "1", url), method=method)
            except (HTTPException, RequestRedirect) as error:
                raise AssertionError(f"{method} {url} of the access tables matches no route: {error!r}") from None
            covered.add((endpoint, method))
    special = set(SPECIAL)
    for module in AREAS:
        special |= set(getattr(module, "SPECIAL", set()))
    for rule in app.url_map.iter_rules():
        if rule.rule in special:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert (rule.endpoint, method) in covered, f"add {method} {rule.rule} to the access tables of this test"


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


@pytest.fixture
def records(app, make_user, make_customer):
    """ids for the URL templates: a customer (with a contact and a log entry) owned by `owner`."""
    from portal.extensions import db
    from portal.models import Contact, ContactLog

    def make(owner=None):
        target = make_user("sales")
        customer = make_customer(owner=owner)
        with app.app_context():
            contact = Contact(customer_id=customer.id, name="联系人")
            db.session.add(contact)
            db.session.flush()
            log = ContactLog(customer_id=customer.id, user_id=getattr(owner, "id", None), kind="call",
                             summary="x", next_step="y")
            db.session.add(log)
            db.session.commit()
            ids = {"user_id": target.id, "customer_id": customer.id, "contact_id": contact.id, "log_id": log.id}
            for maker in MAKERS:
                ids.update(maker(owner=getattr(owner, "id", owner), ids=ids))
                db.session.commit()
            return ids
    return make


def _get_answer_is_wrong(url: str, role: str | None, response) -> bool:
    """Whether a GET's answer differs from the access table: a role listed gets the page (or a redirect that is
    not to sign in: only a customer's / goes to /my/), any other role 404, no login the sign-in page."""
    status, location = response.status_code, response.headers.get("Location", "")
    if role is None:
        return not (status == 302 and location.startswith("/login"))
    if role not in ALL_GET[url]:
        return status != 404
    if status == 302:
        return not ((url, role) == ("/", "customer") and location == "/my/")
    if status == 303:  # e.g. an edit page of a record that cannot change now: back to it
        return location.startswith("/login")
    return status != 200


# GETs change nothing, so each role opens every GET route on one set of records (a set per route and role cost
# ~0.2 s, 450 times a run); every wrong answer is listed.

@pytest.mark.parametrize("role", ROLES)
def test_get_access(client, signed_in, records, role):
    user = signed_in(role)
    ids = records(owner=user if role == "sales" else None)
    wrong = []
    for url in sorted(ALL_GET):
        response = client.get(url.format(**ids))
        if _get_answer_is_wrong(url, role, response):
            wrong.append(f"{url}: {response.status_code} {response.headers.get('Location', '')}")
    assert not wrong, f"{role}: {len(wrong)} of {len(ALL_GET)} GET routes answer against the table:\n" + \
        "\n".join(wrong)


def test_anonymous_is_sent_to_login(client, records):
    ids = records()
    wrong = [f"{url}: {r.status_code} {r.headers.get('Location', '')}" for url in sorted(ALL_GET)
             if _get_answer_is_wrong(url, None, r := client.get(url.format(**ids)))]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", sorted(ALL_POST))
def test_post_refused_for_roles_that_may_not(client, signed_in, records, role, url):
    user = signed_in(role)
    ids = records(owner=user if role == "sales" else None)
    response = client.post(url.format(**ids), data={})
    if role in ALL_POST[url]:
        assert response.status_code in (200, 303, 400, 409, 422)  # 409: not possible in the record's state
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("url", sorted(ALL_POST) + list(PUBLIC_POST))
def test_every_post_refuses_a_missing_csrf_token(app, client, signed_in, records, url):
    signed_in("admin")
    response = client.post(url.format(**records()), data={"locale": "en"}, csrf=False)
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


def _record_url(url: str) -> bool:
    """A URL naming a record of a customer (anything but a user id)."""
    import re
    return any(name != "user_id" for name in re.findall(r"{(\w+)}", url))


def test_another_salespersons_customer_answers_404_on_every_get(client, make_user, records):
    sales1, sales2 = make_user("sales"), make_user("sales")
    ids = records(owner=sales1)
    login(client, sales2)
    wrong = [f"{url}: {r.status_code}" for url in sorted(ALL_GET) if _record_url(url)
             if (r := client.get(url.format(**ids))).status_code != 404]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("url", [u for u in sorted(ALL_POST) if _record_url(u)])
def test_another_salespersons_customer_answers_404_on_every_post(client, make_user, records, url):
    sales1, sales2 = make_user("sales"), make_user("sales")
    ids = records(owner=sales1)
    login(client, sales2)
    assert client.post(url.format(**ids), data={}).status_code == 404


def test_portal_user_without_a_company_sees_nothing(client, make_user):
    user = make_user("customer")
    login(client, user)
    assert client.get("/my/").status_code == 404
