"""Engine tuning: SQLite pragmas and explicit BEGIN, so concurrent writers queue instead of failing.

pysqlite's own transaction handling begins lazily before the first write. A request that reads
first and writes later then holds a stale WAL snapshot and fails with SQLITE_BUSY_SNAPSHOT when
another writer committed in between; the busy timeout cannot help it. We switch pysqlite to
autocommit and emit BEGIN ourselves: BEGIN IMMEDIATE for requests that change state (POST and
friends) and for code that asks for it with `write_transaction()`, plain BEGIN for reads.
Writers then wait their turn on the busy timeout, and readers never wait (WAL).
"""
import contextlib
import contextvars
import logging
import sqlite3

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession

SQLITE_BUSY_TIMEOUT_MS = 15000  # default of the setting SQLITE_BUSY_TIMEOUT_MS (PORTAL_SQLITE_BUSY_TIMEOUT_MS)
log = logging.getLogger(__name__)
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


@contextlib.contextmanager
def write_transaction():
    """Make transactions begun inside the block take SQLite's write lock at once (CLI, jobs)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def _wants_write_lock() -> bool:
    if _write_intent.get():
        return True
    # After the request's commit (the unit of work) the rest only reads (the redirect's or fragment's data):
    # it need not wait for the write lock, and must not fail a request whose change is already saved.
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS") \
        and not request_committed()


def request_committed() -> bool:
    """Whether this request has committed a transaction (its change is saved, whatever happens next)."""
    return has_request_context() and request.environ.get("portal.committed", False)


@event.listens_for(OrmSession, "after_commit")
def _after_commit(_session):
    if has_request_context():
        request.environ["portal.committed"] = True


def end_request_session(_exc=None) -> None:
    """At the end of a request, before Flask-SQLAlchemy's own teardown: end the session, and when its connection
    died meanwhile (the server restarted after the page was made) let the failed rollback go -- the server
    dropped the transaction with the connection, which SQLAlchemy has discarded -- instead of turning an answered
    request into a 500."""
    from .extensions import db

    try:
        db.session.remove()
    except OperationalError as error:
        log.warning("connection lost at the end of the request (%s); discarded", error.orig)
        db.session.registry.clear()


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS) if has_app_context() \
        else SQLITE_BUSY_TIMEOUT_MS
    cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")


def analyze() -> None:
    """Refresh the query planner's statistics (SQLite keeps none until asked; without them it may walk a
    large table by a poor index). A full ANALYZE: about a second at 100,000 orders on SQLite; a sampled one
    (analysis_limit) misjudged the order states as selective and led the planner to them. On PostgreSQL a
    VACUUM ANALYZE: after a bulk load (seed-demo, a restore) the visibility map is empty until vacuumed, and
    the index-only reads of the search index and the list counts visit every table row instead."""
    from sqlalchemy import text

    from .extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))  # not inside a transaction
        return
    with db.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
