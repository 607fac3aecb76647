"""Order rules: the state table, items, payments, shipments, inspections, the production plan,
change requests, the timeline, and receivables with ageing."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Date, Row, Select, bindparam, case, cast, func, or_, select, text
from sqlalchemy.orm import selectinload

from .. import audit, datacache, numbering
from ..customers.access import SEE_ALL, customer_scope, customer_scope_key
from ..extensions import db
from ..paging import CappedPage, capped_count, page_of
from ..i18n import local_today
from ..models import (INCOTERMS, ChangeRequest, Customer, DunningNote, Inspection, Order, OrderEvent, OrderItem,
                      OrderState, Payment, PaymentKind, Product, ProductionPlan, ProductionPlanLine, SalesTarget,
                      Shipment, ShipmentLine, User)
from ..models.base import utcnow
from ..models.orders import AWAITING_SHIPMENT, AWAITING_SHIPMENT_SQL, RECEIVABLE_STATES, receivable_sql
from ..workflow import Transition, TransitionError, Workflow
from .access import ORDER_CUSTOMER, of_customer_where, owns, visible_orders

S = OrderState
CENT = Decimal("0.01")
SALES_SIDE = frozenset({"admin", "manager", "sales"})
MANAGERS = frozenset({"admin", "manager"})
OPEN_STATES = tuple(s.value for s in S if s not in (S.CLOSED, S.CANCELLED))
SIGNED_STATES = (S.CONTRACT_SIGNED.value, S.DEPOSIT_RECEIVED.value, S.PLAN_APPROVED.value, S.IN_PRODUCTION.value,
                 S.INSPECTED.value, S.SHIPPED.value, S.BALANCE_RECEIVED.value)
BEFORE_SHIPPING = (S.INQUIRY.value, S.QUOTED.value, S.CONTRACT_SIGNED.value, S.DEPOSIT_RECEIVED.value,
                   S.PLAN_APPROVED.value, S.IN_PRODUCTION.value, S.INSPECTED.value)
assert BEFORE_SHIPPING[2:] == AWAITING_SHIPMENT and SIGNED_STATES == RECEIVABLE_STATES  # the partial indexes

STATE_LABELS = {
    "inquiry": _l("Inquiry"), "quoted": _l("Quoted"), "contract_signed": _l("Contract signed"),
    "deposit_received": _l("Deposit received"), "plan_approved": _l("Production plan approved"),
    "in_production": _l("In production"), "inspected": _l("Inspected"), "shipped": _l("Shipped"),
    "balance_received": _l("Balance received"), "closed": _l("Closed"), "cancelled": _l("Cancelled"),
}
STEPS = [s.value for s in S if s is not S.CANCELLED]

# Transitions the user starts by a button; others happen as a consequence of a record (a deposit
# payment, an approved plan, a passed inspection, a shipment, the balance) and are listed in
# `_advance`. Both write the same timeline events.
WORKFLOW = Workflow([
    Transition("mark_quoted", (S.INQUIRY.value,), S.QUOTED.value, SALES_SIDE, _l("Mark as quoted"),
               owner_only=True),
    Transition("sign_contract", (S.INQUIRY.value, S.QUOTED.value), S.CONTRACT_SIGNED.value, SALES_SIDE,
               _l("Contract signed"), "primary", owner_only=True, fields=("contract_date",)),
    Transition("confirm_deposit", (S.CONTRACT_SIGNED.value,), S.DEPOSIT_RECEIVED.value, SALES_SIDE,
               _l("Deposit or L/C confirmed"), owner_only=True, fields=("note",)),
    Transition("start_production", (S.PLAN_APPROVED.value,), S.IN_PRODUCTION.value, SALES_SIDE,
               _l("Start production"), "primary", owner_only=True),
    Transition("close", (S.BALANCE_RECEIVED.value,), S.CLOSED.value, SALES_SIDE, _l("Close the order"),
               "primary", owner_only=True),
    Transition("cancel", OPEN_STATES, S.CANCELLED.value, SALES_SIDE, _l("Cancel the order"), "danger",
               owner_only=True, fields=("reason",)),
])


class OrderError(ValueError):
    """Refused input: {field: message} for the form ("" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(str(v) for v in errors.values()))
        self.errors = errors


def _decimal(value, places: str = "0.01", field_name: str = "amount", minimum: Decimal | None = Decimal("0"),
             strictly_positive: bool = False) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "")).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, AttributeError):
        raise OrderError({field_name: _("Enter a number.")}) from None
    if not number.is_finite() or abs(number) >= Decimal("1e11"):
        raise OrderError({field_name: _("Enter a number.")})
    if strictly_positive and number <= 0:
        raise OrderError({field_name: _("Enter an amount greater than zero.")})
    if minimum is not None and number < minimum:
        raise OrderError({field_name: _("Enter an amount of zero or more.")})
    return number


def event(order: Order, kind: str, note: str | None = None, *, user: User | None = None, visible: bool = False,
          state_from: str | None = None, state_to: str | None = None) -> OrderEvent:
    """Add a timeline entry (and keep the collection in step for this request)."""
    entry = OrderEvent(kind=kind, note=(note or None), user_id=getattr(user, "id", None), customer_visible=visible,
                       state_from=state_from, state_to=state_to, at=utcnow())
    order.events.append(entry)
    return entry


def _move(order: Order, target: str, user: User | None, kind: str, note: str | None = None,
          visible: bool = True) -> None:
    before = order.state
    order.state = target
    event(order, kind, note, user=user, visible=visible, state_from=before, state_to=target)
    audit.record("transition", order, changes={"state": [before, target]}, summary=kind, user=user)


# Creating and editing

HEADER_FIELDS = ("customer_po", "currency", "incoterm", "port_of_loading", "port_of_destination", "payment_terms",
                 "terms", "promised_date", "deposit_percent", "balance_days", "balance_basis", "notes")


def clean_header(data: dict) -> dict:
    errors, values = {}, {}
    for name in ("customer_po", "port_of_loading", "port_of_destination", "payment_terms"):
        values[name] = (data.get(name) or "").strip() or None
    for name in ("terms", "notes"):
        values[name] = (data.get(name) or "").replace("\r\n", "\n").strip() or None
    values["currency"] = data.get("currency") or "CNY"
    if values["currency"] not in ("CNY", "USD", "EUR"):
        errors["currency"] = _("Choose a currency.")
    values["incoterm"] = data.get("incoterm") or None
    if values["incoterm"] and values["incoterm"] not in INCOTERMS:
        errors["incoterm"] = _("Choose an Incoterm.")
    values["promised_date"] = data.get("promised_date") or None
    try:
        percent = _decimal(data.get("deposit_percent") if data.get("deposit_percent") not in (None, "") else 0,
                           field_name="deposit_percent")
        if percent > 100:
            raise OrderError({"deposit_percent": _("The deposit is a percentage from 0 to 100.")})
        values["deposit_percent"] = percent
    except OrderError as error:
        errors.update(error.errors)
    days = data.get("balance_days")
    try:
        values["balance_days"] = int(days or 0)
        if not 0 <= values["balance_days"] <= 365:
            raise ValueError
    except (TypeError, ValueError):
        errors["balance_days"] = _("Enter a number of days from 0 to 365.")
    values["balance_basis"] = data.get("balance_basis") or "shipment"
    if values["balance_basis"] not in ("shipment", "bl"):
        errors["balance_basis"] = _("Choose when the balance falls due.")
    if errors:
        raise OrderError(errors)
    return values


