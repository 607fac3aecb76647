"""Real database faults (issue 8): users get the 503 "busy, try again" page in their language, nothing of the
request is stored, and the app recovers by itself.

SQLite (the suite's default): another process holds the write lock while a user saves.
PostgreSQL (PORTAL_TEST_DATABASE_URL): the app's connections are terminated between requests and in the middle
of a write or a read. Only the backends of the test's own database are terminated.
"""
import contextlib
import sqlite3
import time

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import NullPool

from portal.extensions import db
from portal.models import AuditLog, Contact, Customer, Sequence
from tests.conftest import login

NEW_CUSTOMER = {"name": "宁波新客户有限公司", "credit_code": "91440300708461136T", "country": "cn",
                "grade": "C", "status": "prospect", "currency": "CNY"}
BUSY_ZH = "请稍候再试"
BUSY_EN = "Busy, try again"


def backend(app) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"


def stored(app) -> dict:
    """Everything a customer POST writes: the customer, its audit row, the number counter."""
    with app.app_context():
        return {
            "customers": db.session.scalar(select(func.count()).select_from(Customer)),
            "contacts": db.session.scalar(select(func.count()).select_from(Contact)),
            "audit": db.session.scalar(select(func.count()).select_from(AuditLog)
                                       .where(AuditLog.entity_type.in_(["Customer", "Contact"]))),
            "counter": db.session.scalar(select(Sequence.last_value).where(Sequence.kind == "customer")) or 0,
        }


# ---------------------------------------------------------------- SQLite: locked by another process


@pytest.fixture
def sqlite_busy_timeout(app):
    """SQLite only: writers give up after 200 ms (the setting), instead of the production 15 s."""
    if backend(app) != "sqlite":
        pytest.skip("SQLite only")
    before = app.config["SQLITE_BUSY_TIMEOUT_MS"]
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 200
    with app.app_context():
        db.engine.dispose()  # new connections read the setting
    yield 200
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = before
    with app.app_context():
        db.engine.dispose()


@contextlib.contextmanager
def locked_by_another_process(app):
    """A plain sqlite3 connection (as another program would have) holds the write lock with a write pending."""
    with app.app_context():
        path = db.engine.url.database
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE users SET display_name = display_name")
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_sqlite_write_lock_gives_try_again_in_english_and_the_same_post_works_after(
        app, client, make_user, sqlite_busy_timeout):
    sales = make_user("sales", locale="en")
    login(client, sales)
    with locked_by_another_process(app):
        started = time.monotonic()
        response = client.post("/customers/new", data=NEW_CUSTOMER)
        waited = time.monotonic() - started
        html = response.get_data(as_text=True)
        assert response.status_code == 503, html[:300]
        assert BUSY_EN in html and "Nothing was saved" in html and '<html lang="en">' in html
        assert response.headers["Cache-Control"] == "no-store" and response.headers["Retry-After"]
        assert 0.2 <= waited < 5  # the setting, not the production 15 s
        # Readers are not blocked by a writer (WAL): lists and the form still open.
        assert client.get("/customers/").status_code == 200
        assert client.get("/customers/new").status_code == 200
    assert stored(app) == {"customers": 0, "contacts": 0, "audit": 0, "counter": 0}
    # The lock is gone: the very same POST succeeds, on the same app (no restart), with the first number.
    response = client.post("/customers/new", data=NEW_CUSTOMER)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Customer.code)) == "C00001"
    assert stored(app) == {"customers": 1, "contacts": 0, "audit": 1, "counter": 1}


def test_sqlite_write_lock_gives_try_again_in_chinese_to_an_htmx_save(
        app, client, login_as, make_customer, sqlite_busy_timeout):
    sales = login_as("sales")
    customer = make_customer(owner=sales)
    hx = {"HX-Request": "true"}
    contact = {"name": "周杰", "title": "采购经理", "mobile": "13912345678", "is_primary": "y"}
    with locked_by_another_process(app):
        response = client.post(f"/customers/{customer.id}/contacts", headers=hx, data=contact)
        html = response.get_data(as_text=True)
        assert response.status_code == 503
        # htmx does not swap a 503: the answer is the error box alone, whose message app.js shows.
        assert "<html" not in html and "data-error-message=" in html and BUSY_ZH in html
        assert "HX-Request" in response.headers["Vary"]
        # A full page request under the same lock: the whole page, in Chinese.
        page = client.post(f"/customers/{customer.id}/contacts", data=contact)
        assert page.status_code == 503 and '<html lang="zh-CN">' in page.get_data(as_text=True)
        assert BUSY_ZH in page.get_data(as_text=True)
        assert client.get(f"/customers/{customer.id}").status_code == 200
    assert stored(app)["contacts"] == 0
    again = client.post(f"/customers/{customer.id}/contacts", headers=hx, data=contact)
    assert again.status_code == 200 and "周杰" in again.get_data(as_text=True)
    assert stored(app)["contacts"] == 1


def test_sqlite_lock_taken_right_after_the_commit_does_not_fail_the_saved_request(
        app, client, login_as, sqlite_busy_timeout):
    """The redirect after a save reads the new record again (expired by the commit): that read must not wait for
    the write lock, or the user gets "nothing was saved" for a saved customer and saves it twice."""
    login_as("sales")
    held = []

    def lock_after_commit(_session):
        if not held:
            held.append(locked_by_another_process(app))
            held[0].__enter__()

    event.listen(OrmSession, "after_commit", lock_after_commit)
    try:
        response = client.post("/customers/new", data=NEW_CUSTOMER)
    finally:
        event.remove(OrmSession, "after_commit", lock_after_commit)
        for lock in held:
            lock.__exit__(None, None, None)
    assert held and response.status_code == 303
    assert stored(app)["customers"] == 1


