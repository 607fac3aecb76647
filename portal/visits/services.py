"""Follow-up visits (回访): scheduled after deliveries and closed tickets, made by service staff (or
answered by the buyer on the portal), with the four questions of the source documents and a score."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from .. import audit
from ..customers.access import visible_customers
from ..customers.services import normalise
from ..extensions import db
from ..forms import date_range_error
from ..i18n import local_zone
from ..models import (CompanySettings, Customer, FollowUpVisit, Order, Role, Shipment, Ticket, User, VisitChannel,
                      VisitReason, VisitState)
from ..models.base import utcnow
from ..workflow import Transition, TransitionError, Workflow
from .access import visible_visits

V = VisitState
DESK = frozenset({Role.ADMIN.value, Role.MANAGER.value, Role.SERVICE.value})  # make, move, cancel visits
STAFF = DESK | {Role.SALES.value}  # salespeople add notes on their own customers' visits

STATE_LABELS = {"due": _l("Due"), "done": _l("Done"), "cancelled": _l("Cancelled")}
REASON_LABELS = {"delivery": _l("After delivery"), "ticket": _l("After a complaint (second visit)"),
                 "manual": _l("Added by hand")}
CHANNEL_LABELS = {"phone": _l("Phone"), "visit": _l("Visit"), "email": _l("E-mail"), "wechat": _l("WeChat"),
                  "portal": _l("Customer portal")}
STAFF_CHANNELS = ("phone", "visit", "email", "wechat")
# A visit's channel is the ticket's channel when a visit opens a complaint.
TICKET_CHANNEL = {"phone": "phone", "visit": "visit", "email": "email", "wechat": "wechat", "portal": "portal"}

WORKFLOW = Workflow([
    Transition("answer", (V.DUE.value,), V.DONE.value, DESK | {Role.CUSTOMER.value}, _l("Record the answers"),
               "primary"),
    Transition("reschedule", (V.DUE.value,), None, DESK, _l("Reschedule"), "", fields=("due_on", "reason")),
    Transition("assign", (V.DUE.value,), None, DESK, _l("Assign"), "", fields=("assigned_to_id",)),
    Transition("cancel", (V.DUE.value,), V.CANCELLED.value, DESK, _l("Cancel the visit"), "danger",
               fields=("cancel_reason",)),
    Transition("ticket", (V.DONE.value,), None, DESK, _l("Open a complaint"), "primary"),
])

MAX_NAME = 100
MAX_TEXT = 5000
MAX_REASON = 500


class VisitError(ValueError):
    """Refused input: {field: message} for the form (field "" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


# Scheduling

def visit_delay_days() -> int:
    settings = db.session.get(CompanySettings, 1)
    return settings.visit_delay_days if settings is not None and settings.visit_delay_days else 7


def schedule_after_delivery(shipment: Shipment, delivered_on: date) -> FollowUpVisit:
    """The visit `visit_delay_days` after a delivery; once per shipment (a corrected delivery date moves it
    while it is still due)."""
    due = delivered_on + timedelta(days=visit_delay_days())
    visit = db.session.scalar(select(FollowUpVisit).where(
        FollowUpVisit.shipment_id == shipment.id, FollowUpVisit.reason == VisitReason.DELIVERY.value))
    if visit is not None:
        if visit.state == VisitState.DUE.value and visit.due_on != due:
            changes = audit.apply_changes(visit, {"due_on": due})
            audit.record("update", visit, changes=changes)
            db.session.flush()
        return visit
    order = shipment.order
    visit = FollowUpVisit(customer_id=order.customer_id, order_id=order.id, shipment_id=shipment.id,
                          reason=VisitReason.DELIVERY.value, due_on=due)
    db.session.add(visit)
    db.session.flush()
    audit.record("create", visit, summary=order.number)
    return visit


def schedule_after_ticket(ticket: Ticket, closed_on: date) -> FollowUpVisit:
    """二次回访: a second visit after a ticket is closed, `visit_delay_days` later; once per ticket."""
    visit = db.session.scalar(select(FollowUpVisit).where(
        FollowUpVisit.ticket_id == ticket.id, FollowUpVisit.reason == VisitReason.TICKET.value))
    if visit is not None:
        return visit
    visit = FollowUpVisit(customer_id=ticket.customer_id, order_id=ticket.order_id, ticket_id=ticket.id,
                          reason=VisitReason.TICKET.value, due_on=closed_on + timedelta(days=visit_delay_days()))
    db.session.add(visit)
    db.session.flush()
    audit.record("create", visit, summary=ticket.number)
    return visit


# Checking input

def _text(value, field: str, max_length: int, errors: dict, *, required: str | None = None,
          multiline: bool = True) -> str | None:
    """Trimmed user text or None; control characters (other than line breaks and tabs) and overlong text are
    refused rather than silently changed."""
    raw = "" if value is None else str(value).replace("\r\n", "\n")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in raw):
        errors[field] = _("Remove the control characters from this text.")
        return None
    value = raw.strip() if multiline else normalise(raw)
    if not value:
        if required:
            errors[field] = required
        return None
    if len(value) > max_length:
        errors[field] = _("At most %(n)d characters.", n=max_length)
        return None
    return value


