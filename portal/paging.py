"""Pages of long lists whose cost does not grow with the table: the count stops at a cap ("10,000+",
as Odoo shows it) and the next page is known from one row more than the page holds."""
from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass

from sqlalchemy import Select, func, literal, select

from .extensions import db


@dataclass
class CappedPage:
    """What templates/_macros.html's pager and the lists need, like Flask-SQLAlchemy's Pagination."""

    items: list
    page: int
    per_page: int
    total: int  # rows counted, at most cap
    capped: bool  # there are more than `total`
    has_next: bool

    @property
    def pages(self) -> int:
        return max(self.page, math.ceil(self.total / self.per_page) if self.total else 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def capped_count(stmt: Select, cap: int) -> int:
    """Rows of `stmt`, counted up to cap + 1 (an index walk of at most that many rows)."""
    limited = stmt.order_by(None).with_only_columns(literal(1)).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(limited))


def page_of(stmt: Select, page: int, per_page: int, total: int, cap: int, rows: bool = False) -> CappedPage:
    """The rows of page `page` of `stmt` (already ordered); `total` from capped_count. The items are the
    statement's entities, or with `rows` its rows (a select of columns: no ORM objects to build)."""
    page = min(max(page, 1), 1_000_000)
    stmt = stmt.limit(per_page + 1).offset((page - 1) * per_page)
    if rows:
        rows = plain_rows(db.session.connection().execute(stmt).all())
    else:
        rows = db.session.scalars(stmt).unique().all()
    return CappedPage(items=rows[:per_page], page=page, per_page=per_page, total=min(total, cap),
                      capped=total > cap, has_next=len(rows) > per_page)


_ROW_CLASSES: dict = {}


def plain_rows(rows: list) -> list:
    """Result rows as named tuples: a template reads each field of each row, and a named tuple's attribute is
    several times quicker to read than a Row's (~0.1 against ~0.6 us)."""
    if not rows:
        return rows
    fields = rows[0]._fields
    row_class = _ROW_CLASSES.get(fields)
    if row_class is None:
        row_class = _ROW_CLASSES[fields] = namedtuple("PlainRow", fields, rename=True)
    return [row_class._make(row) for row in rows]


def page_of_list(rows: list, page: int, per_page: int) -> CappedPage:
    """Page `page` of rows already in memory (a page past the end shows the last one)."""
    pages = max(1, math.ceil(len(rows) / per_page))
    page = min(max(page, 1), pages)
    return CappedPage(items=rows[(page - 1) * per_page:page * per_page], page=page, per_page=per_page,
                      total=len(rows), capped=False, has_next=page < pages)
