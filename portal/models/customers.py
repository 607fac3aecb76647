"""Customer companies. Minimal here; the customer archive completes the record."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UtcDateTime, utcnow


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2; CN for domestic
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped["User | None"] = relationship(foreign_keys=[owner_id])  # noqa: F821

    @property
    def is_foreign(self) -> bool:
        return bool(self.country) and self.country != "CN"

    def display_name(self, locale: str = "zh") -> str:
        if locale == "en" and self.name_en:
            return self.name_en
        return self.name
