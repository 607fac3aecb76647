"""The customer search through its index (customer_search_grams): the same customers as the plain LIKE over the
search text, for any text and query; the index kept exact through every write; a page whose statements and
plan do not grow with the archive; a count that stops at a cap."""
import importlib.util
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, select, text

from portal import datacache
from portal.customers import services
from portal.extensions import db
from portal.models import Contact, Customer, CustomerSearch, CustomerSearchGram, User
from portal.models.customers import search_grams, search_key

ROOT = Path(__file__).resolve().parent.parent

# Chinese, Latin in both cases and full width, digits, LIKE's wildcards and escape, separators
ALPHABET = list("华盛五金有限公司宁波贸易进出口") + list("abcAB") + list("ＡＢａ１２％＿") + list("0123%_\\ -.@+")
field = st.text(alphabet=ALPHABET, min_size=0, max_size=10)
customer_spec = st.tuples(field.filter(str.strip), field, field, st.lists(st.tuples(field.filter(str.strip), field),
                                                                           max_size=2), st.booleans())


def _plain_like(user: User, q: str) -> set[int]:
    """The search as it was before the index: one LIKE over every visible customer's search text."""
    key = search_key(q)[:100]
    pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = services.visible_customers(user).with_only_columns(Customer.id)
    if key:
        stmt = stmt.where(Customer.id.in_(select(CustomerSearch.customer_id)
                                          .where(CustomerSearch.text.like(pattern, escape="\\"))))
    return set(db.session.scalars(stmt))


def _listed(user: User, q: str, per_page: int = 3) -> list[int]:
    """Every customer of the list for `q`, page after page, in the list's order."""
    ids, number = [], 1
    while True:
        page = services.list_page(user, {"q": q}, number, per_page)
        ids += [c.id for c in page.items]
        if not page.has_next:
            return ids
        number += 1


def _index_is_exact() -> None:
    """The index holds exactly the entries of every customer's search text, and every customer has a text."""
    texts = dict(db.session.execute(select(CustomerSearch.customer_id, CustomerSearch.text)).all())
    assert set(texts) == set(db.session.scalars(select(Customer.id)))
    expected = {(gram, cid) for cid, value in texts.items() for gram in search_grams(value)}
    stored = set(db.session.execute(select(CustomerSearchGram.gram, CustomerSearchGram.customer_id)).tuples())
    assert stored == expected


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(customer_spec, min_size=1, max_size=6), data=st.data())
def test_search_finds_what_the_plain_like_finds(app, make_user, monkeypatch, specs, data):
    """Queries cut from the customers' own fields (and some made up) give the customers the plain LIKE gives,
    in the list's order, through the ids (below the cap) and through the walk (above it)."""
    with app.test_request_context():
        manager = db.session.scalar(select(User).where(User.role == "manager"))
        if manager is None:
            manager = User(username="search-manager", display_name="M", role="manager", password_hash="x")
            sales = User(username="search-sales", display_name="S", role="sales", password_hash="x")
            db.session.add_all([manager, sales])
            db.session.flush()
        sales = db.session.scalar(select(User).where(User.role == "sales"))
        try:
            for n, (name, name_en, phone, contacts, own) in enumerate(specs):
                customer = Customer(code=f"H{n:04d}", name=name, name_en=name_en or None, phone=phone or None,
                                    owner_id=sales.id if own else None)
                customer.contacts = [Contact(name=c_name, mobile=mobile or None) for c_name, mobile in contacts]
                db.session.add(customer)
            db.session.flush()
            _index_is_exact()
            fields = [f for spec in specs for f in (spec[0], spec[1], spec[2], *itertools.chain(*spec[3])) if f]
            queries = data.draw(st.lists(st.one_of(
                st.sampled_from(fields).flatmap(lambda f: st.tuples(st.integers(0, len(f)), st.integers(1, 4)).map(
                    lambda cut: f[cut[0]:cut[0] + cut[1]])),
                field), min_size=1, max_size=6))
            for q in queries:
                for user in (manager, sales):
                    expected = _plain_like(user, q)
                    for cap in (1_000, 2):  # below the cap: the ids; above: the walk along the sort
                        monkeypatch.setattr(services, "LIST_COUNT_CAP", cap)
                        listed = _listed(user, q)
                        assert set(listed) == expected, (q, cap)
                        assert len(listed) == len(expected), (q, cap)  # none twice
                        codes = [db.session.get(Customer, i).code for i in listed]
                        assert codes == sorted(codes), (q, cap)
                    assert set(db.session.scalars(services.search(user, {"q": q}).with_only_columns(Customer.id))) \
                        == expected, q  # the export's statement
        finally:
            db.session.rollback()


