"""Rules of the customer archive: validation, duplicates, changes, contacts, the contact log."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, literal, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.sql.elements import True_
from sqlalchemy.orm import contains_eager, selectinload

from .. import audit, datacache, numbering
from ..extensions import db
from ..models import (CURRENCIES, Contact, ContactLog, Customer, CustomerSearch, CustomerSearchGram, CustomerStatus,
                      Grade, LogKind, Role, Source, User)
from ..models.customers import search_key
from ..paging import CappedPage, capped_count, page_of
from .access import customer_scope, customer_scope_key, visible_customers

# GB 32100-2015: 18 characters from this alphabet; the last is a check character.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class CustomerError(ValueError):
    """Refused input: {field: message} for the form (field "" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ConflictError(CustomerError):
    """Someone else saved the record since it was opened; `changed` names what they changed."""

    def __init__(self, changed: list[str]):
        super().__init__({"": _("Someone else saved this customer while you were editing it. "
                                "Changed meanwhile: %(fields)s. Reload and apply your change again.",
                                fields=", ".join(changed) or "-")})
        self.changed = changed


def credit_code_valid(code: str) -> bool:
    """True when `code` is a well-formed unified social credit code with the right check character."""
    if not CREDIT_RE.match(code or ""):
        return False
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(code[:17], CREDIT_WEIGHTS))
    return CREDIT_ALPHABET[(31 - total % 31) % 31] == code[17]


def normalise(text: str | None) -> str:
    """Full-width to half-width (NFKC), trimmed, inner white space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def name_key(name: str | None) -> str:
    """The duplicate-detection key of a company name: NFKC, case-folded, no white space."""
    return "".join(unicodedata.normalize("NFKC", name or "").casefold().split())


TEXT_FIELDS = ("name", "name_en", "company_no", "legal_rep", "address", "province", "city", "port",
               "phone", "email", "website", "industry", "payment_terms", "bank_name", "bank_account")


def clean(data: dict) -> dict:
    """Normalised values of a customer form; CustomerError lists every problem at once."""
    values = {field: normalise(data.get(field)) or None for field in TEXT_FIELDS}
    values["notes"] = (data.get("notes") or "").replace("\r\n", "\n").strip() or None
    errors = {}
    if not values["name"]:
        errors["name"] = _("The company name is required.")
    credit = normalise(data.get("credit_code")).upper().replace(" ", "") or None
    if credit and not credit_code_valid(credit):
        errors["credit_code"] = _("This is not a valid unified social credit code (18 characters with a check character).")
    values["credit_code"] = credit
    country = normalise(data.get("country")).upper() or None
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        errors["country"] = _("Use the two-letter country code, e.g. CN, US, DE.")
    values["country"] = country
    for field, allowed, message in (
        ("grade", [g.value for g in Grade], _("Choose a grade A, B, C or D.")),
        ("status", [s.value for s in CustomerStatus], _("Choose a status.")),
        ("currency", list(CURRENCIES), _("Choose a currency.")),
    ):
        value = (data.get(field) or "").strip()
        if value not in allowed:
            errors[field] = message
        values[field] = value
    source = (data.get("source") or "").strip() or None
    if source and source not in [s.value for s in Source]:
        errors["source"] = _("Choose a source.")
    values["source"] = source
    limit = data.get("credit_limit")
    if limit in (None, ""):
        values["credit_limit"] = None
    else:
        try:
            amount = Decimal(str(limit)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
            errors["credit_limit"] = _("Enter an amount of zero or more.")
        values["credit_limit"] = amount
    if errors:
        raise CustomerError(errors)
    values["name_key"] = name_key(values["name"])
    return values


def duplicates(values: dict, user: User, exclude_id: int | None = None) -> dict[str, str]:
    """Errors for customers with the same credit code or the same normalised name.

    A duplicate the user may see is named; one in another salesperson's book is only said to
    exist, with no detail of it.
    """
    conditions = [Customer.name_key == values["name_key"]]
    if values.get("credit_code"):
        conditions.append(Customer.credit_code == values["credit_code"])
    stmt = select(Customer.id, Customer.code, Customer.name, Customer.credit_code).where(or_(*conditions))
    if exclude_id:
        stmt = stmt.where(Customer.id != exclude_id)
    found = db.session.execute(stmt.limit(5)).all()
    if not found:
        return {}
    visible = set(db.session.scalars(visible_customers(user).with_only_columns(Customer.id)
                                     .where(Customer.id.in_([row.id for row in found]))))
    errors = {}
    for row in found:
        field = "credit_code" if values.get("credit_code") and row.credit_code == values["credit_code"] else "name"
        if row.id in visible:
            errors[field] = _("Already in the archive as %(code)s %(name)s.", code=row.code, name=row.name)
        else:
            errors[field] = _("This customer is already in the archive and belongs to another salesperson. Ask your manager.")
    return errors


def _owner_for(data: dict, user: User) -> int | None:
    if user.role == Role.SALES.value:
        return user.id
    owner_id = data.get("owner_id")
    if owner_id in (None, "", 0, "0"):
        return None
    owner = db.session.get(User, int(owner_id))
    if owner is None or owner.role != Role.SALES.value and owner.role != Role.MANAGER.value:
        raise CustomerError({"owner_id": _("Choose a salesperson.")})
    return owner.id


def create_customer(data: dict, user: User) -> Customer:
    """A new customer with the next code; a salesperson's own customers are assigned to them."""
    values = clean(data)
    # The number first: the counter row stays locked until the commit, so creations from several workers queue
    # here and each duplicate check below sees the customers committed before it (PostgreSQL's READ COMMITTED;
    # SQLite's BEGIN IMMEDIATE already serialises). A refusal rolls back and gives the number back.
    code = numbering.next_number("customer")
    errors = duplicates(values, user)
    if errors:
        raise CustomerError(errors)
    values["owner_id"] = _owner_for(data, user)
    customer = Customer(code=code, **values)
    db.session.add(customer)
    db.session.flush()
    audit.record("create", customer, summary=f"{customer.code} {customer.name}")
    return customer


