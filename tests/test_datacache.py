"""Cached aggregates (portal/datacache.py) are exact: a table's token changes with every committed write to it,
through the ORM or a statement, and with nothing else; a value is served only under the tokens it was
computed with; a change committed while a value was being computed is never served afterwards; a
transaction that wrote computes without the cache. The receivables and the satisfaction month follow
changes made by other sessions (tests/test_multiworker.py does the same across gunicorn workers)."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portal import datacache
from portal.demo_trade import BulkRows
from portal.extensions import db
from portal.models import Customer, DataVersion, FollowUpVisit, Order, User
from portal.orders import services as orders
from portal.satisfaction import services as satisfaction
from tests.conftest import login


@pytest.fixture(autouse=True)
def _fresh():
    datacache.clear()
    yield
    datacache.clear()


def _add_order(customer_id: int, number: str, total: str, paid: str = "0", **fields) -> None:
    rows = BulkRows()
    rows.add(Order, number=number, customer_id=customer_id, currency=fields.pop("currency", "USD"),
             state=fields.pop("state", "contract_signed"), amount_total=Decimal(total), amount_paid=Decimal(paid),
             deposit_percent=Decimal(30), contract_date=fields.pop("contract_date", date(2026, 9, 1)),
             created_by_id=None, **fields)
    rows.finish()


def _in_other_session(app: Flask, work) -> None:
    """`work()` in its own application context, hence its own session and connection: another request or worker."""
    with app.app_context():
        work()
        db.session.commit()


def test_tokens_change_with_committed_writes_to_their_table_only(app, ctx, make_customer):
    customer = make_customer(name="令牌测试有限公司")
    _add_order(customer.id, "DC0001", "100.00")
    datacache.bump_all(db.session.connection())  # every table has a token (the suite's wipe removes them)
    db.session.commit()
    start = datacache.tokens(datacache.TRACKED)
    assert start is not None

    db.session.scalar(select(func.count()).select_from(Order))  # a read and its commit change nothing
    db.session.commit()
    assert datacache.tokens(datacache.TRACKED) == start

    found = db.session.get(Customer, customer.id)
    found.name = "改名后回滚有限公司"
    db.session.flush()  # written, then rolled back: nothing committed, nothing bumped
    db.session.rollback()
    assert datacache.tokens(datacache.TRACKED) == start

    found = db.session.get(Customer, customer.id)
    found.name = "改名有限公司"
    db.session.commit()
    changed = dict(zip(sorted(datacache.TRACKED), datacache.tokens(datacache.TRACKED)))
    unchanged = dict(zip(sorted(datacache.TRACKED), start))
    assert changed["customers"] != unchanged["customers"]
    assert {k: v for k, v in changed.items() if k != "customers"} == \
        {k: v for k, v in unchanged.items() if k != "customers"}

    before = datacache.tokens(["orders"])
    db.session.execute(update(Order).where(Order.number == "DC0001").values(amount_paid=Decimal("10.00")))
    db.session.commit()  # a statement through the session, no ORM object: bumped all the same
    assert datacache.tokens(["orders"]) != before


def test_a_value_is_served_while_its_tables_are_unchanged_and_recomputed_after(app, ctx, make_customer):
    customer = make_customer(name="缓存命中有限公司")
    _add_order(customer.id, "DC0002", "100.00")
    db.session.commit()
    computed = []

    def count():
        computed.append(1)
        return db.session.scalar(select(func.count()).select_from(Order))

    assert datacache.cached("count", ["orders"], (), count) == 1
    db.session.commit()
    assert datacache.cached("count", ["orders"], (), count) == 1
    assert len(computed) == 1  # the second call was served from the cache
    assert datacache.cached("count", ["orders"], ("other key",), count) == 1
    assert len(computed) == 2  # another key is another value
    db.session.commit()

    _in_other_session(app, lambda: _add_order(customer.id, "DC0003", "50.00"))
    assert datacache.cached("count", ["orders"], (), count) == 2
    assert len(computed) == 3


def test_a_value_replaces_the_one_computed_under_older_tokens(app, ctx, make_customer):
    """Old tokens never come back: after each write the new value takes its predecessor's place, so a process
    holds one value per name and key, not one per write until the LRU bound (memory in the soak run)."""
    customer = make_customer(name="缓存替换有限公司")

    def count():
        return db.session.scalar(select(func.count()).select_from(Order))

    for n in range(5):
        _in_other_session(app, lambda n=n: _add_order(customer.id, f"DC01{n:02d}", "10.00"))
        assert datacache.cached("count", ["orders"], (), count) == n + 1
        assert datacache.cached("count", ["orders"], ("other key",), count) == n + 1
        db.session.commit()
        assert datacache.entries() == 2


def test_a_transaction_that_wrote_does_not_use_or_fill_the_cache(app, ctx, make_customer):
    customer = make_customer(name="未提交有限公司")
    _add_order(customer.id, "DC0004", "100.00")
    db.session.commit()

    def count():
        return db.session.scalar(select(func.count()).select_from(Order))

    assert datacache.cached("count", ["orders"], (), count) == 1
    _add_order(customer.id, "DC0005", "100.00")  # flushed, not committed
    assert datacache.cached("count", ["orders"], (), count) == 2  # sees its own write, not the cached 1
    db.session.rollback()
    assert datacache.cached("count", ["orders"], (), count) == 1  # and did not leave its 2 behind


def test_a_change_committed_while_computing_is_never_served_afterwards(app, ctx, make_customer):
    """The value is keyed by the tokens read before it was computed, which the next transaction no longer
    has (on PostgreSQL it is not even kept: the tokens read after computing differ). Either way the next
    request computes the new count."""
    customer = make_customer(name="并发计算有限公司")
    _add_order(customer.id, "DC0006", "100.00")
    db.session.commit()

    def count_while_someone_writes():
        seen = db.session.scalar(select(func.count()).select_from(Order))
        _in_other_session(app, lambda: _add_order(customer.id, "DC0007", "100.00"))
        return seen

    assert datacache.cached("count", ["orders"], (), count_while_someone_writes) == 1
    db.session.rollback()  # the request ends
    assert datacache.cached("count", ["orders"], (), lambda: db.session.scalar(
        select(func.count()).select_from(Order))) == 2


def test_unknown_tables_are_refused_and_tables_never_written_are_not_cached(app, ctx):
    with pytest.raises(ValueError):
        datacache.cached("x", ["audit_log"], (), lambda: 1)
    db.session.execute(db.delete(DataVersion))
    db.session.commit()
    calls = []
    for _ in range(2):
        assert datacache.cached("x", ["orders"], (), lambda: calls.append(1) or 7) == 7
    assert len(calls) == 2


def test_receivables_follow_a_payment_made_by_another_session(app, ctx, make_customer, make_user):
    manager = make_user("manager")
    owner = make_user("sales")
    customer = make_customer(owner=owner, name="应收缓存有限公司")
    _add_order(customer.id, "DC0010", "1000.00", contract_date=date(2026, 9, 1))
    db.session.commit()
    as_of = date(2026, 11, 20)
    manager = db.session.get(User, manager.id)
    first = orders.receivables(manager, as_of)
    assert first.totals["USD"]["over_90"] == Decimal("0.00")
    assert first.totals["USD"]["d61_90"] == Decimal("300.00")  # the deposit, due on the contract date
    hits = datacache.stats["hits"]
    db.session.commit()
    again = orders.receivables(manager, as_of)
    assert datacache.stats["hits"] == hits + 1 and again.totals == first.totals
    again.totals["USD"]["d61_90"] = Decimal("1")  # a caller changing its copy does not change the cache
    db.session.commit()
    assert orders.receivables(manager, as_of).totals == first.totals
    db.session.commit()

    def pay():
        # what recording the deposit leaves on the order (the order has no lines here, so the ORM would
        # recompute its total to 0 on flush: a statement instead)
        db.session.execute(update(Order).where(Order.number == "DC0010").values(amount_paid=Decimal("300.00")))

    _in_other_session(app, pay)
    after = orders.receivables(db.session.get(User, manager.id), as_of)
    assert after.totals["USD"]["d61_90"] == Decimal("0.00")
    assert after.groups[0].open == Decimal("700.00")
    # the salesperson's own scope is a key of its own, and follows too
    mine = orders.receivables(db.session.get(User, owner.id), as_of)
    assert [g.customer_id for g in mine.groups] == [customer.id] and mine.groups[0].open == Decimal("700.00")


def test_satisfaction_month_follows_a_visit_recorded_by_another_session(app, ctx, make_customer, make_user):
    salesperson = make_user("sales", display_name="缓存销售")
    customer = make_customer(owner=salesperson, name="满意度缓存有限公司")
    done = datetime(2026, 10, 10, 2, 0, tzinfo=timezone.utc)

    def visit(score: int):
        def add():
            db.session.add(FollowUpVisit(customer_id=customer.id, reason="manual", due_on=done.date(), state="done",
                                         channel="phone", score=score, problem=score <= 3,
                                         salesperson_id=salesperson.id, done_at=done))
        return add

    _in_other_session(app, visit(5))
    first = satisfaction.month_figures(2026, 10)
    assert (first["visits"], first["rate"]) == (1, Decimal("100.0"))
    trend = satisfaction.trend(2026, 10)
    assert trend[-1]["visits"] == 1
    db.session.commit()
    assert satisfaction.month_figures(2026, 10)["visits"] == 1
    db.session.commit()

    _in_other_session(app, visit(2))
    second = satisfaction.month_figures(2026, 10)
    assert (second["visits"], second["rate"], second["problems"]) == (2, Decimal("50.0"), 1)
    assert satisfaction.trend(2026, 10)[-1]["visits"] == 2
    db.session.commit()

    def rename():
        db.session.get(Customer, customer.id).name = "改名满意度有限公司"

    _in_other_session(app, rename)  # the rows show the customer's name: a customer change is seen too
    assert {row["customer"] for row in satisfaction.month_figures(2026, 10)["rows"]} == {"改名满意度有限公司"}
    # the month before is another key; an empty month stays empty
    assert satisfaction.month_figures(2026, 9)["visits"] == 0


def test_header_and_salesperson_picker_follow_changes(app, client, login_as, make_user):
    """Every page's company name and the salesperson pickers come from the per-worker cache, and a change shows on
    the next request."""
    with app.app_context():
        datacache.bump_all(db.session.connection())
        db.session.commit()
    login_as("admin")
    assert client.post("/admin/settings", data={"name_zh": "甲工厂", "visit_delay_days": "7"}).status_code == 303
    anonymous = app.test_client()
    assert "甲工厂" in anonymous.get("/login").get_data(as_text=True)
    hits = datacache.stats["hits"]
    assert "甲工厂" in anonymous.get("/login").get_data(as_text=True)
    assert datacache.stats["hits"] > hits  # served from the cache
    assert client.post("/admin/settings", data={"name_zh": "乙工厂", "visit_delay_days": "7"}).status_code == 303
    page = anonymous.get("/login").get_data(as_text=True)
    assert "乙工厂" in page and "甲工厂" not in page

    manager = app.test_client()
    login(manager, make_user("manager"))
    assert "Newcomer Wu" not in manager.get("/customers/").get_data(as_text=True)
    make_user("sales", display_name="Newcomer Wu")
    assert "Newcomer Wu" in manager.get("/customers/").get_data(as_text=True)


def test_a_contact_or_log_entry_leaves_the_customers_token(app, client, login_as, make_customer):
    """Adding to a customer's collections writes no customers row: the customer aggregates stay cached; editing
    the customer changes the token."""
    sales = login_as("sales")
    customer = make_customer(owner=sales)
    with app.app_context():
        datacache.bump_all(db.session.connection())
        db.session.commit()
        before = datacache.tokens(["customers"])
    response = client.post(f"/customers/{customer.id}/log", data={"kind": "call", "summary": "询问交期"})
    assert response.status_code in (200, 303)
    response = client.post(f"/customers/{customer.id}/contacts", data={"name": "周杰", "mobile": "13912345678"})
    assert response.status_code in (200, 303)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
        assert len(db.session.get(Customer, customer.id).contacts) == 1
        assert datacache.tokens(["customers"]) == before
        db.session.get(Customer, customer.id).phone = "0571-1234567"
        db.session.commit()
        assert datacache.tokens(["customers"]) != before


def test_list_counts_follow_changes_made_elsewhere(app, client, login_as, make_user, make_customer):
    """The order and customer lists' counts are cached per scope and filter, and follow orders and customers
    written by another session (another worker) at the next request."""
    with app.app_context():
        datacache.bump_all(db.session.connection())
        db.session.commit()
    login_as("manager")
    seller = make_user("sales")
    customer = make_customer(owner=seller)
    _in_other_session(app, lambda: _add_order(customer.id, "DD-C1", "100", state="shipped"))
    assert "共 1 个订单" in client.get("/orders/?state=shipped").get_data(as_text=True)
    assert "共 1 个订单" in client.get("/orders/?state=shipped").get_data(as_text=True)  # from the cache
    _in_other_session(app, lambda: _add_order(customer.id, "DD-C2", "100", state="shipped"))
    assert "共 2 个订单" in client.get("/orders/?state=shipped").get_data(as_text=True)
    assert "共 1 个客户" in client.get(f"/customers/?owner={seller.id}").get_data(as_text=True)
    other = make_user("sales")
    _in_other_session(app, lambda: db.session.execute(
        update(Customer).where(Customer.id == customer.id).values(owner_id=other.id)))
    assert "共 0 个客户" in client.get(f"/customers/?owner={seller.id}").get_data(as_text=True)
    assert "共 0 个订单" in client.get(f"/orders/?state=shipped&owner={seller.id}").get_data(as_text=True)
    assert "共 2 个订单" in client.get(f"/orders/?state=shipped&owner={other.id}").get_data(as_text=True)
