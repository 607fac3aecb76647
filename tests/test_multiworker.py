"""Several gunicorn workers, one database (issue 8).

A module fixture builds its own database (PostgreSQL: `<test database>_mw`, created and dropped here; SQLite:
a file), fills it through tests/multiworker_seed.py and starts gunicorn with 4 sync workers and an access log
that names the worker pid of every request, so each test shows that its requests were served by several
processes. Sign-in throttling counts in Redis (PORTAL_TEST_REDIS_URL, default redis://127.0.0.1:6379/5, under a
key prefix of this run); without a reachable Redis that test is skipped.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.bench.bench_load import ROOT, free_port, start_gunicorn
from tests.bench.loadgen import CSRF, Session
from tests.multiworker_seed import CONTRACT_ORDERS, PASSWORD

WORKERS = 4
THREADS = 8
ACCOUNT_LIMIT = 5  # the defaults of config.py, which the server runs with
ADDRESS_LIMIT = 20
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

pytestmark = pytest.mark.xdist_group("multiworker")  # with --dist loadgroup one worker runs the whole module


@pytest.fixture(autouse=True)
def _clean():
    """This module has its own database and server: the suite's wipe of the shared test database is not needed."""
    yield


@dataclass
class Server:
    port: int
    url: str  # the database
    ids: dict
    access_log: Path
    storage: str  # the limiter storage the workers share


def _stop(process: subprocess.Popen) -> None:
    """Quick shutdown (SIGQUIT: nothing is left running that needs to finish), then the process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _redis_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _database(instance: Path) -> tuple[str, callable]:
    """The URL of a database for this module alone, and how to remove it."""
    given = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not given or not given.startswith("postgresql"):
        return f"sqlite:///{instance / 'multiworker.db'}", lambda: None
    base = make_url(given)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"{base.database}_mw" + (f"_{worker}" if worker else "")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop_and_dispose():
        drop()
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop_and_dispose


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("multiworker")
    # Cheap password hashes: this module measures the workers and the database, not argon2.
    (instance / "config.py").write_text(
        'PASSWORD_HASH_PARAMS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}\n')
    url, drop = _database(instance)
    prefix = f"portal-test-mw-{uuid.uuid4().hex[:12]}"
    storage = REDIS_URL if _redis_up(REDIS_URL) else "memory://"
    env = dict(os.environ)
    env.update({
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": "multi-worker-test-secret",
        "PORTAL_RATELIMIT_STORAGE_URI": storage,
        "PORTAL_RATELIMIT_KEY_PREFIX": prefix,
        "PORTAL_PROXY_FIX": "1",  # X-Forwarded-For stands for the client's address, as behind the reverse proxy
        "FLASK_APP": "wsgi",
    })
    for name in ("PORTAL_LOGIN_LIMIT_ACCOUNT", "PORTAL_LOGIN_LIMIT_ADDRESS", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    access_log, port, started = instance / "access.log", free_port(), []
    try:
        seeded = subprocess.run([sys.executable, "-m", "tests.multiworker_seed"], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        ids = json.loads(seeded.stdout.strip().splitlines()[-1])
        start_gunicorn(instance, url, WORKERS, port, started, env=env, args=(
            "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s %(m)s %(U)s%(q)s"))
        server = Server(port, url, ids, access_log, storage)
        _wait_for_every_worker(server)
        yield server
    finally:
        for process in started:
            _stop(process)
        drop()
        if storage.startswith("redis"):
            import redis

            client = redis.Redis.from_url(storage)
            keys = list(client.scan_iter(f"*/{prefix}/*"))  # limits names them LIMITS:LIMITER/<prefix>/...
            if keys:
                client.delete(*keys)


# ---------------------------------------------------------------- helpers


def _wait_for_every_worker(server: Server) -> None:
    """gunicorn starts the workers at once, but each loads the app on its own: until the others have, the first
    one ready takes every connection. Concurrent /healthz until each worker has answered one (at most 60 s)."""
    tag, deadline = uuid.uuid4().hex, time.time() + 60
    with ThreadPoolExecutor(2 * WORKERS) as pool:
        while len(_pids(server, tag)) < WORKERS and time.time() < deadline:
            list(pool.map(lambda _: Session("127.0.0.1", server.port).request("GET", f"/healthz?t={tag}"),
                          range(2 * WORKERS)))
            time.sleep(0.05)


def _pids(server: Server, tag: str) -> set[int]:
    """The worker pids that served the requests whose URL carries `tag` (access log: pid status method URL)."""
    pids = set()
    for line in server.access_log.read_text().splitlines():
        if tag in line:
            pids.add(int(line.split()[0].strip("<>")))
    return pids


def _csrf(session: Session, path: str, address: str) -> str:
    status, body, _ = session.request("GET", path, headers={"X-Forwarded-For": address})
    match = CSRF.search(body.decode("utf-8", "replace"))
    assert status == 200 and match, f"GET {path}: {status}"
    return match.group(1) or match.group(2)


def _post(session: Session, path: str, form: dict, address: str):
    return session.request("POST", path, body=urllib.parse.urlencode(form),
                           headers={**FORM, "X-Forwarded-For": address})


def _sign_in(server: Server, username: str, password: str, address: str, tag: str = "") -> tuple[int, Session]:
    session = Session("127.0.0.1", server.port)
    token = _csrf(session, "/login", address)
    status, _, _ = _post(session, f"/login?t={tag}", {"csrf_token": token, "username": username,
                                                      "password": password, "next": ""}, address)
    return status, session


def _signed_in(server: Server, username: str, address: str) -> Session:
    status, session = _sign_in(server, username, PASSWORD, address)
    assert status == 303, f"sign-in of {username}: {status}"
    return session


def _copy(session: Session) -> Session:
    """The same browser's cookies in a new object (one per thread: Session keeps cookies in a dict)."""
    other = Session(session.host, session.port)
    other.cookies = dict(session.cookies)
    return other


