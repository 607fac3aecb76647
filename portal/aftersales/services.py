"""After-sales rules: complaints (tickets) from receipt to closure as a state table, their steps and notes,
due dates from the severity, service records (服务记录) filed by month, and the lists built on them."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import selectinload

from .. import attachments, audit, numbering
from ..customers.access import customer_scope_key
from ..extensions import db
from ..i18n import local_today, local_zone
from ..models import (Category, Channel, CompanySettings, Customer, Department, Order, OrderItem, Resolution, Role,
                      ServiceRecord, Severity, Ticket, TicketEvent, TicketLine, TicketState, User)
from ..models.base import utcnow
from ..workflow import Transition, TransitionError, Workflow
from . import access
from .access import visible_service_records, visible_tickets

S = TicketState
STAFF = frozenset({Role.ADMIN.value, Role.MANAGER.value, Role.SERVICE.value})  # work tickets and service records
CREATORS = STAFF | {Role.SALES.value}  # record complaints (salespeople for their own customers)
CUSTOMER = frozenset({Role.CUSTOMER.value})
OPEN_STATES = tuple(s.value for s in S if s is not S.CLOSED)
STEPS = tuple(s.value for s in S)
CURRENCIES = ("CNY", "USD", "EUR")
DEFAULT_DAYS = {"minor": 10, "major": 5, "critical": 2}
CLAIMS = (Resolution.RETURN.value, Resolution.CLAIM.value)
MAX_AMOUNT = Decimal("1e11")

STATE_LABELS = {
    "received": _l("To be assessed"), "assessed": _l("Severity assessed"), "assigned": _l("Assigned"),
    "proposed": _l("Solution proposed"), "sent": _l("Solution sent"), "carried_out": _l("Carried out"),
    "confirmed": _l("Confirmed by the customer"), "closed": _l("Closed"),
}
CHANNEL_LABELS = {"phone": _l("Phone"), "fax": _l("Fax"), "email": _l("E-mail"), "wechat": _l("WeChat"),
                  "visit": _l("Visit"), "portal": _l("Customer portal")}
CATEGORY_LABELS = {"quality": _l("Quality"), "delivery": _l("Delivery"), "packaging": _l("Packaging"),
                   "service": _l("Service"), "other": _l("Other")}
SEVERITY_LABELS = {"minor": _l("Minor"), "major": _l("Major"), "critical": _l("Critical")}
DEPARTMENT_LABELS = {"technical": _l("Technical department"), "production": _l("Production department"),
                     "quality": _l("Quality department"), "logistics": _l("Logistics department"),
                     "sales": _l("Sales department")}
RESOLUTION_LABELS = {"repair": _l("Repair"), "replacement": _l("Replacement"), "return": _l("Return"),
                     "claim": _l("Claim (refund or credit)"), "explanation": _l("Explanation"), "other": _l("Other")}
EVENT_LABELS = {
    "received": _l("Complaint received"), "assess": _l("Severity assessed"), "assign": _l("Assigned"),
    "propose": _l("Solution proposed"), "send": _l("Solution sent to the customer"),
    "carry_out": _l("Solution carried out"), "confirm": _l("Confirmed by the customer"), "reopen": _l("Reopened"),
    "close": _l("Closed"), "note": _l("Note"), "service": _l("Service record"), "file": _l("File attached"),
}

# Steps the customer sees unless the form says otherwise.
VISIBLE_BY_DEFAULT = {"send", "carry_out", "confirm", "reopen", "close"}

WORKFLOW = Workflow([
    Transition("assess", (S.RECEIVED.value,), S.ASSESSED.value, STAFF, _l("Assess the severity"), "primary",
               owner_only=True, fields=("severity",)),
    Transition("assign", (S.ASSESSED.value, S.ASSIGNED.value, S.PROPOSED.value), S.ASSIGNED.value, STAFF,
               _l("Assign"), "", owner_only=True, fields=("department", "assignee_id")),
    Transition("propose", (S.ASSIGNED.value,), S.PROPOSED.value, STAFF, _l("Propose a solution"), "primary",
               owner_only=True, fields=("cause", "solution", "resolution", "cost_amount", "claim_amount", "currency")),
    Transition("send", (S.PROPOSED.value,), S.SENT.value, STAFF, _l("Send the solution to the customer"), "primary",
               owner_only=True),
    Transition("carry_out", (S.SENT.value,), S.CARRIED_OUT.value, STAFF, _l("Solution carried out"), "primary",
               owner_only=True),
    # The buyer confirms or reopens in the portal; staff may record the customer's answer given by phone.
    Transition("confirm", (S.CARRIED_OUT.value,), S.CONFIRMED.value, STAFF | CUSTOMER,
               _l("The customer confirmed"), "primary", owner_only=True),
    Transition("reopen", (S.CARRIED_OUT.value, S.CONFIRMED.value), S.ASSIGNED.value, STAFF | CUSTOMER, _l("Reopen"),
               "danger", owner_only=True, fields=("reason",)),
    Transition("close", (S.CONFIRMED.value,), S.CLOSED.value, STAFF, _l("Close"), "primary", owner_only=True,
               fields=("summary", "preventive_action")),
])

LIMITS = {"subject": 200, "description": 10000, "contact_name": 100, "note": 5000, "reason": 5000, "cause": 10000,
          "solution": 10000, "summary": 10000, "preventive_action": 10000, "fault": 10000, "handling": 10000,
          "parts": 500, "technician": 100}


class TicketError(ValueError):
    """Refused input: {field: message} for the form ("" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(str(v) for v in errors.values()))
        self.errors = errors


