"""Load benchmark (issue 8): the portal under gunicorn with several workers, 8 concurrent clients, loopback.

Run: `make bench-load` (SQLite), or with
PORTAL_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_load for PostgreSQL
(that database's public schema is dropped and rebuilt unless BENCH_REUSE=1: use a database for
benchmarks only).

1. builds the bench database in an instance folder (BENCH_DIR, default $TMPDIR/portal-bench-load-<backend>):
   `flask db upgrade`, then `flask seed-demo --customers BENCH_CUSTOMERS --orders BENCH_ORDERS`
   (defaults 10000 / 100000); BENCH_REUSE=1 keeps a database seeded earlier with the same sizes,
   BENCH_SEED_ONLY=1 stops after seeding (to measure later, when the machine is quiet);
2. starts gunicorn (BENCH_WORKERS, default 4) on a free port of 127.0.0.1 and waits for /healthz;
3. signs in as sales1, manager and buyer1 (BENCH_SESSIONS sessions each, default 2);
4. drives each page on its own with BENCH_CLIENTS (default 8) closed-loop clients for BENCH_SECONDS
   (default 30; after BENCH_WARMUP seconds, default 3, not counted), /healthz first as the ceiling,
   then all pages together as a mix (BENCH_MIX=0 leaves that out), and the mix again while sales1 records a
   payment of 0.01 every BENCH_WRITE_INTERVAL seconds (default 1; 0 leaves it out): each payment changes the
   tables under the cached receivables, on every worker (it adds ~30 payments of 0.01 a run to another shipped
   order of sales1, not the one whose page is measured);
5. prints a Markdown table: requests, errors, req/s, p50/p95/p99 ms, ratio to /healthz, pass/fail;
6. reports each worker's RSS at start and end (a long BENCH_SECONDS is a soak run).
gunicorn is stopped at the end, also on errors and Ctrl-C. Exit status 1 when a target is missed.
"""
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.loadgen import CSRF, Result, Session, drive, make_pool, start_writer  # noqa: E402

