"""A backup taken while the portal is busy restores to a working portal (issue 8).

The portal runs under gunicorn (2 workers) on its own database -- a SQLite file, or with
PORTAL_TEST_DATABASE_URL a PostgreSQL database next to the test database (`<name>_bk`, restored into
`<name>_bk_restore`) -- seeded with the demo data. Three threads keep writing through HTTP (new customers,
contact-log entries, new orders with a line) while the real `flask --app wsgi backup PATH` runs. The
backup is then restored exactly as docs/deployment.md "Backups" says, upgraded, served by gunicorn again,
and checked: pages answer (one worker is enough there), the data is whole (integrity, numbers, lines,
audit rows, issued files) and the number counters are ahead of every issued number, so new records after
the restore do not collide.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.numbering import FORMATS
from tests.bench.bench_load import app_env, bin_path, free_port, start_gunicorn, stop_gunicorn
from tests.bench.loadgen import CSRF, Session

DEMO_PASSWORD = "demo1234"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NAME = "备份测试客户"  # customers made by this test
PO = "BK-"  # orders made by this test (customer's PO)


def flask(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([bin_path("flask"), "--app", "wsgi", *args], cwd=Path(__file__).resolve().parents[1],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def pg_args(url: str) -> list[str]:
    """createdb/pg_restore connection options of a SQLAlchemy URL."""
    parsed = make_url(url)
    return ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]


def pg_env(url: str) -> dict:
    password = make_url(url).password
    return {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}


def drop_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def createdb(admin_url: str, name: str) -> None:
    """`createdb` as the docs say; two sessions copying template1 at once refuse each other, so retry a while."""
    deadline = time.monotonic() + 30
    while True:
        done = subprocess.run(["createdb", *pg_args(admin_url), name], env=pg_env(admin_url),
                              capture_output=True, text=True)
        if done.returncode == 0:
            return
        assert "being accessed by other users" in done.stderr and time.monotonic() < deadline, done.stderr
        time.sleep(0.3)


@pytest.fixture
def site(app, tmp_path):
    """Where the busy portal and its restored copy live; gunicorns stopped and databases dropped at the end."""
    test_url = app.config["SQLALCHEMY_DATABASE_URI"]
    started: list[subprocess.Popen] = []
    place = {"started": started, "backup": tmp_path / "backup", "instance": tmp_path / "instance",
             "restored": tmp_path / "restored"}
    place["instance"].mkdir()
    if test_url.startswith("postgresql"):
        base = make_url(test_url)
        name, restore_name = f"{base.database}_bk", f"{base.database}_bk_restore"
        for db_name in (name, restore_name):
            drop_database(test_url, db_name)
        createdb(test_url, name)
        place.update(backend="postgresql", admin_url=test_url, restore_name=restore_name,
                     url=base.set(database=name).render_as_string(hide_password=False),
                     restored_url=base.set(database=restore_name).render_as_string(hide_password=False))
    else:
        place.update(backend="sqlite", url=f"sqlite:///{place['instance'] / 'portal.db'}",
                     restored_url=f"sqlite:///{place['restored'] / 'portal.db'}")
    yield place
    for process in started:
        stop_gunicorn(process)
    if place["backend"] == "postgresql":
        for db_name in (name, restore_name):
            drop_database(test_url, db_name)


def signed_in(port: int, user: str) -> tuple[Session, str]:
    """A session of `user` and its CSRF token (read from a page with a form)."""
    session = Session("127.0.0.1", port)
    session.login(user, DEMO_PASSWORD)
    page = "/my/" if user.startswith("buyer") else "/customers/new"
    status, body, _ = session.request("GET", page)
    match = CSRF.search(body.decode())
    assert status == 200
    return session, (match.group(1) or match.group(2)) if match else ""


def post(session: Session, path: str, token: str, **fields) -> tuple[int, str]:
    status, _, headers = session.request("POST", path, body=urllib.parse.urlencode({"csrf_token": token, **fields}),
                                         headers=FORM)
    return status, dict((k.lower(), v) for k, v in headers).get("location", "")


class Writer(threading.Thread):
    """Writes through HTTP back to back until stopped; each write's (start, end, status, what)."""

    def __init__(self, port: int, kind: str, customer_id: int, customer_code: str):
        super().__init__(daemon=True)
        self.session, self.token = signed_in(port, "sales1")
        self.kind, self.customer_id, self.customer_code = kind, customer_id, customer_code
        self.done: list[tuple[float, float, int, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            began = time.monotonic()
            if self.kind == "customer":
                what = f"{NAME}{n}"
                status, _ = post(self.session, "/customers/new", self.token, name=what, country="CN",
                                 grade="C", status="prospect", currency="CNY", owner_id="")
            elif self.kind == "log":
                what = f"备份期间的电话 {n}"
                status, _ = post(self.session, f"/customers/{self.customer_id}/log", self.token, kind="call",
                                 contact_id="", summary=what, next_step="", next_date="")
            else:  # a new order, then its line: two requests, two transactions
                what = f"{PO}{n}"
                status, location = post(self.session, "/orders/new", self.token, customer_code=self.customer_code,
                                        customer_po=what, currency="CNY", deposit_percent="30", balance_days="0",
                                        balance_basis="shipment")
                order = re.search(r"/orders/(\d+)", location)
                if status == 303 and order:
                    status, _ = post(self.session, f"/orders/{order.group(1)}/items", self.token,
                                     product_id="", description="备份测试产品", quantity="2", unit="pcs",
                                     unit_price="10.50")
            self.done.append((began, time.monotonic(), status, what))

    def count(self, since: float = 0.0) -> int:
        return sum(1 for began, _, _, _ in list(self.done) if began >= since)


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def restore(site: dict) -> None:
    """docs/deployment.md "Backups", step by step."""
    backup, restored = site["backup"], site["restored"]
    restored.mkdir()
    if site["backend"] == "sqlite":
        shutil.copyfile(backup / "portal.db", restored / "portal.db")
    else:
        createdb(site["admin_url"], site["restore_name"])
        user = make_url(site["admin_url"]).username or "postgres"
        target = make_url(site["restored_url"]).set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", f"--role={user}", "--exit-on-error", "-d", target,
                        str(backup / "portal.pgdump")], env=pg_env(site["admin_url"]), check=True,
                       capture_output=True, timeout=120)
    for folder in ("uploads", "documents"):
        if (backup / folder).is_dir():
            shutil.copytree(backup / folder, restored / folder)
    env = app_env(restored, site["restored_url"])
    flask(env, "db", "upgrade")
    if site["backend"] == "postgresql":
        flask(env, "analyze")  # a dump carries no planner statistics