class ConflictError(TicketError):
    """The page was read at an older version: someone else changed the ticket meanwhile (HTTP 409)."""


# Small helpers

def printable(value) -> str:
    """User text without control characters (PostgreSQL refuses NUL), keeping line breaks and tabs."""
    text = str(value or "").replace("\r\n", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()


def _text(data: dict, name: str, errors: dict, required: str | None = None) -> str | None:
    value = printable(data.get(name))
    if not value:
        if required:
            errors[name] = required
        return None
    if len(value) > LIMITS[name]:
        errors[name] = _("At most %(n)d characters.", n=LIMITS[name])
        return None
    return value


def _amount(raw, name: str, errors: dict, places: str = "0.01", required: str | None = None) -> Decimal | None:
    if raw is None or str(raw).strip() == "":
        if required:
            errors[name] = required
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "")).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        errors[name] = _("Enter a number.")
        return None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        errors[name] = _("Enter a number.")
        return None
    if value < 0:
        errors[name] = _("Enter an amount of zero or more.")
        return None
    return value


def _choice(value, allowed, name: str, errors: dict, message: str) -> str | None:
    value = getattr(value, "value", value)
    if value not in [getattr(a, "value", a) for a in allowed]:
        errors[name] = message
        return None
    return value


def _flag(value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "y", "yes", "on", "true")
    return bool(value)


def owns(user: User, ticket: Ticket) -> bool:
    return access.owns(user, ticket)


def ticket_days(severity: str) -> int:
    """Days to solve a ticket of `severity`, from the company settings (10/5/2 when there are none)."""
    settings = db.session.get(CompanySettings, 1)
    days = getattr(settings, f"ticket_days_{severity}", None) if settings is not None else None
    return days if days else DEFAULT_DAYS[severity]


def due_date(severity: str, assessed_on: date) -> date:
    return assessed_on + timedelta(days=ticket_days(severity))


