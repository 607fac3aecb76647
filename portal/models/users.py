"""Users, their roles, and their server-side login sessions."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UtcDateTime, utcnow


class Role(str, enum.Enum):
    ADMIN = "admin"
    MANAGER = "manager"
    SALES = "sales"
    SERVICE = "service"
    CUSTOMER = "customer"


STAFF_ROLES = (Role.ADMIN, Role.MANAGER, Role.SALES, Role.SERVICE)
LOCALES = ("zh", "en")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped["Customer | None"] = relationship(foreign_keys=[customer_id])  # noqa: F821

    # The token of the login session this object was loaded for (not stored; see auth.services).
    session_token = None

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in {r.value for r in STAFF_ROLES}

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER.value

    def has_role(self, *roles) -> bool:
        return self.role in {getattr(r, "value", r) for r in roles}

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(db.Model):
    """One row per login; deleting it ends that login everywhere at once."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()