def test_index_follows_every_write(app, ctx, make_customer, make_user):
    """Create, edit, contact added, changed and removed, reassign, customer deleted: the entries follow."""
    other = make_customer(name="另一家有限公司")
    manager = db.session.get(User, make_user("manager").id)
    customer = services.create_customer({"name": "华盛五金", "name_en": "Huasheng", "grade": "B",
                                         "status": "active", "currency": "CNY"}, manager)
    db.session.commit()
    _index_is_exact()
    assert {c.id for c in services.list_page(manager, {"q": "华盛"}, 1, 25).items} == {customer.id}

    services.update_customer(customer, {"name": "恒泰贸易", "grade": "B", "status": "active", "currency": "CNY"},
                             manager, customer.version)
    db.session.commit()
    _index_is_exact()
    assert services.list_page(manager, {"q": "华盛"}, 1, 25).items == []
    assert services.list_page(manager, {"q": "恒泰"}, 1, 25).items == [customer]

    contact = services.add_contact(customer, {"name": "Ｗａｎｇ Li", "mobile": "138 0000 1111"})
    db.session.commit()
    _index_is_exact()
    assert services.list_page(manager, {"q": "wang l"}, 1, 25).items == [customer]
    assert services.list_page(manager, {"q": "0000 1"}, 1, 25).items == [customer]

    services.update_contact(contact, {"name": "Zhao Min"})
    db.session.commit()
    _index_is_exact()
    assert services.list_page(manager, {"q": "wang"}, 1, 25).items == []

    services.remove_contact(contact)
    db.session.commit()
    _index_is_exact()
    assert services.list_page(manager, {"q": "zhao"}, 1, 25).items == []

    version = customer.version
    services.update_customer(customer, {"name": "恒泰贸易", "grade": "A", "status": "active", "currency": "CNY"},
                             manager, version)  # nothing searchable changed: nothing written to the index
    writes = []
    listener = lambda *args: writes.append(args[2]) if "customer_search" in args[2] else None  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert not [w for w in writes if not w.lstrip().upper().startswith("SELECT")], writes
    _index_is_exact()

    db.session.delete(db.session.get(Customer, customer.id))
    db.session.commit()
    _index_is_exact()
    assert db.session.scalar(select(CustomerSearchGram.customer_id).where(
        CustomerSearchGram.customer_id == customer.id)) is None
    assert services.list_page(manager, {"q": "有限"}, 1, 25).items == [db.session.get(Customer, other.id)]


def test_a_customer_whose_text_was_removed_by_hand_is_indexed_afresh(app, ctx, make_customer):
    """Rows deleted outside the ORM leave entries without a text; the customer's next write starts it afresh."""
    customer = make_customer(name="华盛五金")
    db.session.execute(delete(CustomerSearch))
    db.session.commit()
    row = db.session.get(Customer, customer.id)
    row.name = "恒泰五金"
    db.session.commit()
    _index_is_exact()


@pytest.mark.parametrize("q", ["%", "_", "\\", "%%__", "a%b", "1_2", "' OR 1=1 --", "华" * 100, "％", "　"])
def test_awkward_queries_answer_like_the_plain_like(app, client, login_as, make_customer, q):
    manager = login_as("manager")
    for name in ("100%纯铜", "a_b五金", "back\\slash", "华华华有限公司", "普通客户"):
        make_customer(name=name)
    response = client.get("/customers/", query_string={"q": q})
    assert response.status_code == 200
    with app.test_request_context():
        user = db.session.get(User, manager.id)
        expected = _plain_like(user, q)
        assert {c.id for c in services.list_page(user, {"q": q}, 1, 25).items} == expected
        # longer than the form takes: the service cuts at 100 characters like before (control characters never
        # get here, the form refuses them: SQLite's LIKE stops reading a pattern at a NUL)
        for odd in ("华" * 300, q * 101):
            assert {c.id for c in services.list_page(user, {"q": odd}, 1, 25).items} == _plain_like(user, odd)
    html = response.get_data(as_text=True)
    with app.app_context():
        for customer in db.session.scalars(select(Customer)):
            assert (customer.code in html) == (customer.id in expected), (q, customer.name)


