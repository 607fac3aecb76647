"""Flask commands: seed-demo, create-user, backup."""
import json
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Contact, ContactLog, Customer, User
from tests.conftest import login


def test_seed_demo_is_idempotent_and_accounts_land_on_their_pages(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert first.output == second.output
    with app.app_context():
        names = set(db.session.scalars(select(User.username)))
        assert {"admin", "manager", "sales1", "sales2", "service", "buyer1", "buyer2"} <= names
        buyer1 = db.session.scalar(select(User).where(User.username == "buyer1"))
        buyer2 = db.session.scalar(select(User).where(User.username == "buyer2"))
        assert buyer1.customer_id != buyer2.customer_id and buyer1.locale == "en"
        sales = {u.username: u.id for u in db.session.scalars(select(User).where(User.role == "sales"))}
        owners = set(db.session.scalars(select(Customer.owner_id)))
        assert owners - {None} == {sales["sales1"], sales["sales2"]}
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 40
        assert db.session.scalar(select(func.count()).select_from(Contact)) >= 40
        assert db.session.scalar(select(func.count()).select_from(ContactLog)) > 0
        foreign = db.session.scalar(select(func.count()).select_from(Customer).where(Customer.country != "CN"))
        assert 5 <= foreign <= 20
    for name, landing in [("admin", "/"), ("manager", "/"), ("sales1", "/"), ("service", "/"), ("buyer1", "/my/")]:
        client = app.test_client()
        assert login(client, name, "demo1234").headers["Location"] == landing
        assert client.get(landing).status_code == 200
    _after_sales_demo(app)


def _after_sales_demo(app):
    """Tickets in every state, a year of visits with varied answers, submitted and draft monthly forms."""
    from portal.models import FollowUpVisit, SatisfactionMonth, Ticket, TicketState

    with app.app_context():
        states = set(db.session.scalars(select(Ticket.state)))
        assert states == {s.value for s in TicketState}
        assert db.session.scalar(select(func.max(Ticket.reopen_count))) >= 1
        done = db.session.scalars(select(FollowUpVisit).where(FollowUpVisit.state == "done")).all()
        months = {(v.done_at.year, v.done_at.month) for v in done}
        assert len(months) >= 12 and {v.score for v in done} == {1, 2, 3, 4, 5}
        assert any(v.problem for v in done) and not all(v.problem for v in done)
        assert db.session.scalar(select(func.count()).select_from(FollowUpVisit).where(
            FollowUpVisit.state == "due")) > 0
        forms = db.session.scalars(select(SatisfactionMonth)).all()
        assert {f.state for f in forms} == {"draft", "submitted"}
        assert all(f.snapshot for f in forms if f.state == "submitted")
    client = app.test_client()
    login(client, "service", "demo1234")
    home = client.get("/").get_data(as_text=True)
    assert 'id="visits-due"' in home and 'id="tickets-due"' in home


def test_seed_demo_customers_option_adds_up_to_n(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--customers", "120"]).exit_code == 0
    assert runner.invoke(args=["seed-demo", "--customers", "120"]).exit_code == 0
    with app.app_context():
        names = db.session.scalars(select(Customer.name_key)).all()
        codes = db.session.scalars(select(Customer.code)).all()
    assert len(names) == 120 and len(set(names)) == 120 and len(set(codes)) == 120


def test_seed_demo_if_empty_leaves_a_real_site_alone(app, make_user):
    make_user("admin", username="realadmin")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_create_user_command(app, make_customer):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "boss", "--role", "admin", "--password", "Factory-Desk-2026"])
    assert result.exit_code == 0, result.output
    weak = runner.invoke(args=["create-user", "weak", "--role", "admin", "--password", "12345678"])
    assert weak.exit_code != 0 and "常见" in weak.output
    customer = make_customer()
    ok = runner.invoke(args=["create-user", "buyerz", "--role", "customer", "--customer", customer.code,
                             "--password", "Factory-Desk-2026"])
    assert ok.exit_code == 0, ok.output
    login(app.test_client(), "boss", "Factory-Desk-2026")


def test_backup_while_writes_go_on_restores_to_a_working_copy(app, tmp_path, make_customer):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL backups use pg_dump; tested in test_backup_postgres")
    (tmp_path / "x").mkdir()
    upload = __import__("pathlib").Path(app.instance_path) / "uploads" / "company"
    upload.mkdir(parents=True, exist_ok=True)
    (upload / "logo.png").write_bytes(b"logo-bytes")
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            make_customer()
            time.sleep(0.005)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.2)
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "MANIFEST.json").read_text())
    assert manifest["customers"] >= 1 and "uploads/company/logo.png" in manifest["files"]
    copy = sqlite3.connect(tmp_path / "backup" / "portal.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    customers = copy.execute("SELECT count(*) FROM customers").fetchone()[0]
    codes = [row[0] for row in copy.execute("SELECT code FROM customers ORDER BY code")]
    copy.close()
    assert customers >= 1 and len(codes) == len(set(codes))
    # The copy is a working portal database.
    from portal import create_app
    restored = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'backup' / 'portal.db'}",
                           "TESTING": True})
    with restored.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == customers
    assert (tmp_path / "backup" / "uploads" / "company" / "logo.png").read_bytes() == b"logo-bytes"


def test_backup_refuses_a_non_empty_target(app, tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "f").write_text("x")
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "t")])
    assert result.exit_code != 0 and "not empty" in result.output


def test_backup_postgres(app, tmp_path):
    import shutil

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("only with PostgreSQL")
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump not installed")
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b" / "portal.pgdump").stat().st_size > 0


def test_analyze_gives_the_planner_statistics(app):
    """SQLite has no statistics until ANALYZE; PostgreSQL keeps them in pg_stats (filled by ANALYZE too)."""
    from sqlalchemy import text

    result = app.test_cli_runner().invoke(args=["analyze"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
                                      ).scalar() == 1
        else:
            assert db.session.execute(text("SELECT count(*) FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
                                           )).scalar() > 0
