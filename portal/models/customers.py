"""The customer archive (客户档案): companies, their contacts, and the contact log."""
from __future__ import annotations

import enum
import itertools
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (ARRAY, Date, ForeignKey, Index, Integer, String, Text, bindparam, cast, delete, event, func,
                        insert, select)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from .base import Money, UtcDateTime, utcnow


class Grade(str, enum.Enum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class CustomerStatus(str, enum.Enum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    DORMANT = "dormant"
    BLACKLISTED = "blacklisted"


class Source(str, enum.Enum):
    EXHIBITION = "exhibition"
    B2B = "b2b"
    REFERRAL = "referral"
    COLD_VISIT = "cold_visit"
    PHONE = "phone"
    WEBSITE = "website"
    OTHER = "other"


class LogKind(str, enum.Enum):
    VISIT = "visit"
    CALL = "call"
    EMAIL = "email"
    WECHAT = "wechat"
    EXHIBITION = "exhibition"


CURRENCIES = ("CNY", "USD", "EUR")


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_owner_name", "owner_id", "name"),
        # owner_id with the id: PostgreSQL finds a salesperson's customer ids from the index alone (the order
        # list's count joins them); for SQLite every index already ends with the row id.
        Index("ix_customers_owner_id", "owner_id", "id"),
        Index("ix_customers_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    name_key: Mapped[str | None] = mapped_column(String(200), index=True)  # normalised, for duplicates
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)  # 统一社会信用代码
    company_no: Mapped[str | None] = mapped_column(String(40))  # foreign company number
    legal_rep: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(String(300))
    province: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(60))
    country: Mapped[str | None] = mapped_column(String(2), index=True)  # ISO 3166-1 alpha-2; CN domestic
    port: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(60))
    grade: Mapped[str] = mapped_column(String(1), default=Grade.C.value, index=True)
    source: Mapped[str | None] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(12), default=CustomerStatus.PROSPECT.value, index=True)
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payment_terms: Mapped[str | None] = mapped_column(String(200))
    bank_name: Mapped[str | None] = mapped_column(String(200))  # 开户银行, printed on the contract
    bank_account: Mapped[str | None] = mapped_column(String(60))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped["User | None"] = relationship(foreign_keys=[owner_id])  # noqa: F821
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan",
        order_by="(Contact.is_primary.desc(), Contact.id)")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_foreign(self) -> bool:
        return bool(self.country) and self.country != "CN"

    def display_name(self, locale: str = "zh") -> str:
        if locale == "en" and self.name_en:
            return self.name_en
        return self.name