def test_sqlite_busy_timeout_is_a_setting(app, sqlite_busy_timeout):
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 200


# ---------------------------------------------------------------- PostgreSQL: connections terminated


@pytest.fixture
def pg(app):
    """PostgreSQL only: terminate(pids=None) ends the app's backends of the test's own database (all but the
    killer's own connection, or only `pids`) and returns when they are gone."""
    if backend(app) != "postgresql":
        pytest.skip("PostgreSQL only")
    with app.app_context():
        killer = create_engine(db.engine.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def terminate(pids=None) -> int:
        where = "datname = current_database() AND pid <> pg_backend_pid()"
        if pids is not None:
            where += " AND pid = ANY(:pids)"
        with killer.connect() as conn:
            ended = conn.execute(text(f"SELECT pid FROM pg_stat_activity WHERE {where}"),
                                 {"pids": list(pids or [])}).scalars().all()
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                         {"pids": ended})
            deadline = time.monotonic() + 10
            while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                               {"pids": ended}).scalar():
                assert time.monotonic() < deadline, "terminated backends did not exit"
                time.sleep(0.01)
        return len(ended)

    yield terminate
    killer.dispose()


def test_postgres_connections_killed_between_requests_are_replaced(app, client, login_as, pg):
    login_as("sales")
    assert client.get("/customers/").status_code == 200
    assert pg() >= 1  # the pooled connection(s) of the app
    assert client.get("/customers/").status_code == 200  # pre-ping found it dead and opened a new one
    assert pg() >= 1
    assert client.post("/customers/new", data=NEW_CUSTOMER).status_code == 303


def _own_backend_pid() -> int:
    return db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()


def test_postgres_connection_killed_in_the_middle_of_a_write_stores_nothing(app, client, login_as, pg, monkeypatch):
    from portal import audit

    login_as("sales")
    original = audit.record
    calls = []

    def killed_after_the_first_inserts(*args, **kwargs):
        # The number counter and the customer row are written (flushed); the connection dies before the audit row.
        if not calls:
            assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
            pg([_own_backend_pid()])
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(audit, "record", killed_after_the_first_inserts)
    response = client.post("/customers/new", data=NEW_CUSTOMER)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and BUSY_ZH in html, html[:300]
    assert stored(app) == {"customers": 0, "contacts": 0, "audit": 0, "counter": 0}
    response = client.post("/customers/new", data=NEW_CUSTOMER)  # the next request works, same number
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Customer.code)) == "C00001"
    assert stored(app) == {"customers": 1, "contacts": 0, "audit": 1, "counter": 1}


def test_postgres_connection_killed_during_a_read_gives_try_again_then_recovers(
        app, client, make_user, pg, monkeypatch):
    from portal.home import services

    login(client, make_user("sales", locale="en"))
    original = services.my_day

    def killed(user, *args, **kwargs):
        pg([_own_backend_pid()])
        return original(user, *args, **kwargs)

    monkeypatch.setattr(services, "my_day", killed)
    response = client.get("/")
    assert response.status_code == 503 and BUSY_EN in response.get_data(as_text=True)
    hx = client.get("/", headers={"HX-Request": "true"})
    assert hx.status_code == 503 and "<html" not in hx.get_data(as_text=True)
    monkeypatch.setattr(services, "my_day", original)
    assert client.get("/").status_code == 200


def test_postgres_down_right_after_the_commit_says_the_change_was_saved(app, client, make_user, pg):
    """The database goes away between the commit and the redirect's read: 503, but the page must not say
    "nothing was saved" (the user would save twice); it says the change was saved."""
    login(client, make_user("sales", locale="en"))
    with app.app_context():
        name = db.engine.url.database
        admin = create_engine(db.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def refuse_connections(allowed: bool):
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))

    def down_after_commit(_session):
        if not gone:
            gone.append(True)
            pg()  # every backend of the test's database, the app's included, then no new ones
            refuse_connections(False)

    gone = []
    event.listen(OrmSession, "after_commit", down_after_commit)
    try:
        response = client.post("/customers/new", data=NEW_CUSTOMER)
    finally:
        event.remove(OrmSession, "after_commit", down_after_commit)
        refuse_connections(True)
        admin.dispose()
    html = response.get_data(as_text=True)
    assert gone and response.status_code == 503, html[:300]
    assert "Your change was saved" in html and "Do not send the form again" in html
    assert "Nothing was saved" not in html
    assert stored(app)["customers"] == 1
    assert client.get("/customers/").status_code == 200  # connections allowed again: the app recovers


def test_postgres_connection_lost_after_the_page_was_made_still_answers_it(app, client, login_as, pg):
    """The server restarts after the page was rendered, while the request's read transaction is still open: the
    rollback at the end of the request fails; the answered page must still go out (it was a 500)."""
    from flask import request_finished

    login_as("sales")
    killed = []

    def kill_own_backend(sender, response, **extra):
        killed.append(pg([_own_backend_pid()]))

    request_finished.connect(kill_own_backend, app)
    try:
        response = client.get("/customers/")
    finally:
        request_finished.disconnect(kill_own_backend, app)
    assert killed == [1] and response.status_code == 200
    assert client.get("/customers/").status_code == 200
