"""Gap-free document numbers.

One atomic upsert increments the (kind, year) counter and returns the new value. The row stays
locked until the surrounding transaction ends, so concurrent requests queue on it; if the
transaction rolls back, so does the increment, and no number is lost. Works on PostgreSQL
(row lock) and SQLite (the write lock taken by BEGIN IMMEDIATE, see database.py).
"""
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db
from .models import Sequence

# kind -> (prefix, digits, yearly). Each area adds its kinds here.
FORMATS = {
    "customer": ("C", 5, False),
    "sample": ("DY", 4, True),  # 打样单 DY2026-0001
    "quote": ("BJ", 4, True),  # 报价单 BJ2026-0001
    "order": ("DD", 4, True),  # 订单 DD2026-0001
    "contract": ("HT", 4, True),  # 销售合同 HT2026-0001
    "proforma_invoice": ("PI", 4, True),  # 形式发票 PI2026-0001
    "delivery_note": ("SH", 4, True),  # 送货单 SH2026-0001
    "packing_list": ("ZX", 4, True),  # 装箱单 ZX2026-0001
    "statement": ("DZ", 4, True),  # 对账单 DZ2026-0001
    "ticket": ("TS", 4, True),  # 投诉 TS2026-0001
}


def next_value(kind: str, year: int = 0) -> int:
    """Increment and return the counter of `kind` for `year` (0: never restarts)."""
    dialect = db.session.get_bind().dialect.name
    module = {"postgresql": postgresql, "sqlite": sqlite}.get(dialect)
    if module is None:
        raise RuntimeError(f"gap-free numbering is not implemented for {dialect}")
    stmt = (
        module.insert(Sequence)
        .values(kind=kind, year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[Sequence.kind, Sequence.year],
            set_={"last_value": Sequence.last_value + 1},
        )
        .returning(Sequence.last_value)
    )
    return db.session.execute(stmt).scalar_one()


def next_number(kind: str, year: int | None = None) -> str:
    """The next formatted number of `kind`, e.g. C00001 or DY2026-0001."""
    yearly = FORMATS[kind][2]
    if yearly and year is None:
        raise ValueError("a yearly sequence needs the year")
    return format_value(kind, next_value(kind, year if yearly else 0), year)


def reserve(kind: str, count: int, year: int = 0) -> range:
    """Take `count` consecutive values at once (bulk imports); same locking as next_value."""
    if count < 1:
        return range(0)
    dialect = db.session.get_bind().dialect.name
    module = {"postgresql": postgresql, "sqlite": sqlite}[dialect]
    stmt = (
        module.insert(Sequence)
        .values(kind=kind, year=year, last_value=count)
        .on_conflict_do_update(
            index_elements=[Sequence.kind, Sequence.year],
            set_={"last_value": Sequence.last_value + count},
        )
        .returning(Sequence.last_value)
    )
    last = db.session.execute(stmt).scalar_one()
    return range(last - count + 1, last + 1)


def format_value(kind: str, value: int, year: int | None = None) -> str:
    prefix, digits, yearly = FORMATS[kind]
    return f"{prefix}{year}-{value:0{digits}d}" if yearly else f"{prefix}{value:0{digits}d}"