def update_customer(customer: Customer, data: dict, user: User, version: int | None) -> dict:
    """Save changes, refusing them if someone else saved since `version` was read."""
    if version is not None and int(version) != customer.version:
        raise stale(customer, int(version))
    values = clean(data)
    errors = duplicates(values, user, exclude_id=customer.id)
    if errors:
        raise CustomerError(errors)
    changes = audit.apply_changes(customer, values)
    changes.pop("name_key", None)
    if changes:
        audit.record("update", customer, changes=changes)
    return changes


def stale(customer: Customer, version: int) -> ConflictError:
    """The refusal of a save made from the form read at `version`, naming what changed since."""
    return ConflictError(_changed_since(customer, version))


def _changed_since(customer: Customer, version: int) -> list[str]:
    """Fields changed by the updates recorded after `version` (from the audit trail)."""
    from ..models import AuditLog

    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.entity_type == "Customer", AuditLog.entity_id == customer.id,
                               AuditLog.action.in_(("update", "reassign")))
        .order_by(AuditLog.id.desc()).limit(max(min(customer.version - version, customer.version), 1))).all()
    fields = []
    for entry in entries:
        for field in (entry.changes or {}):
            if field not in fields:
                fields.append(field)
    return fields


def reassign(customer: Customer, owner_id: int, user: User) -> dict:
    """A manager moves a customer to another salesperson; recorded in the audit trail."""
    if user.role not in (Role.ADMIN.value, Role.MANAGER.value):
        raise CustomerError({"owner_id": _("Only a manager can reassign customers.")})
    new_owner = _owner_for({"owner_id": owner_id}, user)
    changes = audit.apply_changes(customer, {"owner_id": new_owner})
    if changes:
        audit.record("reassign", customer, changes=changes)
    return changes


# Contacts

CONTACT_FIELDS = ("name", "title", "phone", "mobile", "email", "wechat")


def _contact_values(data: dict) -> dict:
    values = {field: normalise(data.get(field)) or None for field in CONTACT_FIELDS}
    if not values["name"]:
        raise CustomerError({"name": _("The contact's name is required.")})
    values["is_primary"] = bool(data.get("is_primary"))
    return values


def _one_primary(customer: Customer, contact: Contact) -> None:
    if contact.is_primary:
        for other in customer.contacts:
            if other is not contact and other.is_primary:
                other.is_primary = False


