"""Company settings: one row, the letterhead of every page and document."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UtcDateTime, utcnow


class CompanySettings(db.Model):
    __tablename__ = "company_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    address_zh: Mapped[str] = mapped_column(String(300), default="")
    address_en: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    fax: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    tax_id: Mapped[str] = mapped_column(String(40), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    bank_account: Mapped[str] = mapped_column(String(60), default="")
    bank_swift: Mapped[str] = mapped_column(String(20), default="")
    logo_file: Mapped[str | None] = mapped_column(String(100))  # name under instance/uploads/company/
    contract_terms: Mapped[str] = mapped_column(Text, default="")
    # Documents (issue 5): English contract terms, proforma invoice terms, the company seal (印章) image.
    contract_terms_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    invoice_terms: Mapped[str] = mapped_column(Text, default="", server_default="")
    seal_file: Mapped[str | None] = mapped_column(String(100))  # name under instance/uploads/company/
    # After-sales (issue 6): a follow-up visit falls due this many days after a delivery; a ticket's due
    # date follows from its severity (days after the assessment).
    visit_delay_days: Mapped[int] = mapped_column(default=7, server_default="7")
    ticket_days_minor: Mapped[int] = mapped_column(default=10, server_default="10")
    ticket_days_major: Mapped[int] = mapped_column(default=5, server_default="5")
    ticket_days_critical: Mapped[int] = mapped_column(default=2, server_default="2")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    def name(self, locale: str = "zh") -> str:
        if locale == "en" and self.name_en:
            return self.name_en
        return self.name_zh or self.name_en
