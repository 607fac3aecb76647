"""Test fixtures: one app per session on a clean, migrated schema; rows wiped after each test.

The database is a fresh SQLite file, or PORTAL_TEST_DATABASE_URL (PostgreSQL in CI), whose
public schema is dropped and rebuilt by the migrations at the start of the run.
"""
from __future__ import annotations

import hashlib
import itertools
import os
import re
import time

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text

from portal import create_app
from portal.extensions import db, limiter

TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
PASSWORD = "Correct-Horse-42"


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database next to the given one (test_gw0, ...),
    created on first use, so workers never wipe each other's rows."""
    from sqlalchemy.engine import make_url

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    for attempt in range(20):  # two workers copying template1 at once: the second is refused, so it waits
        try:
            with engine.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                    {"name": name}).scalar():
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            break
        except Exception:  # noqa: BLE001 (OperationalError or ProgrammingError, by driver and version)
            if attempt == 19:
                raise
            time.sleep(0.5)
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    url = TEST_DATABASE_URL or f"sqlite:///{instance / 'test.db'}"
    if url.startswith("postgresql"):
        url = _worker_database(url)
        _reset_postgres(url)
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        # Cheap hashes keep the suite fast; the production parameters are tested on their own.
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
    })
    app.test_client_class = PortalClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # DELETE every table with the foreign-key triggers off for this transaction (tables refer to
                # each other in cycles: users and customers, orders and samples), then every sequence back to
                # 1: ~30 ms, where TRUNCATE of all tables (new files for each table and index) took ~360 ms.
                if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
                    names = ", ".join(f'"{t.name}"' for t in tables)  # only a superuser may switch triggers off
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                    return
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for table in tables:
                    conn.execute(table.delete())
                conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c "
                                  "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"))
            else:
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
                for table in tables:
                    conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean(app):
    """Every test starts with empty tables and fresh rate-limit counters."""
    yield
    _wipe(app)
    limiter.reset()


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.test_request_context():
        yield
        db.session.rollback()


class PortalClient(FlaskClient):
    """A test client that sends the CSRF token with every POST unless told `csrf=False`."""

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = session["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post(self, *args, csrf: bool = True, **kwargs):
        if csrf:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app):
    return app.test_client()


_counter = itertools.count(1)


@pytest.fixture
def make_user(app):
    """make_user(role, username=None, customer=None, password=PASSWORD, **fields) -> User (committed)."""
    from portal.auth.services import hash_password
    from portal.models import User

    def make(role="sales", username=None, customer=None, password=PASSWORD, **fields):
        with app.app_context():
            user = User(
                username=username or f"{role}{next(_counter)}",
                display_name=fields.pop("display_name", None) or f"Test {role}",
                role=role, password_hash=hash_password(password),
                customer_id=getattr(customer, "id", customer), **fields)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


@pytest.fixture
def make_customer(app):
    """make_customer(owner=None, **fields) -> Customer (committed), with a code from the sequence."""
    from portal import numbering
    from portal.models import Customer

    def make(owner=None, **fields):
        with app.app_context():
            fields.setdefault("name", f"测试客户{next(_counter)}有限公司")
            customer = Customer(code=numbering.next_number("customer"), owner_id=getattr(owner, "id", owner),
                                **fields)
            db.session.add(customer)
            db.session.commit()
            db.session.refresh(customer)
            db.session.expunge(customer)
            return customer

    return make


def login(client, user_or_name, password: str = PASSWORD):
    """Sign `client` in; returns the response of the POST /login."""
    username = getattr(user_or_name, "username", user_or_name)
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, f"login of {username} failed: {response.status_code}"
    return response


@pytest.fixture
def login_as(client, make_user):
    """login_as(role) -> the user, with `client` signed in as a new user of that role."""

    def do(role, **fields):
        user = make_user(role, **fields)
        login(client, user)
        return user

    return do


def form_value(html: str, name: str) -> str | None:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None