def _engine(server: Server):
    return create_engine(server.url)


# ---------------------------------------------------------------- a. sign-in throttling


def test_failed_sign_ins_are_counted_once_for_all_workers(server):
    if not server.storage.startswith("redis"):
        pytest.skip(f"Redis not reachable at {REDIS_URL}: the workers would count in memory each")
    tag = uuid.uuid4().hex
    # at once, so that several workers take them (one after the other, one idle worker can take them all)
    with ThreadPoolExecutor(ACCOUNT_LIMIT) as pool:
        statuses = list(pool.map(lambda _: _sign_in(server, "mw_victim", "wrong-password", "10.8.0.1", tag)[0],
                                 range(ACCOUNT_LIMIT)))
    assert statuses == [422] * ACCOUNT_LIMIT
    assert len(_pids(server, tag)) >= 2, ("the failed sign-ins were all served by one worker",
                                          [line for line in server.access_log.read_text().splitlines()][-12:])
    # The sixth attempt is refused whichever worker takes it: the count is shared, not 4 x 5.
    assert [_sign_in(server, "mw_victim", "wrong-password", "10.8.0.1")[0] for _ in range(WORKERS)] == [429] * WORKERS
    # The account stays locked for the window, also with the right password from another address ...
    assert _sign_in(server, "mw_victim", PASSWORD, "10.8.0.2")[0] == 429
    # ... while another account signs in from the address that made the failures (5 < the address limit).
    assert _sign_in(server, "mw_sales", PASSWORD, "10.8.0.1")[0] == 303

    # Per address: failures for many accounts from one address, across the workers, stop at the limit in total.
    tag = uuid.uuid4().hex
    statuses = [_sign_in(server, f"nobody{n}", "wrong-password", "10.8.0.3", tag)[0] for n in range(ADDRESS_LIMIT)]
    assert statuses == [422] * ADDRESS_LIMIT
    assert len(_pids(server, tag)) >= 2
    assert _sign_in(server, "mw_sales", PASSWORD, "10.8.0.3")[0] == 429
    assert _sign_in(server, "mw_sales", PASSWORD, "10.8.0.4")[0] == 303
    print(f"\nfailed sign-ins over {len(_pids(server, tag))} workers: 429 after {ACCOUNT_LIMIT} per account and "
          f"{ADDRESS_LIMIT} per address in total")


