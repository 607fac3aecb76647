"""Database faults under load (issue 8): users get "busy, try again" (503), never a 500, nothing half-written,
and the portal recovers by itself (no worker restarted).

Run: `make bench-faults`. Scenarios (BENCH_FAULTS, comma-separated, default all four):

- `sqlite-lock`: an outside process holds SQLite's write lock (BEGIN IMMEDIATE and a write) for BENCH_LOCK_SECONDS
  (default 10) with PORTAL_SQLITE_BUSY_TIMEOUT_MS=BENCH_SQLITE_BUSY_MS (default 5000; much less, and on a loaded
  machine the portal's own writers time out on each other): saves answer 503;
- `sqlite-lock-default`: the same lock with the production busy timeout (15 s, longer than the lock): saves wait;
- `pg-fast`, `pg-immediate`: a throwaway PostgreSQL cluster of our own (initdb into BENCH_PG_DATA, default
  $TMPDIR/portal-bench-faults-pg, on a free port; never the machine's server) is restarted with
  `pg_ctl restart -m fast` / `-m immediate` (a crash: WAL recovery on start) in the middle of the run.

Each scenario: a fresh database (`flask db upgrade`, `flask seed-demo --customers BENCH_CUSTOMERS --orders
BENCH_ORDERS`, defaults 300 / 1000), gunicorn with BENCH_WORKERS (4) workers, BENCH_CLIENTS (6) clients as
sales1, sales2 and manager, each at most one request every BENCH_PACE seconds (0.2) -- a moderate load -- cycling
through: customer list, customer detail, new customer (POST), order list, contact-log entry (POST), my day, and
every third round a sign-in through the real form. BENCH_BEFORE (10) s of load, the fault, BENCH_AFTER (15) s.

Reported per scenario: answers by status before / during / after the fault, 500s (must be 0), the time from
the fault's end until every page answers again, worker pids before and after (must be equal), and an integrity
check: every customer and log entry whose POST got 303 exists once with its fields and its audit row, none
whose POST got 503 "nothing was saved" exists (a 503 after the commit says "your change was saved":
those must exist), customer codes are gap-free and match the counter.
Exit status 1 when a check fails.
"""
import http.client
import multiprocessing
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import bench_load  # noqa: E402
from tests.bench.bench_load import (  # noqa: E402
    app_env, bin_path, free_port, loadavg, start_gunicorn, stop_gunicorn, worker_pids)
from tests.bench.loadgen import CSRF, Session  # noqa: E402

PASSWORD = "demo1234"
TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
OK = {200, 302, 303}
SAVED_TEXTS = ("Do not send the form again", "请勿重复提交")  # the 503 page when the failure came after the commit
SCENARIOS = ("sqlite-lock", "sqlite-lock-default", "pg-fast", "pg-immediate")
USERS = ("sales1", "sales2", "manager")


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


# ---------------------------------------------------------------- our own PostgreSQL cluster


