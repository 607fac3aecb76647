"""Per-worker cache of costly aggregates (the receivables ageing, the satisfaction figures and trend), exact
across workers and databases.

Every table that a cached aggregate reads has a row in `data_versions` holding a random token. A session
hook replaces the token of each table the transaction wrote, as the last statement before the commit, in the
same transaction: a reader sees the new rows and the new token together or neither. A result is stored
under the tokens of its tables read before computing it, so it is never older than its key: a request
that reads newer tokens misses. The tokens are read again after computing and the result is kept only when
they agree: on PostgreSQL (each statement its own snapshot) a result whose statements straddle a commit is
not kept at all; on SQLite the request's single snapshot makes the two reads agree by itself. The next
request on any worker reads the tokens (one small query), and a changed token is a cache miss.

What the hook sees: ORM flushes (objects added, changed, deleted) and statements run through the session
(`session.execute(insert/update/delete(...))`, the demo seed's bulk inserts). Writes that bypass the session
(raw connections, another program writing the database) must call `bump()` themselves. Tokens are random, not counters, so two databases used by one process (the test
suite wipes and refills its tables) never share a key.

A transaction that has written a tracked table computes without the cache: what it sees is not committed.
Cached values are shared between requests: callers must not change them.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .extensions import db
from .models.dataversions import DataVersion

T = TypeVar("T")

#: the tables whose changes are tracked (what the cached aggregates read)
TRACKED = frozenset({"orders", "payments", "shipments", "customers", "users", "follow_up_visits", "tickets",
                     "company_settings"})
MAX_ENTRIES = 256  # per worker; a receivables result at 100,000 orders is ~3,000 small tuples
_CHANGED = "datacache.changed"  # session.info key: tracked tables written in the current transaction
_READ = "datacache.read"  # session.info key: every token, as read once in the current transaction

_store: OrderedDict = OrderedDict()
_lock = threading.Lock()
stats = {"hits": 0, "misses": 0, "uncached": 0}  # for tests and benchmarks


_ALL_TOKENS = select(DataVersion.name, DataVersion.token)


def _all_tokens(session) -> dict:
    """Every table's token, read now (one small statement through the connection, no ORM)."""
    return dict(session.connection().execute(_ALL_TOKENS).all())


def _select(found: dict, names: list[str]) -> tuple | None:
    if any(name not in found for name in names):
        return None
    return tuple(found[name] for name in names)


def tokens(tables: Iterable[str]) -> tuple | None:
    """The current tokens of `tables` (sorted by name), or None when one has never been written through the
    session (nothing to key on: the caller computes without the cache)."""
    names = sorted(set(tables))
    if not names:  # a value that never changes (keyed by what identifies it)
        return ()
    return _select(_all_tokens(db.session()), names)


def _tokens_before(session, names: list[str]) -> tuple | None:
    """The tokens a value is keyed by: read once per transaction, so that the several cached values of a page
    cost one statement. Read before any of them is computed, they are never newer than what is computed after."""
    if not names:
        return ()
    found = session.info.get(_READ)
    if found is None:
        found = session.info[_READ] = _all_tokens(session)
    return _select(found, names)


def cached(name: str, tables: Iterable[str], key: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, or the value computed earlier for the same `name` and `key` while `tables` were unchanged."""
    tables = tuple(sorted(set(tables)))
    unknown = set(tables) - TRACKED
    if unknown:
        raise ValueError(f"not tracked by datacache: {sorted(unknown)}")
    session = db.session()
    if session.info.get(_CHANGED):
        stats["uncached"] += 1
        return compute()
    before = _tokens_before(session, list(tables))
    if before is None:
        stats["uncached"] += 1
        return compute()
    slot = (name, key, tables)
    with _lock:
        entry = _store.get(slot)
        if entry is not None and entry[0] == before:
            _store.move_to_end(slot)
            stats["hits"] += 1
            return entry[1]
    stats["misses"] += 1
    value = compute()
    if not session.info.get(_CHANGED) and tokens(tables) == before:
        with _lock:
            # one value per slot: a value under older tokens can never be asked for again (tokens are random and
            # never come back), so it is replaced, not left to the LRU bound (the soak at 100,000 orders: ~40 MB a
            # worker of stale receivables and satisfaction figures after ten minutes of writes)
            _store[slot] = (before, value)
            _store.move_to_end(slot)
            while len(_store) > MAX_ENTRIES:
                _store.popitem(last=False)
    return value


def entries() -> int:
    """How many values this process holds (tests)."""
    return len(_store)


def clear() -> None:
    """Forget every cached value of this process (tests)."""
    with _lock:
        _store.clear()


def bump(connection, tables: Iterable[str]) -> None:
    """Give `tables` new tokens on `connection` (inside the writing transaction)."""
    names = sorted(set(tables) & TRACKED)
    if not names:
        return
    dialect = connection.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for table in names:  # one row at a time, always in name order: writers lock the rows in the same order
        stmt = insert(DataVersion).values(name=table, token=secrets.randbits(62))
        connection.execute(stmt.on_conflict_do_update(index_elements=["name"],
                                                      set_={"token": stmt.excluded.token}))


def bump_all(connection) -> None:
    bump(connection, TRACKED)


def _note(session: Session, names: Iterable[str]) -> None:
    names = set(names) & TRACKED
    if names:
        session.info.setdefault(_CHANGED, set()).update(names)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context) -> None:
    """The tables whose rows the flush inserted, updated or deleted. An object is in `session.dirty` also when
    only one of its collections changed (a contact log added to a customer's), which writes no row of its
    table: those are left out (the attribute history is still the flush's here)."""
    changed = [*session.new, *session.deleted,
               *(obj for obj in session.dirty if session.is_modified(obj, include_collections=False))]
    _note(session, (obj.__table__.name for obj in changed if hasattr(obj, "__table__")))


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None and getattr(table, "name", None):
            _note(state.session, (table.name,))


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    """The last statements of the transaction: flush what is pending, then replace the written tables' tokens
    (row locks on PostgreSQL are held only from here to the commit, and taken in name order)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    names = session.info.pop(_CHANGED, None)
    if names:
        bump(session.connection(), names)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_READ, None)


@event.listens_for(Session, "after_commit")
def _forget_read_tokens(session: Session) -> None:
    """The next transaction reads the tokens again (they may have changed, by this commit or another)."""
    session.info.pop(_READ, None)
