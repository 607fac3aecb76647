"""The lists rewritten for 100,000 orders give what the simple versions gave: receivables aged and ordered in
the database (checked against `_split` order by order), the order list with a capped count and, on SQLite,
walked by the sort index; the customer search row kept current through every write."""
import re
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
                           Decimal("0.01"), Decimal("99.99"), Decimal(150)])  # over 100 %: refused by the form, exact too
# the buckets' edges (due on the day asked for is not yet due; 30, 60, 90 days late and a day more) and any day
day = st.one_of(st.none(), st.sampled_from([0, -1, -30, -31, -60, -61, -90, -91, 1]).map(
    lambda d: AS_OF + timedelta(days=d)), st.integers(-200, 60).map(lambda d: AS_OF + timedelta(days=d)))
order_spec = st.tuples(st.integers(0, 3), st.sampled_from(["USD", "EUR", "CNY"]), money,
                       st.floats(0, 1.2), percent, day, day, st.sampled_from(SIGNED + ["closed", "quoted"]))


def _reference(specs, customer_ids, only=None):
    """Every open signed order split by `_split` in Python: {(customer, currency): buckets}, totals (`only`: the
    positions in customer_ids of the customers to count, default all)."""
    groups, totals = {}, {}
    for customer, currency, total, share, pct, contract_on, balance_on, state in specs:
        paid = min(total, (total * Decimal(str(round(share, 3)))).quantize(Decimal("0.01")))
        if state not in SIGNED or paid >= total or (only is not None and customer not in only):
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
        for name in ("rx-sales-a", "rx-sales-b"):
            if db.session.scalar(db.select(User).where(User.username == name)) is None:
                db.session.add(User(username=name, display_name=name, role="sales", password_hash="x"))
        db.session.commit()
        sales = [db.session.scalar(db.select(User.id).where(User.username == name))
                 for name in ("rx-sales-a", "rx-sales-b")]
    # customers 0 and 1 are the first salesperson's, 2 the second's, 3 nobody's
    customer_ids = [make_customer(owner=owner, name=f"R客户{i}").id
                    for i, owner in enumerate([sales[0], sales[0], sales[1], None])]
    try:
        _check_receivables(app, specs, customer_ids, sales)
    finally:  # hypothesis runs many examples in one test: each starts without orders or customers
        with app.app_context():
            db.session.execute(db.delete(Order))
            db.session.execute(db.delete(CustomerSearch))
            db.session.execute(db.delete(Customer))
            db.session.commit()


def _check_receivables(app, specs, customer_ids, sales):
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
        _check_result(manager, None, specs, _reference(specs, customer_ids))
        # a salesperson sees their customers' (the ranking joins the customers), a manager asks for one salesperson's
        _check_result(db.session.get(User, sales[0]), None, specs, _reference(specs, customer_ids, only={0, 1}))
        _check_result(manager, sales[1], specs, _reference(specs, customer_ids, only={2}))


def _check_result(user, owner_id, specs, expected):
    """receivables(user, owner_id) against `_split` order by order: the groups, totals, ranking and pages."""
    expected_groups, expected_totals = expected
    result = orders.receivables(user, AS_OF, owner_id=owner_id)
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
    # most overdue first, then the largest open amount, then the customer id and the currency
    keys = [(-(sum(g.totals.values()) - g.totals["not_due"]), -sum(g.totals.values()), g.customer_id, g.currency)
            for g in result.groups]
    assert keys == sorted(keys)
    # pages cut the same order
    paged = [(g.customer_id, g.currency) for p in range(1, result.count // 2 + 2) for g in orders.receivables(
        user, AS_OF, owner_id=owner_id, page=p, per_page=2).groups]
    assert paged == [(g.customer_id, g.currency) for g in result.groups]