def is_overdue(ticket: Ticket, today: date) -> bool:
    return ticket.state in OPEN_STATES and ticket.due_on is not None and ticket.due_on < today


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a calendar month in the site's time zone."""
    zone = local_zone()
    start = datetime.combine(date(year, month, 1), time(), zone)
    following = date(year + (month == 12), month % 12 + 1, 1)
    end = datetime.combine(following, time(), zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def parse_month(value: str | None) -> tuple[int, int] | None:
    """(year, month) of 'YYYY-MM', else None."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12 and len(value) == 7:
            return year, month
    except ValueError:
        pass
    return None


def _event(ticket: Ticket, user: User | None, kind: str, note: str | None = None, visible: bool = False,
           state_from: str | None = None, state_to: str | None = None) -> TicketEvent:
    entry = TicketEvent(kind=kind, note=note or None, user_id=getattr(user, "id", None), customer_visible=visible,
                        state_from=state_from, state_to=state_to, at=utcnow())
    ticket.events.append(entry)
    return entry


# Creating

def create_ticket(user: User, customer: Customer, *, channel: str, category: str, subject: str, description: str,
                  order: Order | None = None, lines=(), contact_name: str | None = None,
                  source_visit=None) -> Ticket:
    """Record a complaint of `customer` (already loaded in the user's scope): numbered, first step written."""
    if user.role == Role.CUSTOMER.value:
        if user.customer_id != customer.id:
            raise TransitionError(_("You may not do this."))
        channel = Channel.PORTAL.value
    elif user.role not in CREATORS or (user.role == Role.SALES.value and customer.owner_id != user.id):
        raise TransitionError(_("You may not do this."))
    errors: dict[str, str] = {}
    data = {"subject": subject, "description": description, "contact_name": contact_name}
    values = {
        "channel": _choice(channel, list(Channel), "channel", errors, _("Choose how the complaint arrived.")),
        "category": _choice(category, list(Category), "category", errors, _("Choose a category.")),
        "subject": _text(data, "subject", errors, _("Say in a few words what the complaint is about.")),
        "description": _text(data, "description", errors, _("Describe the complaint.")),
        "contact_name": _text(data, "contact_name", errors),
    }
    if order is not None and order.customer_id != customer.id:
        errors["order"] = _("This order is not one of this customer's.")
    ticket_lines = _lines(order, lines, errors)
    if errors:
        raise TicketError(errors)
    ticket = Ticket(number=numbering.next_number("ticket", local_today().year), customer_id=customer.id,
                    order_id=order.id if order is not None else None, state=S.RECEIVED.value,
                    currency=order.currency if order is not None else "CNY", created_by_id=user.id,
                    source_visit_id=getattr(source_visit, "id", None), lines=ticket_lines, **values)
    db.session.add(ticket)
    db.session.flush()
    _event(ticket, user, "received", values["subject"], visible=True, state_to=S.RECEIVED.value)
    audit.record("create", ticket, summary=f"{ticket.number} {customer.code} {values['subject']}", user=user,
                 parent=customer)
    return ticket


def _lines(order: Order | None, lines, errors: dict) -> list[TicketLine]:
    """TicketLines from (order_item_id, quantity|None) pairs, each item of `order`, each quantity > 0."""
    lines = list(lines or ())
    if not lines:
        return []
    if order is None:
        errors["lines"] = _("Choose the order before its items.")
        return []
    items = {item.id: item for item in db.session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))}
    result, seen = [], set()
    for item_id, raw in lines:
        try:
            item_id = int(item_id)
        except (TypeError, ValueError):
            item_id = None
        if item_id not in items:
            errors["lines"] = _("Choose items of this order.")
            continue
        if item_id in seen:
            continue
        seen.add(item_id)
        quantity = _amount(raw, f"qty_{item_id}", errors, "0.001")
        if quantity is not None and quantity <= 0:
            errors[f"qty_{item_id}"] = _("Enter a quantity greater than zero.")
            continue
        if quantity is not None and quantity > items[item_id].quantity:
            errors[f"qty_{item_id}"] = _("At most the %(n)s ordered.", n=items[item_id].quantity.normalize())
            continue
        result.append(TicketLine(order_item_id=item_id, quantity=quantity))
    return result


# The workflow

def allowed(ticket: Ticket, user: User) -> list[Transition]:
    """The steps `user` may take on `ticket` now (the forms of its page)."""
    return WORKFLOW.allowed(ticket, user, owns(user, ticket))


def check_version(ticket: Ticket, version) -> None:
    """ConflictError (409) when the form was read at another version of the ticket."""
    if version in (None, ""):
        return
    try:
        stale = int(version) != ticket.version
    except (TypeError, ValueError):
        stale = True
    if stale:
        raise ConflictError({"": _("Someone else changed this complaint while you were looking at it. Reload the "
                                   "page and try again.")})