def highest_numbers(conn) -> dict[tuple[str, int], int]:
    """(kind, year) -> the highest number issued, read from every numbered column."""
    patterns = {kind: re.compile(rf"^{prefix}(\d{{4}})-(\d+)$" if yearly else rf"^{prefix}(\d+)$")
                for kind, (prefix, _, yearly) in FORMATS.items()}
    found: dict[tuple[str, int], int] = {}
    columns = [("customer", "SELECT code FROM customers"), ("order", "SELECT number FROM orders"),
               ("quote", "SELECT number FROM quotes"), ("sample", "SELECT number FROM samples"),
               ("ticket", "SELECT number FROM tickets"), ("contract", "SELECT contract_no FROM orders"),
               (None, "SELECT number FROM issued_documents")]
    for kind, sql in columns:
        for (value,) in conn.execute(text(sql)):
            for candidate in [kind] if kind else FORMATS:
                match = value and patterns[candidate].match(value)
                if match:
                    year, number = (int(match.group(1)), int(match.group(2))) if match.lastindex == 2 \
                        else (0, int(match.group(1)))
                    found[(candidate, year)] = max(found.get((candidate, year), 0), number)
    return found


def check_data(site: dict, before_backup: set[str], manifest: dict) -> dict:
    """The restored database is whole; returns records for the pages."""
    if site["backend"] == "sqlite":
        raw = sqlite3.connect(site["restored"] / "portal.db")
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        raw.close()
    engine = create_engine(site["restored_url"])
    try:
        with engine.connect() as conn:
            scalar = lambda sql, **kw: conn.execute(text(sql), kw).scalar()  # noqa: E731
            customers = scalar("SELECT count(*) FROM customers")
            assert customers <= manifest["customers"]  # the manifest counts after the dump, writers went on
            assert scalar("SELECT count(*) FROM customers WHERE code IS NULL OR code = ''") == 0
            assert scalar("SELECT count(DISTINCT code) FROM customers") == customers
            names = {row[0] for row in conn.execute(text("SELECT name FROM customers WHERE name LIKE :p"),
                                                    {"p": NAME + "%"})}
            assert before_backup <= names, "customers created before the backup started are missing"
            # Each record made by the writers has its audit row (same transaction), and no audit row is orphaned.
            made = {row[0] for row in conn.execute(text("SELECT id FROM customers WHERE name LIKE :p"),
                                                   {"p": NAME + "%"})}
            audited = {row[0] for row in conn.execute(text(
                "SELECT entity_id FROM audit_log WHERE entity_type = 'Customer' AND action = 'create' "
                "AND summary LIKE :p"), {"p": "% " + NAME + "%"})}
            assert made == audited
            # Every order has its lines: seeded orders all have some; the writers' orders have exactly the
            # lines their audit rows record (an order whose line came after the snapshot has none).
            assert scalar("SELECT count(*) FROM orders o WHERE o.customer_po NOT LIKE :p AND NOT EXISTS "
                          "(SELECT 1 FROM order_items i WHERE i.order_id = o.id)", p=PO + "%") == 0
            mismatched = scalar(
                "SELECT count(*) FROM orders o WHERE o.customer_po LIKE :p AND "
                "(SELECT count(*) FROM order_items i WHERE i.order_id = o.id) <> "
                "(SELECT count(*) FROM audit_log a WHERE a.entity_type = 'OrderItem' AND a.action = 'create' "
                " AND a.parent_type = 'Order' AND a.parent_id = o.id)", p=PO + "%")
            assert mismatched == 0
            orders = scalar("SELECT count(*) FROM orders WHERE customer_po LIKE :p", p=PO + "%")
            assert orders == scalar("SELECT count(*) FROM audit_log WHERE entity_type = 'Order' "
                                    "AND action = 'create'")
            # The counters are ahead of every number issued, so the next record gets a fresh one.
            counters = {(kind, year): value for kind, year, value in
                        conn.execute(text("SELECT kind, year, last_value FROM sequences"))}
            issued = highest_numbers(conn)
            assert ("customer", 0) in issued and any(kind == "order" for kind, _ in issued)
            for key, highest in issued.items():
                assert counters.get(key, 0) >= highest, f"counter {key} at {counters.get(key)} < {highest}"
            # Issued documents: the stored file of every row came back with the same bytes.
            documents = conn.execute(text("SELECT id, file_name, sha256 FROM issued_documents")).all()
            assert documents
            for _, file_name, digest in documents:
                path = site["restored"] / "documents" / file_name
                assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, file_name
            return {
                "customer": scalar("SELECT id FROM customers WHERE name = :n", n=sorted(before_backup)[0]),
                "order": scalar("SELECT max(id) FROM orders WHERE customer_po LIKE :p", p=PO + "%"),
                "document": documents[0][0],
                "customers": customers,
            }
    finally:
        engine.dispose()