def create_order(customer: Customer, data: dict, user: User) -> Order:
    """A new order (an inquiry) for a customer the user may see."""
    values = clean_header(data)
    order = Order(number=numbering.next_number("order", local_today().year), customer_id=customer.id,
                  created_by_id=user.id, state=S.INQUIRY.value, **values)
    db.session.add(order)
    db.session.flush()
    event(order, "created", user=user)
    audit.record("create", order, summary=f"{order.number} {customer.code}")
    return order


def offered_forms(order: Order, user: User, open_amount: Decimal, remaining: dict[int, Decimal]) -> set[str]:
    """The sections whose "record …" form the order page offers `user` now (each POST checks again): an
    inspection in production until shipped, a shipment while something is left to ship, a payment and a
    dunning note while money is open, a change request once signed."""
    if user.role not in SALES_SIDE:
        return set()
    offered = set()
    if order.state in (S.IN_PRODUCTION.value, S.INSPECTED.value, S.SHIPPED.value):
        offered.add("inspection")
    if order.state in (S.INSPECTED.value, S.SHIPPED.value) and any(left > 0 for left in remaining.values()):
        offered.add("shipment")
    if order.state in SIGNED_STATES:
        offered.add("change")
        if open_amount > 0:
            offered.add("payment")
    if open_amount > 0 and order.state not in (S.INQUIRY.value, S.QUOTED.value, S.CANCELLED.value):
        offered.add("dunning")
    return offered


def may_edit_terms(order: Order) -> ChangeRequest | None | bool:
    """True before signing; after signing, the approved change request that allows the edit, else False."""
    if order.state in (S.INQUIRY.value, S.QUOTED.value):
        return True
    if order.state in (S.CLOSED.value, S.CANCELLED.value):
        return False
    for request in order.change_requests:
        if request.state == "approved":
            return request
    return False


def _require_editable(order: Order) -> ChangeRequest | None:
    allowed = may_edit_terms(order)
    if allowed is False:
        raise TransitionError(_("A signed order changes only through an approved change request."))
    return allowed if isinstance(allowed, ChangeRequest) else None


def _applied(order: Order, request: ChangeRequest | None, user: User, what: str) -> None:
    if request is not None:
        request.state = "applied"
        event(order, "change_applied", f"{what}: {request.what}", user=user, visible=True)


def update_header(order: Order, data: dict, user: User, version) -> dict:
    """Edit terms and dates; after signing only with an approved change request, which it uses up."""
    check_version(order, version)
    request = _require_editable(order)
    changes = audit.apply_changes(order, clean_header(data))
    if changes:
        audit.record("update", order, changes=changes)
        _applied(order, request, user, _("terms"))
    return changes


def check_version(record, version) -> None:
    if version in (None, ""):
        return
    try:
        stale = int(version) != record.version
    except (TypeError, ValueError):
        stale = True
    if stale:
        raise OrderError({"": _("Someone else saved this order while you were editing it. Changed meanwhile: "
                                "%(fields)s. Reload and apply your change again.",
                                fields=", ".join(changed_since(record, int(version) if str(version).isdigit() else 0))
                                or "-")})


def changed_since(record, version: int) -> list[str]:
    from ..models import AuditLog

    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.entity_type == type(record).__name__, AuditLog.entity_id == record.id,
                               AuditLog.changes.is_not(None))
        .order_by(AuditLog.id.desc()).limit(max(min(record.version - version, record.version), 1) * 3)).all()
    fields: list[str] = []
    for entry in entries:
        for name in entry.changes or {}:
            if name not in fields:
                fields.append(name)
    return fields


def clean_item(data: dict) -> dict:
    errors = {}
    product = None
    if data.get("product_id"):
        product = db.session.get(Product, int(data["product_id"]))
        if product is None or not product.active:
            errors["product_id"] = _("Choose a product from the catalogue.")
    description = (data.get("description") or "").strip() or (product.name if product else "")
    if not description:
        errors["description"] = _("Describe the item or choose a product.")
    values = {"product_id": product.id if product else None, "description": description[:200],
              "specification": ((data.get("specification") or "").strip()
                                or (product.specification if product else None) or None),
              "unit": ((data.get("unit") or "").strip() or (product.unit if product else "pcs"))[:20]}
    try:
        values["quantity"] = _decimal(data.get("quantity"), "0.001", "quantity", strictly_positive=True)
    except OrderError as error:
        errors.update(error.errors)
    price = data.get("unit_price")
    if price in (None, "") and product is not None and product.default_price is not None:
        price = product.default_price
    try:
        values["unit_price"] = _decimal(price, "0.0001", "unit_price")
    except OrderError as error:
        errors.update(error.errors)
    if errors:
        raise OrderError(errors)
    return values


def add_item(order: Order, data: dict, user: User) -> OrderItem:
    request = _require_editable(order)
    item = OrderItem(position=len(order.items) + 1, **clean_item(data))
    order.items.append(item)
    db.session.flush()
    audit.record("create", item, summary=f"{item.description} × {item.quantity}", parent=order)
    _applied(order, request, user, _("items"))
    return item


def update_item(order: Order, item: OrderItem, data: dict, user: User) -> dict:
    request = _require_editable(order)
    values = clean_item(data)
    shipped = shipped_quantities(order).get(item.id, Decimal(0))
    if values["quantity"] < shipped:
        raise OrderError({"quantity": _("%(n)s have already been shipped.", n=shipped)})
    changes = audit.apply_changes(item, values)
    if changes:
        audit.record("update", item, changes=changes, parent=order)
        _applied(order, request, user, _("items"))
    return changes


def remove_item(order: Order, item: OrderItem, user: User) -> None:
    request = _require_editable(order)
    if shipped_quantities(order).get(item.id):
        raise OrderError({"": _("A line that has been shipped cannot be removed.")})
    audit.record("delete", item, summary=item.description, parent=order)
    order.items.remove(item)
    for position, other in enumerate(order.items, start=1):
        other.position = position
    _applied(order, request, user, _("items"))


# Transitions

def take(order: Order, name: str, data: dict, user: User) -> None:
    """Perform the button transition `name` if the table allows it; TransitionError (409) if not."""
    transition = WORKFLOW.check(order, user, name, owns(user, order))
    if name == "sign_contract":
        if not order.items:
            raise OrderError({"": _("Add the items before signing the contract.")})
        order.exchange_rate = _exchange_rate(order, data.get("exchange_rate"))
        order.contract_date = data.get("contract_date") or local_today()
        if not order.contract_no:
            order.contract_no = numbering.next_number("contract", order.contract_date.year)
        _move(order, transition.target, user, name, order.contract_no)
    elif name == "confirm_deposit":
        note = (data.get("note") or "").strip()
        if deposit_paid(order) < deposit_due(order) and not note:
            raise OrderError({"note": _("No deposit is recorded yet: say how it is secured (e.g. L/C number).")})
        _move(order, transition.target, user, name, note)
        _advance(order, user)
    elif name == "cancel":
        reason = (data.get("reason") or "").strip()
        if not reason:
            raise OrderError({"reason": _("Give the reason for cancelling.")})
        order.cancel_reason = reason[:500]
        _move(order, transition.target, user, name, reason)
    elif name == "close":
        order.closed_at = utcnow()
        _move(order, transition.target, user, name)
    else:
        _move(order, transition.target, user, name)


