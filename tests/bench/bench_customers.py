"""Customer archive benchmarks: a 5,000-row Excel import, and list/search/detail/export at 10,000 customers.

Run: `make bench` (SQLite), or with PORTAL_BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL.
Each run uses a fresh database (a temporary SQLite file, or the PostgreSQL database's public schema
rebuilt: use a database for benchmarks only). Prints a Markdown table.
"""
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402


def fresh_app():
    instance = tempfile.mkdtemp(prefix="bench-")
    os.environ["PORTAL_INSTANCE_PATH"] = instance
    url = os.environ.get("PORTAL_BENCH_DATABASE_URL") or f"sqlite:///{instance}/bench.db"
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
    return app, url


def import_file(rows: int) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["公司名称", "英文名称", "国家代码", "电话", "邮箱", "客户级别", "客户状态", "客户来源", "信用额度", "币种",
               "付款条件", "地址"])
    for i in range(rows):
        ws.append([f"基准导入测试{i:05d}五金制品有限公司", f"Bench Import {i:05d} Co., Ltd.", "CN", f"0574-8{i:07d}",
                   f"buyer{i}@example.com", "ABCD"[i % 4], "active", "exhibition", 10000 + i, "CNY", "月结30天",
                   f"浙江省宁波市北仑区工业路{i}号"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def timed(fn, repeat=1):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return result, samples


def main() -> None:
    app, url = fresh_app()
    backend = url.split(":")[0]
    from tests.conftest import PortalClient
    app.test_client_class = PortalClient
    print(f"database: {backend}")
    with app.app_context():
        from portal import demo
        from portal.database import write_transaction
        with write_transaction():
            _, seed = timed(lambda: (demo.seed(10_000), db.session.commit()))
    print(f"seed-demo --customers 10000: {seed[0]:.1f} s")

    manager = app.test_client()
    assert manager.post("/login", data={"username": "manager", "password": "demo1234"}).status_code == 303
    sales = app.test_client()
    assert sales.post("/login", data={"username": "sales1", "password": "demo1234"}).status_code == 303

    # Import of 5,000 rows, end to end through HTTP: upload + check, then confirm.
    data = import_file(5000)
    def upload():
        return manager.post("/customers/import", data={"file": (io.BytesIO(data), "bench.xlsx")},
                            content_type="multipart/form-data")
    response, check = timed(upload)
    assert response.status_code == 200, response.status_code
    import re
    token = re.search(r'name="token" value="([0-9a-f]{32})"', response.get_data(as_text=True)).group(1)
    confirm_response, confirm = timed(lambda: manager.post("/customers/import/confirm",
                                                           data={"token": token, "filename": "bench.xlsx"}))
    assert confirm_response.status_code == 303
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(__import__("portal.models", fromlist=["Customer"]).Customer))
    print(f"import 5,000 rows: check {check[0]:.2f} s + confirm {confirm[0]:.2f} s = {check[0] + confirm[0]:.2f} s "
          f"(archive now {total} customers)")

    rows = []
    pages = [
        ("sales1", sales, "/customers/"),
        ("sales1", sales, "/customers/?q=恒达"),
        ("sales1", sales, "/customers/?q=13800"),
        ("manager", manager, "/customers/"),
        ("manager", manager, "/customers/?q=恒达五金"),
        ("manager", manager, "/customers/?grade=A&status=active&sort=-updated"),
        ("manager", manager, "/customers/?page=300"),
        ("manager", manager, "/customers/7"),
        ("sales1", sales, "/"),
        ("sales1", sales, "/customers/export.xlsx"),
    ]
    for who, client, url_ in pages:
        client.get(url_)
        _, samples = timed(lambda: client.get(url_), repeat=20 if "export" not in url_ else 3)
        rows.append((who, url_, statistics.median(samples) * 1000, max(samples) * 1000))
    print()
    print(f"| user | page ({backend}, 15,000 customers) | median ms | max ms |")
    print("|---|---|---:|---:|")
    for who, url_, median, worst in rows:
        print(f"| {who} | `{url_}` | {median:.1f} | {worst:.1f} |")


if __name__ == "__main__":
    main()