def test_receivables_rank_at_the_edges_of_due(app, ctx, make_customer, make_user):
    """The ranking summed by the database: due on the day asked for is not yet overdue (deposit and balance), a day
    before is; equal amounts go by customer, then currency; a deposit over 100 % counts what `_split` counts."""
    manager = make_user("manager")
    c = [make_customer(name=f"边界客户{i}").id for i in range(6)]
    day = timedelta(days=1)
    specs = [  # customer, currency, total, paid, deposit %, contract date, balance due
        (c[0], "USD", "1000", "0", "30", AS_OF, None),  # deposit due today: nothing overdue, 1,000 open
        (c[1], "USD", "100", "0", "30", AS_OF - day, None),  # 30 overdue
        (c[1], "USD", "200", "60", "30", AS_OF - day, AS_OF),  # deposit paid, balance 140 due today: not overdue
        (c[2], "USD", "100", "0", "0", None, AS_OF - day),  # balance 100 overdue
        (c[3], "USD", "100", "0", "100", AS_OF - day, None),  # deposit 100 overdue: as c[2], after it by id
        (c[4], "USD", "700", "0", "150", AS_OF + day, None),  # a deposit of 1,050 open (not 700), not yet due
        (c[5], "EUR", "1000", "0", "30", AS_OF, None),  # as c[0], after it; CNY before EUR
        (c[5], "CNY", "1000", "0", "30", AS_OF, None),
    ]
    rows = BulkRows()
    for n, (customer, currency, total, paid, pct, contract_on, balance_on) in enumerate(specs):
        rows.add(Order, number=f"EDGE{n}", customer_id=customer, currency=currency, state="shipped",
                 amount_total=Decimal(total), amount_paid=Decimal(paid), deposit_percent=Decimal(pct),
                 contract_date=contract_on, balance_due_on=balance_on, created_by_id=None)
    rows.finish()
    db.session.commit()
    user = db.session.get(User, manager.id)
    expected = [(c[2], "USD"), (c[3], "USD"), (c[1], "USD"), (c[4], "USD"), (c[0], "USD"), (c[5], "CNY"),
                (c[5], "EUR")]
    result = orders.receivables(user, AS_OF)
    assert [(g.customer_id, g.currency) for g in result.groups] == expected
    assert [g.overdue for g in result.groups] == [Decimal(n) for n in (100, 100, 30, 0, 0, 0, 0)]
    assert [g.open for g in result.groups] == [Decimal(n) for n in (100, 100, 240, 1050, 1000, 1000, 1000)]
    totals = {}
    for _customer, currency, total, paid, pct, contract_on, balance_on in specs:
        split, _ = orders._split(Decimal(total), Decimal(paid), Decimal(pct), contract_on, balance_on, AS_OF)
        for name, amount in split.items():
            totals.setdefault(currency, dict.fromkeys(orders.BUCKETS, Decimal("0.00")))[name] += amount
    assert result.totals == totals and totals["USD"]["d1_30"] == Decimal(230)
    assert [(g.customer_id, g.currency) for p in (1, 2, 3) for g in orders.receivables(
        user, AS_OF, page=p, per_page=3).groups] == expected


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
            # never every order: a search of an index, or a scan of the partial index itself (it holds only the
            # rows of its condition; with the covering receivables index SQLite may read all of it that way)
            scans = re.findall(r"SCAN orders(?: USING (?:COVERING )?INDEX (\w+))?", plan)
            assert all(used == index for used in scans), (index, plan)
            partial = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": index})
            condition = partial.split(" WHERE ", 1)[1]
            written = str(stmt.compile(db.engine)).replace("orders.", "")  # as sent, parameters unbound
            assert condition in written, (index, condition)  # word for word
        else:  # the index exists with its condition
            definition = db.session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": index})
            assert definition and "WHERE" in definition


def test_receivables_ranking_reads_the_covering_index_alone(app, ctx, make_user, make_customer):
    """The ranking and the totals read every open order's amounts, terms and due dates from ix_orders_receivable
    alone. SQLite, with the statistics of a desk whose orders are mostly closed (`flask analyze`, taken here in a
    transaction rolled back): a covering index for a manager, a salesperson and one salesperson asked for.
    PostgreSQL: the index holds those columns (index-only scans once the table is vacuumed)."""
    from sqlalchemy import text

    from portal.models.orders import RECEIVABLE_COLUMNS

    manager, sales = make_user("manager"), make_user("sales")
    if db.engine.dialect.name != "sqlite":
        definition = db.session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_orders_receivable'"))
        assert all(column in definition.split(" WHERE ")[0] for column in RECEIVABLE_COLUMNS), definition
        return
    customers = [make_customer(owner=sales if i % 2 else None).id for i in range(20)]
    rows = BulkRows()
    for n in range(600):
        open_ = n % 20 == 0
        rows.add(Order, number=f"IX{n:04d}", customer_id=customers[n % 20], currency="USD",
                 state="shipped" if open_ else "closed", amount_total=Decimal(100),
                 amount_paid=Decimal(0 if open_ else 100), contract_date=AS_OF, created_by_id=None)
    rows.finish()
    db.session.commit()
    params = {b.key: AS_OF for b in orders._AGEING_BOUNDS} | {"owner_id": sales.id}
    stat_tables = text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")
    before = db.session.scalar(stat_tables)
    try:
        db.session.execute(text("ANALYZE"))
        for user, owner in [(manager, False), (sales, False), (manager, True)]:
            for stmt in orders._ranking(db.session.get(User, user.id), owner):
                compiled = stmt.params(params).compile(db.engine, compile_kwargs={"literal_binds": True})
                plan = [row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + str(compiled)))]
                reads = [step for step in plan if " orders" in step]
                assert reads and all("COVERING INDEX ix_orders_receivable" in step for step in reads), (
                    user.role, owner, plan)
    finally:
        db.session.rollback()  # the statistics go with the transaction
    assert db.session.scalar(stat_tables) == before
