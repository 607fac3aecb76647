"""Rules of quotations (报价单): header and lines, the approval workflow, copies, conversion to an order.

A quotation goes out only after a manager approved it, and only as approved: any change to its
lines, prices or terms after approval (or while waiting for it) sends it back to draft.

Every change to a quotation or its lines writes one audit row and bumps `Quote.version` once
(a line change touches the quotation), so a stale form can be told what changed meanwhile.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from sqlalchemy.orm import selectinload

from .. import audit, numbering
from ..customers.access import visible_customers
from ..customers.services import normalise
from ..extensions import db
from ..i18n import local_today
from ..models import (CURRENCIES, INCOTERMS, AuditLog, Customer, Order, OrderEvent, OrderItem, OrderState, Product,
                      Quote, QuoteItem, QuoteState, User, line_amount)
from ..models.base import utcnow
from ..products.services import check_price, parse_decimal, places_needed
from ..workflow import Transition, TransitionError, Workflow
from .access import owns, visible_quotes

S = QuoteState
STAFF_WRITERS = frozenset({"admin", "manager", "sales"})
MANAGERS = frozenset({"admin", "manager"})

# The transition table: the page offers exactly these, the service refuses everything else.
WORKFLOW = Workflow([
    Transition("submit", (S.DRAFT.value,), S.PENDING.value, STAFF_WRITERS, _l("Submit for approval"),
               style="primary", owner_only=True),
    Transition("approve", (S.PENDING.value,), S.APPROVED.value, MANAGERS, _l("Approve"), style="primary"),
    Transition("reject", (S.PENDING.value,), S.DRAFT.value, MANAGERS, _l("Reject"), style="danger",
               fields=("reason",)),
    Transition("send", (S.APPROVED.value,), S.SENT.value, STAFF_WRITERS, _l("Mark as sent to the customer"),
               style="primary", owner_only=True),
    Transition("accept", (S.SENT.value,), S.ACCEPTED.value, STAFF_WRITERS, _l("Customer accepted"),
               style="primary", owner_only=True),
    Transition("decline", (S.SENT.value,), S.DECLINED.value, STAFF_WRITERS, _l("Customer declined"),
               owner_only=True, fields=("reason",)),
    Transition("convert", (S.APPROVED.value, S.ACCEPTED.value), S.CONVERTED.value, STAFF_WRITERS,
               _l("Convert to order"), style="primary", owner_only=True),
    Transition("cancel", (S.DRAFT.value, S.PENDING.value, S.APPROVED.value, S.SENT.value), S.CANCELLED.value,
               STAFF_WRITERS, _l("Cancel quotation"), style="danger", owner_only=True, fields=("reason",)),
    Transition("copy", tuple(s.value for s in QuoteState), None, STAFF_WRITERS, _l("Copy as new draft"),
               owner_only=True),
])
REASON_REQUIRED = {"reject", "decline", "cancel"}

# Lines and header may change only before the quotation went out; a change in these states
# after the draft needs the manager's approval again.
EDITABLE_STATES = (S.DRAFT.value, S.PENDING.value, S.APPROVED.value)
NEEDS_APPROVAL_AGAIN = (S.PENDING.value, S.APPROVED.value)
HEADER_FIELDS = ("currency", "valid_until", "incoterm", "port", "terms", "notes")
MATERIAL_FIELDS = ("currency", "valid_until", "incoterm", "port", "terms")  # notes are internal
VALIDITY_DAYS = 30

QTY_PLACES = 3  # Quantity is Numeric(14, 3)
QTY_LIMIT = Decimal("1e11")
AMOUNT_LIMIT = Decimal("1e12")  # a line or a total must fit Money, Numeric(14, 2), once it is an order
STATE_LABELS = {
    S.DRAFT.value: _l("Draft"), S.PENDING.value: _l("Waiting for approval"), S.APPROVED.value: _l("Approved"),
    S.SENT.value: _l("Sent to customer"), S.ACCEPTED.value: _l("Accepted"), S.DECLINED.value: _l("Lost"),
    S.CONVERTED.value: _l("Converted to order"), S.CANCELLED.value: _l("Cancelled"),
}
OPEN_STATES = (S.APPROVED.value, S.SENT.value)  # offers the customer may still take up
EXPIRING_DAYS = 7

FIELD_LABELS = {
    "currency": _l("Currency"), "valid_until": _l("Valid until"), "incoterm": _l("Incoterm"), "port": _l("Port"),
    "terms": _l("Terms"), "notes": _l("Internal notes"), "state": _l("Status"), "lines": _l("Lines"),
}


class QuoteError(ValueError):
    """Refused input: {field: message} for the form (field "" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ConflictError(QuoteError):
    """Someone else changed the quotation since it was opened; `changed` names what they changed."""

    def __init__(self, changed: list[str]):
        super().__init__({"": _("Someone else changed this quotation while you were editing it. "
                                "Changed meanwhile: %(fields)s. Reload and apply your change again.",
                                fields=", ".join(changed) or "-")})
        self.changed = changed


# Who may do what

def may_edit(user: User, quote: Quote) -> bool:
    """Managers and admins on all, a salesperson on their own customers' quotations; service staff never."""
    if user.role in MANAGERS:
        return True
    return user.role == "sales" and owns(user, quote)


def is_locked(quote: Quote) -> bool:
    """Sent, decided, converted or cancelled quotations are a record of what went out: no more changes."""
    return quote.state not in EDITABLE_STATES


def allowed_actions(quote: Quote, user: User) -> list[Transition]:
    return WORKFLOW.allowed(quote, user, owns(user, quote))


def _check_editable(quote: Quote) -> None:
    if is_locked(quote):
        raise TransitionError(_("This quotation can no longer be changed; copy it to make a new one."))


def check_version(quote: Quote, version) -> None:
    """Refuse a save made from a form read at an older version (None: no check)."""
    if version in (None, ""):
        return
    try:
        version = int(version)
    except (TypeError, ValueError):
        version = 0
    if version != quote.version:
        raise ConflictError(changed_since(quote, version))


def changed_since(quote: Quote, version: int) -> list[str]:
    """What the changes recorded after `version` touched, read back from the audit trail.

    Each recorded change of the quotation or its lines is one version, so the newest
    (current - version) rows are the ones made since the form was read.
    """
    count = max(min(quote.version - version, quote.version), 1)  # a crafted version cannot ask for more
    rows = db.session.scalars(
        audit.history(quote).where(or_(AuditLog.entity_type != "Quote", AuditLog.action != "create"))
        .limit(count)).all()
    names = []
    for row in rows:
        if row.entity_type == "QuoteItem":
            keys = ["lines"]
        elif row.action == "transition":
            keys = ["state"]
        else:
            keys = list(row.changes or {})
        for key in keys:
            label = str(FIELD_LABELS.get(key, key))
            if label not in names:
                names.append(label)
    return names


# Header

def clean_header(data: dict, *, creating: bool, current_valid_until: date | None = None) -> dict:
    """Normalised header values; QuoteError lists every problem at once."""
    errors = {}
    values = {}
    currency = (data.get("currency") or "").strip()
    if currency not in CURRENCIES:
        errors["currency"] = _("Choose a currency.")
    values["currency"] = currency
    valid_until = data.get("valid_until")
    if valid_until is not None and not isinstance(valid_until, date):
        errors["valid_until"] = _("Enter a date.")
        valid_until = None
    if valid_until is not None and valid_until < local_today() and (creating or valid_until != current_valid_until):
        errors["valid_until"] = _("The validity date cannot be in the past.")
    values["valid_until"] = valid_until
    incoterm = (data.get("incoterm") or "").strip().upper() or None
    if incoterm and incoterm not in INCOTERMS:
        errors["incoterm"] = _("Choose an Incoterm.")
    values["incoterm"] = incoterm
    values["port"] = normalise(data.get("port"))[:60] or None
    values["terms"] = (data.get("terms") or "").replace("\r\n", "\n").strip()
    values["notes"] = (data.get("notes") or "").replace("\r\n", "\n").strip() or None
    if errors:
        raise QuoteError(errors)
    return values


def find_customer(code: str | None, user: User) -> Customer:
    """The customer with this code among those `user` may see (others are not found, not refused)."""
    code = normalise(code).upper()
    if not code:
        raise QuoteError({"customer_code": _("Enter the customer's code.")})
    customer = db.session.scalar(visible_customers(user).where(func.upper(Customer.code) == code))
    if customer is None:
        raise QuoteError({"customer_code": _("No customer with this code in your archive.")})
    return customer


def create_quote(data: dict, user: User, customer: Customer | None = None) -> Quote:
    """A new draft with the next number, for a customer the user may see."""
    errors = {}
    try:
        customer = customer or find_customer(data.get("customer_code"), user)
    except QuoteError as error:
        errors.update(error.errors)
    try:
        values = clean_header(data, creating=True)
    except QuoteError as error:
        errors.update(error.errors)
    if errors:
        raise QuoteError(errors)
    if values["valid_until"] is None:
        values["valid_until"] = local_today() + timedelta(days=VALIDITY_DAYS)
    quote = Quote(number=numbering.next_number("quote", local_today().year), customer=customer,
                  created_by_id=user.id, state=S.DRAFT.value, **values)
    if data.get("sample_id"):
        quote.sample_id = int(data["sample_id"])
    db.session.add(quote)
    db.session.flush()
    audit.record("create", quote, summary=f"{quote.number} {customer.name}", user=user)
    return quote


def _reopen(quote: Quote, user: User, why: str) -> bool:
    """Send a pending or approved quotation back to draft because its content changed."""
    if quote.state not in NEEDS_APPROVAL_AGAIN:
        return False
    changes = {"state": [quote.state, S.DRAFT.value]}
    if quote.approved_by_id:
        changes["approved_by_id"] = [quote.approved_by_id, None]
    quote.state = S.DRAFT.value
    quote.approved_by_id = None
    quote.approved_at = None
    quote.submitted_at = None
    db.session.flush()
    audit.record("transition", quote, changes=changes, user=user,
                 summary=_("Back to draft: %(why)s changed; needs approval again", why=why))
    return True


def _touch(quote: Quote) -> None:
    """A line changed: the quotation is one document, so it gets a new version too."""
    quote.updated_at = utcnow()


def update_header(quote: Quote, data: dict, user: User, version=None) -> tuple[dict, bool]:
    """Save the header; (changes, reopened). A material change after the draft needs approval again."""
    _check_editable(quote)
    check_version(quote, version)
    values = clean_header(data, creating=False, current_valid_until=quote.valid_until)
    material = [f for f in MATERIAL_FIELDS if getattr(quote, f) != values[f]]
    reopened = _reopen(quote, user, ", ".join(str(FIELD_LABELS[f]) for f in material)) if material else False
    changes = audit.apply_changes(quote, values)
    if changes:
        db.session.flush()
        audit.record("update", quote, changes=changes, summary=quote.number, user=user)
    return changes, reopened


# Lines

def clean_item(data: dict, quote: Quote) -> dict:
    """A line's values; a chosen product fills what was left empty. QuoteError lists every problem."""
    errors = {}
    product = None
    product_id = str(data.get("product_id") or "").strip()
    if product_id not in ("", "0"):
        if product_id.isdigit() and len(product_id) < 10:
            product = db.session.get(Product, int(product_id))
        if product is None:
            errors["product_id"] = _("Choose a product from the list.")
    values = {
        "product_id": product.id if product else None,
        "description": normalise(data.get("description"))[:200] or None,
        "specification": normalise(data.get("specification"))[:300] or None,
        "unit": normalise(data.get("unit"))[:20] or None,
    }
    if product:
        values["description"] = values["description"] or product.name
        values["specification"] = values["specification"] or product.specification
        values["unit"] = values["unit"] or product.unit
    values["unit"] = values["unit"] or "pcs"
    if not values["description"]:
        errors["description"] = _("Describe the item or choose a product.")
    quantity = parse_decimal(data.get("quantity"))
    if data.get("quantity") in (None, ""):
        errors["quantity"] = _("Enter a quantity.")
    elif quantity is None or quantity <= 0 or quantity >= QTY_LIMIT:
        errors["quantity"] = _("Enter a quantity greater than zero.")
    elif places_needed(quantity) > QTY_PLACES:
        errors["quantity"] = _("A quantity has at most %(n)d decimal places.", n=QTY_PLACES)
    else:
        values["quantity"] = quantity.quantize(Decimal(1).scaleb(-QTY_PLACES))
    price = data.get("unit_price")
    if price in (None, "") and product is not None and product.default_price is not None:
        if product.currency == quote.currency:
            price = product.default_price
        else:
            errors["unit_price"] = _("The product's price is in %(product)s; enter the price in %(quote)s.",
                                     product=product.currency, quote=quote.currency)
    if "unit_price" not in errors:
        values["unit_price"] = check_price(price, errors, "unit_price", required=True)
    if not errors and line_amount(values["quantity"], values["unit_price"]) >= AMOUNT_LIMIT:
        errors["quantity"] = _("The amount of this line is too large.")
    if errors:
        raise QuoteError(errors)
    return values


def _check_total(quote: Quote, item: QuoteItem | None, values: dict) -> None:
    """Refuse a line that would take the quotation's total beyond what an order can hold."""
    others = sum((i.amount for i in quote.items if i is not item), Decimal("0.00"))
    if others + line_amount(values["quantity"], values["unit_price"]) >= AMOUNT_LIMIT:
        raise QuoteError({"quantity": _("The total of the quotation would be too large.")})


def add_item(quote: Quote, data: dict, user: User, version=None) -> tuple[QuoteItem, bool]:
    """Add a line at the end; (line, reopened)."""
    _check_editable(quote)
    check_version(quote, version)
    values = clean_item(data, quote)
    _check_total(quote, None, values)
    reopened = _reopen(quote, user, str(FIELD_LABELS["lines"]))
    position = max((i.position for i in quote.items), default=0) + 1
    item = QuoteItem(position=position, **values)
    quote.items.append(item)
    _touch(quote)
    db.session.flush()
    audit.record("create", item, summary=_line_summary(item, quote), parent=quote, user=user)
    return item, reopened


def update_item(item: QuoteItem, data: dict, user: User, version=None) -> tuple[dict, bool]:
    """Save a line; (changes, reopened). An unchanged save changes nothing and needs no new approval."""
    quote = item.quote
    _check_editable(quote)
    check_version(quote, version)
    values = clean_item(data, quote)
    if not any(getattr(item, k) != v for k, v in values.items()):
        return {}, False
    _check_total(quote, item, values)
    reopened = _reopen(quote, user, str(FIELD_LABELS["lines"]))
    changes = audit.apply_changes(item, values)
    _touch(quote)
    db.session.flush()
    audit.record("update", item, changes=changes, summary=_line_summary(item, quote), parent=quote, user=user)
    return changes, reopened


def remove_item(item: QuoteItem, user: User, version=None) -> bool:
    """Remove a line; returns whether the quotation went back to draft."""
    quote = item.quote
    _check_editable(quote)
    check_version(quote, version)
    reopened = _reopen(quote, user, str(FIELD_LABELS["lines"]))
    audit.record("delete", item, summary=_line_summary(item, quote), parent=quote, user=user)
    quote.items.remove(item)
    for position, other in enumerate(quote.items, start=1):
        other.position = position
    _touch(quote)
    db.session.flush()
    return reopened


def _line_summary(item: QuoteItem, quote: Quote) -> str:
    return f"{quote.number} #{item.position} {item.description} {item.quantity} × {item.unit_price}"


# Transitions

def transition(quote: Quote, name: str, user: User, data: dict | None = None, version=None):
    """Take the action `name` if the table allows it for `user` now; returns the record to show next
    (the quotation, its copy, or the new order). TransitionError (409) or QuoteError (422) otherwise."""
    data = data or {}
    step = WORKFLOW.check(quote, user, name, owns(user, quote))
    check_version(quote, version)
    reason = normalise(data.get("reason"))[:500] or None
    if name in REASON_REQUIRED and not reason:
        raise QuoteError({"reason": _("Give a reason.")})
    if name == "copy":
        return copy_quote(quote, user)
    if name == "convert":
        return convert(quote, user, step)
    if name == "submit" and not quote.items:
        raise TransitionError(_("Add at least one line before submitting the quotation."))
    if name == "send" and quote.valid_until is not None and quote.valid_until < local_today():
        raise TransitionError(_("The quotation has expired; change its validity date (it then needs approval "
                                "again)."))
    before = quote.state
    now = utcnow()
    quote.state = step.target
    changes = {"state": [before, step.target]}
    if name == "submit":
        quote.submitted_at = now
    elif name == "approve":
        quote.approved_by_id, quote.approved_at, quote.rejection_reason = user.id, now, None
        changes["approved_by_id"] = [None, user.id]
    elif name == "reject":
        quote.submitted_at = None
    elif name == "send":
        quote.sent_at = now
    elif name in ("accept", "decline"):
        quote.decided_at = now
    if name in REASON_REQUIRED:  # why it was returned, lost or cancelled, shown on the page
        quote.rejection_reason = reason
    db.session.flush()
    audit.record("transition", quote, changes=changes, user=user,
                 summary=f"{step.label}: {reason}" if reason else str(step.label))
    return quote


def copy_quote(quote: Quote, user: User) -> Quote:
    """A new, unapproved draft with the same customer, terms and lines; the original is untouched."""
    copy = Quote(number=numbering.next_number("quote", local_today().year), customer_id=quote.customer_id,
                 currency=quote.currency, valid_until=local_today() + timedelta(days=VALIDITY_DAYS),
                 incoterm=quote.incoterm, port=quote.port, terms=quote.terms, notes=quote.notes,
                 sample_id=quote.sample_id, copied_from_id=quote.id, created_by_id=user.id, state=S.DRAFT.value)
    copy.items = [QuoteItem(position=i.position, product_id=i.product_id, description=i.description,
                            specification=i.specification, quantity=i.quantity, unit=i.unit,
                            unit_price=i.unit_price) for i in quote.items]
    db.session.add(copy)
    db.session.flush()
    audit.record("create", copy, user=user, summary=_("%(number)s, copy of %(source)s", number=copy.number,
                                                      source=quote.number))
    return copy


def convert(quote: Quote, user: User, step: Transition | None = None) -> Order:
    """Make the order (state "quoted") with the quotation's lines; both records link to each other."""
    step = step or WORKFLOW.check(quote, user, "convert", owns(user, quote))
    order = Order(number=numbering.next_number("order", local_today().year), customer_id=quote.customer_id,
                  quote_id=quote.id, sample_id=quote.sample_id, currency=quote.currency, incoterm=quote.incoterm,
                  port_of_destination=quote.port, terms=quote.terms or None, state=OrderState.QUOTED.value,
                  created_by_id=user.id)
    order.items = [OrderItem(position=i.position, product_id=i.product_id, description=i.description,
                             specification=i.specification, quantity=i.quantity, unit=i.unit,
                             unit_price=i.unit_price) for i in quote.items]
    order.events = [OrderEvent(user_id=user.id, kind="created", state_to=OrderState.QUOTED.value,
                               note=_("From quotation %(number)s", number=quote.number))]
    db.session.add(order)
    db.session.flush()
    audit.record("create", order, user=user, summary=_("%(number)s from quotation %(quote)s", number=order.number,
                                                       quote=quote.number))
    before = quote.state
    quote.state = step.target
    quote.order_id = order.id
    quote.decided_at = quote.decided_at or utcnow()
    db.session.flush()
    audit.record("transition", quote, changes={"state": [before, step.target], "order_id": [None, order.id]},
                 user=user, summary=f"{step.label}: {order.number}")
    return order


# Lists

def search(user: User, filters: dict, today: date | None = None):
    """The scoped query of the quotation list: number or customer text, state, salesperson, expiring soon;
    newest first."""
    stmt = visible_quotes(user)
    if filters.get("state") in STATE_LABELS:
        stmt = stmt.where(Quote.state == filters["state"])
    text = normalise(filters.get("q"))[:100]
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(or_(func.lower(Customer.code).like(like), func.lower(Customer.name).like(like),
                              func.lower(Customer.name_en).like(like), func.lower(Quote.number).like(like)))
    owner = str(filters.get("owner") or "")
    if owner.isdigit() and len(owner) < 10:
        stmt = stmt.where(Customer.owner_id == int(owner))
    if filters.get("expiring"):
        today = today or local_today()
        stmt = stmt.where(Quote.state.in_(OPEN_STATES), Quote.valid_until.is_not(None),
                          Quote.valid_until <= today + timedelta(days=EXPIRING_DAYS))
    return stmt.order_by(Quote.id.desc())


def pending_approval(user: User, limit: int = 20) -> list[Quote]:
    """Quotations waiting for a manager's approval (a salesperson sees their own), oldest first."""
    stmt = (visible_quotes(user).where(Quote.state == S.PENDING.value)
            .options(selectinload(Quote.items), selectinload(Quote.customer))
            .order_by(Quote.submitted_at, Quote.id).limit(limit))
    return db.session.scalars(stmt).all()


def expiring(user: User, today: date, days: int = EXPIRING_DAYS, limit: int = 20) -> list[Quote]:
    """Open offers (approved or sent) whose validity ends within `days` from `today`, soonest first."""
    stmt = (visible_quotes(user)
            .where(Quote.state.in_(OPEN_STATES), Quote.valid_until.is_not(None),
                   Quote.valid_until >= today, Quote.valid_until <= today + timedelta(days=days))
            .options(selectinload(Quote.items), selectinload(Quote.customer))
            .order_by(Quote.valid_until, Quote.id).limit(limit))
    return db.session.scalars(stmt).all()