def test_sign_in_works_while_redis_is_down(server, tmp_path):
    """Redis unreachable: no 500; each worker counts in memory until Redis answers again."""
    env = dict(os.environ)
    env.update({
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_DATABASE_URL": server.url,
        "PORTAL_SECRET_KEY": "multi-worker-test-secret",
        "PORTAL_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/5",  # nothing listens there
        "PORTAL_PROXY_FIX": "1",
    })
    for name in ("PORTAL_LOGIN_LIMIT_ACCOUNT", "PORTAL_LOGIN_LIMIT_ADDRESS", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    (tmp_path / "config.py").write_text('PASSWORD_HASH_PARAMS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}\n')
    workers, port, started = 2, free_port(), []
    try:
        start_gunicorn(tmp_path, server.url, workers, port, started, env=env)
        down = Server(port, server.url, server.ids, tmp_path / "none.log", "down")
        assert _sign_in(down, "mw_manager", PASSWORD, "10.9.0.1")[0] == 303
        statuses = []
        while 429 not in statuses and len(statuses) <= workers * ACCOUNT_LIMIT + 1:
            statuses.append(_sign_in(down, "mw_manager", "wrong-password", "10.9.0.2")[0])
        # Refused after the limit of one worker at the earliest, of all workers together at the latest.
        assert set(statuses[:-1]) == {422} and statuses[-1] == 429, statuses
        assert ACCOUNT_LIMIT < len(statuses) <= workers * ACCOUNT_LIMIT + 1
        log = (tmp_path / "gunicorn.log").read_text()
        assert "falling back to in-memory storage" in log
        assert " 500 " not in log and "Traceback" not in log
        print(f"\nRedis down, {workers} workers: sign-in 303, failed sign-ins 422, 429 at attempt {len(statuses)}")
    finally:
        for process in started:
            _stop(process)


# ---------------------------------------------------------------- b. sessions


def _home_on_all(server: Server, session: Session, count: int = 40) -> tuple[list[int], set[int]]:
    """`count` requests for the home page with the session's cookies, from THREADS clients at once.

    Sequential requests may all be accepted by the worker that has just answered the previous one (CI once saw
    40 of 40 on one pid); concurrent ones find the others busy. Each client has its own copy of the cookies."""
    tag = uuid.uuid4().hex

    def home(_):
        return _copy(session).request("GET", f"/?t={tag}", headers={"X-Forwarded-For": "10.7.0.1"})[0]

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(home, range(count)))
    return statuses, _pids(server, tag)


def test_a_session_holds_on_every_worker_and_ends_on_every_worker(server):
    session = _signed_in(server, "mw_session", "10.7.0.1")
    statuses, pids = _home_on_all(server, session)
    assert statuses == [200] * 40 and len(pids) >= 2, (statuses, pids)

    kept = _copy(session)  # the cookie as someone who copied it before the sign-out holds it
    token = _csrf(session, "/account/password", "10.7.0.1")
    assert _post(session, "/logout", {"csrf_token": token}, "10.7.0.1")[0] == 303
    statuses, pids = _home_on_all(server, kept)
    assert statuses == [302] * 40 and len(pids) >= 2, (statuses, pids)

    # A password reset by the administrator ends the user's sessions on every worker at once.
    session = _signed_in(server, "mw_session", "10.7.0.1")
    assert _home_on_all(server, session)[0] == [200] * 40
    admin = _signed_in(server, "mw_admin", "10.7.0.5")
    user_id = server.ids["users"]["mw_session"]
    token = _csrf(admin, f"/admin/users/{user_id}", "10.7.0.5")
    status, _, _ = _post(admin, f"/admin/users/{user_id}/password",
                         {"csrf_token": token, "password": "Reset-By-Admin-77"}, "10.7.0.5")
    assert status == 303
    statuses, pids = _home_on_all(server, session)
    assert statuses == [302] * 40 and len(pids) >= 2, (statuses, pids)
    print(f"\nsession: 40 x 200 signed in, then 40 x 302 after sign-out and after the admin's reset, "
          f"each round on {len(pids)} workers")