def take(ticket: Ticket, user: User, name: str, data: dict, owns: bool = True) -> TicketEvent:
    """Run the step `name` with its fields from `data` (plus "note", "customer_visible", "version").
    TransitionError (409) when not allowed now or not for this role; TicketError (422) for bad input."""
    data = data or {}
    transition = WORKFLOW.check(ticket, user, name, owns and access.owns(user, ticket))
    check_version(ticket, data.get("version"))
    errors: dict[str, str] = {}
    note = _text(data, "note", errors)
    values = _HANDLERS[name](ticket, user, data, errors)
    if name == "reopen":
        note = values.pop("_reason")
    if errors:
        raise TicketError(errors)
    before = ticket.state
    values["state"] = transition.target
    changes = audit.apply_changes(ticket, values)
    changes["state"] = [before, transition.target]
    visible = True if user.role == Role.CUSTOMER.value else _flag(data.get("customer_visible"),
                                                                 name in VISIBLE_BY_DEFAULT)
    entry = _event(ticket, user, name, note, visible=visible, state_from=before, state_to=transition.target)
    audit.record("transition", ticket, summary=f"{name}: {before}→{transition.target}", changes=changes, user=user)
    db.session.flush()
    if name == "close":
        from ..visits.services import schedule_after_ticket

        schedule_after_ticket(ticket, local_today())
    return entry


def _assess(ticket, user, data, errors) -> dict:
    severity = _choice(data.get("severity"), list(Severity), "severity", errors, _("Choose the severity."))
    return {"severity": severity, "due_on": due_date(severity, local_today()) if severity else None}


def _assign(ticket, user, data, errors) -> dict:
    department = _choice(data.get("department"), list(Department), "department", errors,
                         _("Choose the responsible department."))
    assignee = None
    raw = data.get("assignee_id")
    try:
        assignee_id = int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        assignee_id = None
    if assignee_id is not None and assignee_id < 2**31:
        assignee = db.session.scalar(select(User).where(User.id == assignee_id, User.active.is_(True),
                                                        User.role != Role.CUSTOMER.value))
    if assignee is None:
        errors["assignee_id"] = _("Choose the person responsible.")
    return {"department": department, "assignee_id": assignee.id if assignee else None}


def _propose(ticket, user, data, errors) -> dict:
    values = {
        "cause": _text(data, "cause", errors, _("Write the cause.")),
        "solution": _text(data, "solution", errors, _("Write the solution.")),
        "resolution": _choice(data.get("resolution"), list(Resolution), "resolution", errors,
                              _("Choose what the solution gives the customer.")),
        "cost_amount": _amount(data.get("cost_amount"), "cost_amount", errors),
    }
    currency = data.get("currency") or ticket.currency or "CNY"
    values["currency"] = _choice(currency, CURRENCIES, "currency", errors, _("Choose a currency."))
    claim_needed = values["resolution"] in CLAIMS
    claim = _amount(data.get("claim_amount"), "claim_amount", errors,
                    required=_("A return or claim needs the amount refunded or credited.") if claim_needed else None)
    if claim_needed and claim is not None and claim <= 0:
        errors["claim_amount"] = _("A return or claim needs the amount refunded or credited.")
    values["claim_amount"] = claim
    return values


def _reopen(ticket, user, data, errors) -> dict:
    reason = _text(data, "reason", errors) or _text(data, "note", errors)
    if not reason and "reason" not in errors:
        errors["reason"] = _("Say why the complaint is reopened.")
    return {"reopen_count": (ticket.reopen_count or 0) + 1, "_reason": reason}


def _close(ticket, user, data, errors) -> dict:
    return {
        "summary": _text(data, "summary", errors, _("Write the closing summary.")),
        "preventive_action": _text(data, "preventive_action", errors,
                                   _("Write the preventive action, so that it does not recur.")),
        "closed_at": utcnow(), "closed_by_id": user.id,
    }


def _nothing(ticket, user, data, errors) -> dict:
    return {}


_HANDLERS = {"assess": _assess, "assign": _assign, "propose": _propose, "send": _nothing, "carry_out": _nothing,
             "confirm": _nothing, "reopen": _reopen, "close": _close}


def add_note(ticket: Ticket, user: User, note: str, customer_visible: bool) -> TicketEvent:
    """A note on the ticket's timeline; staff and the customer's salesperson (buyers: always customer-visible)."""
    if not access.owns(user, ticket) or user.role not in CREATORS | CUSTOMER:
        raise TransitionError(_("You may not do this."))
    errors: dict[str, str] = {}
    text = _text({"note": note}, "note", errors, _("Write the note."))
    if errors:
        raise TicketError(errors)
    visible = True if user.role == Role.CUSTOMER.value else bool(customer_visible)
    entry = _event(ticket, user, "note", text, visible=visible)
    db.session.flush()
    audit.record("update", ticket, summary=f"note: {text[:200]}", user=user)
    return entry