def add_contact(customer: Customer, data: dict) -> Contact:
    values = _contact_values(data)
    if not customer.contacts:
        values["is_primary"] = True
    contact = Contact(**values)
    customer.contacts.append(contact)
    _one_primary(customer, contact)
    db.session.flush()
    audit.record("create", contact, summary=contact.name, parent=customer)
    return contact


def update_contact(contact: Contact, data: dict) -> dict:
    changes = audit.apply_changes(contact, _contact_values(data))
    _one_primary(contact.customer, contact)
    if changes:
        audit.record("update", contact, changes=changes, summary=contact.name, parent=contact.customer)
    return changes


def remove_contact(contact: Contact) -> None:
    audit.record("delete", contact, summary=contact.name, parent=contact.customer)
    db.session.delete(contact)
    db.session.flush()


# Contact log

def add_log(customer: Customer, data: dict, user: User) -> ContactLog:
    """Record a visit, call, e-mail...; the next step and its date feed "my day"."""
    errors = {}
    kind = data.get("kind")
    if kind not in [k.value for k in LogKind]:
        errors["kind"] = _("Choose how you were in contact.")
    summary = (data.get("summary") or "").strip()
    if not summary:
        errors["summary"] = _("Write what was discussed.")
    next_date = data.get("next_date")
    next_step = normalise(data.get("next_step")) or None
    if next_date and not next_step:
        errors["next_step"] = _("Say what the next step is.")
    contact_id = data.get("contact_id") or None
    if contact_id and not any(c.id == int(contact_id) for c in customer.contacts):
        errors["contact_id"] = _("Choose one of this customer's contacts.")
    if errors:
        raise CustomerError(errors)
    log = ContactLog(customer=customer, user_id=user.id, kind=kind, summary=summary[:5000],
                     next_step=next_step, next_date=next_date if isinstance(next_date, date) else None,
                     contact_id=int(contact_id) if contact_id else None, at=data.get("at") or datetime.now(timezone.utc))
    db.session.add(log)
    db.session.flush()
    audit.record("create", log, summary=kind, parent=customer)
    return log


def complete_next_step(log: ContactLog) -> None:
    log.done = True
    audit.record("update", log, changes={"done": [False, True]}, parent=log.customer)


def due_next_steps(user: User, today: date, limit: int = 50):
    """Open next steps of the user's contact log due today or earlier, oldest first."""
    stmt = (select(ContactLog).join(ContactLog.customer)
            .where(ContactLog.next_date.is_not(None), ContactLog.next_date <= today, ContactLog.done.is_(False),
                   ContactLog.user_id == user.id)
            .options(contains_eager(ContactLog.customer))
            .order_by(ContactLog.next_date, ContactLog.id).limit(limit))
    return db.session.scalars(stmt).all()


def logs_of_day(user: User, day: date, zone) -> list[ContactLog]:
    """The user's contact-log entries of one local day: the material of the daily report (日报)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=1)
    return db.session.scalars(
        select(ContactLog).where(ContactLog.user_id == user.id, ContactLog.at >= start, ContactLog.at < end)
        .options(selectinload(ContactLog.customer)).order_by(ContactLog.at)).all()


def team_logs_of_day(day: date, zone) -> list[tuple[str, int]]:
    """(salesperson, entries) for one local day, for managers."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=1)
    return db.session.execute(
        select(User.display_name, func.count(ContactLog.id)).join(ContactLog, ContactLog.user_id == User.id)
        .where(ContactLog.at >= start, ContactLog.at < end).group_by(User.display_name)
        .order_by(User.display_name)).all()


# Search and list

SORTS = {
    "code": Customer.code, "name": Customer.name, "grade": Customer.grade, "status": Customer.status,
    "country": Customer.country, "updated": Customer.updated_at,
}


LIST_COUNT_CAP = 500  # the list says "more than 500 customers" beyond this
PROBE_CAP = 300  # index rows counted per entry of a long query to find its rarest
PROBE_WINDOW = 500  # newest customers whose rows tell apart the entries that reach PROBE_CAP
PROBED_ENTRIES = 8  # of a long query's entries, this many (spread over it) are counted