# ---------------------------------------------------------------- c. gap-free numbers


def _take_and_roll_back(server: Server, kinds: list[tuple[str, int]]) -> list[int]:
    """A transaction that takes a number of each kind, holds the counters a moment, and rolls back."""
    from portal.database import write_transaction

    engine = _engine(server)
    taken = []
    try:
        with write_transaction(), engine.connect() as conn:  # SQLite: BEGIN IMMEDIATE, as the portal's writers
            for kind, year in kinds:
                taken.append(conn.execute(text(
                    "INSERT INTO sequences (kind, year, last_value) VALUES (:kind, :year, 1) "
                    "ON CONFLICT (kind, year) DO UPDATE SET last_value = sequences.last_value + 1 "
                    "RETURNING last_value"), {"kind": kind, "year": year}).scalar_one())
            time.sleep(0.3)  # a fixed hold, not a wait for a condition: the requests queue on the counter rows
            conn.rollback()
    finally:
        engine.dispose()
    return taken


def test_numbers_stay_gap_free_when_several_workers_issue_them_at_once(server):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    sessions = [_signed_in(server, "mw_sales", f"10.6.0.{n}") for n in range(1, 5)]
    tokens = [_csrf(s, "/customers/new", f"10.6.0.{n}") for n, s in enumerate(sessions, 1)]
    tag = uuid.uuid4().hex
    new_customers = 40

    def create(n: int):
        session = _copy(sessions[n % len(sessions)])
        return _post(session, f"/customers/new?t={tag}", {
            "csrf_token": tokens[n % len(sessions)], "name": f"并发新建客户{n:03d}有限公司", "country": "CN",
            "grade": "C", "status": "prospect", "currency": "CNY", "owner_id": "", "version": ""},
            f"10.6.0.{n % len(sessions) + 1}")[0]

    twins = threading.Barrier(THREADS)

    def create_twin(n: int):  # the same company entered by several salespeople at the same moment
        session = _copy(sessions[n % len(sessions)])
        twins.wait()
        return _post(session, f"/customers/new?t={tag}", {
            "csrf_token": tokens[n % len(sessions)], "name": "同时录入的同一客户有限公司", "country": "CN",
            "grade": "C", "status": "prospect", "currency": "CNY", "owner_id": "", "version": ""},
            f"10.6.0.{n % len(sessions) + 1}")[0]

    def issue(order_id: int):
        session = _copy(sessions[order_id % len(sessions)])
        return _post(session, f"/documents/orders/{order_id}/contract/issue?t={tag}",
                     {"csrf_token": tokens[order_id % len(sessions)], "reason": ""},
                     f"10.6.0.{order_id % len(sessions) + 1}")[0]

    with ThreadPoolExecutor(THREADS) as pool:
        twin_statuses = list(pool.map(create_twin, range(THREADS)))
    assert sorted(twin_statuses) == [303] + [422] * (THREADS - 1)  # one is created, the others told it exists

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        jobs = [pool.submit(create, n) for n in range(new_customers)]
        jobs += [pool.submit(issue, order_id) for order_id in server.ids["contract_orders"]]
        # A double click: the first order's contract twice more. The row lock makes them wait for the first
        # issue, which they then see: a new version needs a reason (422), and no second number is taken.
        doubles = [pool.submit(issue, server.ids["contract_orders"][0]) for _ in range(2)]
        # Transactions that take numbers and roll back (a request failing after numbering gives its number back).
        with ThreadPoolExecutor(2) as failing:
            rolled_back = [failing.submit(_take_and_roll_back, server, [("customer", 0), ("contract", year)])
                           for _ in range(6)]
            statuses = [job.result() for job in jobs]
            double_statuses = [job.result() for job in doubles]
            taken = [job.result() for job in rolled_back]
    took = time.perf_counter() - started
    first = new_customers  # the first order's own request; whichever of its three requests locked first won
    assert statuses[:first] + statuses[first + 1:] == [303] * (new_customers + CONTRACT_ORDERS - 1), statuses
    assert sorted([statuses[first]] + double_statuses) == [303, 422, 422]
    assert all(len(t) == 2 for t in taken)
    assert len(_pids(server, tag)) >= 2

    engine = _engine(server)
    try:
        with engine.connect() as conn:
            codes = conn.execute(text("SELECT code FROM customers ORDER BY code")).scalars().all()
            contracts = conn.execute(text("SELECT contract_no FROM orders WHERE contract_no IS NOT NULL "
                                          "ORDER BY contract_no")).scalars().all()
            issued = conn.execute(text("SELECT number FROM issued_documents WHERE kind = 'contract' "
                                       "ORDER BY number")).scalars().all()
            counters = dict(conn.execute(text("SELECT kind, last_value FROM sequences "
                                              "WHERE kind IN ('customer', 'contract')")).all())
    finally:
        engine.dispose()
    assert codes == [f"C{n:05d}" for n in range(1, len(codes) + 1)]
    assert len(codes) == 2 + new_customers + 1  # two seeded customers, one of the twins
    assert contracts == issued == [f"HT{year}-{n:04d}" for n in range(1, CONTRACT_ORDERS + 1)]
    assert counters == {"customer": len(codes), "contract": CONTRACT_ORDERS}
    print(f"\n{new_customers} customers and {CONTRACT_ORDERS} contracts by {len(_pids(server, tag))} workers "
          f"x {THREADS} threads, 6 numbering transactions rolled back: {took:.1f} s, C00001..C{len(codes):05d} "
          f"and HT{year}-0001..{CONTRACT_ORDERS:04d}, no gap")