def test_backup_taken_under_load_restores_to_a_working_portal(site):
    instance, url = site["instance"], site["url"]
    env = app_env(instance, url)
    flask(env, "db", "upgrade")
    flask(env, "seed-demo", "--customers", "5", "--orders", "12")
    engine = create_engine(url)
    with engine.connect() as conn:
        customer_id, code = conn.execute(text(
            "SELECT c.id, c.code FROM customers c JOIN users u ON u.id = c.owner_id "
            "WHERE u.username = 'sales1' ORDER BY c.id LIMIT 1")).one()
    engine.dispose()
    port = free_port()
    server = start_gunicorn(instance, url, 2, port, site["started"])

    writers = [Writer(port, kind, customer_id, code) for kind in ("customer", "log", "order")]
    for writer in writers:
        writer.start()
    try:
        wait_for(lambda: all(w.count() >= 3 for w in writers), 30, "three writes by each writer")
        began = time.monotonic()
        before_backup = {what for _, end, status, what in writers[0].done if status == 303 and end < began}
        flask(env, "backup", str(site["backup"]))
        ended = time.monotonic()
        wait_for(lambda: all(w.count(since=ended) >= 2 for w in writers), 30, "writes after the backup")
    finally:
        for writer in writers:
            writer.stop.set()
        for writer in writers:
            writer.join(timeout=30)
    stop_gunicorn(server)

    done = [entry for writer in writers for entry in writer.done]
    assert {status for _, _, status, _ in done} == {303}, "every write during the backup succeeded"
    assert any(start < ended and end > began for start, end, _, _ in done), "writes overlapped the backup"
    manifest = json.loads((site["backup"] / "MANIFEST.json").read_text())
    assert manifest["database"] == site["backend"]
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((site["backup"] / name).read_bytes()).hexdigest() == digest

    restore(site)
    found = check_data(site, before_backup, manifest)

    port = free_port()
    start_gunicorn(site["restored"], site["restored_url"], 1, port, site["started"])
    sales, token = signed_in(port, "sales1")
    manager, _ = signed_in(port, "manager")
    buyer, _ = signed_in(port, "buyer1")
    for session, path in [(sales, "/customers/"), (sales, f"/customers/{found['customer']}"),
                          (sales, f"/orders/{found['order']}"), (manager, "/receivables/"),
                          (manager, f"/customers/{found['customer']}"), (buyer, "/my/orders/")]:
        status, _, _ = session.request("GET", path)
        assert status == 200, path
    status, body, _ = buyer.request("GET", f"/documents/issued/{found['document']}.pdf")
    assert status == 200 and body.startswith(b"%PDF")
    # New records after the restore take the next numbers: no collision with what the backup holds.
    status, location = post(sales, "/customers/new", token, name=f"{NAME}恢复后", country="CN", grade="C",
                            status="prospect", currency="CNY", owner_id="")
    assert status == 303, "a new customer after the restore"
    status, location = post(sales, "/orders/new", token, customer_code=code, customer_po="恢复后",
                            currency="CNY", deposit_percent="30", balance_days="0", balance_basis="shipment")
    assert status == 303 and "/orders/" in location, "a new order after the restore"
