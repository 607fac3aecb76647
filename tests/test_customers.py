"""Customer archive: validation, duplicates, scoping, editing, contacts, contact log, my day."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from portal import datacache
from portal.customers import services
from portal.extensions import db
from portal.models import AuditLog, Contact, ContactLog, Customer
from portal import datacache
from tests.conftest import login

VALID = {"grade": "C", "status": "prospect", "currency": "CNY"}


# Validation rules

@pytest.mark.parametrize("code", [
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
    "914403001922038216",  # 华为技术有限公司
])
def test_real_credit_codes_are_valid(code):
    assert services.credit_code_valid(code)


@pytest.mark.parametrize("code", [
    "91440300708461136A",  # wrong check character
    "91440300708461137T",  # one digit changed
    "9144030070846113",  # too short
    "91440300708461136TT",  # too long
    "91440300708461I36T",  # I is not in the alphabet
    "",
])
def test_bad_credit_codes_are_refused(code):
    assert not services.credit_code_valid(code)


def test_credit_code_is_normalised_before_checking(ctx):
    values = services.clean({"name": "x", **VALID, "credit_code": " ９１４４０３００７０８４６１１３６ｔ "})
    assert values["credit_code"] == "91440300708461136T"


@pytest.mark.parametrize("a, b", [
    ("宁波恒达五金有限公司", " 宁波恒达五金有限公司 "),
    ("宁波恒达五金（集团）有限公司", "宁波恒达五金(集团)有限公司"),
    ("ACME Trading GmbH", "ａｃｍｅ  trading ＧＭＢＨ"),
])
def test_name_key_ignores_width_case_and_spaces(a, b):
    assert services.name_key(a) == services.name_key(b)


def test_all_problems_reported_at_once(ctx):
    with pytest.raises(services.CustomerError) as info:
        services.clean({"name": "", "grade": "Z", "status": "x", "currency": "JPY", "credit_code": "123",
                        "country": "China", "credit_limit": "-5"})
    assert set(info.value.errors) == {"name", "grade", "status", "currency", "credit_code", "country", "credit_limit"}


# Pages: create, duplicates, edit

def test_salesperson_creates_a_customer_assigned_to_themself(app, client, login_as):
    sales = login_as("sales")
    response = client.post("/customers/new", data={"name": "  宁波新客户有限公司 ", "credit_code": "91440300708461136T",
                                                   "country": "cn", "credit_limit": "50000", "owner_id": "", **VALID})
    assert response.status_code == 303
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        assert customer.code == "C00001" and customer.owner_id == sales.id
        assert customer.name == "宁波新客户有限公司" and customer.country == "CN"
        assert str(customer.credit_limit) == "50000.00"
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "create", AuditLog.entity_type == "Customer"))


def test_invalid_form_is_422_with_errors_beside_fields_and_values_kept(app, client, login_as):
    login_as("sales")
    response = client.post("/customers/new", data={"name": "保留我", "credit_code": "123456", "email": "not-mail",
                                                   **VALID})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="保留我"' in html and 'id="credit_code-error"' in html and 'id="email-error"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_duplicate_of_own_customer_names_it(client, login_as, make_customer):
    sales = login_as("sales")
    existing = make_customer(owner=sales, name="宁波恒达五金有限公司", name_key=services.name_key("宁波恒达五金有限公司"))
    response = client.post("/customers/new", data={"name": "宁波恒达五金有限公司 ", **VALID})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and existing.code in html


def test_duplicate_of_someone_elses_customer_reveals_nothing(client, login_as, make_user, make_customer):
    login_as("sales")
    other = make_user("sales", display_name="Other Seller")
    hidden = make_customer(owner=other, name="ＡＣＭＥ Trading GmbH", credit_code="91330100799655058B",
                           name_key=services.name_key("ＡＣＭＥ Trading GmbH"))
    for data in ({"name": "acme trading gmbh"}, {"name": "Different", "credit_code": "91330100799655058B"}):
        response = client.post("/customers/new", data={**data, **VALID})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "属于其他业务员" in html
        assert hidden.code not in html and "Other Seller" not in html


def test_edit_keeps_history_and_refuses_a_stale_save(app, client, login_as, make_customer, make_user):
    sales = login_as("sales")
    customer = make_customer(owner=sales, name="旧名称有限公司")
    form = {"name": "新名称有限公司", "grade": "A", "status": "active", "currency": "CNY", "version": "1"}
    assert client.post(f"/customers/{customer.id}/edit", data=form).status_code == 303
    # A second editor who opened the form at version 1 is refused, told what changed, and nothing is lost.
    stale = client.post(f"/customers/{customer.id}/edit", data={**form, "name": "第三个名称", "version": "1"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "name" in html and "grade" in html and "其他人" in html
    with app.app_context():
        saved = db.session.get(Customer, customer.id)
        assert saved.name == "新名称有限公司" and saved.grade == "A" and saved.version == 2
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "update"))
        assert entry.changes["name"] == ["旧名称有限公司", "新名称有限公司"]
    history = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "旧名称有限公司" in history


def test_manager_reassigns_and_it_is_audited(app, client, login_as, make_user, make_customer):
    login_as("manager")
    first, second = make_user("sales"), make_user("sales")
    customer = make_customer(owner=first)
    assert client.post(f"/customers/{customer.id}/reassign", data={"owner_id": str(second.id)}).status_code == 303
    with app.app_context():
        assert db.session.get(Customer, customer.id).owner_id == second.id
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "reassign"))
        assert entry.changes["owner_id"] == [first.id, second.id]
    first_client = app.test_client()
    login(first_client, first)
    assert first_client.get(f"/customers/{customer.id}").status_code == 404


def test_service_staff_read_all_but_change_nothing(client, login_as, make_user, make_customer):
    login_as("service")
    customer = make_customer(owner=make_user("sales"), name="服务可见客户")
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "服务可见客户" in page and f"/customers/{customer.id}/edit" not in page
    assert client.post(f"/customers/{customer.id}/contacts", data={"name": "x"}).status_code == 404
    assert client.post(f"/customers/{customer.id}/log", data={"kind": "call", "summary": "x"}).status_code == 404


# List, search, filters, sort

def test_salesperson_sees_and_searches_only_their_customers(client, login_as, make_user, make_customer, app):
    sales = login_as("sales")
    mine = make_customer(owner=sales, name="我的客户宁波", phone="0574-1234")
    theirs = make_customer(owner=make_user("sales"), name="别人的客户宁波")
    with app.app_context():
        db.session.add(Contact(customer_id=mine.id, name="王小明", mobile="13800001111"))
        db.session.add(Contact(customer_id=theirs.id, name="王小明", mobile="13800001111"))
        db.session.commit()
    for q in ("宁波", "王小明", "1380000", mine.code.lower(), ""):
        html = client.get(f"/customers/?q={q}").get_data(as_text=True)
        assert mine.code in html and theirs.code not in html, q


def test_filters_and_sort(client, login_as, make_customer):
    sales = login_as("sales")
    a = make_customer(owner=sales, name="甲公司", grade="A", status="active", country="DE")
    b = make_customer(owner=sales, name="乙公司", grade="B", status="prospect", country="CN")
    html = client.get("/customers/?grade=A").get_data(as_text=True)
    assert a.code in html and b.code not in html
    html = client.get("/customers/?status=prospect&country=CN").get_data(as_text=True)
    assert b.code in html and a.code not in html
    html = client.get("/customers/?sort=-code").get_data(as_text=True)
    assert html.index(b.code) < html.index(a.code)
    assert client.get("/customers/?grade=Q").status_code == 200  # a bad filter is ignored, never a 500


def test_htmx_search_returns_only_the_list(client, login_as, make_customer):
    sales = login_as("sales")
    make_customer(owner=sales, name="片段客户")
    response = client.get("/customers/?q=片段", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and "片段客户" in html and "HX-Request" in response.headers["Vary"]


def _count_statements(app, fn):
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_list_page_runs_a_fixed_number_of_statements(app, client, login_as, make_user, make_customer):
    manager = login_as("manager")
    owners = [make_user("sales") for _ in range(3)]
    for i in range(3):
        make_customer(owner=owners[i % 3])
    datacache.clear()  # each measured with the per-worker caches empty (portal/datacache.py): every statement
    few = _count_statements(app, lambda: client.get("/customers/"))
    for i in range(30):
        make_customer(owner=owners[i % 3])
    datacache.clear()
    many = _count_statements(app, lambda: client.get("/customers/"))
    assert few == many, (few, many)
    assert manager


def test_detail_page_runs_a_fixed_number_of_statements(app, client, login_as, make_customer):
    sales = login_as("sales")
    customer = make_customer(owner=sales)

    def add(count):
        with app.app_context():
            for i in range(count):
                contact = Contact(customer_id=customer.id, name=f"c{i}")
                db.session.add(contact)
                db.session.flush()
                db.session.add(ContactLog(customer_id=customer.id, user_id=sales.id, contact_id=contact.id,
                                          kind="call", summary=f"s{i}"))
            db.session.commit()

    add(1)  # eager loads run once there is at least one row; from then on the count must not grow
    few = _count_statements(app, lambda: client.get(f"/customers/{customer.id}"))
    add(10)
    many = _count_statements(app, lambda: client.get(f"/customers/{customer.id}"))
    assert few == many, (few, many)


# Contacts and contact log

def test_inline_contact_add_edit_remove(app, client, login_as, make_customer):
    sales = login_as("sales")
    customer = make_customer(owner=sales)
    hx = {"HX-Request": "true"}
    form = client.get(f"/customers/{customer.id}/contacts?edit=new", headers=hx).get_data(as_text=True)
    assert 'id="contacts"' in form and "<html" not in form and 'name="name"' in form
    added = client.post(f"/customers/{customer.id}/contacts", headers=hx,
                        data={"name": "周杰", "title": "采购经理", "mobile": "13912345678"})
    assert added.status_code == 200 and "周杰" in added.get_data(as_text=True)
    bad = client.post(f"/customers/{customer.id}/contacts", headers=hx, data={"name": ""})
    assert bad.status_code == 422 and 'id="name-error"' in bad.get_data(as_text=True)
    with app.app_context():
        contact = db.session.scalar(select(Contact))
        assert contact.is_primary  # the first contact is the primary one
    edited = client.post(f"/customers/{customer.id}/contacts/{contact.id}", headers=hx,
                         data={"name": "周杰伦", "is_primary": "y"})
    assert edited.status_code == 200 and "周杰伦" in edited.get_data(as_text=True)
    removed = client.post(f"/customers/{customer.id}/contacts/{contact.id}/delete", headers=hx)
    assert removed.status_code == 200 and "周杰伦" not in removed.get_data(as_text=True)
    with app.app_context():
        actions = [e.action for e in db.session.scalars(
            select(AuditLog).where(AuditLog.parent_type == "Customer", AuditLog.parent_id == customer.id))]
        assert actions == ["create", "update", "delete"]


def test_only_one_primary_contact(app, client, login_as, make_customer):
    sales = login_as("sales")
    customer = make_customer(owner=sales)
    for name in ("甲", "乙"):
        client.post(f"/customers/{customer.id}/contacts", data={"name": name, "is_primary": "y"})
    with app.app_context():
        primaries = db.session.scalars(select(Contact.name).where(Contact.is_primary.is_(True))).all()
    assert primaries == ["乙"]


def test_contact_of_another_customer_answers_404(app, client, login_as, make_customer):
    sales = login_as("sales")
    mine, other = make_customer(owner=sales), make_customer(owner=sales)
    with app.app_context():
        contact = Contact(customer_id=other.id, name="x")
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
    assert client.post(f"/customers/{mine.id}/contacts/{contact_id}", data={"name": "y"}).status_code == 404
    assert client.get(f"/customers/{mine.id}/contacts?edit={contact_id}").status_code == 404


def test_contact_log_newest_first_and_next_steps_on_my_day(app, client, login_as, make_customer):
    sales = login_as("sales")
    customer = make_customer(owner=sales, name="日报客户")
    today = date.today()
    client.post(f"/customers/{customer.id}/log", data={"kind": "visit", "summary": "第一次拜访"})
    client.post(f"/customers/{customer.id}/log", data={
        "kind": "call", "summary": "电话跟进", "next_step": "寄送样品", "next_date": (today - timedelta(days=2)).isoformat()})
    html = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert html.index("电话跟进") < html.index("第一次拜访")
    home = client.get("/").get_data(as_text=True)
    assert "寄送样品" in home and "日报客户" in home and "已逾期" in home
    with app.app_context():
        entry = db.session.scalar(select(ContactLog).where(ContactLog.next_step == "寄送样品"))
    assert client.post(f"/customers/{customer.id}/log/{entry.id}/done", data={"next": "/"}).status_code == 303
    home = client.get("/").get_data(as_text=True)
    next_steps = home[home.index('id="next-steps"'):home.index('id="daily-report"')]
    assert "寄送样品" not in next_steps and "寄送样品" in home  # done, still in today's report


def test_log_entry_needs_a_summary_and_a_next_step_for_a_date(client, login_as, make_customer):
    sales = login_as("sales")
    customer = make_customer(owner=sales)
    response = client.post(f"/customers/{customer.id}/log", data={"kind": "call", "summary": "",
                                                                   "next_date": "2026-12-01"})
    assert response.status_code == 422
    response = client.post(f"/customers/{customer.id}/log", data={"kind": "call", "summary": "ok",
                                                                  "next_date": "2026-12-01"})
    assert response.status_code == 422 and "下一步" in response.get_data(as_text=True)


def test_parallel_creation_gives_gap_free_codes(app, make_user):
    """Eight users create customers at the same time through the whole HTTP stack."""
    users = [make_user("sales") for _ in range(8)]
    errors, statuses = [], []

    def work(user, n):
        client = app.test_client()
        login(client, user)
        for i in range(5):
            response = client.post("/customers/new", data={"name": f"并发客户{n}-{i}", **VALID})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=lambda u=u, n=n: (work(u, n) if True else None)) for n, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and statuses.count(303) == 40, statuses
    with app.app_context():
        codes = sorted(db.session.scalars(select(Customer.code)))
    assert codes == [f"C{n:05d}" for n in range(1, 41)]


def test_my_day_lists_todays_contacts_and_the_team_count(app, client, login_as, make_user, make_customer):
    sales = login_as("sales", display_name="日报业务员")
    customer = make_customer(owner=sales, name="今日客户")
    client.post(f"/customers/{customer.id}/log", data={"kind": "visit", "summary": "今天上门拜访"})
    html = client.get("/").get_data(as_text=True)
    assert 'id="daily-report"' in html and "今天上门拜访" in html
    manager = app.test_client()
    login(manager, make_user("manager"))
    team = manager.get("/").get_data(as_text=True)
    assert "日报业务员" in team


def test_bank_details_are_kept_and_shown(app, client, login_as, make_customer):
    user = login_as("sales")
    customer = make_customer(owner=user)
    page = client.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    from tests.conftest import form_value
    data = {"name": customer.name, "country": "CN", "grade": "B", "status": "active", "currency": "CNY",
            "version": form_value(page, "version"), "bank_name": "中国银行宁波分行", "bank_account": "3584 0000 1111"}
    response = client.post(f"/customers/{customer.id}/edit", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert "中国银行宁波分行" in client.get(f"/customers/{customer.id}").get_data(as_text=True)


def test_list_counts_every_customer_in_scope(app, client, login_as, make_user, make_customer):
    """The count above the list: a manager's covers every customer, a salesperson's their own, a filter's its
    matches (counted in the database, up to the cap)."""
    manager = login_as("manager")
    owners = [make_user("sales"), make_user("sales")]
    for i in range(5):
        make_customer(owner=owners[i % 2], grade="A" if i < 2 else "B")
    html = client.get("/customers/").get_data(as_text=True)
    assert "共 5 个客户" in html and "id=\"result-count\"" in html
    assert "共 2 个客户" in client.get("/customers/?grade=A").get_data(as_text=True)
    assert "共 3 个客户" in client.get(f"/customers/?owner={owners[0].id}").get_data(as_text=True)
    seller = app.test_client()
    login(seller, owners[1])
    assert "共 2 个客户" in seller.get("/customers/").get_data(as_text=True)
    assert manager


def test_record_page_lists_each_salespersons_own_business_and_log(app, make_user, make_customer):
    """The record page's statements are built once per scope (customers.access.customer_scope_key): two
    salespeople and a manager, one after the other in one process, each see the customer's orders and log."""
    first, second, manager = make_user("sales"), make_user("sales"), make_user("manager")
    pages = {}
    for owner in (first, second):
        customer = make_customer(owner=owner, name=f"{owner.username}客户有限公司")
        client = app.test_client()
        login(client, owner)
        response = client.post("/orders/new", data={
            "customer_code": customer.code, "currency": "CNY", "deposit_percent": "30", "balance_days": "30",
            "balance_basis": "shipment", "promised_date": "2026-12-31"})
        assert response.status_code == 303
        order_id = int(response.headers["Location"].split("/orders/")[1].split("#")[0])
        assert client.post(f"/customers/{customer.id}/log", data={"kind": "call", "summary": f"电话 {owner.username}"}
                           ).status_code in (200, 303)
        pages[owner.username] = (client, customer, order_id)
    manager_client = app.test_client()
    login(manager_client, manager)
    for username, (client, customer, order_id) in pages.items():
        for reader in (client, manager_client):
            page = reader.get(f"/customers/{customer.id}").get_data(as_text=True)
            assert f'href="/orders/{order_id}"' in page, (username, reader is manager_client)
            assert f"电话 {username}" in page
        other = next(c for name, (c, _customer, _order) in pages.items() if name != username)
        assert other.get(f"/customers/{customer.id}").status_code == 404