@dataclass
class TextQuery:
    """How a search text is found: `entry`, the query's rarest index entry (the character of a one-character
    query, else a pair), and the LIKE pattern that confirms the entry's customers (None when the entry alone is
    exact: queries of one or two characters)."""

    entry: str
    pattern: str | None


def _rarest(entries: list[str]) -> str:
    """The entry with the fewest index rows, from one statement: each entry's rows counted up to PROBE_CAP (an
    exact count below it), and for the entries that reach it, their rows among the newest PROBE_WINDOW
    customers, a sample that tells a thousand from five thousand. Written as text: building it with select()
    took longer than running it."""
    parts = []
    for i in range(len(entries)):
        parts.append(f"(SELECT count(*) FROM (SELECT 1 FROM customer_search_grams WHERE gram = :e{i} "
                     f"LIMIT {PROBE_CAP}) AS probe{i})")
        parts.append(f"(SELECT count(*) FROM customer_search_grams WHERE gram = :e{i} AND customer_id > "
                     f"(SELECT max(id) FROM customers) - {PROBE_WINDOW})")
    row = db.session.execute(sql_text("SELECT " + ", ".join(parts)), {f"e{i}": e for i, e in enumerate(entries)}).one()
    counts = [(row[2 * i], row[2 * i + 1] if row[2 * i] >= PROBE_CAP else 0) for i in range(len(entries))]
    return min(zip(counts, entries))[1]


def text_query(q: str) -> TextQuery:
    """How to find `q` (already a search_key). A query of three characters or more has several entries (of a
    long query PROBED_ENTRIES spread over it are considered): the rarest is taken."""
    entries = [q] if len(q) == 1 else list(dict.fromkeys(q[i:i + 2] for i in range(len(q) - 1)))
    if len(entries) > PROBED_ENTRIES:
        step = (len(entries) - 1) / (PROBED_ENTRIES - 1)
        entries = [entries[round(i * step)] for i in range(PROBED_ENTRIES)]
    entry = entries[0]
    if len(entries) > 1:
        entry = _rarest(entries)
    pattern = None
    if len(q) > 2:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return TextQuery(entry, pattern)


def _text_conditions(text: TextQuery) -> list:
    """Customers whose search text contains the query, written as a check of each customer (index seeks): for
    statements that walk the customers in the order of the list."""
    grams = CustomerSearchGram
    conditions = [select(literal(1)).where(grams.customer_id == Customer.id, grams.gram == text.entry).exists()]
    if text.pattern:
        conditions.append(select(literal(1)).where(CustomerSearch.customer_id == Customer.id,
                                                   CustomerSearch.text.like(text.pattern, escape="\\")).exists())
    return conditions


def _filters(filters: dict, by_sort_index: bool = False) -> list:
    """The list's filters as conditions on Customer (`by_sort_index` see search)."""
    conditions = [getattr(Customer, field) == filters[field]
                  for field in ("grade", "status", "source", "country") if filters.get(field)]
    if filters.get("owner"):
        owner = Customer.owner_id + 0 if by_sort_index else Customer.owner_id
        conditions.append(owner == int(filters["owner"]))
    return conditions


def _sorted(stmt, filters: dict):
    sort = filters.get("sort") or "code"
    column = SORTS.get(sort.lstrip("-"), Customer.code)
    return stmt.order_by(column.desc() if sort.startswith("-") else column.asc(), Customer.id)


def search(user: User, filters: dict, text: TextQuery | None = None, by_sort_index: bool = False):
    """The scoped query of the customer list: text search, filters, sort (the list itself: list_page).
    `by_sort_index`: the owner conditions written so that SQLite walks the sort column's index instead of
    sorting all of a salesperson's customers."""
    stmt = visible_customers(user, indexed=not by_sort_index)
    q = search_key(filters.get("q"))[:100]
    if q:
        stmt = stmt.where(*_text_conditions(text or text_query(q)))
    return _sorted(stmt.where(*_filters(filters, by_sort_index)), filters)