class Contact(db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    mobile: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    wechat: Mapped[str | None] = mapped_column(String(60))
    is_primary: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class ContactLog(db.Model):
    """One contact with a customer (拜访记录): the material of the salesperson's daily report."""

    __tablename__ = "contact_logs"
    __table_args__ = (
        Index("ix_contact_logs_customer_at", "customer_id", "at"),
        Index("ix_contact_logs_user_next", "user_id", "next_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    summary: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(300))
    next_date: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(default=False)  # the next step has been taken care of

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    user: Mapped["User | None"] = relationship()  # noqa: F821


class CustomerSearch(db.Model):
    """The text the customer list searches (客户搜索): code, names, phone, e-mail and every contact's name,
    phones and e-mail, NFKC-normalised and lower-cased, one field a line. Kept in its own row (not a column
    of customers) so that a new contact does not bump the customer's version under an open edit form; one
    LIKE over one short column instead of five LIKEs and a contacts subquery per customer."""

    __tablename__ = "customer_search"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")


class CustomerSearchGram(db.Model):
    """The index of the search text (客户搜索索引): one row per customer and entry of its text (`search_grams`:
    single characters and pairs). A query looks up its rarest entry and confirms the candidates with LIKE on the
    text, so the work follows the number of matches, not of customers. Chinese has no spaces to cut words at,
    and a two-character query such as 华盛 is typical, hence pairs of characters rather than words.
    No foreign key: checking it row by row doubled the time PostgreSQL took to load the demo archive (120 rows
    a customer); refresh_search removes the rows of a deleted customer, through (customer_id, gram)."""

    __tablename__ = "customer_search_grams"
    __table_args__ = (Index("ix_customer_search_grams_customer_gram", "customer_id", "gram"),
                      {"sqlite_with_rowid": False})

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True)


def search_key(text: str | None) -> str:
    """How both the stored text and the query are compared: NFKC (full-width to half-width), lower case,
    inner white space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def search_text(customer_row, contact_rows) -> str:
    fields = [customer_row.code, customer_row.name, customer_row.name_en, customer_row.phone, customer_row.email]
    for contact in contact_rows:
        fields += [contact.name, contact.phone, contact.mobile, contact.email]
    return "\n".join(key for key in map(search_key, fields) if key)


def search_grams(text: str) -> set[str]:
    """The index entries of a search text: each character and each two characters in a row within a line (a
    field). A query of one character is found by its entry, a longer one by its rarest pair and confirmed with
    LIKE. The migration 0010_customer_search_grams has its own copy: change both or neither."""
    grams = set()
    for line in text.split("\n"):
        grams.update(line)
        grams.update(line[i:i + 2] for i in range(len(line) - 1))
    return grams


def refresh_search(connection, customer_ids) -> None:
    """Rewrite the search rows and index entries of `customer_ids` from what the database now holds (in the
    caller's transaction). Only customers whose text changed are written, and of their entries only those
    that came or went: most saves (grade, status, a new contact log) write nothing here."""
    ids = sorted(set(customer_ids))
    table, grams = CustomerSearch.__table__, CustomerSearchGram.__table__
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        customers = connection.execute(
            select(Customer.id, Customer.code, Customer.name, Customer.name_en, Customer.phone, Customer.email)
            .where(Customer.id.in_(chunk))).all()
        contacts: dict[int, list] = {}
        for row in connection.execute(select(Contact.customer_id, Contact.name, Contact.phone, Contact.mobile,
                                             Contact.email).where(Contact.customer_id.in_(chunk))
                                      .order_by(Contact.id)):
            contacts.setdefault(row.customer_id, []).append(row)
        old = dict(connection.execute(select(table.c.customer_id, table.c.text)
                                      .where(table.c.customer_id.in_(chunk))).all())
        new = {c.id: search_text(c, contacts.get(c.id, ())) for c in customers}
        changed = [i for i in chunk if old.get(i) != new.get(i) or i not in new]
        if not changed:
            continue
        connection.execute(delete(table).where(table.c.customer_id.in_(changed)))
        rows = [{"customer_id": i, "text": new[i]} for i in changed if i in new]
        if rows:
            connection.execute(insert(table), rows)
        # a customer deleted, or one without a search row that may still have entries (a customer id used
        # again after rows were removed by hand): its entries go, and a new text starts afresh
        unknown = [i for i in chunk if i not in old or i not in new]
        if unknown:
            connection.execute(delete(grams).where(grams.c.customer_id.in_(unknown)))
        gone, came = [], []
        for i in changed:
            before = search_grams(old[i]) if i in old and i in new else set()
            after = search_grams(new[i]) if i in new else set()
            gone += [{"g": gram, "c": i} for gram in before - after]
            came += [(gram, i) for gram in after - before]
        if gone:
            connection.execute(
                delete(grams).where(grams.c.gram == bindparam("g"), grams.c.customer_id == bindparam("c")), gone)
        if came:
            _insert_grams(connection, came)


def _insert_grams(connection, rows: list[tuple[str, int]]) -> None:
    """Index rows (gram, customer_id) in one statement, the fastest way each database has: the demo archive
    writes about 120 per customer. PostgreSQL takes them as two arrays (unnest; a multi-row INSERT took more
    than twice as long), SQLite as the driver's executemany."""
    table = CustomerSearchGram.__table__
    if connection.dialect.name == "postgresql":
        grams, ids = zip(*rows)
        connection.execute(insert(table).from_select(["gram", "customer_id"], select(
            func.unnest(cast(list(grams), ARRAY(String))), func.unnest(cast(list(ids), ARRAY(Integer))))))
    else:
        connection.exec_driver_sql("INSERT INTO customer_search_grams (gram, customer_id) VALUES (?, ?)", rows)


@event.listens_for(Session, "after_flush")
def _keep_search_current(session, _context) -> None:
    """Every flush that adds, changes or removes a customer or a contact refreshes those customers' search
    rows, whichever code path wrote them (forms, Excel import, portal, demo data)."""
    ids = set()
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Customer) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, Contact) and obj.customer_id is not None:
            ids.add(obj.customer_id)
    if ids:
        refresh_search(session.connection(), ids)
