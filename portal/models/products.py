"""The product catalogue that quotations and orders pick from (free-text lines stay allowed)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UtcDateTime, utcnow

UnitPrice = Numeric(14, 4)  # hardware is often priced in fractions of a cent per piece
Quantity = Numeric(14, 3)


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    specification: Mapped[str | None] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    default_price: Mapped[Decimal | None] = mapped_column(UnitPrice)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
