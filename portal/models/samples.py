"""Sample requests (打样单): from the customer's requirement to evaluation and conversion."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Money, UtcDateTime, utcnow


class SampleState(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    SENT = "sent"
    RECEIVED = "received"
    EVALUATED = "evaluated"
    CONVERTED = "converted"
    CLOSED = "closed"


class FeeTerms(str, enum.Enum):
    PAID = "paid"  # the customer pays (before or with the sample)
    COLLECT = "collect"  # charged on delivery / freight collect
    WAIVED = "waived"  # free of charge


class Evaluation(str, enum.Enum):
    APPROVED = "approved"
    CHANGES = "changes_needed"
    REJECTED = "rejected"


class SampleRequest(db.Model):
    __tablename__ = "samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(200))
    requirement: Mapped[str] = mapped_column(Text, default="")
    specification: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(default=1)
    retained_quantity: Mapped[int] = mapped_column(default=1)  # 留样, at least one
    sample_fee: Mapped[Decimal | None] = mapped_column(Money)
    sample_fee_terms: Mapped[str] = mapped_column(String(10), default=FeeTerms.WAIVED.value)
    courier_fee: Mapped[Decimal | None] = mapped_column(Money)
    courier_fee_terms: Mapped[str] = mapped_column(String(10), default=FeeTerms.PAID.value)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(16), default=SampleState.DRAFT.value, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    inspection_note: Mapped[str | None] = mapped_column(Text)
    courier_company: Mapped[str | None] = mapped_column(String(60))
    tracking_no: Mapped[str | None] = mapped_column(String(60), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expected_arrival: Mapped[date | None] = mapped_column(Date)
    received_on: Mapped[date | None] = mapped_column(Date)
    evaluation: Mapped[str | None] = mapped_column(String(16))
    evaluation_comment: Mapped[str | None] = mapped_column(Text)
    evaluated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # staff or the buyer
    evaluation_seen: Mapped[bool] = mapped_column(default=True)  # False: a buyer's evaluation not yet read
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id", use_alter=True))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", use_alter=True))
    close_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped["Customer"] = relationship()  # noqa: F821
    product: Mapped["Product | None"] = relationship()  # noqa: F821
    approved_by: Mapped["User | None"] = relationship(foreign_keys=[approved_by_id])  # noqa: F821
    evaluated_by: Mapped["User | None"] = relationship(foreign_keys=[evaluated_by_id])  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