class Cluster:
    """A throwaway PostgreSQL cluster (trust on 127.0.0.1), run as the postgres user when we are root."""

    def __init__(self, data: Path, port: int):
        self.data, self.port = data, port
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        self.bin = Path(os.environ.get("BENCH_PG_BIN") or (versions[-1] if versions else "/usr/bin"))
        self.log = data.parent / f"{data.name}.log"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--"] + command
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def start(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)
            shutil.rmtree(self.data)
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.pg_ctl("start")
        from sqlalchemy import create_engine, text
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
        engine.dispose()

    def pg_ctl(self, action: str, mode: str | None = None) -> None:
        args = ["pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.log),
                "-o", f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=50"]
        if mode:
            args += ["-m", mode]
        self._run(*args, action)

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
            shutil.rmtree(self.data, ignore_errors=True)

    def url(self, database: str = "bench") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


# ---------------------------------------------------------------- the clients


def _client(index: int, port: int, user: str, cookies: dict, customer_id: int, tag: str, pace: float,
            stop, results) -> None:
    """One signed-in user, a request at most every `pace` s until `stop`; each request recorded as
    (started, finished, kind, status, marker, location)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    session = Session("127.0.0.1", port)
    session.cookies = dict(cookies)
    token = ""
    records = []
    seq = 0

    def call(kind, method, path, form=None, marker=None):
        nonlocal token
        started = time.time()
        location = ""
        try:
            body = urllib.parse.urlencode(form) if form is not None else None
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
            status, data, response_headers = session.request(method, path, body=body, headers=headers)
            found = TOKEN.search(data.decode("utf-8", "replace")) if status == 200 else None
            if found:
                token = found.group(1)
            location = dict((k.lower(), v) for k, v in response_headers).get("location", "")
            if status == 503 and any(text in data.decode("utf-8", "replace") for text in SAVED_TEXTS):
                location = "saved"  # 503 after the commit: the page says the change was saved
        except (OSError, http.client.HTTPException) as error:
            status = type(error).__name__
        records.append((started, time.time(), kind, status, marker, location))
        return status

    def sign_in():
        nonlocal token
        fresh = Session("127.0.0.1", port)
        started = time.time()
        try:
            status, data, _ = fresh.request("GET", "/login")
            match = CSRF.search(data.decode("utf-8", "replace")) if status == 200 else None
            if match:
                form = urllib.parse.urlencode({"csrf_token": match.group(1) or match.group(2), "username": user,
                                               "password": PASSWORD, "next": ""})
                status, _, _ = fresh.request("POST", "/login", body=form,
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                if status == 303:  # the new session; its CSRF token comes with the next page
                    session.cookies = fresh.cookies
                    token = ""
        except (OSError, http.client.HTTPException) as error:
            status = type(error).__name__
        records.append((started, time.time(), "sign-in", status, None, ""))

    steps = ["customer list", "customer detail", "new customer", "order list", "log entry", "my day"]
    next_at = time.time()
    rounds = 0
    while not stop.is_set():
        for step in steps:
            if stop.is_set():
                break
            if step == "customer list":
                call(step, "GET", "/customers/")
            elif step == "customer detail":
                call(step, "GET", f"/customers/{customer_id}")
            elif step == "order list":
                call(step, "GET", "/orders/")
            elif step == "my day":
                call(step, "GET", "/")
            elif step == "new customer" and token:
                seq += 1
                marker = f"故障测试{tag}-{index}-{seq}"
                call(step, "POST", "/customers/new", marker=marker, form={
                    "csrf_token": token, "name": marker, "country": "CN", "city": "宁波", "grade": "B",
                    "status": "prospect", "currency": "CNY", "credit_limit": "1234.50", "notes": marker,
                    "owner_id": ""})
            elif step == "log entry" and token:
                seq += 1
                marker = f"日志{tag}-{index}-{seq}"
                call(step, "POST", f"/customers/{customer_id}/log", marker=marker, form={
                    "csrf_token": token, "kind": "call", "summary": marker, "contact_id": ""})
            next_at += pace
            stop.wait(max(0.0, next_at - time.time()))
        rounds += 1
        if rounds % 3 == 0 and not stop.is_set():
            sign_in()
    results.put(records)


# ---------------------------------------------------------------- a scenario


def prepare(instance: Path, url: str, customers: int, orders: int) -> None:
    if instance.exists():
        shutil.rmtree(instance)
    instance.mkdir(parents=True)
    env = app_env(instance, url)
    flask = [bin_path("flask"), "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo", "--customers", str(customers), "--orders", str(orders)],
                   cwd=ROOT, env=env, check=True, capture_output=True)


def user_customers(url: str) -> dict[str, int]:
    """A customer each client may log contacts on (their own; the manager may edit any)."""
    from sqlalchemy import create_engine, select

    from portal.models import Customer, User
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {}
        for username in USERS:
            user_id = conn.scalar(select(User.id).where(User.username == username))
            owner = user_id if username != "manager" else conn.scalar(select(User.id).where(User.username == "sales1"))
            found[username] = conn.scalar(select(Customer.id).where(Customer.owner_id == owner)
                                          .order_by(Customer.id).limit(1))
    engine.dispose()
    return found


def lock_sqlite(path: str, seconds: float) -> tuple[float, float, str]:
    """Another program takes the write lock with a write pending, holds it, rolls back."""
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "c.execute('UPDATE users SET display_name = display_name')\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n"
            "c.execute('ROLLBACK')\n")
    process = subprocess.Popen([sys.executable, "-c", code, path, str(seconds)], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    start = time.time()
    if line.strip() != "locked":
        raise SystemExit("the outside process could not take the lock")
    process.wait()
    return start, time.time(), f"outside process held the write lock {time.time() - start:.1f} s"


def restart_pg(cluster: Cluster, mode: str) -> tuple[float, float, str]:
    start = time.time()
    cluster.pg_ctl("restart", mode)
    end = time.time()
    return start, end, f"pg_ctl restart -m {mode}: accepting connections again after {end - start:.1f} s"


def run_scenario(name: str, url: str, instance: Path, extra_env: dict, fault, settings: dict) -> dict:
    prepare(instance, url, settings["customers"], settings["orders"])
    ids = user_customers(url)
    os.environ.update(extra_env)  # app_env() copies os.environ for gunicorn
    started: list = []
    ctx = multiprocessing.get_context("fork")
    processes = []
    try:
        port = free_port()
        server = start_gunicorn(instance, url, settings["workers"], port, started)
        pids_before = worker_pids(server.pid)
        stop, results = ctx.Event(), ctx.Queue()
        tag = time.strftime("%H%M%S")
        for i in range(settings["clients"]):
            user = USERS[i % len(USERS)]
            session = Session("127.0.0.1", port)
            session.login(user, PASSWORD)
            processes.append(ctx.Process(target=_client, args=(
                i, port, user, session.cookies, ids[user], tag, settings["pace"], stop, results)))
        for process in processes:
            process.start()
        time.sleep(settings["before"])  # the timeline: load before the fault
        fault_start, fault_end, note = fault()
        time.sleep(settings["after"])
        stop.set()
        records = [r for _ in processes for r in results.get(timeout=120)]
        for process in processes:
            process.join(timeout=30)
        pids_after = worker_pids(server.pid)
        integrity = check_integrity(url, records)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in started:
            stop_gunicorn(process)
        for key in extra_env:
            os.environ.pop(key, None)
    return {"name": name, "records": records, "fault": (fault_start, fault_end), "note": note,
            "pids": (pids_before, pids_after), "integrity": integrity}


# ---------------------------------------------------------------- checks and report


def check_integrity(url: str, records: list) -> list[str]:
    """Problems found in the data ([] when every check holds), and the counts checked, as the last line."""
    from sqlalchemy import create_engine, func, select

    from portal.models import AuditLog, ContactLog, Customer, Sequence
    problems = []
    engine = create_engine(url)
    with engine.connect() as conn:
        customers = {row.name: row for row in conn.execute(
            select(Customer.id, Customer.name, Customer.city, Customer.credit_limit, Customer.notes)
            .where(Customer.name.like("故障测试%")))}
        names = conn.execute(select(Customer.name, func.count()).where(Customer.name.like("故障测试%"))
                             .group_by(Customer.name)).all()
        problems += [f"customer {n} stored {c} times" for n, c in names if c != 1]
        audited = set(conn.scalars(select(AuditLog.entity_id).where(
            AuditLog.entity_type == "Customer", AuditLog.action == "create")))
        logs = dict(conn.execute(select(ContactLog.summary, func.count()).where(ContactLog.summary.like("日志%"))
                                 .group_by(ContactLog.summary)).all())
        problems += [f"log entry {s} stored {c} times" for s, c in logs.items() if c != 1]
        log_ids = dict(conn.execute(select(ContactLog.summary, ContactLog.id).where(ContactLog.summary.like("日志%"))).all())
        audited_logs = set(conn.scalars(select(AuditLog.entity_id).where(
            AuditLog.entity_type == "ContactLog", AuditLog.action == "create")))
        codes = sorted(int(code[1:]) for code in conn.scalars(select(Customer.code)))
        counter = conn.scalar(select(Sequence.last_value).where(Sequence.kind == "customer"))
    engine.dispose()
    counted = {"303": 0, "503": 0, "503, saved": 0, "no answer": 0, "no answer, stored": 0}
    for _, _, kind, status, marker, location in records:
        if kind not in ("new customer", "log entry"):
            continue
        exists = marker in customers if kind == "new customer" else marker in logs
        if status == 303:
            counted["303"] += 1
            if not exists:
                problems.append(f"{kind} {marker}: 303 but not stored")
            elif kind == "new customer":
                row = customers[marker]
                if (row.city, str(row.credit_limit), row.notes) != ("宁波", "1234.50", marker):
                    problems.append(f"customer {marker} stored with other fields: {row.city} {row.credit_limit}")
                if not location.endswith(f"/customers/{row.id}"):
                    problems.append(f"customer {marker}: redirected to {location}, stored as {row.id}")
                if row.id not in audited:
                    problems.append(f"customer {marker}: no audit row")
            elif log_ids[marker] not in audited_logs:
                problems.append(f"log entry {marker}: no audit row")
        elif status == 503 and location == "saved":
            counted["503, saved"] += 1
            if not exists:
                problems.append(f"{kind} {marker}: answered 503 'your change was saved' but not stored")
        elif status == 503:
            counted["503"] += 1
            if exists:
                problems.append(f"{kind} {marker}: answered 503 'nothing was saved' but stored")
        elif isinstance(status, str):  # no answer at all (connection error): either outcome is possible
            counted["no answer"] += 1
            counted["no answer, stored"] += exists
        else:
            problems.append(f"{kind} {marker}: HTTP {status}")
    if codes != list(range(1, len(codes) + 1)):
        problems.append(f"customer codes have gaps: {len(codes)} customers, highest code {codes[-1]}")
    if counter != len(codes):
        problems.append(f"number counter {counter} != {len(codes)} customers")
    problems.append(f"checked: writes answered 303 {counted['303']}, 503 {counted['503']}, 503 'saved' "
                    f"{counted['503, saved']}, without answer "
                    f"{counted['no answer']} (of which stored {counted['no answer, stored']}); "
                    f"{len(codes)} customer codes gap-free up to the counter {counter}")
    return problems


def phase_of(record, fault_start: float, fault_end: float) -> str:
    started, finished = record[0], record[1]
    if finished < fault_start:
        return "before"
    if started < fault_end:
        return "during"
    return "after"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(-(-p * len(values) // 100)) - 1))] * 1000


def report(result: dict) -> tuple[list[str], bool]:
    fault_start, fault_end = result["fault"]
    records = result["records"]
    lines = [f"\n### {result['name']}: {result['note']}\n",
             "| phase | requests | 200/303 | 503 | 500 | no answer | other | p50 ms | p95 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ok = True
    for phase in ("before", "during", "after"):
        chosen = [r for r in records if phase_of(r, fault_start, fault_end) == phase]
        statuses = [r[3] for r in chosen]
        took = [r[1] - r[0] for r in chosen]
        good = sum(s in OK for s in statuses)
        busy = statuses.count(503)
        errors = statuses.count(500)
        no_answer = sum(isinstance(s, str) for s in statuses)
        other = len(statuses) - good - busy - errors - no_answer
        ok &= errors == 0 and other == 0 and (phase != "before" or good == len(statuses))
        lines.append(f"| {phase} | {len(chosen)} | {good} | {busy} | {errors} | {no_answer} | {other} | "
                     f"{percentile(took, 50):.0f} | {percentile(took, 95):.0f} | {max(took, default=0) * 1000:.0f} |")
    failed_after = [r for r in records if r[0] >= fault_end and r[3] not in OK]
    recovered = max((r[1] for r in failed_after), default=fault_end) - fault_end
    kinds = sorted({r[2] for r in records})
    first_ok = {k: min((r[1] for r in records if r[2] == k and r[0] >= fault_end and r[3] in OK), default=None)
                for k in kinds}
    slowest = max((t - fault_end for t in first_ok.values() if t is not None), default=float("nan"))
    missing = [k for k, t in first_ok.items() if t is None]
    ok &= not missing and recovered < 10
    pids_before, pids_after = result["pids"]
    ok &= pids_before == pids_after
    others = sorted({f"{r[2]}: {r[3]}" for r in records if r[3] not in OK and r[3] != 503})
    lines += [
        "",
        f"- fault {fault_end - fault_start:.1f} s; last failed answer {recovered:.1f} s after the fault's end "
        f"(0.0: none after it); first success of every kind of request within {slowest:.1f} s of the end "
        f"(bounded by each client's round of {len(kinds)} kinds)"
        + (f"; NEVER again: {', '.join(missing)}" if missing else ""),
        f"- worker pids before {pids_before}, after {pids_after}: "
        + ("unchanged (no restart)" if pids_before == pids_after else "CHANGED"),
    ]
    if others:
        lines.append(f"- answers other than 200/303/503: {'; '.join(others[:8])}")
    problems = result["integrity"]
    ok &= len(problems) == 1
    lines.append(f"- integrity: {problems[-1]}; " + ("no problem" if len(problems) == 1 else
                                                        "PROBLEMS: " + "; ".join(problems[:-1][:10])))
    return lines, ok


def main() -> int:
    settings = {
        "customers": int(os.environ.get("BENCH_CUSTOMERS", 300)), "orders": int(os.environ.get("BENCH_ORDERS", 1000)),
        "workers": int(os.environ.get("BENCH_WORKERS", 4)), "clients": int(os.environ.get("BENCH_CLIENTS", 6)),
        "pace": env_float("BENCH_PACE", 0.2), "before": env_float("BENCH_BEFORE", 10),
        "after": env_float("BENCH_AFTER", 15),
    }
    lock_seconds = env_float("BENCH_LOCK_SECONDS", 10)
    busy_ms = os.environ.get("BENCH_SQLITE_BUSY_MS", "5000")
    chosen = [s.strip() for s in os.environ.get("BENCH_FAULTS", ",".join(SCENARIOS)).split(",") if s.strip()]
    base = Path(tempfile.gettempdir())
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {loadavg()}")
    print(f"load: {settings['clients']} clients, at most one request each every {settings['pace']:g} s, "
          f"gunicorn {settings['workers']} sync workers, {settings['customers']} customers / "
          f"{settings['orders']} orders; {settings['before']:g} s before the fault, {settings['after']:g} s after",
          flush=True)
    cluster = None
    all_lines, all_ok = [], True
    try:
        for number, name in enumerate(chosen, 1):
            if name.startswith("sqlite"):
                instance = base / f"portal-bench-faults-{number}-{name}"
                url = f"sqlite:///{instance}/bench.db"
                extra = {} if name == "sqlite-lock-default" else {"PORTAL_SQLITE_BUSY_TIMEOUT_MS": busy_ms}
                result = run_scenario(name + (f" (busy timeout {busy_ms} ms)" if extra else " (busy timeout 15000 ms)"),
                                      url, instance, extra, lambda: lock_sqlite(f"{instance}/bench.db", lock_seconds),
                                      settings)
            elif name in ("pg-fast", "pg-immediate"):
                if cluster is None:
                    data = Path(os.environ.get("BENCH_PG_DATA") or base / "portal-bench-faults-pg")
                    cluster = Cluster(data, free_port())
                    cluster.start()
                    print(f"PostgreSQL: own cluster in {data} on port {cluster.port} ({cluster.bin})", flush=True)
                mode = name.split("-")[1]
                result = run_scenario(f"{name} (PostgreSQL)", cluster.url(), base / f"portal-bench-faults-{number}-{name}",
                                      {}, lambda m=mode: restart_pg(cluster, m), settings)
            else:
                raise SystemExit(f"unknown scenario {name}; known: {', '.join(SCENARIOS)}")
            lines, ok = report(result)
            print("\n".join(lines), flush=True)
            all_lines += lines
            all_ok &= ok
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"\n{'all checks hold' if all_ok else 'SOME CHECK FAILED'} (load average at the end {loadavg()})")
    return 0 if all_ok else 1


if __name__ == "__main__":
    bench_load.main(main)  # SIGTERM and Ctrl-C end it cleanly; `main`'s finally stops gunicorn and the cluster