P95_TARGET_MS = 100.0
RATIO_TARGET = 0.15
PASSWORD = "demo1234"


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def bin_path(name: str) -> str:
    """A console script of the venv that runs this script (flask, gunicorn)."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else shutil.which(name) or name


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------- database


def prepare_database(url: str | None, instance: Path, customers: int, orders: int, reuse: bool) -> str:
    """The bench database's URL, seeded to the requested size (reused when asked and it matches)."""
    backend = "postgresql" if url and url.startswith("postgresql") else "sqlite"
    url = url or f"sqlite:///{instance}/bench.db"
    marker = instance / "bench-load.json"
    wanted = {"url": url, "customers": customers, "orders": orders, "code": schema_and_seed_digest()}
    if reuse and marker.exists() and json.loads(marker.read_text()) == wanted:
        print(f"database: {backend}, reused (BENCH_REUSE=1): {instance}")
        analyze(url)
        return url
    if instance.exists():
        shutil.rmtree(instance)
    instance.mkdir(parents=True)
    if backend == "postgresql":
        from sqlalchemy import create_engine, text
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    env = app_env(instance, url)
    flask = [bin_path("flask"), "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    print(f"seeding {backend}: seed-demo --customers {customers} --orders {orders} ...", flush=True)
    started = time.perf_counter()
    done = subprocess.run(flask + ["seed-demo", "--customers", str(customers), "--orders", str(orders)],
                          cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    took = time.perf_counter() - started
    print(f"seed-demo --customers {customers} --orders {orders}: {took:.1f} s (load average now {loadavg()})")
    print("  " + done.stdout.strip().splitlines()[-1][:400])
    analyze(url)
    marker.write_text(json.dumps(wanted))
    return url


def analyze(url: str) -> None:
    """ANALYZE, as `make serve` does (`flask analyze`) before it starts the workers: the planner's statistics
    for freshly loaded tables (a test PostgreSQL may run without autovacuum; SQLite keeps none until asked)."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # PostgreSQL: VACUUM too, as `flask analyze` does (portal.database.analyze)
        conn.execute(text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
    engine.dispose()


def schema_and_seed_digest() -> str:
    """Changes when the migrations or the demo seed change, so BENCH_REUSE=1 does not measure a stale schema."""
    import hashlib
    digest = hashlib.sha256()
    for path in sorted((ROOT / "portal" / "migrations" / "versions").glob("*.py")) + \
            sorted((ROOT / "portal").glob("demo*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def app_env(instance: Path, url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": "bench-load-secret-key-not-for-production",
        "PORTAL_LOGIN_LIMIT_ACCOUNT": "10000 per minute",
        "PORTAL_LOGIN_LIMIT_ADDRESS": "10000 per minute",
        "FLASK_APP": "wsgi",
    })
    return env


def find_ids(url: str) -> dict:
    """Concrete records for the detail pages: a customer of sales1 with orders, a shipped order of sales1, and
    another one for the payments of the mix with writes."""
    from sqlalchemy import create_engine, func, select

    from portal.models import Customer, Order, User
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            sales1 = conn.scalar(select(User.id).where(User.username == "sales1"))
            latest = conn.scalars(
                select(Order.id).join(Customer, Customer.id == Order.customer_id)
                .where(Customer.owner_id == sales1, Order.state == "shipped").order_by(Order.id.desc()).limit(2)).all()
            shipped, written = (latest[0], latest[-1]) if latest else (None, None)
            busiest = conn.scalar(
                select(Order.customer_id).join(Customer, Customer.id == Order.customer_id)
                .where(Customer.owner_id == sales1).group_by(Order.customer_id)
                .order_by(func.count().desc(), Order.customer_id).limit(1))
            counts = {
                "customers": conn.scalar(select(func.count()).select_from(Customer)),
                "orders": conn.scalar(select(func.count()).select_from(Order)),
            }
    finally:
        engine.dispose()
    if shipped is None or busiest is None:
        raise SystemExit("no shipped order / customer with orders of sales1 in the bench database")
    # the writes of the mix go to another order: the measured order page stays the same from run to run
    return {"order": shipped, "write_order": written, "customer": busiest, **counts}


# ---------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(instance: Path, url: str, workers: int, port: int, started: list, *,
                   env: dict | None = None, args: tuple = ()) -> subprocess.Popen:
    """gunicorn in its own session, answering /healthz with every worker up; appended to `started`
    at once, so that an interruption while it boots still stops it. `env` replaces app_env(), `args`
    are further gunicorn options (tests/test_multiworker.py: an access log with the worker pid)."""
    log = open(instance / "gunicorn.log", "ab")
    command = [bin_path("gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
               "--timeout", "60", "--graceful-timeout", "10", *args, "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env or app_env(instance, url), stdout=log, stderr=log,
                               start_new_session=True)
    started.append(process)
    deadline = time.time() + 90
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {instance / 'gunicorn.log'}")
        try:
            status, _, _ = Session("127.0.0.1", port).request("GET", "/healthz")
            if status == 200 and len(worker_pids(process.pid)) == workers:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /healthz within 90 s; see {instance / 'gunicorn.log'}")


def stop_gunicorn(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful: workers finish their request and exit
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def worker_pids(master: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{master}/task").glob("*"):
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return sorted(pids)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# ---------------------------------------------------------------- the run


def pages(ids: dict) -> list[tuple[str, str, str, str]]:
    """(label, user, path, kind); kind 'list'/'detail' must reach the throughput ratio, 'form' only p95."""
    today = date.today()
    last_month = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
    return [
        ("customer list", "sales1", "/customers/", "list"),
        ("customer search (Chinese)", "sales1", "/customers/?q=%E5%8D%8E%E7%9B%9B", "list"),  # 华盛
        ("customer detail", "sales1", f"/customers/{ids['customer']}", "detail"),
        ("order list", "sales1", "/orders/", "list"),
        ("order list, filtered", "sales1", "/orders/?state=shipped&sort=promised", "list"),
        ("order detail", "sales1", f"/orders/{ids['order']}", "detail"),
        ("receivables", "manager", "/receivables/", "list"),
        ("satisfaction form", "manager", f"/satisfaction/{last_month}", "form"),
        ("my orders (portal)", "buyer1", "/my/orders/", "list"),
    ]


def run() -> int:
    customers = env_int("BENCH_CUSTOMERS", 10_000)
    orders = env_int("BENCH_ORDERS", 100_000)
    seconds = float(os.environ.get("BENCH_SECONDS", "30"))
    warmup = float(os.environ.get("BENCH_WARMUP", "3"))
    clients = env_int("BENCH_CLIENTS", 8)
    workers = env_int("BENCH_WORKERS", 4)
    sessions = env_int("BENCH_SESSIONS", 2)
    reuse = os.environ.get("BENCH_REUSE", "0") == "1"
    mix = os.environ.get("BENCH_MIX", "1") != "0"
    given_url = os.environ.get("PORTAL_BENCH_DATABASE_URL")
    backend = "postgresql" if given_url and given_url.startswith("postgresql") else "sqlite"
    instance = Path(os.environ.get("BENCH_DIR") or Path(tempfile.gettempdir()) / f"portal-bench-load-{backend}")

    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {loadavg()}")
    url = prepare_database(given_url, instance, customers, orders, reuse)
    ids = find_ids(url)
    if os.environ.get("BENCH_SEED_ONLY") == "1":  # seed now, measure later with BENCH_REUSE=1
        print(f"data: {ids['customers']} customers, {ids['orders']} orders in {instance}; not measured")
        return 0
    print(f"data: {ids['customers']} customers, {ids['orders']} orders; customer {ids['customer']}, "
          f"order {ids['order']}")

    started: list[subprocess.Popen] = []
    write_interval = float(os.environ.get("BENCH_WRITE_INTERVAL", "1"))
    pool = make_pool(clients)
    writer_pool = make_pool(1)
    try:
        port = free_port()
        server = start_gunicorn(instance, url, workers, port, started)
        pids = worker_pids(server.pid)
        rss_start = {pid: rss_mb(pid) for pid in pids}
        print(f"gunicorn: {workers} workers on 127.0.0.1:{port} (master {server.pid}, workers {pids})")

        logged_in: dict[str, list[dict]] = {}
        for user in ("sales1", "manager", "buyer1"):
            logged_in[user] = []
            for _ in range(sessions):
                session = Session("127.0.0.1", port)
                session.login(user, PASSWORD)
                logged_in[user].append(dict(session.cookies))
        targets = pages(ids)
        for label, user, path, _ in targets:  # every page answers before anything is timed
            session = Session("127.0.0.1", port)
            session.cookies = logged_in[user][0]
            status, _, _ = session.request("GET", path)
            if status != 200:
                raise SystemExit(f"{label}: GET {path} as {user} gave HTTP {status}; see {instance / 'gunicorn.log'}")

        def measure(user: str, path: str) -> Result:
            """Every client asks for the same page (as `user`, sessions shared round-robin); warm-up first."""
            jobs = [(logged_in[user][i % sessions] if user else {}, [path]) for i in range(clients)]
            if warmup > 0:
                drive("127.0.0.1", port, jobs, warmup, pool)
            return drive("127.0.0.1", port, jobs, seconds, pool)

        rows = []
        print(f"\ndriving {clients} clients, {seconds:g} s per page (+{warmup:g} s warm-up), "
              f"load average {loadavg()}", flush=True)
        ceiling = measure("", "/healthz")
        rows.append(("`/healthz` (ceiling)", "-", "ceiling", ceiling, sum(map(rss_mb_or0, worker_pids(server.pid)))))
        report_line("/healthz", ceiling)
        for label, user, path, kind in targets:
            result = measure(user, path)
            rows.append((f"{label} `{urllib.parse.unquote(path)}`", user, kind, result, sum(map(rss_mb_or0, worker_pids(server.pid)))))
            report_line(label, result)
        if mix:
            # the mix: each client is one user cycling through that user's pages (sales1 gets 6 pages,
            # so 6 of 8 clients work as sales1, 1 as manager, 1 as buyer1 -- a sales desk's shape)
            plan = [(user, path) for _, user, path, _ in targets]
            result = measure_mix(plan, logged_in, sessions, clients, port, warmup, seconds, pool)
            rows.append(("all pages above, mixed", "all", "mix", result, sum(map(rss_mb_or0, worker_pids(server.pid)))))
            report_line("mix", result)
            if write_interval > 0:
                # the same mix while sales1 records a payment of 0.01 on the order every `write_interval` s:
                # each one changes the orders and payments, so every worker's cached receivables (and
                # collection rate) are computed again after it (what a desk that writes costs the cache)
                writer = start_writer("127.0.0.1", port, logged_in["sales1"][0],
                                      f"/orders/{ids['write_order']}/payments",
                                      payment_form(port, logged_in["sales1"][0], ids["write_order"]), write_interval,
                                      warmup + seconds + 1, writer_pool)
                result = measure_mix(plan, logged_in, sessions, clients, port, warmup, seconds, pool)
                writes = writer.get()
                label = f"all pages above, mixed, a payment every {write_interval:g} s"
                rows.append((label, "all", "mix", result, sum(map(rss_mb_or0, worker_pids(server.pid)))))
                report_line("mix with writes", result)
                rows.append((f"the payments posted meanwhile (`POST /orders/{ids['write_order']}/payments`)", "sales1",
                             "write", writes, sum(map(rss_mb_or0, worker_pids(server.pid)))))
                report_line("writes", writes)

        pids_end = worker_pids(server.pid)
        rss_end = {pid: rss_mb(pid) for pid in pids_end}
        return report(rows, ceiling, rss_start, rss_end, backend, ids, clients, workers, seconds)
    finally:
        for each in (pool, writer_pool):
            each.terminate()
            each.join()
        for process in started:
            stop_gunicorn(process)


def payment_form(port: int, cookies: dict, order_id: int) -> str:
    """The body of a 0.01 balance payment on the order, with the session's CSRF token from the order page."""
    session = Session("127.0.0.1", port)
    session.cookies = dict(cookies)
    status, body, _ = session.request("GET", f"/orders/{order_id}")
    match = CSRF.search(body.decode("utf-8", "replace"))
    if status != 200 or not match:
        raise SystemExit(f"order page for the writer: HTTP {status}, csrf token found: {bool(match)}")
    return urllib.parse.urlencode({"csrf_token": match.group(1) or match.group(2), "kind": "balance",
                                   "amount": "0.01", "received_on": date.today().isoformat(),
                                   "method": "", "reference": "bench", "note": ""})


def measure_mix(plan, logged_in, sessions, clients, port, warmup, seconds, pool) -> Result:
    by_user: dict[str, list[str]] = {}
    for user, path in plan:
        by_user.setdefault(user, []).append(path)
    users = ["sales1"] * (clients - 2) + ["manager", "buyer1"] if clients >= 3 else ["sales1"] * clients
    jobs = []
    for i, user in enumerate(users):
        paths = by_user[user]
        shift = i % len(paths)
        jobs.append((logged_in[user][i % sessions], paths[shift:] + paths[:shift]))
    if warmup > 0:
        drive("127.0.0.1", port, jobs, warmup, pool)
    return drive("127.0.0.1", port, jobs, seconds, pool)


def rss_mb_or0(pid: int) -> float:
    return rss_mb(pid) or 0.0


def report_line(label: str, result: Result) -> None:
    print(f"  {label}: {result.requests} requests, {result.errors} errors, {result.rate:.1f} req/s, "
          f"p95 {result.percentile(95):.1f} ms (load average {loadavg()})", flush=True)


def report(rows, ceiling: Result, rss_start: dict, rss_end: dict, backend: str, ids: dict, clients: int,
           workers: int, seconds: float) -> int:
    missed = []
    print(f"\n{backend}, {ids['customers']} customers, {ids['orders']} orders, gunicorn {workers} sync workers, "
          f"{clients} clients, {seconds:g} s per page, load average at the end {loadavg()}\n")
    print("| page | user | requests | errors | req/s | p50 ms | p95 ms | p99 ms | ratio to /healthz | "
          "workers' RSS MB (sum) | targets |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, user, kind, result, rss in rows:
        ratio = result.rate / ceiling.rate if ceiling.rate else 0.0
        checks = []
        if result.errors:
            checks.append(f"FAIL errors {result.errors}")
        if kind not in ("ceiling", "write"):  # the writes are reported, their errors counted
            p95 = result.percentile(95)
            checks.append("p95 ok" if p95 < P95_TARGET_MS else "FAIL p95")
            if kind in ("list", "detail"):
                checks.append("ratio ok" if ratio >= RATIO_TARGET else "FAIL ratio")
        verdict = ("**fail**: " if any(c.startswith("FAIL") for c in checks) else "pass: ") + ", ".join(checks) \
            if checks else "-"
        if "FAIL" in verdict:
            missed.append(label)
        print(f"| {label} | {user} | {result.requests} | {result.errors} | {result.rate:.1f} | "
              f"{result.percentile(50):.1f} | {result.percentile(95):.1f} | {result.percentile(99):.1f} | "
              f"{ratio:.2f} | {rss:.0f} | {verdict} |")
    errors = [(label, result.statuses) for label, _, _, result, _ in rows if result.errors]
    for label, statuses in errors:
        print(f"\nerrors on {label}: " + ", ".join(f"{k}: {v}" for k, v in statuses.items() if k != 200))
    print("\nworker RSS (MB), start -> end:")
    for pid in sorted(set(rss_start) | set(rss_end)):
        start, end = rss_start.get(pid), rss_end.get(pid)
        print(f"  pid {pid}: {fmt(start)} -> {fmt(end)}")
    if set(rss_start) != set(rss_end):
        print("  NOTE: the set of workers changed during the run (a worker was restarted: timeout or crash)")
    print(f"\n{len(missed)} of {len(rows)} rows miss a target" + (": " + "; ".join(missed) if missed else ""))
    return 1 if missed else 0


def fmt(value: float | None) -> str:
    return "gone" if value is None else f"{value:.1f}"


def main(run=run) -> None:
    """Run a benchmark (`run` returns the exit status); SIGTERM and Ctrl-C stop it cleanly (gunicorn too)."""
    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    try:
        sys.exit(run())
    except KeyboardInterrupt:
        print("\ninterrupted; gunicorn stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
