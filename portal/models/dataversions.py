"""One row per table whose changes invalidate cached aggregates (portal/datacache.py): a random token that
every committed change to the table replaces, in the same transaction as the change."""
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class DataVersion(db.Model):
    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)  # a table name
    token: Mapped[int] = mapped_column(BigInteger)
