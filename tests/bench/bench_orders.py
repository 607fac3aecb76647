"""Order pages at a realistic desk size: seed 2,000 customers and N orders (default 5,000) in every state,
then time the order list, filters, an order page, receivables, targets and my day.

Run: `make bench-orders` (SQLite), or with PORTAL_BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL
(its public schema is rebuilt: use a database for benchmarks only). ORDERS=20000 to change the size.
"""
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select  # noqa: E402

from portal.extensions import db  # noqa: E402
from tests.bench.bench_customers import fresh_app, timed  # noqa: E402


def main() -> None:
    orders = int(os.environ.get("ORDERS", "5000"))
    app, url = fresh_app()
    backend = url.split(":")[0]
    from tests.conftest import PortalClient
    app.test_client_class = PortalClient
    with app.app_context():
        from portal import demo
        from portal.database import write_transaction
        from portal.models import Order
        with write_transaction():
            _, seed = timed(lambda: (demo.seed(2_000, orders=orders), db.session.commit()))
        total = db.session.scalar(select(func.count()).select_from(Order))
        some = db.session.scalar(select(Order.id).where(Order.state == "shipped").order_by(Order.id.desc()).limit(1))
    print(f"database: {backend}; seed-demo --customers 2000 --orders {orders}: {seed[0]:.1f} s ({total} orders)")
    clients = {}
    for name in ("sales1", "manager"):
        clients[name] = app.test_client()
        assert clients[name].post("/login", data={"username": name, "password": "demo1234"}).status_code == 303
    pages = [
        ("sales1", "/orders/"),
        ("sales1", "/orders/?state=shipped&sort=promised"),
        ("sales1", "/orders/?q=DD2026-00"),
        ("manager", "/orders/"),
        ("manager", "/orders/?late=1"),
        ("manager", f"/orders/{some}"),
        ("sales1", "/receivables/"),
        ("manager", "/receivables/"),
        ("manager", "/targets/"),
        ("sales1", "/"),
        ("manager", "/"),
    ]
    rows = []
    for who, path in pages:
        client = clients[who]
        assert client.get(path).status_code == 200, path
        _, samples = timed(lambda: client.get(path), repeat=10)
        rows.append((who, path, statistics.median(samples) * 1000, max(samples) * 1000))
    print(f"\n| user | page ({backend}, {total} orders) | median ms | max ms |")
    print("|---|---|---:|---:|")
    for who, path, median, worst in rows:
        print(f"| {who} | `{path}` | {median:.1f} | {worst:.1f} |")


if __name__ == "__main__":
    main()
