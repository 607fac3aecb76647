"""The lists rewritten for 100,000 orders give what the simple versions gave: receivables aged and ordered in
the database (checked against `_split` order by order), the order list with a capped count and, on SQLite,
walked by the sort index; the customer search row kept current through every write."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.demo_trade import BulkRows
from portal.extensions import db
from portal.models import Contact, Customer, CustomerSearch, Order, User
from portal.orders import services as orders

AS_OF = date(2026, 11, 20)
SIGNED = list(orders.SIGNED_STATES)

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)
percent = st.sampled_from([Decimal(0), Decimal(30), Decimal("33.33"), Decimal("12.5"), Decimal(50), Decimal(100),
                           Decimal("0.01")])
day = st.one_of(st.none(), st.integers(-200, 60).map(lambda d: AS_OF + timedelta(days=d)))
order_spec = st.tuples(st.integers(0, 3), st.sampled_from(["USD", "EUR", "CNY"]), money,
                       st.floats(0, 1.2), percent, day, day, st.sampled_from(SIGNED + ["closed", "quoted"]))


def _reference(specs, customer_ids):
    """Every open signed order split by `_split` in Python: {(customer, currency): buckets}, totals."""
    groups, totals = {}, {}
    for customer, currency, total, share, pct, contract_on, balance_on, state in specs:
        paid = min(total, (total * Decimal(str(round(share, 3)))).quantize(Decimal("0.01")))
        if state not in SIGNED or paid >= total:
            continue
        split, _ = orders._split(total, paid, pct, contract_on, balance_on, AS_OF)
        key = (customer_ids[customer], currency)
        group = groups.setdefault(key, {name: Decimal("0.00") for name in orders.BUCKETS})
        overall = totals.setdefault(currency, {name: Decimal("0.00") for name in orders.BUCKETS})
        for name in orders.BUCKETS:
            group[name] += split[name]
            overall[name] += split[name]
    return groups, totals


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(order_spec, min_size=1, max_size=25))
def test_receivables_in_sql_match_the_python_split(app, make_customer, specs):
    with app.app_context():
        manager = db.session.scalar(db.select(User).where(User.role == "manager"))
        if manager is None:
            manager = User(username="rx-manager", display_name="M", role="manager", password_hash="x")
            db.session.add(manager)
            db.session.commit()
    customer_ids = [make_customer(name=f"R客户{i}").id for i in range(4)]
    try:
        _check_receivables(app, specs, customer_ids)
    finally:  # hypothesis runs many examples in one test: each starts without orders or customers
        with app.app_context():
            db.session.execute(db.delete(Order))
            db.session.execute(db.delete(CustomerSearch))
            db.session.execute(db.delete(Customer))
            db.session.commit()


def _check_receivables(app, specs, customer_ids):
    with app.test_request_context():
        rows = BulkRows()
        for n, (customer, currency, total, share, pct, contract_on, balance_on, state) in enumerate(specs):
            paid = min(total, (total * Decimal(str(round(share, 3)))).quantize(Decimal("0.01")))
            rows.add(Order, number=f"RX{n:05d}", customer_id=customer_ids[customer], currency=currency, state=state,
                     amount_total=total, amount_paid=paid, deposit_percent=pct, contract_date=contract_on,
                     balance_due_on=balance_on, created_by_id=None)
        rows.finish()
        db.session.commit()
        manager = db.session.scalar(db.select(User).where(User.role == "manager"))
        expected_groups, expected_totals = _reference(specs, customer_ids)

        result = orders.receivables(manager, AS_OF)
        assert result.count == len(expected_groups)
        assert result.totals == expected_totals
        got = {(g.customer_id, g.currency): g.totals for g in result.groups}
        assert got == expected_groups
        # each order's row: the split, the open amount and the next due date that `_split` gives
        for group in result.groups:
            for row, split, open_amount, next_due in group.orders:
                _customer, _currency, total, share, pct, contract_on, balance_on, _state = specs[int(row.number[2:])]
                paid = min(total, (total * Decimal(str(round(share, 3)))).quantize(Decimal("0.01")))
                assert (split, next_due) == orders._split(total, paid, pct, contract_on, balance_on, AS_OF)
                assert open_amount == total - paid
        # most overdue first, then the largest open amount
        keys = [(-(sum(b.values()) - b["not_due"]), -sum(b.values())) for b in (g.totals for g in result.groups)]
        assert keys == sorted(keys)
        # pages cut the same order
        paged = [(g.customer_id, g.currency) for p in range(1, result.count // 2 + 2) for g in orders.receivables(
            manager, AS_OF, page=p, per_page=2).groups]
        assert paged == [(g.customer_id, g.currency) for g in result.groups]


def test_order_list_counts_up_to_a_cap_and_walks_the_sort_index(app, client, login_as, make_customer, monkeypatch):
    sales = login_as("sales")
    other = make_customer(name="别人的客户")
    mine = [make_customer(owner=sales, name=f"我的客户{i}") for i in range(3)]
    with app.app_context():
        rows = BulkRows()
        for n in range(12):
            customer = other if n % 4 == 0 else mine[n % 3]
            rows.add(Order, number=f"CAP{n:03d}", customer_id=customer.id, currency="USD", state="inquiry",
                     created_at=datetime(2026, 11, 20, tzinfo=timezone.utc) + timedelta(hours=n), created_by_id=None)
        rows.finish()
        db.session.commit()
    monkeypatch.setattr(orders, "LIST_COUNT_CAP", 5)
    monkeypatch.setattr(orders, "PER_PAGE", 4, raising=False)
    from portal.orders import views
    monkeypatch.setattr(views, "PER_PAGE", 4)

    pages = []
    for walk_from in (10_000, 2):  # the planner's own plan, then the sort-index walk
        monkeypatch.setattr(orders, "WALK_SORT_INDEX_FROM", walk_from)
        seen, page_no = [], 1
        while True:
            html = client.get(f"/orders/?page={page_no}").get_data(as_text=True)
            if page_no == 1:
                assert "More than 5 orders" in html or "超过 5 个订单" in html
            numbers = [n for n in (f"CAP{i:03d}" for i in range(12)) if n in html]
            seen.append(sorted(numbers, reverse=True))
            if f"page={page_no + 1}" not in html:
                break
            page_no += 1
        pages.append(seen)
    mine_newest_first = [f"CAP{n:03d}" for n in reversed(range(12)) if n % 4 != 0]
    assert [n for page in pages[0] for n in page] == mine_newest_first
    assert pages[0] == pages[1]
    assert len(pages[0]) == 3  # 9 orders, 4 a page, the third page found by the one row more


def test_search_row_follows_customers_and_contacts(app, ctx, make_customer):
    customer = make_customer(name="华盛五金", name_en="Huasheng Hardware")
    contact = Contact(customer_id=customer.id, name="Ｗａｎｇ Li", phone="138 0000 1111")
    db.session.add(contact)
    db.session.commit()
    text = db.session.get(CustomerSearch, customer.id).text
    assert "华盛五金" in text and "huasheng hardware" in text and "wang li" in text
    version = db.session.get(Customer, customer.id).version
    contact.name = "Zhao Min"
    db.session.commit()
    assert "zhao min" in db.session.get(CustomerSearch, customer.id).text
    assert db.session.get(Customer, customer.id).version == version  # a contact does not bump the customer
    db.session.delete(contact)
    db.session.commit()
    assert "zhao min" not in db.session.get(CustomerSearch, customer.id).text


def test_partial_indexes_are_used_by_the_queries_that_need_them(app, ctx, make_user):
    """The queries write the partial indexes' conditions out word for word (a bound parameter or a changed state
    list would hide the index from the planner, and SQLite cannot tell from its statistics that these states are
    rare); on SQLite the plan searches an index instead of scanning every order. PostgreSQL: the indexes exist
    with their conditions (it plans them by its own statistics)."""
    from sqlalchemy import text

    manager = make_user("manager")  # all customers: nothing narrower than the partial index to start from
    user = db.session.get(User, manager.id)
    queries = {
        "ix_orders_receivable": orders._open_orders(user, None).with_only_columns(Order.customer_id),
        "ix_orders_awaiting_shipment": orders.visible_orders(user).with_only_columns(Order.id).where(
            text("orders." + orders.AWAITING_SHIPMENT_SQL), Order.promised_date < AS_OF),
    }
    for index, stmt in queries.items():
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(row) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + str(compiled))))
            assert "SCAN orders" not in plan, (index, plan)  # an index search, never every order
            partial = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": index})
            condition = partial.split(" WHERE ", 1)[1]
            written = str(stmt.compile(db.engine)).replace("orders.", "")  # as sent, parameters unbound
            assert condition in written, (index, condition)  # word for word
        else:  # the index exists with its condition
            definition = db.session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": index})
            assert definition and "WHERE" in definition