# ---------------------------------------------------------------- d. optimistic locking


def test_one_of_many_parallel_saves_of_the_same_version_wins(server):
    customer_id = server.ids["edited_customer"]
    path = f"/customers/{customer_id}/edit"
    editors = [_signed_in(server, "mw_sales", f"10.5.0.{n}") for n in range(1, 5)]
    pages = [editor.request("GET", path, headers={"X-Forwarded-For": "10.5.0.9"})[1].decode() for editor in editors]
    tokens = [(CSRF.search(page).group(1) or CSRF.search(page).group(2)) for page in pages]
    version = re.search(r'name="version"[^>]*value="(\d+)"', pages[0]).group(1)
    tag = uuid.uuid4().hex
    saves = 20
    barrier = threading.Barrier(THREADS)

    def save(n: int):
        session = _copy(editors[n % len(editors)])
        if n < THREADS:
            barrier.wait()  # the first round leaves together
        status, body, _ = _post(session, f"{path}?t={tag}", {
            "csrf_token": tokens[n % len(editors)], "name": f"并发编辑测试有限公司{n:02d}", "country": "CN",
            "grade": "B", "status": "active", "currency": "CNY", "owner_id": "", "version": version},
            f"10.5.0.{n % len(editors) + 1}")
        return status, body.decode("utf-8", "replace")

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(save, range(saves)))
    statuses = [status for status, _ in answers]
    assert statuses.count(303) == 1, statuses
    refused = [body for status, body in answers if status != 303]
    # The customer form answers a stale save with 409 and says that someone else saved meanwhile.
    assert all(status == 409 for status in statuses if status != 303), statuses
    assert all("其他人" in body for body in refused)  # "someone else saved this customer"
    assert len(_pids(server, tag)) >= 2
    winner = statuses.index(303)

    engine = _engine(server)
    try:
        with engine.connect() as conn:
            name, stored_version = conn.execute(text("SELECT name, version FROM customers WHERE id = :id"),
                                                {"id": customer_id}).one()
            updates = conn.execute(text("SELECT count(*) FROM audit_log WHERE entity_type = 'Customer' "
                                        "AND entity_id = :id AND action = 'update'"), {"id": customer_id}).scalar()
    finally:
        engine.dispose()
    assert name == f"并发编辑测试有限公司{winner:02d}"
    assert stored_version == int(version) + 1 and updates == 1
    print(f"\n{saves} parallel saves of version {version}: 1 saved (303), {saves - 1} x 409")