def _exchange_rate(order: Order, value) -> Decimal:
    """CNY per unit of the order's currency, fixed at signing: 1 for CNY, given for foreign currencies."""
    if order.currency == "CNY":
        return Decimal("1")
    try:
        rate = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError, AttributeError):
        rate = None
    if rate is None or not rate.is_finite() or not Decimal("0.0001") <= rate <= Decimal("1000"):
        raise OrderError({"exchange_rate": _("Enter the exchange rate: how many CNY one %(currency)s is worth.",
                                             currency=order.currency)})
    return rate.quantize(Decimal("0.000001"))


def last_exchange_rate(currency: str) -> Decimal | None:
    """The rate of the latest contract signed in `currency` (the suggestion for the next one)."""
    if currency == "CNY":
        return None
    return db.session.scalar(select(Order.exchange_rate).where(Order.currency == currency,
                                                               Order.exchange_rate.is_not(None))
                             .order_by(Order.contract_date.desc(), Order.id.desc()).limit(1))


def _advance(order: Order, user: User | None) -> None:
    """Move on by what has been recorded: deposit paid, plan approved, balance paid."""
    if order.state == S.CONTRACT_SIGNED.value and deposit_due(order) > 0 and deposit_paid(order) >= deposit_due(order):
        _move(order, S.DEPOSIT_RECEIVED.value, user, "deposit_received")
    if order.state == S.DEPOSIT_RECEIVED.value and order.plan is not None and order.plan.state == "approved":
        _move(order, S.PLAN_APPROVED.value, user, "plan_approved")
    if order.state == S.SHIPPED.value and order.total > 0 and order.paid >= order.total and fully_shipped(order):
        _move(order, S.BALANCE_RECEIVED.value, user, "balance_received")


def set_progress(order: Order, percent, note: str, visible: bool, user: User) -> None:
    if order.state != S.IN_PRODUCTION.value:
        raise TransitionError(_("Progress is reported while the order is in production."))
    try:
        value = int(percent)
    except (TypeError, ValueError):
        raise OrderError({"progress": _("Enter a percentage from 0 to 100.")}) from None
    if not 0 <= value <= 100:
        raise OrderError({"progress": _("Enter a percentage from 0 to 100.")})
    changes = audit.apply_changes(order, {"progress": value})
    event(order, "progress", f"{value}% {note or ''}".strip(), user=user, visible=visible)
    audit.record("update", order, changes=changes or None, summary="progress")


# Money

