"""Soak run (issue 8): ten minutes of moderate, mixed load; memory per worker must stay flat, no errors.

Run: `make bench-soak` (SQLite), or with
PORTAL_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/soak for PostgreSQL (that database's
public schema is dropped and rebuilt unless BENCH_REUSE=1 finds it seeded to the same size: a database for
benchmarks only). The database, gunicorn and the sign-ins are those of bench_load.py.

1. builds or reuses the database (SOAK_CUSTOMERS / SOAK_ORDERS, default 2000 / 20000) in SOAK_DIR
   (default $TMPDIR/portal-bench-soak-<backend>);
2. starts gunicorn with SOAK_WORKERS (default 4) sync workers and signs in sales1, manager and buyer1;
3. runs SOAK_CLIENTS (default 4) clients for SOAK_SECONDS (default 600), each a person working through a
   plan of pages with a think time of SOAK_THINK seconds (default 0.5, +/- 50 %) between requests:
   salespeople (customer list, Chinese search, customer detail, order list with filters, order detail,
   a contract PDF, a contact-log entry, a new customer), the manager (receivables, the monthly
   satisfaction form, order lists, customers) and the buyer (/my/orders/, an order, an issued PDF);
4. reads every worker's RSS every SOAK_TICK seconds (default 2) and keeps, per window of SOAK_SAMPLE
   seconds (default 30), its floor and peak; counts the requests and the unexpected statuses of each window;
5. prints the table of RSS per worker over time (floor and peak of each window), the average floor of the
   first minute, of the minute after the warm-up and of the last minute, the least-squares
   slope after SOAK_WARMUP seconds (default 240) and a PASS/FAIL line: PASS when every worker's fitted
   growth after the warm-up stays under SOAK_GROWTH_MB (default 10 MB), no worker was replaced, no
   request failed (anything but 200, or 303 after a form) and gunicorn logged no traceback. The warm-up is
   4 minutes because a worker's floor steps up once by ~40 MB, at some PDF rendering of its first minutes, when
   glibc keeps that arena (seen at 2:30 at 100,000 orders; flat to 0.1 MB for the seven minutes after): a
   step, not a leak, which a fit from 2:00 counts as growth.
Exit status 1 on FAIL.
"""
import multiprocessing
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import bench_load  # noqa: E402
from tests.bench.bench_load import (  # noqa: E402
    PASSWORD, env_int, find_ids, free_port, loadavg, prepare_database, rss_mb, start_gunicorn, stop_gunicorn,
    worker_pids)
from tests.bench.loadgen import CSRF, Session, make_pool  # noqa: E402

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# ---------------------------------------------------------------- what the clients do


def issue_contract(url: str, instance: Path, order_id: int) -> int:
    """Issue the contract of the buyer's order as sales1, for the buyer's issued-PDF step, when the seed issued no
    document for the buyer's company (its demo documents need a shipped order of that company)."""
    from portal import create_app
    from portal.documents import services as documents
    from portal.extensions import db
    from portal.models import Order, User

    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)  # where the workers read stored documents
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        issuer = db.session.scalar(db.select(User).where(User.username == "sales1"))
        issued = documents.issue(documents.order_subject("contract", db.session.get(Order, order_id)), issuer)
        db.session.commit()
        print(f"issued {issued.number} (contract of order {order_id}) for the buyer's document step")
        return issued.id


def find_more_ids(url: str, instance: Path) -> dict:
    """Records each person works on: a few of sales1's customers and orders, the buyer's order and
    issued document (the seed issues a contract for buyer1's company)."""
    from sqlalchemy import create_engine, select

    from portal.models import Customer, IssuedDocument, Order, User
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            sales1 = conn.scalar(select(User.id).where(User.username == "sales1"))
            buyer_company = conn.scalar(select(User.customer_id).where(User.username == "buyer1"))
            customers = conn.scalars(select(Customer.id).where(Customer.owner_id == sales1)
                                     .order_by(Customer.id).limit(12)).all()
            # signed orders first (a draft contract of a closed or cancelled order is refused, and at 100,000
            # orders sales1's newest ids are the seed's closed history)
            signed = Order.state.in_(("contract_signed", "deposit_received", "plan_approved", "in_production",
                                      "inspected", "shipped", "balance_received"))
            orders = conn.scalars(select(Order.id).join(Customer, Customer.id == Order.customer_id)
                                  .where(Customer.owner_id == sales1)
                                  .order_by(signed.desc(), Order.id.desc()).limit(12)).all()
            any_customers = conn.scalars(select(Customer.id).order_by(Customer.id.desc()).limit(8)).all()
            # an order the buyer sees, a shipped one when there is one (the large seed may give it none)
            from portal.myportal.access import VISIBLE_ORDER_STATES
            my_order = conn.scalar(select(Order.id).where(Order.customer_id == buyer_company,
                                                          Order.state.in_(VISIBLE_ORDER_STATES))
                                   .order_by((Order.state == "shipped").desc(), Order.id).limit(1))
            document = conn.scalar(select(IssuedDocument.id).where(IssuedDocument.customer_id == buyer_company)
                                   .order_by(IssuedDocument.id).limit(1))
    finally:
        engine.dispose()
    if not customers or not orders or my_order is None:
        raise SystemExit("the soak database lacks sales1's customers/orders or an order of buyer1's company")
    if document is None:
        document = issue_contract(url, instance, my_order)
    return {"customers": customers, "orders": orders, "any_customers": any_customers, "my_order": my_order,
            "document": document}


