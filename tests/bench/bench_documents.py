"""Documents benchmark: contract rendering, a batch of delivery notes, re-downloading an issued file, memory.

Run with `make bench-documents` (or `.venv/bin/python tests/bench/bench_documents.py`). Uses a throwaway
SQLite database and instance folder; warm process (one rendering first to load fonts and caches).
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    instance = tempfile.mkdtemp(prefix="bench-documents-")
    os.environ["PORTAL_INSTANCE_PATH"] = instance
    from flask_migrate import upgrade

    from portal import create_app
    from portal.documents import batch, render, services
    from portal.extensions import db
    from portal.models import User
    from tests import documents_data as data

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db", "SECRET_KEY": "bench",
                      "TESTING": True})
    with app.test_request_context(method="POST"):
        upgrade()
        data.company()
        user = User(username="bench", display_name="Bench", role="admin", password_hash="x")
        db.session.add(user)
        customer = data.customer()
        order = data.order(customer, lines=20)
        shipments = []
        for _ in range(50):
            small = data.order(customer, lines=3)
            shipments.append(data.shipment(small).id)
        db.session.commit()
        subject = services.order_subject("contract", order)

        def contract():
            return render.write_pdf([services.render_pdf(subject, number="HT2026-0001", draft=False)])

        first = contract()
        times = []
        for _ in range(15):
            started = time.perf_counter()
            result = contract()
            times.append(time.perf_counter() - started)
        print(f"contract, 20 lines, {result.pages} pages: median {statistics.median(times) * 1000:.0f} ms, "
              f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, size {len(first.pdf) / 1024:.0f} KB")

        started = time.perf_counter()
        pdf = batch.build("delivery_note", shipments, user, False)
        elapsed = time.perf_counter() - started
        print(f"batch of 50 one-page delivery notes (drafts, one PDF): {elapsed:.2f} s, {len(pdf) / 1024:.0f} KB")

        document = services.issue(subject, user)
        db.session.commit()
        user_id, document_id, order_id = user.id, document.id, order.id
    from tests.conftest import PortalClient
    with app.app_context():
        from portal.auth.services import hash_password
        admin = db.session.get(User, user_id)
        admin.password_hash = hash_password("Bench-Password-42")
        db.session.commit()
    app.test_client_class = PortalClient
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "Bench-Password-42"})
    url = f"/documents/issued/{document_id}.pdf"
    client.get(url)
    times = []
    for _ in range(50):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append(time.perf_counter() - started)
    assert response.status_code == 200
    print(f"re-download of an issued contract: median {statistics.median(times) * 1000:.1f} ms")

    from portal.models import Order, Shipment
    with app.test_request_context():
        subject = services.order_subject("contract", db.session.get(Order, order_id))
        small = [services.shipment_subject("delivery_note", db.session.get(Shipment, i)) for i in shipments]
        for n in range(1, 301):
            target = subject if n % 5 == 0 else small[n % len(small)]
            render.write_pdf([services.render_pdf(target, number=None, draft=True)])
            if n in (50, 300):
                print(f"RSS after {n} documents: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