def deposit_due(order: Order) -> Decimal:
    return (order.total * order.deposit_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def deposit_paid(order: Order) -> Decimal:
    return sum((p.amount for p in order.payments if p.kind == PaymentKind.DEPOSIT.value), Decimal("0.00"))


def open_amount(order: Order) -> Decimal:
    return order.total - order.paid


PAYABLE_STATES = SIGNED_STATES


def record_payment(order: Order, data: dict, user: User) -> Payment:
    """A payment received; more than is open, zero or negative amounts are refused."""
    if order.state not in PAYABLE_STATES:
        raise TransitionError(_("Payments are recorded once the contract is signed."))
    amount = _decimal(data.get("amount"), field_name="amount", strictly_positive=True)
    kind = data.get("kind") or PaymentKind.OTHER.value
    if kind not in [k.value for k in PaymentKind]:
        raise OrderError({"kind": _("Choose the kind of payment.")})
    received_on = data.get("received_on") or local_today()
    if received_on > local_today():
        raise OrderError({"received_on": _("A payment cannot be received in the future.")})
    if amount > open_amount(order):
        raise OrderError({"amount": _("This is more than the open amount of %(currency)s %(open)s.",
                                      currency=order.currency, open=f"{open_amount(order):,.2f}")})
    payment = Payment(kind=kind, amount=amount, received_on=received_on, method=(data.get("method") or None),
                      reference=(data.get("reference") or "").strip()[:100] or None,
                      note=(data.get("note") or "").strip()[:500] or None, created_by_id=user.id)
    order.payments.append(payment)
    db.session.flush()
    audit.record("create", payment, summary=f"{order.currency} {amount} {kind}", parent=order)
    event(order, "payment", f"{order.currency} {amount:,.2f} ({kind})", user=user, visible=True)
    _advance(order, user)
    return payment


# Production plan

def save_plan(order: Order, data: dict, quantities: dict[int, str], user: User) -> ProductionPlan:
    """Write or rewrite the plan (draft); a changed plan needs approval again."""
    if order.state not in (S.CONTRACT_SIGNED.value, S.DEPOSIT_RECEIVED.value):
        raise TransitionError(_("The production plan is written after the contract is signed and before production."))
    plan = order.plan or ProductionPlan(order=order)
    lines = []
    errors = {}
    items = {item.id: item for item in order.items}
    for item_id, raw in quantities.items():
        if item_id not in items:
            continue
        if raw in (None, ""):
            continue
        try:
            quantity = _decimal(raw, "0.001", f"qty_{item_id}", strictly_positive=True)
        except OrderError as error:
            errors.update(error.errors)
            continue
        lines.append(ProductionPlanLine(order_item_id=item_id, quantity=quantity,
                                        required_date=data.get("required_date")))
    if not lines and not errors:
        errors[""] = _("Plan at least one item.")
    if errors:
        raise OrderError(errors)
    changes = audit.apply_changes(plan, {
        "packaging": (data.get("packaging") or "").strip() or None,
        "marking": (data.get("marking") or "").strip() or None,
        "required_date": data.get("required_date") or None,
        "notes": (data.get("notes") or "").strip() or None,
        "state": "draft", "approved_by_id": None, "approved_at": None,
    })
    plan.lines = lines
    db.session.add(plan)
    db.session.flush()
    audit.record("update", plan, changes=changes or None, summary="plan saved", parent=order)
    event(order, "plan_saved", user=user)
    return plan


def plan_action(order: Order, action: str, user: User, reason: str = "") -> None:
    """submit (the salesperson), approve or reject (a manager): 生产计划单 must be signed before production."""
    plan = order.plan
    if plan is None:
        raise TransitionError(_("There is no production plan yet."))
    if action == "submit" and plan.state == "draft" and user.role in SALES_SIDE and owns(user, order):
        plan.state, plan.submitted_at = "submitted", utcnow()
        event(order, "plan_submitted", user=user)
    elif action == "approve" and plan.state == "submitted" and user.role in MANAGERS:
        plan.state, plan.approved_by_id, plan.approved_at, plan.rejection_reason = "approved", user.id, utcnow(), None
        event(order, "plan_approved_by_manager", user=user)
        _advance(order, user)
    elif action == "reject" and plan.state == "submitted" and user.role in MANAGERS:
        if not reason.strip():
            raise OrderError({"reason": _("Give the reason for sending the plan back.")})
        plan.state, plan.rejection_reason = "draft", reason.strip()[:500]
        event(order, "plan_rejected", reason, user=user)
    else:
        raise TransitionError(_("This action is not possible in the current state."))
    audit.record("transition", plan, summary=action, parent=order)


# Inspection and shipping

def record_inspection(order: Order, data: dict, user: User) -> Inspection:
    if order.state not in (S.IN_PRODUCTION.value, S.INSPECTED.value, S.SHIPPED.value):
        raise TransitionError(_("Inspections are recorded during and after production."))
    inspector = (data.get("inspector") or "").strip()
    if not inspector:
        raise OrderError({"inspector": _("Who inspected?")})
    passed = data.get("result") == "pass"
    if data.get("result") not in ("pass", "fail"):
        raise OrderError({"result": _("Choose pass or fail.")})
    defects = (data.get("defects") or "").strip() or None
    if not passed and not defects:
        raise OrderError({"defects": _("Describe the defects found.")})
    inspection = Inspection(inspected_on=data.get("inspected_on") or local_today(), inspector=inspector[:60],
                            passed=passed, defects=defects, notes=(data.get("notes") or "").strip() or None,
                            created_by_id=user.id)
    order.inspections.append(inspection)
    db.session.flush()
    audit.record("create", inspection, summary="pass" if passed else "fail", parent=order)
    note = _("Passed") if passed else _("Failed: %(defects)s", defects=defects)
    event(order, "inspection", note, user=user, visible=True)
    if passed and order.state == S.IN_PRODUCTION.value:
        order.progress = 100
        _move(order, S.INSPECTED.value, user, "inspected", note)
    return inspection


def shipped_quantities(order: Order) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = {}
    for shipment in order.shipments:
        for line in shipment.lines:
            totals[line.order_item_id] = totals.get(line.order_item_id, Decimal(0)) + line.quantity
    return totals


def fully_shipped(order: Order) -> bool:
    shipped = shipped_quantities(order)
    return bool(order.items) and all(shipped.get(item.id, Decimal(0)) >= item.quantity for item in order.items)


SHIPMENT_FIELDS = ("carrier", "booking_no", "container_no", "bl_no", "tracking_no", "receiver_name",
                   "receiver_address", "receiver_phone", "shipping_marks", "notes")


def record_shipment(order: Order, data: dict, quantities: dict[int, str], user: User) -> Shipment:
    """A shipment with quantities per line (partial shipments allowed, never more than ordered)."""
    if order.state not in (S.INSPECTED.value, S.SHIPPED.value):
        raise TransitionError(_("Goods ship after a passed inspection."))
    errors = {}
    shipped = shipped_quantities(order)
    lines = []
    for item in order.items:
        raw = quantities.get(item.id)
        if raw in (None, ""):
            continue
        try:
            quantity = _decimal(raw, "0.001", f"qty_{item.id}", strictly_positive=True)
        except OrderError as error:
            errors.update(error.errors)
            continue
        remaining = item.quantity - shipped.get(item.id, Decimal(0))
        if quantity > remaining:
            errors[f"qty_{item.id}"] = _("Only %(n)s left to ship.", n=remaining.normalize())
            continue
        lines.append(ShipmentLine(order_item_id=item.id, quantity=quantity))
    if not lines and not errors:
        errors[""] = _("Enter the quantity shipped for at least one line.")
    if errors:
        raise OrderError(errors)
    values = {name: (data.get(name) or "").strip() or None for name in SHIPMENT_FIELDS}
    shipment = Shipment(ship_date=data.get("ship_date") or local_today(), bl_date=data.get("bl_date") or None,
                        arrival_date=data.get("arrival_date") or None, created_by_id=user.id, lines=lines, **values)
    order.shipments.append(shipment)
    db.session.flush()
    audit.record("create", shipment, summary=f"{len(lines)} lines", parent=order)
    parts = [p for p in (values["carrier"], values["bl_no"] and f"B/L {values['bl_no']}",
                         values["tracking_no"] and f"{_('Tracking')} {values['tracking_no']}") if p]
    event(order, "shipment", " · ".join(parts), user=user, visible=True)
    if order.state == S.INSPECTED.value:
        _move(order, S.SHIPPED.value, user, "shipped", " · ".join(parts))
    _advance(order, user)
    return shipment


def confirm_delivery(order: Order, shipment: Shipment, delivered_on: date, user: User) -> None:
    if delivered_on > local_today():
        raise OrderError({"delivered_on": _("A delivery cannot be confirmed for a future date.")})
    changes = audit.apply_changes(shipment, {"delivered_on": delivered_on})
    audit.record("update", shipment, changes=changes, parent=order)
    event(order, "delivered", delivered_on.isoformat(), user=user, visible=True)
    from ..visits.services import schedule_after_delivery

    schedule_after_delivery(shipment, delivered_on)


# Change requests

def request_change(order: Order, what: str, why: str, user: User) -> ChangeRequest:
    if order.state not in SIGNED_STATES:
        raise TransitionError(_("Change requests are for signed, open orders."))
    errors = {}
    if not (what or "").strip():
        errors["what"] = _("Say what should change.")
    if not (why or "").strip():
        errors["why"] = _("Say why.")
    if errors:
        raise OrderError(errors)
    request = ChangeRequest(what=what.strip(), why=why.strip(), requested_by_id=user.id)
    order.change_requests.append(request)
    db.session.flush()
    audit.record("create", request, summary=what[:200], parent=order)
    event(order, "change_requested", what, user=user)
    return request


def decide_change(order: Order, request: ChangeRequest, approve: bool, note: str, user: User) -> None:
    if user.role not in MANAGERS:
        raise TransitionError(_("You may not do this."))
    if request.state != "requested":
        raise TransitionError(_("This change request has been decided already."))
    request.state = "approved" if approve else "rejected"
    request.decided_by_id, request.decided_at = user.id, utcnow()
    request.decision_note = (note or "").strip()[:500] or None
    audit.record("transition", request, summary=request.state, parent=order)
    event(order, "change_approved" if approve else "change_rejected", request.what, user=user)


# Dunning

def add_dunning(order: Order, data: dict, user: User) -> DunningNote:
    note = (data.get("note") or "").strip()
    if not note:
        raise OrderError({"note": _("Write what was said.")})
    promised_amount = data.get("promised_amount")
    entry = DunningNote(order_id=order.id, noted_on=data.get("noted_on") or local_today(),
                        contact=(data.get("contact") or "").strip()[:100] or None, note=note,
                        promised_on=data.get("promised_on") or None, user_id=user.id,
                        promised_amount=_decimal(promised_amount, field_name="promised_amount")
                        if promised_amount not in (None, "") else None)
    db.session.add(entry)
    db.session.flush()
    audit.record("create", entry, summary=note[:200], parent=order)
    return entry


# Receivables

BUCKETS = ("not_due", "d1_30", "d31_60", "d61_90", "over_90")
BUCKET_LABELS = {"not_due": _l("Not due"), "d1_30": _l("1–30 days"), "d31_60": _l("31–60 days"),
                 "d61_90": _l("61–90 days"), "over_90": _l("Over 90 days")}


@dataclass
class Due:
    """One amount the customer owes: the deposit or the balance, with its due date (None: not yet known)."""

    label: str
    amount: Decimal
    due_on: date | None


def dues(order: Order) -> list[Due]:
    """The order's deposit and balance with their due dates, from its payment terms."""
    total = order.total
    deposit = deposit_due(order)
    result = []
    if deposit > 0:
        result.append(Due("deposit", deposit, order.contract_date))
    balance = total - deposit
    if balance > 0:
        basis = None
        dates = [s.bl_date if order.balance_basis == "bl" else s.ship_date for s in order.shipments]
        dates = [d for d in dates if d]
        if dates:
            basis = max(dates) + timedelta(days=order.balance_days)
        result.append(Due("balance", balance, basis))
    return result


def bucket(due_on: date | None, as_of: date) -> str:
    if due_on is None or due_on >= as_of:
        return "not_due"
    days = (as_of - due_on).days
    if days <= 30:
        return "d1_30"
    if days <= 60:
        return "d31_60"
    if days <= 90:
        return "d61_90"
    return "over_90"


def _split(total: Decimal, paid: Decimal, deposit_percent: Decimal, deposit_on: date | None,
           balance_on: date | None, as_of: date) -> tuple[dict[str, Decimal], date | None]:
    """The open amount split into ageing buckets, and the due date of the oldest amount still open: the
    deposit falls due on the contract date, the balance on its due date; payments settle the oldest first."""
    result = {name: Decimal("0.00") for name in BUCKETS}
    deposit = (total * deposit_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    next_due, first = None, True
    for amount, due_on in ((deposit, deposit_on), (total - deposit, balance_on)):
        if amount <= 0:
            continue
        settled = min(paid, amount)
        paid -= settled
        remaining = amount - settled
        if remaining > 0:
            result[bucket(due_on, as_of)] += remaining
            if first:
                next_due, first = due_on, False
    return result, next_due


def ageing(order: Order, as_of: date) -> dict[str, Decimal]:
    """The open amount of `order` split into ageing buckets; payments settle the oldest due first."""
    return _split(order.total, order.paid, order.deposit_percent, order.contract_date,
                  order.computed_balance_due_on(), as_of)[0]


def next_open_due(order: Order) -> date | None:
    """The due date of the oldest amount still open (payments settle the oldest due first)."""
    return _split(order.total, order.paid, order.deposit_percent, order.contract_date,
                  order.computed_balance_due_on(), date.max)[1]


@dataclass
class CustomerReceivable:
    customer_id: int
    currency: str
    customer: Row | None = None  # id, code and name, loaded for the groups shown
    orders: list = field(default_factory=list)  # (order row: id, number, contract_no; ageing; open; next due)
    totals: dict = field(default_factory=lambda: {name: Decimal("0.00") for name in BUCKETS})

    @property
    def open(self) -> Decimal:
        return sum(self.totals.values(), Decimal("0.00"))

    @property
    def overdue(self) -> Decimal:
        return self.open - self.totals["not_due"]


@dataclass
class Receivables:
    groups: list  # the customers of the page asked for
    count: int  # customers (by currency) with something open
    totals: dict  # currency -> bucket -> amount, over all of them


def _cents(column):
    """A money or percent column as whole hundredths (exact integers on SQLite's floating point too)."""
    return cast(func.round(column * 100), BigInteger)


def _bucket_index(due_on, bounds):
    """The position in BUCKETS of an amount due on `due_on` (a column), as `bucket` decides it; `bounds` are the
    day asked for and the days 30, 60 and 90 before it (dates, or the bind parameters of _AGEING_BOUNDS)."""
    as_of, d30, d60, d90 = bounds
    return case((due_on.is_(None), 0), (due_on >= as_of, 0), (due_on >= d30, 1), (due_on >= d60, 2),
                (due_on >= d90, 3), else_=4)


def _ageing_bounds(as_of: date) -> tuple[date, ...]:
    return (as_of, as_of - timedelta(days=30), as_of - timedelta(days=60), as_of - timedelta(days=90))


_AGEING_BOUNDS = tuple(bindparam(f"ageing_{i}", type_=Date) for i in range(4))  # for statements built once


def _open_orders(user: User, owner_id: int | None):
    """Signed orders not fully paid, in the words of the partial index ix_orders_receivable."""
    stmt = visible_orders(user).where(text(receivable_sql("orders")))
    return stmt.where(Customer.owner_id == owner_id) if owner_id else stmt


class _Fen(NamedTuple):
    """What an order's ageing is computed from: its customer and currency, due dates, and amounts in whole fen
    (the total T, the paid P, the deposit D rounded half up like ROUND_HALF_UP)."""

    customer_id: Any
    currency: Any
    contract_date: Any
    balance_due_on: Any
    total: Any
    paid: Any
    deposit: Any


def _order_fen() -> _Fen:
    total, paid, percent_ = _cents(Order.amount_total), _cents(Order.amount_paid), _cents(Order.deposit_percent)
    return _Fen(Order.customer_id, Order.currency, Order.contract_date, Order.balance_due_on, total, paid,
                (total * percent_ + 5000) // 10000)


def _open_fen(f: _Fen) -> tuple:
    """An open order's (amount_total > amount_paid: the receivable condition) open deposit, open balance and open
    amount in whole fen, as `_split` settles them: payments settle the deposit first, so the balance's open part is
    T - max(P, D) (not below 0). Written so that each is a few comparisons of the cents (the ranking sums them over
    every open order)."""
    total, paid, deposit = f.total, f.paid, f.deposit
    deposit_open = case((deposit > paid, deposit - paid), else_=0)
    balance_open = case((paid >= deposit, total - paid), (total > deposit, total - deposit), else_=0)
    open_ = case((deposit > total, deposit - paid), else_=total - paid)  # their sum (a deposit over 100 % too)
    return deposit_open, balance_open, open_


def _ageing_fen(bounds, f: _Fen | None = None) -> tuple:
    """An open order's ageing as `_split` does it, in whole fen: the deposit's open part and its bucket (its position
    in BUCKETS), the balance's open part and its bucket; `bounds` as for _bucket_index."""
    f = f or _order_fen()
    deposit_open, balance_open, _open = _open_fen(f)
    return (deposit_open.label("deposit_open"), _bucket_index(f.contract_date, bounds).label("deposit_bucket"),
            balance_open.label("balance_open"), _bucket_index(f.balance_due_on, bounds).label("balance_bucket"))


RECEIVABLE_TABLES = ("orders", "customers")  # what the ageing reads (payments and shipments update orders)
# The ranking's statements for each scope (customer_scope_key) and with or without a salesperson asked for, built
# once and run with the ageing bounds (_AGEING_BOUNDS) and the salesperson as bind parameters.
_ranking_statements: dict[tuple, tuple[Select, Select]] = {}


def _ranking(user: User, owner: bool) -> tuple[Select, Select]:
    """Two statements over the open orders: every (customer id, currency) with something open, most overdue first,
    then the largest open amount (summed and sorted by the database), and the open fen per currency, deposit bucket
    and balance bucket (a few dozen rows). Both read only the covering partial index ix_orders_receivable; the
    customers are joined only when the scope or the salesperson asked for needs them."""
    key = (customer_scope_key(user), owner)
    statements = _ranking_statements.get(key)
    if statements is None:
        if user.role in SEE_ALL and not owner:  # every order's customer is in scope: no join
            stmt = select(Order.customer_id).where(text(receivable_sql("orders")))
        else:
            stmt = _open_orders(user, None)
            if owner:
                stmt = stmt.where(Customer.owner_id == bindparam("owner_id"))
        f = _order_fen()
        if db.session.get_bind().dialect.name == "postgresql":
            # PostgreSQL evaluates the numeric conversions again wherever the expressions repeat them (~1.4 us an
            # order); a subquery it cannot flatten (OFFSET 0) computes each once: at 100,000 orders the ranking
            # 10 -> 7 ms, the totals 5.6 -> 2.8 ms. SQLite is faster flat (it groups in the index's order).
            once = stmt.with_only_columns(*(column.label(name) for name, column in zip(_Fen._fields, f))).offset(0)
            f = _Fen(*once.subquery().c)
            stmt = select(f.customer_id)
        deposit_open, balance_open, open_ = _open_fen(f)
        as_of = _AGEING_BOUNDS[0]
        overdue = (case((f.contract_date < as_of, deposit_open), else_=0)
                   + case((f.balance_due_on < as_of, balance_open), else_=0))
        ranked = (stmt.with_only_columns(f.customer_id, f.currency).group_by(f.customer_id, f.currency)
                  .order_by(func.sum(overdue).desc(), func.sum(open_).desc(), f.customer_id, f.currency))
        per_order = stmt.with_only_columns(f.currency, *_ageing_fen(_AGEING_BOUNDS, f)).subquery()
        by_bucket = (select(per_order.c.currency, per_order.c.deposit_bucket, per_order.c.balance_bucket,
                            func.sum(per_order.c.deposit_open), func.sum(per_order.c.balance_open))
                     .group_by(per_order.c.currency, per_order.c.deposit_bucket, per_order.c.balance_bucket))
        statements = _ranking_statements[key] = (ranked, by_bucket)
    return statements


def _ranked_receivables(user: User, as_of: date, owner_id: int | None) -> tuple[list, dict]:
    """Every (customer id, currency) with something open, most overdue first, then the largest open amount; and the
    totals per currency and bucket. Summed and sorted by the database in whole fen; Python reads one short row per
    customer and currency (no ORM rows: ~4,000 at 100,000 orders)."""
    ranked_stmt, by_bucket = _ranking(user, bool(owner_id))
    params = dict(zip((b.key for b in _AGEING_BOUNDS), _ageing_bounds(as_of)))
    if owner_id:
        params["owner_id"] = owner_id
    connection = db.session.connection()
    ranked = [tuple(row) for row in connection.execute(ranked_stmt, params).all()]
    totals: dict[str, list[int]] = {}
    for currency, deposit_bucket, balance_bucket, deposits, balances in connection.execute(by_bucket, params):
        fen = totals.setdefault(currency, [0] * len(BUCKETS))
        fen[deposit_bucket] += int(deposits or 0)
        fen[balance_bucket] += int(balances or 0)
    return ranked, {currency: {name: (Decimal(amount) / 100).quantize(CENT) for name, amount in zip(BUCKETS, fen)}
                    for currency, fen in totals.items()}


# The page's customers and orders: statements built once (per scope, and with or without a salesperson asked for),
# run with the page's customer ids and the ageing bounds (building and keying them cost more than running them).
_PAGE_CUSTOMERS = select(Customer.id, Customer.code, Customer.name).where(
    Customer.id.in_(bindparam("customer_ids", expanding=True)))
_page_order_statements: dict[tuple, Select] = {}


def _page_orders(user: User, owner_id: int | None) -> Select:
    key = (customer_scope_key(user), bool(owner_id))
    stmt = _page_order_statements.get(key)
    if stmt is None:
        stmt = _open_orders(user, None)
        if owner_id:
            stmt = stmt.where(Customer.owner_id == bindparam("owner_id"))
        stmt = _page_order_statements[key] = (
            stmt.where(Order.customer_id.in_(bindparam("customer_ids", expanding=True)))
            .with_only_columns(Order.id, Order.number, Order.contract_no, Order.customer_id, Order.currency,
                               Order.contract_date, Order.balance_due_on,
                               (_cents(Order.amount_total) - _cents(Order.amount_paid)).label("open"),
                               *_ageing_fen(_AGEING_BOUNDS))
            .order_by(Order.contract_date, Order.id))
    return stmt


def receivables(user: User, as_of: date, owner_id: int | None = None, page: int = 1,
                per_page: int | None = None) -> Receivables:
    """Open amounts of signed orders the user may see, by customer and currency, with ageing, most overdue
    first. The ageing of every open order is summed by customer in the database in whole fen, as `_split`
    does it (deposit due on the contract date, balance on its due date, payments settle the oldest first);
    one row per customer and currency comes back, and the ranking and totals are added up from those (kept
    per worker until an order or customer changes: portal/datacache.py). Only the orders of the customers on
    the page asked for are loaded, with their ageing in fen by the same expressions (_ageing_fen)."""
    ranked, totals = datacache.cached(
        "receivables", RECEIVABLE_TABLES, (customer_scope_key(user), owner_id, as_of),
        lambda: _ranked_receivables(user, as_of, owner_id))
    totals = {currency: dict(buckets) for currency, buckets in totals.items()}  # the cached value stays as it is
    keys = ranked if per_page is None else ranked[(max(page, 1) - 1) * per_page:max(page, 1) * per_page]
    groups = {key: CustomerReceivable(*key) for key in keys}
    if groups:
        customer_ids = list({key[0] for key in keys})
        customers = {c.id: c for c in db.session.execute(_PAGE_CUSTOMERS, {"customer_ids": customer_ids})}
        params = {"customer_ids": customer_ids, **dict(zip((b.key for b in _AGEING_BOUNDS), _ageing_bounds(as_of)))}
        if owner_id:
            params["owner_id"] = owner_id
        rows = db.session.execute(_page_orders(user, owner_id), params)
        for row in rows:  # the orders' ageing in fen by the ranking's own expressions (= _split, tested)
            group = groups.get((row.customer_id, row.currency))
            if group is None:
                continue
            split = dict.fromkeys(BUCKETS, Decimal("0.00"))
            split[BUCKETS[row.deposit_bucket]] += Decimal(row.deposit_open) / 100
            split[BUCKETS[row.balance_bucket]] += Decimal(row.balance_open) / 100
            next_due = (row.contract_date if row.deposit_open > 0 else
                        row.balance_due_on if row.balance_open > 0 else None)
            group.orders.append((row, split, Decimal(row.open) / 100, next_due))
            for name in BUCKETS:
                group.totals[name] += split[name]
        for group in groups.values():
            group.customer = customers[group.customer_id]
    return Receivables(list(groups.values()), len(ranked), totals)


def collection_rate(user: User, start: date, end: date, owner_id: int | None = None) -> dict[str, dict]:
    """回款率 per currency for [start, end]: payments received ÷ amounts that fell due in the period
    (deposits on the contract date, balances on their due date), summed in the database; kept per worker
    until an order, payment or customer changes (portal/datacache.py)."""
    result = datacache.cached("collection_rate", ("orders", "payments", "customers"),
                              (customer_scope_key(user), owner_id, start, end),
                              lambda: _collection_rate(user, start, end, owner_id))
    return {currency: dict(row) for currency, row in result.items()}


def _collection_rate(user: User, start: date, end: date, owner_id: int | None) -> dict[str, dict]:
    if user.role in SEE_ALL and not owner_id:  # every order's customer is in scope: no join (a lookup an order)
        scope = select(Order)
    else:
        scope = visible_orders(user).where(Customer.owner_id == owner_id) if owner_id else visible_orders(user)
    scope = scope.where(Order.state.in_(SIGNED_STATES + (S.CLOSED.value,)))
    deposit = func.round(Order.amount_total * Order.deposit_percent / 100, 2)
    fell_due = func.sum(
        case((Order.contract_date.between(start, end), deposit), else_=0)
        + case((Order.balance_due_on.between(start, end), Order.amount_total - deposit), else_=0))
    result: dict[str, dict] = {}
    for currency, due in db.session.execute(
            scope.with_only_columns(Order.currency, fell_due)
            .where(or_(Order.contract_date.between(start, end), Order.balance_due_on.between(start, end)))
            .group_by(Order.currency)):
        result[currency] = {"due": Decimal(due or 0).quantize(CENT), "received": Decimal("0.00")}
    # the period's payments joined to their orders (by the payments' date index), not "order id in every order"
    paid = (scope.with_only_columns(Order.currency, func.sum(Payment.amount))
            .join(Payment, Payment.order_id == Order.id).where(Payment.received_on.between(start, end))
            .group_by(Order.currency))
    for currency, received in db.session.execute(paid):
        row = result.setdefault(currency, {"due": Decimal("0.00"), "received": Decimal("0.00")})
        row["received"] = Decimal(received or 0).quantize(CENT)
    for currency in list(result):
        row = result[currency]
        if not row["due"] and not row["received"]:
            del result[currency]
            continue
        row["rate"] = (row["received"] / row["due"] * 100).quantize(Decimal("0.1")) if row["due"] else None
    return result


_DUNNING_NOTES = (select(DunningNote).where(DunningNote.order_id.in_(bindparam("order_ids", expanding=True)))
                  .order_by(DunningNote.noted_on.desc(), DunningNote.id.desc()))


def dunning_notes(order_ids: list[int]) -> dict[int, list[DunningNote]]:
    notes: dict[int, list[DunningNote]] = {}
    if not order_ids:
        return notes
    for note in db.session.scalars(_DUNNING_NOTES, {"order_ids": list(order_ids)}):
        notes.setdefault(note.order_id, []).append(note)
    return notes


# Lists and home page

LIST_COUNT_CAP = 10_000  # the list says "10,000+ orders" beyond this
WALK_SORT_INDEX_FROM = 2_000


def list_page(user: User, filters: dict, page: int, per_page: int, rows=None) -> CappedPage:
    """A page of the order list: orders, or the rows of `rows(statement)` (a select of the columns shown).
    Counting stops at LIST_COUNT_CAP. SQLite plans a salesperson's list from
    the owner index and sorts all of their orders (85 ms for 50,000); when the count says there are many,
    the query is written so that it walks the sort column's index and stops after the page (1–2 ms); for
    few orders the first plan is the fast one."""
    stmt = search(user, filters)
    total = _count(user, filters, stmt)
    if total >= WALK_SORT_INDEX_FROM and db.session.get_bind().dialect.name == "sqlite":
        stmt = search(user, filters, by_sort_index=True)
    if rows is not None:
        return page_of(rows(stmt), page, per_page, total, LIST_COUNT_CAP, rows=True)
    return page_of(stmt, page, per_page, total, LIST_COUNT_CAP)

def _count(user: User, filters: dict, stmt) -> int:
    """The list's capped count, kept per worker until an order or customer changes (portal/datacache.py): on
    SQLite a state filter's count walks all of a salesperson's customers (~2.4 ms at 10,000). A search text
    is counted each time (free text would crowd the cache's other values out)."""
    if (filters.get("q") or "").strip():
        return capped_count(stmt, LIST_COUNT_CAP)
    key = (customer_scope_key(user), filters.get("state") or None, bool(filters.get("open")),
           local_today() if filters.get("late") else None, filters.get("owner") or None)
    return datacache.cached("order_count", ("orders", "customers"), key,
                            lambda: capped_count(stmt, LIST_COUNT_CAP))


def search(user: User, filters: dict, by_sort_index: bool = False):
    """The scoped, filtered, sorted order query of the list. `by_sort_index`: the owner conditions are
    written so that SQLite walks the sort column's index instead of sorting all of a salesperson's orders."""
    stmt = visible_orders(user, indexed=not by_sort_index)
    q = (filters.get("q") or "").strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(func.lower(Order.number).like(like) | func.lower(Order.contract_no).like(like)
                          | func.lower(Customer.name).like(like) | func.lower(Customer.code).like(like)
                          | func.lower(Order.customer_po).like(like))
    if filters.get("state"):
        stmt = stmt.where(Order.state == filters["state"])
    if filters.get("open"):
        stmt = stmt.where(Order.state.in_(OPEN_STATES))
    if filters.get("late"):
        stmt = stmt.where(Order.promised_date < local_today(), Order.state.in_(BEFORE_SHIPPING))
    if filters.get("owner"):
        if by_sort_index:
            stmt = stmt.where(of_customer_where(ORDER_CUSTOMER.owner_id + 0 == int(filters["owner"])))
        else:
            stmt = stmt.where(Customer.owner_id == int(filters["owner"]))
    sort = filters.get("sort") or "-created"
    columns = {"number": Order.number, "created": Order.created_at, "promised": Order.promised_date,
               "state": Order.state, "customer": Customer.name}
    column = columns.get(sort.lstrip("-"), Order.created_at)
    return stmt.order_by(column.desc() if sort.startswith("-") else column.asc(), Order.id.desc())


def to_ship_this_week(user: User, today: date):
    end = today + timedelta(days=6 - today.weekday())
    return db.session.scalars(
        visible_orders(user).where(text("orders." + AWAITING_SHIPMENT_SQL), Order.promised_date <= end,
                                   Order.promised_date >= today)
        .options(selectinload(Order.customer)).order_by(Order.promised_date).limit(20)).all()


def late_deliveries(user: User, today: date):
    return db.session.scalars(
        visible_orders(user).where(text("orders." + AWAITING_SHIPMENT_SQL), Order.promised_date < today)
        .options(selectinload(Order.customer)).order_by(Order.promised_date).limit(20)).all()


def plans_awaiting_approval(user: User):
    if user.role not in MANAGERS:
        return []
    # driven from the few submitted plans, each order's customer checked by its key (of_customer_where): joined
    # the other way round SQLite walked every order (6 ms at 100,000 orders with no plan waiting)
    return db.session.scalars(
        select(Order).join(ProductionPlan, ProductionPlan.order_id == Order.id)
        .where(ProductionPlan.state == "submitted",
               of_customer_where(customer_scope(user, indexed=False, customer=ORDER_CUSTOMER)))
        .options(selectinload(Order.customer)).order_by(ProductionPlan.id).limit(20)).all()


def changes_awaiting_approval(user: User):
    if user.role not in MANAGERS:
        return []
    # driven from the few open requests as above, not "order id in every visible order": SQLite built that list
    # of 100,000 ids first (38 ms of a manager's home page with no request waiting)
    return db.session.scalars(
        select(ChangeRequest).join(Order, ChangeRequest.order_id == Order.id)
        .where(ChangeRequest.state == "requested",
               of_customer_where(customer_scope(user, indexed=False, customer=ORDER_CUSTOMER)))
        .order_by(ChangeRequest.requested_at, ChangeRequest.id).limit(20)).all()


def as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


# Sales targets (销售目标): a salesperson's monthly target in CNY against contracts signed, and collection

def _months(year: int) -> list[tuple[date, date]]:
    return [(date(year, m, 1), (date(year + (m == 12), m % 12 + 1, 1) - timedelta(days=1))) for m in range(1, 13)]


def signed_by_month(year: int, owner_ids: list[int], start: date | None = None,
                    end: date | None = None) -> dict[tuple[int, int], Decimal]:
    """CNY value of contracts signed in each month of `year` (or between `start` and `end` within it), by the
    customer's salesperson: {(owner, month): x}. Lines are summed in the database (quantity × price × rate),
    the result rounded to the fen."""
    month = func.extract("month", Order.contract_date)
    value = func.sum(OrderItem.quantity * OrderItem.unit_price * func.coalesce(Order.exchange_rate, 1))
    rows = db.session.execute(
        select(Customer.owner_id, month, value).select_from(Order).join(Customer, Customer.id == Order.customer_id)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.contract_date >= (start or date(year, 1, 1)), Order.contract_date <= (end or date(year, 12, 31)),
               Order.state != S.CANCELLED.value, Customer.owner_id.in_(owner_ids))
        .group_by(Customer.owner_id, month)).all()
    return {(owner, int(m)): Decimal(v or 0).quantize(CENT, rounding=ROUND_HALF_UP) for owner, m, v in rows}


def received_by_month(year: int, owner_ids: list[int], start: date | None = None,
                      end: date | None = None) -> dict[tuple[int, int], Decimal]:
    """CNY value of payments received in each month of `year` (or between `start` and `end`), by salesperson."""
    month = func.extract("month", Payment.received_on)
    value = func.sum(Payment.amount * func.coalesce(Order.exchange_rate, 1))
    rows = db.session.execute(
        select(Customer.owner_id, month, value).select_from(Payment).join(Order, Order.id == Payment.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Payment.received_on >= (start or date(year, 1, 1)), Payment.received_on <= (end or date(year, 12, 31)),
               Customer.owner_id.in_(owner_ids))
        .group_by(Customer.owner_id, month)).all()
    return {(owner, int(m)): Decimal(v or 0).quantize(CENT, rounding=ROUND_HALF_UP) for owner, m, v in rows}


def percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    return (part / whole * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if whole else None


def target_table(year: int, people: list[User]) -> list[dict]:
    """For each salesperson: per month target, signed, received and achievement; totals for the year."""
    ids = [p.id for p in people]
    targets = {(t.user_id, t.month): t.amount for t in db.session.scalars(
        select(SalesTarget).where(SalesTarget.year == year, SalesTarget.user_id.in_(ids)))}
    signed, received = signed_by_month(year, ids), received_by_month(year, ids)
    zero = Decimal("0.00")
    table = []
    for person in people:
        months = []
        for m in range(1, 13):
            target = targets.get((person.id, m))
            done = signed.get((person.id, m), zero)
            months.append({"month": m, "target": target, "signed": done, "received": received.get((person.id, m), zero),
                           "achievement": percent(done, target)})
        total_target = sum((x["target"] or zero for x in months), zero)
        total_signed = sum((x["signed"] for x in months), zero)
        table.append({"user": person, "months": months, "target": total_target or None, "signed": total_signed,
                      "received": sum((x["received"] for x in months), zero),
                      "achievement": percent(total_signed, total_target)})
    return table


def set_targets(year: int, amounts: dict[tuple[int, int], str], people: dict[int, User], user: User) -> int:
    """Write monthly targets {(user_id, month): text}; empty clears. Refuses bad amounts as a whole."""
    if user.role not in MANAGERS:
        raise TransitionError(_("You may not do this."))
    if not 2000 <= year <= 2100:
        raise OrderError({"": _("Choose a year.")})
    values, errors = {}, {}
    for (user_id, month), raw in amounts.items():
        if user_id not in people or not 1 <= month <= 12:
            continue
        if (raw or "").strip() == "":
            values[(user_id, month)] = None
            continue
        try:
            values[(user_id, month)] = _decimal(raw, field_name=f"t_{user_id}_{month}")
        except OrderError as error:
            errors.update(error.errors)
    if errors:
        raise OrderError(errors)
    existing = {(t.user_id, t.month): t for t in db.session.scalars(
        select(SalesTarget).where(SalesTarget.year == year, SalesTarget.user_id.in_(list(people))))}
    changed = 0
    for (user_id, month), amount in values.items():
        row = existing.get((user_id, month))
        before = row.amount if row is not None else None
        if amount == before:
            continue
        if amount is None:
            db.session.delete(row)
        elif row is None:
            row = SalesTarget(user_id=user_id, year=year, month=month, amount=amount, set_by_id=user.id)
            db.session.add(row)
        else:
            row.amount, row.set_by_id = amount, user.id
        db.session.flush()
        audit.record("update", row, summary=f"{people[user_id].display_name} {year}-{month:02d}",
                     changes={"amount": [str(before) if before is not None else None,
                                         str(amount) if amount is not None else None]}, user=user)
        changed += 1
    return changed


def month_summary(user: User, today: date) -> dict | None:
    """A salesperson's month so far for the home page: target, signed, achievement, collection rate (only this
    month's rows are summed, not the year's)."""
    start, key, zero = today.replace(day=1), (user.id, today.month), Decimal("0.00")
    target = db.session.scalar(select(SalesTarget.amount).where(
        SalesTarget.user_id == user.id, SalesTarget.year == today.year, SalesTarget.month == today.month))
    signed = signed_by_month(today.year, [user.id], start, today).get(key, zero)
    received = received_by_month(today.year, [user.id], start, today).get(key, zero)
    return {"target": target, "signed": signed, "achievement": percent(signed, target), "received": received,
            "collection": collection_rate(user, start, today)}
