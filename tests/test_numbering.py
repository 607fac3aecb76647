"""Gap-free numbers under concurrent transactions, on SQLite and PostgreSQL."""
import threading

from sqlalchemy import select

from portal import numbering
from portal.database import write_transaction
from portal.extensions import db
from portal.models import Sequence


def test_numbers_are_formatted_and_per_kind_and_year(ctx, monkeypatch):
    monkeypatch.setitem(numbering.FORMATS, "sample", ("DY", 4, True))
    assert numbering.next_number("customer") == "C00001"
    assert numbering.next_number("customer") == "C00002"
    assert numbering.next_number("sample", 2026) == "DY2026-0001"
    assert numbering.next_number("sample", 2027) == "DY2027-0001"
    assert numbering.next_number("sample", 2026) == "DY2026-0002"


def test_rolled_back_transaction_gives_its_number_back(app, ctx):
    with write_transaction():
        assert numbering.next_value("x") == 1
        db.session.rollback()
        assert numbering.next_value("x") == 1
        db.session.commit()
        assert numbering.next_value("x") == 2
        db.session.commit()


def test_parallel_transactions_get_no_duplicate_and_no_gap(app):
    """8 threads x 15 transactions, every third rolled back: committed numbers are exactly 1..N."""
    committed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(index: int) -> None:
        try:
            with app.app_context(), write_transaction():
                start.wait()
                for attempt in range(15):
                    value = numbering.next_value("parallel", 2026)
                    if (index + attempt) % 3 == 0:
                        db.session.rollback()
                        continue
                    db.session.commit()
                    with lock:
                        committed.append(value)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(committed) == len(set(committed)), "duplicate numbers"
    assert sorted(committed) == list(range(1, len(committed) + 1)), "gap in the numbers"
    with app.app_context():
        row = db.session.scalar(select(Sequence).where(Sequence.kind == "parallel"))
        assert row.last_value == len(committed)
