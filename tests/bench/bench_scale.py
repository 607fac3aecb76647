"""Page time at 1,000 orders against 100,000 (issue 8: "within 1.5×; measure and report").

Run: `make bench-scale` (SQLite), or with
PORTAL_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_load for PostgreSQL (the small
database is then `<that name>_small` on the same server, created when missing). Both are seeded like
`make bench-load` (bench_load.prepare_database; BENCH_REUSE=1 keeps what was seeded before with the same code):
a small desk of 100 customers / 1,000 orders and the large one of 10,000 / 100,000 (BENCH_CUSTOMERS /
BENCH_ORDERS). Each page of the load benchmark is then asked SCALE_REQUESTS times (default 30, after 3 not
counted) in this process through Flask's test client, signed in as the page's user, on each database in turn,
so what is compared is the application's own time, not the HTTP server's or the clients'. Reported per page:
median wall and CPU milliseconds on each, the ratio of the medians, and pass/fail against 1.5. Pages that
the per-worker cache of aggregates serves (portal/datacache.py: receivables, the satisfaction form) get a
second row, timed with that cache emptied before each request: what the first request after a change costs.
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_load import PASSWORD, find_ids, loadavg, pages, prepare_database  # noqa: E402

RATIO_TARGET = 1.5
COLD = " — cache emptied before each request"


def small_url(url: str | None, instance: Path) -> str | None:
    if not url:
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    big = make_url(url)
    name = f"{big.database}_small"
    engine = create_engine(big, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return big.set(database=name).render_as_string(hide_password=False)


def time_pages(url: str, instance: Path, targets, requests: int) -> dict:
    """{label: (median wall ms, median cpu ms)} for each page, in a fresh app on `url`."""
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    from portal import create_app, datacache
    from portal.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-scale", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False})
    clients = {}
    for user in {t[1] for t in targets}:
        client = app.test_client()
        response = client.post("/login", data={"username": user, "password": PASSWORD})
        if response.status_code not in (302, 303):
            raise SystemExit(f"sign-in as {user} failed on {url}: HTTP {response.status_code}")
        clients[user] = client
    results = {}
    hits = datacache.stats["hits"]
    for label, user, path, _ in targets:
        client = clients[user]
        for _ in range(3):
            status = client.get(path).status_code
            if status != 200:
                raise SystemExit(f"{label}: GET {path} as {user} gave HTTP {status} on {url}")
        walls, cpus = [], []
        for _ in range(requests):
            wall, cpu = time.perf_counter(), time.process_time()
            client.get(path)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        results[label] = (statistics.median(walls), statistics.median(cpus))
        if datacache.stats["hits"] > hits:  # a page served from the per-worker cache: its cost when the data
            walls, cpus = [], []            # just changed (cache emptied before each request) as well
            for _ in range(requests):
                datacache.clear()
                wall, cpu = time.perf_counter(), time.process_time()
                client.get(path)
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            results[label + COLD] = (statistics.median(walls), statistics.median(cpus))
        hits = datacache.stats["hits"]
    with app.app_context():
        db.engine.dispose()
    return results


def main() -> int:
    requests = int(os.environ.get("SCALE_REQUESTS", "30"))
    reuse = os.environ.get("BENCH_REUSE", "0") == "1"
    given = os.environ.get("PORTAL_BENCH_DATABASE_URL")
    backend = "postgresql" if given and given.startswith("postgresql") else "sqlite"
    tmp = Path(tempfile.gettempdir())
    big_dir = Path(os.environ.get("BENCH_DIR") or tmp / f"portal-bench-load-{backend}")
    small_dir = tmp / f"portal-bench-scale-small-{backend}"
    big_customers = int(os.environ.get("BENCH_CUSTOMERS", "10000"))
    big_orders = int(os.environ.get("BENCH_ORDERS", "100000"))
    print(f"machine: {os.cpu_count()} cores, load average {loadavg()}")
    small = prepare_database(small_url(given, small_dir), small_dir, big_customers // 100, big_orders // 100, reuse)
    big = prepare_database(given, big_dir, big_customers, big_orders, reuse)
    small_ids, big_ids = find_ids(small), find_ids(big)
    # the same pages on both; the detail pages each on a record of their own database
    small_pages, big_pages = pages(small_ids), pages(big_ids)
    print(f"timing {len(big_pages)} pages × {requests} requests on each database, load average {loadavg()}",
          flush=True)
    at_small = time_pages(small, small_dir, small_pages, requests)
    at_big = time_pages(big, big_dir, big_pages, requests)
    print(f"\nbackend: {backend}; small: {small_ids['customers']} customers / {small_ids['orders']} orders; "
          f"large: {big_ids['customers']} / {big_ids['orders']}; medians of {requests} requests; "
          f"load average after {loadavg()}\n")
    print(f"| page | user | ms at {small_ids['orders']:,} (CPU) | ms at {big_ids['orders']:,} (CPU) | ratio | ≤ {RATIO_TARGET} |")
    print("|---|---|---:|---:|---:|---|")
    failed = 0
    rows = [(label, user) for label, user, _, _ in big_pages]
    rows += [(label + COLD, user) for label, user in rows if label + COLD in at_small and label + COLD in at_big]
    for label, user in rows:
        (s_wall, s_cpu), (b_wall, b_cpu) = at_small[label], at_big[label]
        ratio = b_wall / s_wall if s_wall else float("inf")
        ok = ratio <= RATIO_TARGET
        failed += not ok
        print(f"| {label} | {user} | {s_wall:.1f} ({s_cpu:.1f}) | {b_wall:.1f} ({b_cpu:.1f}) | {ratio:.2f} | "
              f"{'pass' if ok else 'FAIL'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