def test_the_rarest_entry_drives_the_query(app, ctx, make_customer):
    for i in range(6):
        make_customer(name=f"有限公司{i}")
    make_customer(name="限时特卖")
    assert services.text_query("有限").entry == "有限" and services.text_query("有限").pattern is None
    assert services.text_query("x").entry == "x"
    query = services.text_query("有限时")  # 有限: six customers, 限时: one
    assert query.entry == "限时" and query.pattern == "%有限时%"
    long_query = services.text_query("有限公司" * 10)  # a long query counts a few entries spread over it
    assert long_query.entry in {"有限", "限公", "公司", "司有"}


def test_the_count_stops_at_the_cap(app, client, login_as, make_customer, monkeypatch):
    sales = login_as("sales")
    mine = [make_customer(owner=sales, name=f"华盛{i:02d}号") for i in range(12)]
    make_customer(name="华盛别人的")
    monkeypatch.setattr(services, "LIST_COUNT_CAP", 5)
    from portal.customers import views
    monkeypatch.setattr(views, "PER_PAGE", 4)
    seen, number = [], 1
    while True:
        html = client.get(f"/customers/?q=华盛&page={number}").get_data(as_text=True)
        if number == 1:
            assert "More than 5 customers" in html or "超过 5 个客户" in html
        seen += [c.code for c in mine if c.code in html]
        if f"page={number + 1}" not in html:
            break
        number += 1
    assert seen == [c.code for c in mine]  # every page, in order, the last one found by the one row more
    assert number == 3
    html = client.get("/customers/?q=华盛01").get_data(as_text=True)
    assert "1 customers" in html or "1 个客户" in html


def _statements(app, fn) -> int:
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_statements_do_not_grow_with_matches(app, client, login_as, make_user, make_customer, monkeypatch):
    login_as("manager")
    owners = [make_user("sales") for _ in range(3)]
    monkeypatch.setattr(services, "LIST_COUNT_CAP", 20)
    queries = ["华", "华盛", "华盛五金", "hard", ""]
    for i in range(3):
        make_customer(owner=owners[i % 3], name=f"华盛五金{i}", name_en="Huasheng Hardware")
    for q in queries:
        client.get("/customers/", query_string={"q": q})
    few = {q: datacache.clear() or _statements(app, lambda: client.get("/customers/", query_string={"q": q}))
           for q in queries}  # each with the per-worker caches empty (portal/datacache.py): every statement
    for i in range(40):  # past the cap: the page walks instead of reading the ids
        make_customer(owner=owners[i % 3], name=f"华盛五金{i + 3}", name_en="Huasheng Hardware")
    many = {q: datacache.clear() or _statements(app, lambda: client.get("/customers/", query_string={"q": q}))
            for q in queries}
    assert few == many


def test_sqlite_plans_search_the_index(app, ctx, make_user, make_customer):
    """SQLite: the ids come from the entry's rows (a search of the primary key, never a scan of the texts or
    the customers), and the walk checks each customer with a seek. PostgreSQL: the index exists as declared."""
    manager_id, sales_id = make_user("manager").id, make_user("sales").id
    make_customer(owner=sales_id, name="华盛五金")
    manager, sales = db.session.get(User, manager_id), db.session.get(User, sales_id)
    if db.engine.dialect.name != "sqlite":
        columns = db.session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                         "'pk_customer_search_grams'"))
        assert "(gram, customer_id)" in columns
        return

    def plan(stmt) -> str:
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        return " | ".join(row[3] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + str(compiled))))

    for user in (manager, sales):
        for q in ("华", "华盛", "华盛五金"):
            query = services.text_query(q)
            ids = plan(services._matching_ids(user, {"q": q}, query).limit(10))
            assert ids.startswith("SEARCH customer_search_grams USING PRIMARY KEY (gram=?)"), (q, ids)
            assert "SCAN" not in ids, (q, ids)
            walk = plan(services.search(user, {"q": q}, query, by_sort_index=True).limit(10))
            assert "SEARCH customer_search_grams USING" in walk and "customer_id=?" in walk, (q, walk)
            assert "SCAN customer_search " not in walk and "USE TEMP B-TREE FOR ORDER BY" not in walk, (q, walk)


def test_migration_builds_the_same_entries_as_the_model():
    """0010 carries its own copy of search_grams (a later change to the model must not change what an old
    migration does); the two agree."""
    path = ROOT / "portal/migrations/versions/0010_customer_search_grams.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for value in ("", "c00001\n华盛五金有限公司\nhuasheng hardware co., ltd.\n138 0000 1111", "a", "a\nb",
                  "%_\\\n\n１２", "x" * 50):
        assert module._search_grams(value) == search_grams(value)
    assert search_grams("ab\ncd") == {"a", "b", "c", "d", "ab", "cd"}  # nothing across two fields
