"""The audit trail: who changed what, from what to what, when and from where."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UtcDateTime, utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        Index("ix_audit_log_parent", "parent_type", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))  # kept if the user is deleted
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    # The record this one belongs to (a contact's customer, an item's order), for its history page.
    parent_type: Mapped[str | None] = mapped_column(String(40))
    parent_id: Mapped[int | None]
    summary: Mapped[str | None] = mapped_column(String(500))
    changes: Mapped[dict | None] = mapped_column(JSON)  # {field: [old, new]}
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped["User | None"] = relationship()  # noqa: F821
