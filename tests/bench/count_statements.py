"""SQL statements and single-request time per page of the load benchmark, against its bench database.

Run after `make bench-load` has built the database (nothing is written but the sign-ins' session rows):
    .venv/bin/python tests/bench/count_statements.py            # SQLite, $TMPDIR/portal-bench-load-sqlite
    PORTAL_BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python tests/bench/count_statements.py
Through Flask's test client (no network, one process): shows where a slow page spends its time in SQL.
"""
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from tests.bench.bench_load import find_ids, pages  # noqa: E402


def main() -> None:
    url = os.environ.get("PORTAL_BENCH_DATABASE_URL")
    backend = "postgresql" if url and url.startswith("postgresql") else "sqlite"
    instance = Path(os.environ.get("BENCH_DIR") or Path(tempfile.gettempdir()) / f"portal-bench-load-{backend}")
    url = url or f"sqlite:///{instance}/bench.db"
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    from portal import create_app
    from portal.extensions import db
    from tests.conftest import PortalClient

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "count"})
    app.test_client_class = PortalClient
    ids = find_ids(url)
    statements: list[tuple[float, str]] = []
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["t0"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            statements.append((time.perf_counter() - conn.info.pop("t0"), statement))

    clients = {}
    for user in ("sales1", "manager", "buyer1"):
        clients[user] = app.test_client()
        assert clients[user].post("/login", data={"username": user, "password": "demo1234"}).status_code == 303
    print(f"{backend}: {ids['customers']} customers, {ids['orders']} orders\n")
    print("| page | user | statements | SQL ms | request ms (median of 5) | slowest statement ms |")
    print("|---|---|---:|---:|---:|---:|")
    slowest_overall = []
    for label, user, path, _ in pages(ids):
        client = clients[user]
        assert client.get(path).status_code == 200, path
        times = []
        for _ in range(5):
            statements.clear()
            start = time.perf_counter()
            assert client.get(path).status_code == 200
            times.append(time.perf_counter() - start)
        sql = sum(t for t, _ in statements)
        worst = max(statements, default=(0.0, ""))
        slowest_overall.append((label, worst))
        print(f"| {label} `{urllib.parse.unquote(path)}` | {user} | {len(statements)} | {sql * 1000:.1f} | "
              f"{statistics.median(times) * 1000:.1f} | {worst[0] * 1000:.1f} |")
    if os.environ.get("SHOW_SQL"):
        for label, (took, statement) in slowest_overall:
            print(f"\n{label}: {took * 1000:.1f} ms\n{' '.join(statement.split())[:600]}")


if __name__ == "__main__":
    main()