YES = {"yes", "y", "true", "1", "on"}
NO = {"no", "n", "false", "0", "off"}


def _yes_no(value, field: str, message: str, errors: dict) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    errors[field] = message
    return None


def _rating(value, field: str, message: str, errors: dict) -> int | None:
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        number = None
    if number is None:
        errors[field] = message
        return None
    if not 1 <= number <= 5:
        errors[field] = _("Give a number from 1 to 5.")
        return None
    return number


def _date(value, field: str, errors: dict, message: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        errors[field] = message
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None
    out_of_range = date_range_error(parsed)
    if out_of_range:
        errors[field] = str(out_of_range)
        return None
    return parsed


def _raise(errors: dict) -> None:
    if errors:
        raise VisitError(errors)


def _check_version(visit: FollowUpVisit, data: dict) -> None:
    """A form carries the version it was read at; a visit changed meanwhile is not changed again (409)."""
    version = data.get("version")
    if version in (None, ""):
        return
    try:
        stale = int(version) != visit.version
    except (TypeError, ValueError):
        stale = True
    if stale:
        raise TransitionError(_("Someone else changed this visit meanwhile. Reload it and try again."))


# Answers

def is_problem(visit: FollowUpVisit) -> bool:
    """A problem: quality not OK, or service not timely, or an overall score of 3 or less."""
    return (visit.quality_ok is False or visit.service_timely is False
            or (visit.score is not None and visit.score <= 3))


def clean_answers(data: dict, user: User, channel: str) -> dict:
    """The answers as column values, or VisitError with every problem at once."""
    errors: dict[str, str] = {}
    customer = user.role == Role.CUSTOMER.value
    if customer:
        channel = VisitChannel.PORTAL.value
    elif channel not in STAFF_CHANNELS:
        errors["channel"] = _("Choose how the customer was reached.")
    values = {
        "channel": channel,
        "answered_by": _text(data.get("answered_by"), "answered_by", MAX_NAME, errors, multiline=False,
                             required=None if customer else _("Write down who answered.")),
        "quality_ok": _yes_no(data.get("quality_ok"), "quality_ok", _("Is the product quality all right?"), errors),
        "quality_note": _text(data.get("quality_note"), "quality_note", MAX_TEXT, errors),
        "service_timely": _yes_no(data.get("service_timely"), "service_timely", _("Was the service timely?"),
                                  errors),
        "service_note": _text(data.get("service_note"), "service_note", MAX_TEXT, errors),
        "sales_rating": _rating(data.get("sales_rating"), "sales_rating", _("Rate the salesperson from 1 to 5."),
                                errors),
        "suggestions": _text(data.get("suggestions"), "suggestions", MAX_TEXT, errors),
        "score": _rating(data.get("score"), "score", _("Give the overall satisfaction from 1 to 5."), errors),
    }
    notes = None if customer else _text(data.get("notes"), "notes", MAX_TEXT, errors)
    if customer and not values["answered_by"]:
        values["answered_by"] = user.display_name[:MAX_NAME]
    _raise(errors)
    values["notes"] = notes
    return values


def record_answers(visit: FollowUpVisit, user: User, data: dict, channel: str) -> None:
    """The visit made: its answers, who made it and when; the problem mark follows from the answers.
    TransitionError when the visit is not due (or not for this user), VisitError for bad input."""
    WORKFLOW.check(visit, user, "answer")
    if user.role == Role.CUSTOMER.value and visit.customer_id != user.customer_id:
        raise TransitionError(_("You may not do this."))
    _check_version(visit, data)
    values = clean_answers(data, user, channel)
    notes = values.pop("notes")
    if notes:
        values["notes"] = f"{visit.notes}\n{notes}" if visit.notes else notes
    owner_id = db.session.scalar(select(Customer.owner_id).where(Customer.id == visit.customer_id))
    changes = audit.apply_changes(visit, {**values, "state": V.DONE.value, "done_at": utcnow(),
                                          "done_by_id": user.id, "salesperson_id": owner_id})
    visit.problem = is_problem(visit)
    changes["problem"] = [False, visit.problem]
    audit.record("transition", visit, summary=f"due→done {visit.score}", changes=changes, user=user)
    db.session.flush()


# Other steps

def reschedule(visit: FollowUpVisit, user: User, data: dict, today: date) -> None:
    """Move a due visit to another day (not in the past), with the reason."""
    WORKFLOW.check(visit, user, "reschedule")
    _check_version(visit, data)
    errors: dict[str, str] = {}
    due = _date(data.get("due_on"), "due_on", errors, _("Choose the new date."))
    reason = _text(data.get("reason"), "reason", MAX_REASON, errors, required=_("Say why the visit moves."))
    if due is not None and due < today:
        errors["due_on"] = _("The new date cannot be in the past.")
    elif due is not None and due == visit.due_on and "due_on" not in errors:
        errors["due_on"] = _("This is the date it is due already.")
    _raise(errors)
    changes = audit.apply_changes(visit, {"due_on": due})
    audit.record("update", visit, summary=reason, changes=changes, user=user)
    db.session.flush()


def cancel(visit: FollowUpVisit, user: User, data: dict) -> None:
    """A due visit that will not be made, with the reason."""
    WORKFLOW.check(visit, user, "cancel")
    _check_version(visit, data)
    errors: dict[str, str] = {}
    reason = _text(data.get("cancel_reason"), "cancel_reason", MAX_REASON, errors,
                   required=_("Say why the visit is cancelled."))
    _raise(errors)
    changes = audit.apply_changes(visit, {"state": V.CANCELLED.value, "cancel_reason": reason})
    audit.record("transition", visit, summary=f"due→cancelled: {reason}", changes=changes, user=user)
    db.session.flush()


def add_note(visit: FollowUpVisit, user: User, note) -> None:
    """An internal note (salespeople on their own customers' visits, the desk on all), kept with who and when."""
    if user.role not in STAFF:
        raise TransitionError(_("You may not do this."))
    errors: dict[str, str] = {}
    text = _text(note, "note", MAX_TEXT, errors, required=_("Write the note."))
    _raise(errors)
    stamp = utcnow().astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
    line = f"[{stamp} {user.display_name}] {text}"
    visit.notes = f"{visit.notes}\n{line}" if visit.notes else line
    audit.record("update", visit, summary=text[:200], user=user)
    db.session.flush()


def _assignee(data: dict, errors: dict) -> int | None:
    """The id of a service desk user from the form (None: nobody)."""
    raw = str(data.get("assigned_to_id") or "").strip()
    if not raw:
        return None
    user_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    if user_id is None or user_id not in {u.id for u in assignable_users()}:
        errors["assigned_to_id"] = _("Choose someone of the service desk.")
    return user_id


def assign(visit: FollowUpVisit, user: User, data: dict) -> None:
    """Give a due visit to someone of the service desk to make (or to nobody)."""
    WORKFLOW.check(visit, user, "assign")
    _check_version(visit, data)
    errors: dict[str, str] = {}
    assignee_id = _assignee(data, errors)
    _raise(errors)
    changes = audit.apply_changes(visit, {"assigned_to_id": assignee_id})
    if changes:
        audit.record("update", visit, changes=changes, user=user)
    db.session.flush()


def assignable_users() -> list[User]:
    """Who may be given a visit to make: active service staff, managers and admins."""
    return db.session.scalars(select(User).where(User.role.in_(tuple(DESK)), User.active.is_(True))
                              .order_by(User.display_name).limit(200)).all()


def create_visit(user: User, data: dict, today: date) -> FollowUpVisit:
    """A visit added by hand for one of the user's customers, optionally about one of its orders."""
    if user.role not in DESK:
        raise TransitionError(_("You may not do this."))
    errors: dict[str, str] = {}
    code = _text(data.get("customer_code"), "customer_code", 40, errors, multiline=False,
                 required=_("Enter the customer's code."))
    customer = None
    if code:
        customer = db.session.scalar(visible_customers(user).where(func.upper(Customer.code) == code.upper()))
        if customer is None:
            errors["customer_code"] = _("No customer with this code.")
    order = None
    number = _text(data.get("order_number"), "order_number", 40, errors, multiline=False)
    if number and customer is not None:
        order = db.session.scalar(select(Order).where(Order.customer_id == customer.id,
                                                      or_(func.upper(Order.number) == number.upper(),
                                                          func.upper(Order.contract_no) == number.upper())))
        if order is None:
            errors["order_number"] = _("This customer has no order with this number.")
    due = _date(data.get("due_on"), "due_on", errors, _("Choose the date the visit is due."))
    if due is not None and due < today:
        errors["due_on"] = _("The date cannot be in the past.")
    assignee_id = _assignee(data, errors)
    notes = _text(data.get("notes"), "notes", MAX_TEXT, errors)
    _raise(errors)
    visit = FollowUpVisit(customer_id=customer.id, order_id=order.id if order else None,
                          reason=VisitReason.MANUAL.value, due_on=due, assigned_to_id=assignee_id, notes=notes,
                          created_by_id=user.id)
    db.session.add(visit)
    db.session.flush()
    audit.record("create", visit, summary=f"{customer.code} {due.isoformat()}", user=user)
    return visit


# Visit -> complaint

def source_tickets(visit: FollowUpVisit, user: User) -> list[Ticket]:
    """The complaints this visit opened, as far as `user` may see them."""
    from ..aftersales.access import visible_tickets

    return db.session.scalars(visible_tickets(user).where(Ticket.source_visit_id == visit.id)
                              .order_by(Ticket.id)).all()


def ticket_defaults(visit: FollowUpVisit) -> dict:
    """What the complaint opened from a visit says unless the user writes otherwise."""
    if visit.quality_ok is False:
        category = "quality"
    elif visit.service_timely is False:
        category = "service"
    else:
        category = "other"
    parts = []
    if visit.quality_ok is False:
        parts.append(_("Quality not all right: %(note)s", note=visit.quality_note or "—"))
    if visit.service_timely is False:
        parts.append(_("Service not timely: %(note)s", note=visit.service_note or "—"))
    if visit.score is not None:
        parts.append(_("Overall satisfaction: %(score)s of 5", score=visit.score))
    if visit.suggestions:
        parts.append(_("Other needs or suggestions: %(text)s", text=visit.suggestions))
    day = visit.done_at.astimezone(local_zone()).date().isoformat() if visit.done_at else ""
    return {"category": category,
            "subject": _("Problem found in the follow-up visit of %(day)s", day=day)[:200],
            "description": "\n".join(parts)}


def open_ticket_from_visit(visit: FollowUpVisit, user: User, data: dict) -> Ticket:
    """One step: the complaint from a visit's answers, linked to the visit (source_visit), on the visit's
    customer and order, through the channel the customer answered on. Once per visit."""
    from ..aftersales.services import create_ticket

    WORKFLOW.check(visit, user, "ticket")
    if db.session.scalar(select(func.count(Ticket.id)).where(Ticket.source_visit_id == visit.id)):
        raise TransitionError(_("A complaint was opened from this visit already."))
    defaults = ticket_defaults(visit)
    errors: dict[str, str] = {}
    subject = _text(data.get("subject"), "subject", 200, errors, multiline=False) or defaults["subject"]
    description = _text(data.get("description"), "description", 20000, errors) or defaults["description"] \
        or defaults["subject"]
    category = str(data.get("category") or "").strip() or defaults["category"]
    _raise(errors)
    ticket = create_ticket(user, visit.customer, channel=TICKET_CHANNEL.get(visit.channel or "", "phone"),
                           category=category, subject=subject, description=description, order=visit.order,
                           contact_name=visit.answered_by, source_visit=visit)
    audit.record("update", visit, summary=ticket.number, user=user)
    db.session.flush()
    return ticket


# Lists

def due_list(user: User, today: date, limit: int = 30) -> dict:
    """Due visits in the user's scope: those due today and those overdue (oldest first) — the home page."""
    base = _eager(visible_visits(user)).where(FollowUpVisit.state == V.DUE.value)
    order = (FollowUpVisit.due_on, FollowUpVisit.id)
    return {
        "today": db.session.scalars(base.where(FollowUpVisit.due_on == today).order_by(*order).limit(limit)).all(),
        "overdue": db.session.scalars(base.where(FollowUpVisit.due_on < today).order_by(*order).limit(limit)).all(),
    }


def _eager(stmt):
    return stmt.options(contains_eager(FollowUpVisit.customer).selectinload(Customer.owner),
                        selectinload(FollowUpVisit.order), selectinload(FollowUpVisit.assigned_to))


TABS = ("due", "today", "overdue", "upcoming", "done", "cancelled", "all")


def month_bounds(text: str | None):
    """The UTC start and end of a local month "YYYY-MM", or None when the text is not one."""
    try:
        year, month = (int(part) for part in str(text or "").split("-"))
        start = date(year, month, 1)
    except ValueError:
        return None
    if not 1900 <= year <= 2999:
        return None
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    zone = local_zone()
    return (datetime.combine(start, time(), zone).astimezone(timezone.utc),
            datetime.combine(end, time(), zone).astimezone(timezone.utc))


def search(user: User, filters: dict, today: date):
    """The scoped query of the visit list: a tab (due, today, overdue, upcoming, done, cancelled, all), the
    month a visit was made (local), problems only, reason, channel and a customer search."""
    stmt = _eager(visible_visits(user))
    tab = filters.get("tab") if filters.get("tab") in TABS else "due"
    due = FollowUpVisit.state == V.DUE.value
    if tab == "due":
        stmt = stmt.where(due)
    elif tab == "today":
        stmt = stmt.where(due, FollowUpVisit.due_on == today)
    elif tab == "overdue":
        stmt = stmt.where(due, FollowUpVisit.due_on < today)
    elif tab == "upcoming":
        stmt = stmt.where(due, FollowUpVisit.due_on > today)
    elif tab == "done":
        stmt = stmt.where(FollowUpVisit.state == V.DONE.value)
    elif tab == "cancelled":
        stmt = stmt.where(FollowUpVisit.state == V.CANCELLED.value)
    # the month a visit was made: for the tabs that list visits made
    bounds = month_bounds(filters.get("month")) if filters.get("month") and tab in ("done", "all") else None
    if bounds:
        stmt = stmt.where(FollowUpVisit.done_at >= bounds[0], FollowUpVisit.done_at < bounds[1])
    if filters.get("problems"):
        stmt = stmt.where(FollowUpVisit.problem.is_(True))
    if filters.get("reason") in REASON_LABELS:
        stmt = stmt.where(FollowUpVisit.reason == filters["reason"])
    if filters.get("channel") in CHANNEL_LABELS:
        stmt = stmt.where(FollowUpVisit.channel == filters["channel"])
    q = normalise("".join(ch for ch in str(filters.get("q") or "") if unicodedata.category(ch) != "Cc"))[:100]
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Customer.code).like(like), func.lower(Customer.name).like(like),
                              func.lower(Customer.name_en).like(like)))
    if tab == "done":
        return stmt.order_by(FollowUpVisit.done_at.desc(), FollowUpVisit.id.desc())
    if tab == "all" or bounds:
        return stmt.order_by(FollowUpVisit.due_on.desc(), FollowUpVisit.id.desc())
    if tab == "cancelled":
        return stmt.order_by(FollowUpVisit.updated_at.desc(), FollowUpVisit.id.desc())
    return stmt.order_by(FollowUpVisit.due_on, FollowUpVisit.id)