def plans(ids: dict) -> dict[str, list[tuple]]:
    """Per user, the steps one pass of the plan takes: ("GET", path) or ("POST", path, form-builder name)."""
    today = date.today()
    last_month = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
    customer, order = "{customer}", "{order}"
    return {
        "sales1": [
            ("GET", "/"),
            ("GET", "/customers/"),
            ("GET", "/customers/?q=" + urllib.parse.quote("华盛")),
            ("GET", f"/customers/{customer}"),
            ("POST", f"/customers/{customer}/log", "log"),
            ("GET", "/orders/"),
            ("GET", "/orders/?state=shipped&sort=promised"),
            ("GET", f"/orders/{order}"),
            ("GET", "/customers/?q=" + urllib.parse.quote("科技") + "&grade=A"),
            ("GET", f"/documents/orders/{order}/contract.pdf?draft=1"),
            ("GET", "/customers/new"),
            ("POST", "/customers/new", "customer"),
        ],
        "manager": [
            ("GET", "/receivables/"),
            ("GET", f"/satisfaction/{last_month}"),
            ("GET", "/orders/?state=in_production"),
            ("GET", "/customers/"),
            ("GET", "/customers/{any_customer}"),
            ("GET", f"/orders/{order}"),
        ],
        "buyer1": [
            ("GET", "/my/"),
            ("GET", "/my/orders/"),
            ("GET", f"/my/orders/{ids['my_order']}"),
            ("GET", f"/documents/issued/{ids['document']}.pdf"),
            ("GET", "/my/documents/"),
        ],
    }


def form_body(kind: str, token: str, tag: str) -> str:
    if kind == "log":
        fields = {"kind": "call", "contact_id": "", "summary": f"浸泡测试：电话跟进报价 {tag}",
                  "next_step": "寄样品", "next_date": ""}
    else:  # a new customer, Chinese name, unique per run, client and step (a duplicate name is refused)
        fields = {"name": f"浸泡测试贸易有限公司{tag}", "country": "CN", "province": "浙江", "city": "宁波",
                  "grade": "C", "status": "prospect", "currency": "CNY", "owner_id": ""}
    return urllib.parse.urlencode({"csrf_token": token, **fields})


def soak_client(args) -> list[tuple[float, str, object, float]]:
    """One person for `seconds`: (time, path template, status, seconds taken) of every request."""
    index, host, port, user, cookies, plan, ids, start_at, seconds, think = args
    rng = random.Random(index)
    session = Session(host, port)
    session.cookies = dict(cookies)
    token = None
    log: list[tuple[float, str, object, float]] = []
    while time.time() < start_at:
        time.sleep(0.01)
    end = time.time() + seconds
    step = 0
    while time.time() < end:
        method, template, *form = plan[step % len(plan)]
        step += 1
        path = template.format(customer=rng.choice(ids["customers"]), order=rng.choice(ids["orders"]),
                               any_customer=rng.choice(ids["any_customers"]))
        started = time.time()
        try:
            if method == "GET":
                status, body, _ = session.request("GET", path)
                if token is None and status == 200 and b"csrf_token" in body:
                    match = CSRF.search(body.decode("utf-8", "replace"))
                    token = match and (match.group(1) or match.group(2))
            elif token is None:
                status = "no csrf token yet"
            else:
                tag = f"{int(start_at) % 10**6}-{index}-{step}"
                status, _, _ = session.request("POST", path, body=form_body(form[0], token, tag), headers=FORM)
        except Exception as error:  # noqa: BLE001 - counted and reported as an error
            status = type(error).__name__
        log.append((started, f"{method} {template}", status, time.time() - started))
        time.sleep(think * rng.uniform(0.5, 1.5))
    return log