# ---------------------------------------------------------------- e. cached aggregates stay exact


def _open_of(server: Server, customer_id: int | None = None) -> str:
    """The open amount of a customer's orders (or of all CNY orders) as the receivables page writes it."""
    engine = _engine(server)
    where = "customer_id = :id" if customer_id else "currency = 'CNY' AND state <> 'cancelled'"
    try:
        with engine.connect() as conn:
            amount = conn.execute(text(f"SELECT sum(amount_total - amount_paid) FROM orders WHERE {where} "
                                       "AND amount_total > amount_paid"), {"id": customer_id}).scalar()
    finally:
        engine.dispose()
    return f"{amount:,.2f}"


def test_receivables_cached_by_every_worker_follow_a_payment_made_on_one(server):
    """Each worker keeps the receivables ageing (portal/datacache.py); a payment recorded through one worker is
    on the page of every worker at the next request, with no stale copy served anywhere: the customer's row
    and the total over all customers (which comes from the cached ageing)."""
    manager = _signed_in(server, "mw_manager", "10.6.0.1")
    sales = _signed_in(server, "mw_sales", "10.6.0.2")
    order_id = server.ids["contract_orders"][-1]
    with _engine(server).connect() as conn:
        customer_id = conn.execute(text("SELECT customer_id FROM orders WHERE id = :id"), {"id": order_id}).scalar()
    before, total_before = _open_of(server, customer_id), _open_of(server)
    tag = uuid.uuid4().hex

    def receivables(round_: str) -> list[tuple[str, str]]:
        pages = []
        for n in range(24):  # enough requests to reach every worker, each of which caches its own copy
            status, body, _ = manager.request("GET", f"/receivables/?t={tag}-{round_}-{n}",
                                              headers={"X-Forwarded-For": "10.6.0.1"})
            assert status == 200
            page = body.decode()
            row = page.index(f'id="customer-{customer_id}"')
            totals = page.index('id="receivable-totals"')
            pages.append((page[row:page.index("</tr>", row)], page[totals:page.index("</section>", totals)]))
        return pages

    assert all(before in row and total_before in totals for row, totals in receivables("a"))
    assert len(_pids(server, f"{tag}-a")) >= 2

    token = _csrf(sales, f"/orders/{order_id}", "10.6.0.2")
    status, _, _ = _post(sales, f"/orders/{order_id}/payments", {
        "csrf_token": token, "kind": "deposit", "amount": "1000.00", "received_on": "2026-03-10", "method": "",
        "reference": "MW-1", "note": ""}, "10.6.0.2")
    assert status == 303
    after, total_after = _open_of(server, customer_id), _open_of(server)
    assert after != before and total_after != total_before
    pages = receivables("b")
    assert all(after in row and before not in row for row, _ in pages), pages[0]
    assert all(total_after in totals and total_before not in totals for _, totals in pages), pages[0]
    assert len(_pids(server, f"{tag}-b")) >= 2
