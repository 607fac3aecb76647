"""Counters for gap-free document numbers, one row per kind and year."""
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Sequence(db.Model):
    __tablename__ = "sequences"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)  # 0 for counters that never restart
    last_value: Mapped[int] = mapped_column(default=0)