def ok(entry) -> bool:
    _, label, status, _ = entry
    return status == 200 or (label.startswith("POST") and status == 303)


# ---------------------------------------------------------------- the run


def run() -> int:
    customers = env_int("SOAK_CUSTOMERS", 2_000)
    orders = env_int("SOAK_ORDERS", 20_000)
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    sample = float(os.environ.get("SOAK_SAMPLE", "30"))
    warmup = float(os.environ.get("SOAK_WARMUP", "240"))
    clients = env_int("SOAK_CLIENTS", 4)
    workers = env_int("SOAK_WORKERS", 4)
    think = float(os.environ.get("SOAK_THINK", "0.5"))
    tick = float(os.environ.get("SOAK_TICK", "2"))
    limit_mb = float(os.environ.get("SOAK_GROWTH_MB", "10"))
    reuse = os.environ.get("BENCH_REUSE", "0") == "1"
    given_url = os.environ.get("PORTAL_BENCH_DATABASE_URL")
    backend = "postgresql" if given_url and given_url.startswith("postgresql") else "sqlite"
    instance = Path(os.environ.get("SOAK_DIR") or Path(tempfile.gettempdir()) / f"portal-bench-soak-{backend}")

    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {loadavg()}")
    url = prepare_database(given_url, instance, customers, orders, reuse)
    counts = find_ids(url)
    ids = {"customers_total": counts["customers"], "orders_total": counts["orders"], **find_more_ids(url, instance)}
    print(f"data: {ids['customers_total']} customers, {ids['orders_total']} orders; {len(ids['customers'])} "
          f"customers and {len(ids['orders'])} orders of sales1 in the plan; buyer1's order {ids['my_order']}, "
          f"document {ids['document']}")

    started: list[subprocess.Popen] = []
    pool = make_pool(clients)
    try:
        port = free_port()
        log_path = instance / "gunicorn.log"
        log_offset = log_path.stat().st_size if log_path.exists() else 0
        server = start_gunicorn(instance, url, workers, port, started)
        users = [("sales1", "manager", "sales1", "buyer1")[i % 4] for i in range(clients)]
        cookies = {}
        for user in set(users):
            session = Session("127.0.0.1", port)
            session.login(user, PASSWORD)
            cookies[user] = dict(session.cookies)
        plan_of = plans(ids)
        start_at = time.time() + 0.5
        jobs = [(i, "127.0.0.1", port, user, cookies[user], plan_of[user], ids, start_at, seconds, think)
                for i, user in enumerate(users)]
        print(f"\nsoak: {clients} clients ({', '.join(users)}), think time {think:g} s, {seconds:g} s, "
              f"gunicorn {workers} workers, RSS every {sample:g} s", flush=True)
        first_pids = worker_pids(server.pid)
        pending = pool.map_async(soak_client, jobs, chunksize=1)
        samples = sample_rss(server.pid, start_at, seconds, sample, tick)
        logs = [entry for part in pending.get(timeout=120) for entry in part]
        tracebacks = gunicorn_errors(log_path, log_offset)
        return report(samples, logs, first_pids, worker_pids(server.pid), tracebacks, start_at, backend, ids,
                      clients, workers, seconds, sample, warmup, think, limit_mb, tick)
    finally:
        pool.terminate()
        pool.join()
        for process in started:
            stop_gunicorn(process)


def sample_rss(master: int, start_at: float, seconds: float, sample: float, tick: float) -> list:
    """Every `tick` seconds read each worker's RSS; per `sample` window keep (floor, peak) per worker.

    One PDF rendering lifts a worker by ~40 MB for a moment, and glibc gives that back only when the top of
    the heap is free, so a single reading every 30 s is mostly noise. The floor of a window (its lowest
    reading) is what the worker keeps between requests: a leak raises the floor, a rendering only the peak."""
    samples: list[tuple[float, dict, str]] = []  # (seconds since start, {pid: (floor, peak)}, load average)
    window: dict[int, list[float]] = {}
    next_tick, next_sample = start_at, start_at
    while True:
        delay = next_tick - time.time()
        if delay > 0:
            time.sleep(delay)
        for pid in worker_pids(master):
            value = rss_mb(pid)
            if value is not None:
                window.setdefault(pid, []).append(value)
        next_tick += tick
        if time.time() >= next_sample:
            at = time.time() - start_at
            samples.append((at, {pid: (min(v), max(v)) for pid, v in window.items()}, loadavg()))
            print(f"  {at / 60:5.1f} min: RSS floor/peak " + " ".join(
                f"{low:.0f}/{high:.0f}" for low, high in samples[-1][1].values())
                + f" MB, load average {samples[-1][2]}", flush=True)
            window = {}
            next_sample += sample
            if next_sample > start_at + seconds + 1:  # the last window ends with the run
                return samples


