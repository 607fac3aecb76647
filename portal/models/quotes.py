"""Quotations (报价单): approved by a manager before they go out or become orders."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UtcDateTime, utcnow
from .products import Quantity, UnitPrice

CENT = Decimal("0.01")


def line_amount(quantity: Decimal | None, unit_price: Decimal | None) -> Decimal:
    """quantity × unit price, rounded half-up to the cent (never float)."""
    if quantity is None or unit_price is None:
        return Decimal("0.00")
    return (Decimal(quantity) * Decimal(unit_price)).quantize(CENT, rounding=ROUND_HALF_UP)


class QuoteState(str, enum.Enum):
    DRAFT = "draft"
    PENDING = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONVERTED = "converted"
    CANCELLED = "cancelled"


class Quote(db.Model):
    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    valid_until: Mapped[date | None] = mapped_column(Date)
    incoterm: Mapped[str | None] = mapped_column(String(10))
    port: Mapped[str | None] = mapped_column(String(60))
    terms: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str | None] = mapped_column(Text)  # internal, never shown to the customer
    state: Mapped[str] = mapped_column(String(20), default=QuoteState.DRAFT.value, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("samples.id"))
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", use_alter=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped["Customer"] = relationship()  # noqa: F821
    items: Mapped[list[QuoteItem]] = relationship(back_populates="quote", cascade="all, delete-orphan",
                                                  order_by="QuoteItem.position")
    approved_by: Mapped["User | None"] = relationship(foreign_keys=[approved_by_id])  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0.00"))


class QuoteItem(db.Model):
    __tablename__ = "quote_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    description: Mapped[str] = mapped_column(String(200))
    specification: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)

    quote: Mapped[Quote] = relationship(back_populates="items")

    @property
    def amount(self) -> Decimal:
        return line_amount(self.quantity, self.unit_price)