def add_file(ticket: Ticket, user: User, upload, customer_visible: bool = False):
    """Attach a checked photo or PDF (UploadError when refused) and note it on the timeline."""
    if not access.owns(user, ticket) or user.role not in CREATORS:
        raise TransitionError(_("You may not do this."))
    attachment = attachments.attach(ticket, upload, user, customer_visible=customer_visible)
    _event(ticket, user, "file", attachment.original_name, visible=customer_visible)
    db.session.flush()
    return attachment


def customer_steps(ticket: Ticket) -> list[TicketEvent]:
    """The steps the customer may see, in time order."""
    return sorted((e for e in ticket.events if e.customer_visible), key=lambda e: (e.at, e.id or 0))


# Lists

def search(user: User, filters: dict, today: date):
    """The scoped, filtered list: by due date (none last), then received."""
    stmt = visible_tickets(user)
    q = printable(filters.get("q"))[:100]
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Customer.name).like(like), func.lower(Customer.code).like(like),
                              func.lower(Ticket.number).like(like), func.lower(Ticket.subject).like(like)))
    if filters.get("state") in STATE_LABELS:
        stmt = stmt.where(Ticket.state == filters["state"])
    elif filters.get("state") == "open":
        stmt = stmt.where(Ticket.state.in_(OPEN_STATES))
    if filters.get("severity") in SEVERITY_LABELS:
        stmt = stmt.where(Ticket.severity == filters["severity"])
    if filters.get("department") in DEPARTMENT_LABELS:
        stmt = stmt.where(Ticket.department == filters["department"])
    if filters.get("overdue"):
        stmt = stmt.where(Ticket.state.in_(OPEN_STATES), Ticket.due_on < today)
    month = parse_month(filters.get("month"))
    if month:
        start, end = month_bounds(*month)
        stmt = stmt.where(Ticket.received_at >= start, Ticket.received_at < end)
    return stmt.order_by(Ticket.due_on.is_(None), Ticket.due_on, Ticket.received_at, Ticket.id)


def list_options():
    """What the list shows of each ticket, loaded with it (a fixed number of statements per page)."""
    return (selectinload(Ticket.customer).selectinload(Customer.owner), selectinload(Ticket.assignee),
            selectinload(Ticket.order))


def overdue(user: User, today: date, limit: int = 20) -> list[Ticket]:
    """Open tickets past their due date, in the user's scope (home page)."""
    return db.session.scalars(
        visible_tickets(user).where(Ticket.state.in_(OPEN_STATES), Ticket.due_on < today)
        .options(selectinload(Ticket.customer)).order_by(Ticket.due_on, Ticket.id).limit(limit)).all()


def open_tickets(user: User, limit: int = 20) -> list[Ticket]:
    """Open tickets in the user's scope, soonest due first (home page)."""
    return db.session.scalars(
        visible_tickets(user).where(Ticket.state.in_(OPEN_STATES)).options(selectinload(Ticket.customer))
        .order_by(Ticket.due_on.is_(None), Ticket.due_on, Ticket.received_at).limit(limit)).all()


_customer_tickets: dict[tuple, Select] = {}  # (customer_scope_key, limit) -> tickets_of_customer's statement


def tickets_of_customer(user: User, customer_id: int, limit: int = 10) -> list:
    """The customer's latest complaints in the user's scope, as what the customer page shows of them (number,
    subject, state, date); the statement is built once per scope and limit."""
    key = (customer_scope_key(user), limit)
    stmt = _customer_tickets.get(key)
    if stmt is None:
        stmt = _customer_tickets[key] = (
            visible_tickets(user).with_only_columns(Ticket.id, Ticket.number, Ticket.subject, Ticket.state,
                                                    Ticket.received_at)
            .where(Ticket.customer_id == bindparam("customer_id"))
            .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(limit))
    return db.session.execute(stmt, {"customer_id": customer_id}).all()


# The order page's statements for each scope (customer_scope_key: a role, or one salesperson), built once:
# building them cost more than running them.
_OF_ORDER: dict[tuple, tuple] = {}