def _matching_ids(user: User, filters: dict, text: TextQuery | None):
    """The ids of the customers the list shows, in no order, read along the query's index entry: each of its
    rows is checked (the customer in scope and through the filters, the text with LIKE) by a subquery of its
    own, so that the databases follow the entry's rows one by one and a LIMIT ends the statement after that
    many matches (as joins, PostgreSQL read all of a salesperson's customers or all texts in a hash)."""
    if text is None:
        return visible_customers(user).with_only_columns(Customer.id).where(*_filters(filters))
    grams = CustomerSearchGram
    stmt = select(grams.customer_id).where(grams.gram == text.entry)
    scope = customer_scope(user)
    checks = ([] if isinstance(scope, True_) else [scope]) + _filters(filters)
    if checks:
        stmt = stmt.where(select(Customer.id).where(Customer.id == grams.customer_id, *checks)
                          .scalar_subquery().is_not(None))
    if text.pattern:
        stmt = stmt.where(select(CustomerSearch.text).where(CustomerSearch.customer_id == grams.customer_id)
                          .scalar_subquery().like(text.pattern, escape="\\"))
    return stmt


def list_page(user: User, filters: dict, page: int, per_page: int, columns=None) -> CappedPage:
    """A page of the customer list at a cost that follows the matches, not the archive. Without a search text
    the matches are counted up to LIST_COUNT_CAP + 1 in the database and the page is read in the list's order.
    With one, the ids of the matches are read first, up to LIST_COUNT_CAP + 1, from the query's rarest index
    entry (_matching_ids); up to the cap
    the page is those customers, sorted; beyond it the matches are many, and the page walks the customers in
    the list's order and checks each (on SQLite along the sort column's index), which ends after the page.
    `columns`: the page as rows of these columns (customers.views.LIST_COLUMNS; the salesperson's name joins
    in), instead of Customer objects. What stays costly: a query whose every pair of characters is frequent while few customers hold the whole
    query (e.g. a fragment of a phone number) reads all rows of its rarest entry."""
    q = search_key(filters.get("q"))[:100]
    text = text_query(q) if q else None
    if text is None:  # no text: the count alone (an index walk), the page along the sort index
        # kept per worker until a customer changes (portal/datacache.py)
        key = (customer_scope_key(user), *(filters.get(name) or None for name in ("grade", "status", "source",
                                                                                  "country", "owner")))
        total = datacache.cached("customer_count", ("customers",), key, lambda: capped_count(
            _matching_ids(user, filters, None).select_from(Customer), LIST_COUNT_CAP))
        by_sort_index = total > LIST_COUNT_CAP and db.session.get_bind().dialect.name == "sqlite"
        return _page(search(user, filters, None, by_sort_index=by_sort_index), page, per_page, total, columns)
    # through the connection: the ORM's handling of a thousand plain ids took longer than the statement
    ids = db.session.connection().execute(_matching_ids(user, filters, text).limit(LIST_COUNT_CAP + 1)).scalars().all()
    if not ids:
        return CappedPage(items=[], page=1, per_page=per_page, total=0, capped=False, has_next=False)
    if len(ids) > LIST_COUNT_CAP:
        stmt = search(user, filters, text, by_sort_index=db.session.get_bind().dialect.name == "sqlite")
    else:
        # the ids written into the statement: as hundreds of parameters it took PostgreSQL several times longer
        stmt = _sorted(visible_customers(user).where(
            Customer.id.in_(bindparam("ids", ids, expanding=True, literal_execute=True))), filters)
    return _page(stmt, page, per_page, len(ids), columns)


def _page(stmt, page: int, per_page: int, total: int, columns) -> CappedPage:
    if columns is None:
        return page_of(stmt, page, per_page, total, LIST_COUNT_CAP)
    stmt = stmt.with_only_columns(*columns).outerjoin(User, User.id == Customer.owner_id)
    return page_of(stmt, page, per_page, total, LIST_COUNT_CAP, rows=True)


class Person(NamedTuple):
    """A salesperson as the pickers and the targets table show one."""

    id: int
    display_name: str


_SALESPEOPLE = select(User.id, User.display_name).where(
    User.role.in_((Role.SALES.value, Role.MANAGER.value)), User.active.is_(True)).order_by(User.display_name, User.id)


def salespeople() -> tuple[Person, ...]:
    """The active salespeople and managers, by name: the salesperson pickers of most lists. Kept per worker until
    a user changes (portal/datacache.py)."""
    return datacache.cached("salespeople", ("users",), (), lambda: tuple(
        Person(*row) for row in db.session.connection().execute(_SALESPEOPLE)))


