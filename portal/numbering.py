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
    prefix, digits, yearly = FORMATS[kind]
    if yearly:
        if year is None:
            raise ValueError("a yearly sequence needs the year")
        value = next_value(kind, year)
        return f"{prefix}{year}-{value:0{digits}d}"
    value = next_value(kind, 0)
    return f"{prefix}{value:0{digits}d}"