def _of_order(user: User) -> tuple:
    key = customer_scope_key(user)
    if key not in _OF_ORDER:
        order_id, limit = bindparam("order_id"), bindparam("limit")
        _OF_ORDER[key] = (
            visible_tickets(user).where(Ticket.order_id == order_id)
            .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(limit),
            visible_service_records(user).where(ServiceRecord.order_id == order_id)
            .order_by(ServiceRecord.served_on.desc(), ServiceRecord.id.desc()).limit(limit))
    return _OF_ORDER[key]


def tickets_of_order(user: User, order_id: int, limit: int = 20) -> list[Ticket]:
    return db.session.scalars(_of_order(user)[0], {"order_id": order_id, "limit": limit}).all()


def records_of_order(user: User, order_id: int, limit: int = 20) -> list[ServiceRecord]:
    return db.session.scalars(_of_order(user)[1], {"order_id": order_id, "limit": limit}).all()


# Service records (服务记录)

RECORD_FIELDS = ("served_on", "fault", "handling", "parts", "hours", "technician")


def may_edit_records(user: User) -> bool:
    return user.role in STAFF


def clean_record(data: dict) -> dict:
    errors: dict[str, str] = {}
    values = {
        "fault": _text(data, "fault", errors, _("Describe the fault.")),
        "handling": _text(data, "handling", errors, _("Say how it was handled.")),
        "parts": _text(data, "parts", errors),
        "technician": _text(data, "technician", errors),
        "hours": _amount(data.get("hours"), "hours", errors),
    }
    if values["hours"] is not None and values["hours"] >= 10000:
        errors["hours"] = _("Enter the hours spent (less than 10000).")
    served_on = data.get("served_on")
    if isinstance(served_on, str):
        try:
            served_on = date.fromisoformat(served_on)
        except ValueError:
            served_on = None
    if not isinstance(served_on, date):
        errors["served_on"] = _("Enter the date of the service.")
    elif served_on > local_today():
        errors["served_on"] = _("A service cannot be recorded for a future date.")
    values["served_on"] = served_on
    if errors:
        raise TicketError(errors)
    return values


def create_service_record(user: User, data: dict, ticket: Ticket | None = None,
                          order: Order | None = None) -> ServiceRecord:
    """A service record of a ticket and/or an order of the same customer (both loaded in the user's scope)."""
    if not may_edit_records(user):
        raise TransitionError(_("You may not do this."))
    if ticket is None and order is None:
        raise TicketError({"": _("A service record belongs to a complaint or an order.")})
    if ticket is not None and order is not None and ticket.customer_id != order.customer_id:
        raise TicketError({"order": _("This order is not one of this customer's.")})
    values = clean_record(data)
    if ticket is not None and order is None:
        order_id = ticket.order_id
    else:
        order_id = order.id
    record = ServiceRecord(customer_id=(ticket or order).customer_id, ticket_id=getattr(ticket, "id", None),
                           order_id=order_id, created_by_id=user.id, **values)
    db.session.add(record)
    db.session.flush()
    audit.record("create", record, summary=values["fault"][:200], user=user, parent=ticket or order)
    if ticket is not None:
        _event(ticket, user, "service", values["fault"][:500])
        db.session.flush()
    return record


def update_service_record(record: ServiceRecord, user: User, data: dict) -> dict:
    if not may_edit_records(user):
        raise TransitionError(_("You may not do this."))
    version = data.get("version")
    if version not in (None, "") and str(version) != str(record.version):
        raise ConflictError({"": _("Someone else changed this service record while you were looking at it. "
                                   "Reload the page and try again.")})
    changes = audit.apply_changes(record, clean_record(data))
    if changes:
        audit.record("update", record, changes=changes, user=user)
    return changes


@dataclass
class MonthRecords:
    year: int
    month: int
    records: list
    count: int
    hours: Decimal


def service_records_of_month(user: User, year: int, month: int) -> MonthRecords:
    """Service records served in the month (a date, no time zone question), with totals."""
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    records = db.session.scalars(
        visible_service_records(user).where(ServiceRecord.served_on >= start, ServiceRecord.served_on < end)
        .options(selectinload(ServiceRecord.customer), selectinload(ServiceRecord.ticket),
                 selectinload(ServiceRecord.order))
        .order_by(ServiceRecord.served_on, ServiceRecord.id)).all()
    hours = sum((r.hours or Decimal("0") for r in records), Decimal("0.00"))
    return MonthRecords(year, month, records, len(records), hours)