def test_recent_history_is_the_newest_of_the_trail(app, client, login_as, make_customer):
    """audit.recent (the record pages' prebuilt statement) gives what history(...).limit(RECENT) gives: the
    record's own rows and its parts' rows, newest first, for this record only."""
    from portal import audit

    sales = login_as("sales")
    customer, other = make_customer(owner=sales), make_customer(owner=sales)
    for n, record in enumerate((customer, other, customer)):
        assert client.post(f"/customers/{record.id}/contacts", data={"name": f"联系人{n}"}).status_code in (200, 303)
        form = {"name": f"新名称{n}有限公司", "grade": "A", "status": "active", "currency": "CNY",
                "version": str(1 + n // 2)}
        assert client.post(f"/customers/{record.id}/edit", data=form).status_code == 303
    with app.app_context():
        record = db.session.get(Customer, customer.id)
        full = db.session.scalars(audit.history(record)).all()
        assert len(full) >= 4 and {(e.entity_type, e.parent_type) for e in full} >= {("Customer", None),
                                                                                    ("Contact", "Customer")}
        assert audit.recent(record) == db.session.scalars(audit.history(record).limit(audit.RECENT)).all()


def test_record_page_counts_the_whole_log_and_shows_the_latest(app, client, login_as, make_customer, monkeypatch):
    """The log's length comes with its rows (a window count before the limit): the page says how many there are
    and that it shows the latest; a log that fits says nothing more."""
    from portal.customers import views

    monkeypatch.setattr(views, "_LOG", views._LOG.limit(3))  # the statement is built once, with LOG_SHOWN = 30
    sales = login_as("sales")
    customer, empty = make_customer(owner=sales), make_customer(owner=sales)
    for n in range(5):
        assert client.post(f"/customers/{customer.id}/log", data={"kind": "call", "summary": f"第{n}次电话"}
                           ).status_code in (200, 303)
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert '<span class="muted small">(5)</span>' in page and "显示最近 3 条记录。" in page
    assert "第4次电话" in page and "第2次电话" in page and "第1次电话" not in page
    page = client.get(f"/customers/{empty.id}").get_data(as_text=True)
    assert '<span class="muted small">(0)</span>' in page and "显示最近" not in page
