"""Issued documents (contracts, delivery notes, packing lists, proforma invoices, statements) and print jobs.

An IssuedDocument is the record of a PDF rendered once and stored under instance/documents/ with its
sha256: downloads serve those bytes, never a new rendering. Correcting one issues a new version of the
same number; the old version stays (current=False) for staff.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UtcDateTime, utcnow


class DocumentKind(str, enum.Enum):
    CONTRACT = "contract"
    PROFORMA = "proforma_invoice"
    DELIVERY_NOTE = "delivery_note"
    PACKING_LIST = "packing_list"
    STATEMENT = "statement"


class IssuedDocument(db.Model):
    __tablename__ = "issued_documents"
    __table_args__ = (
        UniqueConstraint("kind", "number", "version", name="uq_issued_documents_kind_number_version"),
        Index("ix_issued_documents_kind_subject", "kind", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(30), index=True)
    version: Mapped[int] = mapped_column(default=1)
    subject_id: Mapped[int]  # the order (contract, invoice), shipment (notes, lists) or customer (statement)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    options: Mapped[dict | None] = mapped_column(JSON)  # copies, statement period
    file_name: Mapped[str] = mapped_column(String(200))  # under instance/documents/
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    pages: Mapped[int] = mapped_column(default=1)
    current: Mapped[bool] = mapped_column(default=True, index=True)  # False once a newer version exists
    reason: Mapped[str | None] = mapped_column(String(500))  # why a new version was issued
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    customer: Mapped["Customer"] = relationship()  # noqa: F821
    order: Mapped["Order | None"] = relationship()  # noqa: F821
    shipment: Mapped["Shipment | None"] = relationship()  # noqa: F821
    issued_by: Mapped["User | None"] = relationship()  # noqa: F821


class PrintJob(db.Model):
    """A print-centre batch run by a worker thread; any process can read its progress and cancel it."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict] = mapped_column(JSON)  # {"ids": [...], "issue": bool}
    state: Mapped[str] = mapped_column(String(12), default="queued", index=True)  # queued running done failed cancelled
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    result_file: Mapped[str | None] = mapped_column(String(200))  # under instance/documents/batches/
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def percent(self) -> int:
        return int(self.done * 100 / self.total) if self.total else 0