def gunicorn_errors(path: Path, offset: int) -> list[str]:
    """Tracebacks and worker timeouts gunicorn logged during the run."""
    with path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", "replace")
    return [line for line in text.splitlines()
            if re.search(r"Traceback|WORKER TIMEOUT|Worker .* was sent|\bERROR\b|Exception", line)]


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var * 60 if var else 0.0


def report(samples, logs, first_pids, last_pids, tracebacks, start_at, backend, ids, clients, workers,
           seconds, sample, warmup, think, limit_mb, tick) -> int:
    pids = first_pids
    print(f"\n{backend}, {ids['customers_total']} customers, {ids['orders_total']} orders, gunicorn {workers} sync "
          f"workers, {clients} clients with {think:g} s think time, {seconds / 60:g} min, "
          f"load average at the end {loadavg()}\n")
    print(f"RSS in MB: floor / peak of the readings every {tick:g} s in the {sample:g} s before the time shown\n")
    print("| time | " + " | ".join(f"worker {i + 1} MB" for i in range(len(pids)))
          + " | requests in interval | failed | load average |")
    print("|---:|" + "---:|" * len(pids) + "---:|---:|---|")
    previous = 0.0
    for at, rss, load in samples:
        window = [e for e in logs if previous <= e[0] - start_at < at] if at > 0 else []
        failed = sum(not ok(e) for e in window)
        print(f"| {int(at // 60)}:{int(at % 60):02d} | " + " | ".join(fmt(rss.get(pid)) for pid in pids)
              + f" | {len(window)} | {failed} | {load} |")
        previous = at
    lines = []
    verdicts = []
    for n, pid in enumerate(pids, 1):
        series = [(at, rss[pid][0]) for at, rss, _ in samples if rss.get(pid) is not None]
        first = [v for at, v in series if 0 < at <= 60]
        settled = [v for at, v in series if warmup <= at <= warmup + 60]
        last = [v for at, v in series if at >= seconds - 60]
        after = [(at, v) for at, v in series if at >= warmup]
        slope = slope_per_minute(after)
        growth = slope * (after[-1][0] - after[0][0]) / 60 if len(after) >= 2 else float("nan")
        flat = len(after) >= 2 and growth < limit_mb
        verdicts.append(flat)
        lines.append(f"| worker {n} (pid {pid}) | {avg(first)} | {avg(settled)} | {avg(last)} | {slope:+.2f} | "
                     f"{growth:+.1f} | " + ("flat" if flat else "**grows**") + " |")
    print(f"\n| worker | first minute MB | minute after warm-up MB | last minute MB | slope after {warmup:g} s, "
          f"MB/min | fitted growth after warm-up, MB | verdict (< {limit_mb:g} MB) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(lines))

    statuses: dict = {}
    for _, label, status, _ in logs:
        statuses[status] = statuses.get(status, 0) + 1
    failed = [e for e in logs if not ok(e)]
    by_label: dict[str, list[float]] = {}
    for _, label, status, took in logs:
        by_label.setdefault(label, []).append(took)
    print(f"\nrequests: {len(logs)} ({len(logs) / seconds:.1f} req/s); statuses: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)))
    print("\n| step | requests | median ms | max ms |\n|---|---:|---:|---:|")
    for label, times in sorted(by_label.items()):
        times.sort()
        print(f"| `{label}` | {len(times)} | {times[len(times) // 2] * 1000:.0f} | {times[-1] * 1000:.0f} |")
    for _, label, status, _ in failed[:10]:
        print(f"  failed: {label} -> {status}")
    replaced = set(first_pids) != set(last_pids)
    for line in tracebacks[:10]:
        print(f"  gunicorn log: {line[:300]}")
    problems = []
    if not all(verdicts):
        problems.append("memory grows")
    if failed:
        problems.append(f"{len(failed)} failed requests")
    if replaced:
        problems.append("a worker was replaced (crash or timeout)")
    if tracebacks:
        problems.append(f"{len(tracebacks)} error lines in gunicorn's log")
    print("\n" + ("PASS: memory flat (fitted growth after warm-up < "
                  f"{limit_mb:g} MB per worker), no failed request, no worker replaced" if not problems
                  else "FAIL: " + "; ".join(problems)))
    return 1 if problems else 0


def avg(values: list[float]) -> str:
    return f"{sum(values) / len(values):.1f}" if values else "-"


def fmt(value: tuple[float, float] | None) -> str:
    return "gone" if value is None else f"{value[0]:.1f} / {value[1]:.0f}"


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    bench_load.main(run)
