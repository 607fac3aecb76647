"""Every list and detail page runs a bounded number of SQL statements whatever the number of rows behind it
(no N+1): each page is counted on the demo data set, then again after the archive and the order book grew
several times over."""
from datetime import date

from sqlalchemy import event, select

from portal.extensions import db
from tests.conftest import login

TODAY = date(2026, 11, 27)
LAST_MONTH = "2026-10"


def _pages(app) -> dict[str, list[str]]:
    """The pages to count, per demo user, with ids that exist in both data sets."""
    from portal.models import Customer, Order, Ticket, User

    with app.app_context():
        sales1 = db.session.scalar(select(User.id).where(User.username == "sales1"))
        buyer = db.session.scalar(select(User.customer_id).where(User.username == "buyer1"))
        customer = db.session.scalar(select(Customer.id).where(Customer.owner_id == sales1).order_by(Customer.id))
        order = db.session.scalar(select(Order.id).join(Customer).where(
            Customer.owner_id == sales1, Order.state == "shipped").order_by(Order.id))
        my_order = db.session.scalar(select(Order.id).where(Order.customer_id == buyer, Order.state == "shipped")
                                     .order_by(Order.id))
        ticket = db.session.scalar(select(Ticket.id).order_by(Ticket.id))
    return {
        "manager": ["/", "/customers/", "/customers/?q=华盛", f"/customers/{customer}", "/orders/",
                    "/orders/?state=shipped&sort=promised", f"/orders/{order}", "/samples/", "/quotes/",
                    "/aftersales/tickets/", f"/aftersales/tickets/{ticket}", "/aftersales/visits/?tab=done",
                    f"/satisfaction/{LAST_MONTH}", "/satisfaction/", "/receivables/"],
        "sales1": ["/", "/customers/", f"/customers/{customer}", "/orders/", f"/orders/{order}",
                   "/aftersales/tickets/"],
        "service": ["/", "/aftersales/visits/", "/aftersales/service-records/"],
        "buyer1": ["/my/", "/my/orders/", f"/my/orders/{my_order}", "/my/tickets/", "/my/documents/"],
    }


def _count(app, pages) -> dict[tuple[str, str], int]:
    counts = {}
    with app.app_context():
        engine = db.engine
    seen = []

    def count(*_args):
        seen.append(1)

    for user, paths in pages.items():
        client = app.test_client()
        login(client, user, "demo1234")
        for path in paths:
            client.get(path)  # warm caches (the first render compiles templates)
            seen.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                response = client.get(path)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert response.status_code == 200, (user, path, response.status_code)
            counts[(user, path)] = len(seen)
    return counts


def test_pages_run_a_bounded_number_of_statements(app):
    from portal import demo

    with app.app_context():
        demo.seed(40, today=TODAY, orders=60)
        db.session.commit()
    pages = _pages(app)
    small = _count(app, pages)
    with app.app_context():
        demo.seed(200, today=TODAY, orders=400)
        db.session.commit()
    large = _count(app, pages)
    # An eager load runs only when its list is not empty, so a page may gain a statement or two when an empty
    # list fills up; an N+1 would add one per row (dozens here: five times the customers, seven the orders).
    grew = {page: (small[page], large[page]) for page in small if large[page] > small[page] + 2}
    assert not grew, f"statements per page grew with the data: {grew}"
    assert max(small.values()) <= 40, small
    # pages tuned statement by statement (issue 8: joins instead of selectin loads, the log's length with its
    # rows, cached aggregates): a statement more is a regression to look at, not noise
    lean = {("manager", pages["manager"][3]): 14, ("sales1", pages["sales1"][2]): 11,
            ("manager", f"/satisfaction/{LAST_MONTH}"): 4, ("manager", "/receivables/"): 6}
    assert {page: small[page] for page in lean if small[page] > lean[page]} == {}, small
