"""Rules of sample requests (打样单): the sheet, its workflow, photos, conversion to a quotation or order."""
from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from .. import attachments, audit, numbering
from ..customers.access import visible_customers
from ..customers.services import name_key, normalise
from ..extensions import db
from ..forms import date_range_error
from ..i18n import local_today, local_zone
from ..models import (CURRENCIES, AuditLog, Customer, Evaluation, FeeTerms, Product, Role, SampleRequest, SampleState,
                      User)
from ..models.base import utcnow
from ..workflow import Transition, TransitionError, Workflow
from .access import owns, visible_samples

S = SampleState
STAFF = frozenset({Role.ADMIN.value, Role.MANAGER.value, Role.SALES.value})
MANAGERS = frozenset({Role.ADMIN.value, Role.MANAGER.value})

# The sheet's way from request to conversion, in order (closing can happen at any open step).
STEPS = (S.DRAFT.value, S.SUBMITTED.value, S.APPROVED.value, S.IN_PROGRESS.value, S.FINISHED.value, S.SENT.value,
         S.RECEIVED.value, S.EVALUATED.value, S.CONVERTED.value)
OPEN_STATES = tuple(s.value for s in S if s not in (S.CONVERTED, S.CLOSED))
BEFORE_SENT = (S.DRAFT.value, S.SUBMITTED.value, S.APPROVED.value, S.IN_PROGRESS.value, S.FINISHED.value)
PHOTO_STATES = (S.IN_PROGRESS.value, S.FINISHED.value)
EVALUABLE = (S.SENT.value, S.RECEIVED.value)  # the customer can give the evaluation
CONVERSIONS = ("convert_quote", "convert_order")
MAX_QUANTITY = 1_000_000

WORKFLOW = Workflow([
    Transition("submit", (S.DRAFT.value,), S.SUBMITTED.value, STAFF, _l("Submit for approval"), "primary",
               owner_only=True),
    Transition("approve", (S.SUBMITTED.value,), S.APPROVED.value, MANAGERS, _l("Approve and sign"), "primary"),
    Transition("reject", (S.SUBMITTED.value,), S.DRAFT.value, MANAGERS, _l("Send back"), "danger",
               fields=("rejection_reason",)),
    Transition("start", (S.APPROVED.value,), S.IN_PROGRESS.value, STAFF, _l("Start making the sample"), "primary",
               owner_only=True),
    Transition("finish", (S.IN_PROGRESS.value,), S.FINISHED.value, STAFF, _l("Finished and inspected"), "primary",
               owner_only=True, fields=("inspection_note",)),
    Transition("send", (S.FINISHED.value,), S.SENT.value, STAFF, _l("Send to the customer"), "primary",
               owner_only=True, fields=("courier_company", "tracking_no", "expected_arrival")),
    Transition("receive", (S.SENT.value,), S.RECEIVED.value, STAFF, _l("Received by the customer"), "",
               owner_only=True, fields=("received_on",)),
    # The buyer may give the evaluation in the customer portal (owns: their own company's samples).
    Transition("evaluate", EVALUABLE, S.EVALUATED.value, STAFF | {Role.CUSTOMER.value},
               _l("Record the customer's evaluation"), "primary", owner_only=True,
               fields=("evaluation", "evaluation_comment")),
    Transition("convert_quote", (S.EVALUATED.value,), S.CONVERTED.value, STAFF, _l("Convert to a quotation"),
               "primary", owner_only=True),
    Transition("convert_order", (S.EVALUATED.value,), S.CONVERTED.value, STAFF, _l("Convert to an order"), "",
               owner_only=True),
    # "Changes needed": the next round is a new sheet (its own number, approval and fees); this one closes.
    Transition("new_round", (S.EVALUATED.value,), S.CLOSED.value, STAFF, _l("Make a new sample (next round)"), "",
               owner_only=True),
    Transition("close", OPEN_STATES, S.CLOSED.value, STAFF, _l("Close"), "danger", owner_only=True,
               fields=("close_reason",)),
])


# What the version check names when someone else saved first.
FIELD_LABELS = {
    "customer_id": _l("Customer"), "title": _l("Sample name"), "requirement": _l("Customer's requirement"),
    "product_id": _l("Product"), "specification": _l("Specification"), "quantity": _l("Quantity for the customer"),
    "retained_quantity": _l("Retained samples (留样)"), "sample_fee": _l("Sample fee"),
    "sample_fee_terms": _l("Sample fee terms"), "courier_fee": _l("Courier fee"),
    "courier_fee_terms": _l("Courier fee terms"), "currency": _l("Currency"), "due_date": _l("Due date"),
    "state": _l("State"),
}


class SampleError(ValueError):
    """Refused input: {field: message} for the form (field "" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ConflictError(SampleError):
    """Someone else saved the sheet since it was opened; `changed` names what they changed."""

    def __init__(self, changed: list[str]):
        super().__init__({"": _("Someone else saved this sample request while you were editing it. "
                                "Changed meanwhile: %(fields)s. Reload and apply your change again.",
                                fields=", ".join(changed) or "-")})
        self.changed = changed


# The workflow

def allowed(sample: SampleRequest, user: User) -> list[Transition]:
    """The actions `user` may take on `sample` now (the buttons of the page)."""
    return [t for t in WORKFLOW.allowed(sample, user, owns(user, sample)) if _condition_met(sample, t.name)]


def check(sample: SampleRequest, user: User, name: str) -> Transition:
    """The transition `name` if `user` may take it now, else TransitionError (nothing changes)."""
    transition = WORKFLOW.check(sample, user, name, owns(user, sample))
    if not _condition_met(sample, name):
        if name == "new_round":
            raise TransitionError(_("A new round is made when the customer asked for changes."))
        raise TransitionError(_("Only a sample the customer approved can be converted."))
    return transition


def _condition_met(sample: SampleRequest, name: str) -> bool:
    if name == "new_round":
        return sample.evaluation == Evaluation.CHANGES.value
    return name not in CONVERSIONS or sample.evaluation == Evaluation.APPROVED.value


def perform(sample: SampleRequest, name: str, data: dict, user: User):
    """Take the transition `name` with its form values. Returns the quotation or order a conversion
    created (else None). TransitionError when not allowed now, SampleError for missing values."""
    transition = check(sample, user, name)
    return _HANDLERS[name](sample, transition, data or {}, user)


def _move(sample: SampleRequest, transition: Transition, values: dict | None = None) -> None:
    source, target = sample.state, transition.target
    changes = audit.apply_changes(sample, {**(values or {}), "state": target})
    changes["state"] = [source, target]
    audit.record("transition", sample, summary=f"{source}→{target}", changes=changes)
    db.session.flush()


def printable(value) -> str:
    """User text without control characters (PostgreSQL refuses NUL), keeping line breaks and tabs."""
    return "".join(ch for ch in str(value or "") if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def _text(data: dict, field: str, multiline: bool = False) -> str:
    value = printable(str(data.get(field) or "").replace("\r\n", "\n"))
    return value.strip() if multiline else normalise(value)


def _required(data: dict, field: str, max_length: int, message: str, errors: dict, multiline=False) -> str:
    value = _text(data, field, multiline)
    if not value:
        errors[field] = message
    elif len(value) > max_length:
        errors[field] = _("At most %(n)d characters.", n=max_length)
    return value


def _date(value, field: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = date.fromisoformat(str(value).strip())
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
        raise SampleError(errors)


def _submit(sample, transition, data, user):
    _move(sample, transition, {"submitted_at": utcnow(), "rejection_reason": None})


def _approve(sample, transition, data, user):
    """The manager's signature: who approved and when."""
    _move(sample, transition, {"approved_by_id": user.id, "approved_at": utcnow()})


def _reject(sample, transition, data, user):
    errors = {}
    reason = _required(data, "rejection_reason", 500, _("Say why the sheet is sent back."), errors, True)
    _raise(errors)
    _move(sample, transition, {"rejection_reason": reason, "submitted_at": None})


def _start(sample, transition, data, user):
    _move(sample, transition, {"started_at": utcnow()})


def _finish(sample, transition, data, user):
    errors = {}
    note = _required(data, "inspection_note", 5000, _("Write down what the inspection found."), errors, True)
    _raise(errors)
    _move(sample, transition, {"inspection_note": note, "finished_at": utcnow()})


def _send(sample, transition, data, user):
    errors = {}
    company = _required(data, "courier_company", 60, _("Name the courier company."), errors)
    tracking = _required(data, "tracking_no", 60, _("Enter the tracking number."), errors).replace(" ", "")
    arrival = _date(data.get("expected_arrival"), "expected_arrival", errors)
    if arrival and arrival < local_today():
        errors["expected_arrival"] = _("The expected arrival cannot be in the past.")
    _raise(errors)
    _move(sample, transition, {"courier_company": company, "tracking_no": tracking, "expected_arrival": arrival,
                               "sent_at": utcnow()})


def _receive(sample, transition, data, user):
    errors = {}
    today = local_today()
    received = _date(data.get("received_on"), "received_on", errors) or today
    sent_on = sample.sent_at.astimezone(local_zone()).date() if sample.sent_at else None
    if received > today:
        errors["received_on"] = _("The date of receipt cannot be in the future.")
    elif sent_on and received < sent_on:
        errors["received_on"] = _("The sample cannot arrive before it was sent.")
    _raise(errors)
    _move(sample, transition, {"received_on": received})


def _evaluate(sample, transition, data, user):
    errors = {}
    result = (data.get("evaluation") or "").strip()
    if result not in [e.value for e in Evaluation]:
        errors["evaluation"] = _("Choose the customer's evaluation.")
    comment = _text(data, "evaluation_comment", multiline=True)
    if len(comment) > 5000:
        errors["evaluation_comment"] = _("At most %(n)d characters.", n=5000)
    elif not comment and result in (Evaluation.CHANGES.value, Evaluation.REJECTED.value):
        errors["evaluation_comment"] = _("Write down what the customer wants changed or why they rejected it.")
    _raise(errors)
    _move(sample, transition, {
        "evaluation": result, "evaluation_comment": comment or None, "evaluated_at": utcnow(),
        "evaluated_by_id": user.id, "evaluation_seen": user.role != Role.CUSTOMER.value})


def record_evaluation(sample: SampleRequest, result: str, comment: str | None, user: User) -> SampleRequest:
    """The customer's verdict on the sample, given by staff or by the buyer in the portal; a buyer's
    evaluation stays unread (evaluation_seen False) until the salesperson has seen it."""
    perform(sample, "evaluate", {"evaluation": result, "evaluation_comment": comment}, user)
    return sample


def _line(sample: SampleRequest) -> dict:
    """The one line a conversion starts with: the sampled product, one unit at its list price (if in the
    sample's currency, else zero: the salesperson prices it on the draft)."""
    product = sample.product
    price = Decimal("0")
    if product is not None and product.default_price is not None and product.currency == sample.currency:
        price = product.default_price
    return {"product_id": sample.product_id, "description": (product.name if product else sample.title)[:200],
            "specification": sample.specification or (product.specification if product else None) or "",
            "quantity": "1", "unit": (product.unit if product else None) or "pcs", "unit_price": str(price)}


def _note(sample: SampleRequest) -> str:
    return _("From sample request %(number)s", number=sample.number)


def _convert_quote(sample, transition, data, user):
    """A draft quotation for the customer with the sampled item, linked both ways."""
    from ..quotes import services as quotes

    try:
        quote = quotes.create_quote({"currency": sample.currency, "sample_id": sample.id, "notes": _note(sample)},
                                    user, customer=sample.customer)
        quotes.add_item(quote, _line(sample), user)
    except quotes.QuoteError as error:
        raise SampleError({"": "; ".join(str(m) for m in error.errors.values())}) from None
    _move(sample, transition, {"quote_id": quote.id, "evaluation_seen": True})
    return quote


def _convert_order(sample, transition, data, user):
    """An order in state inquiry for the customer with the sampled item, linked both ways."""
    from ..orders import services as orders

    try:
        order = orders.create_order(sample.customer, {"currency": sample.currency, "notes": _note(sample)}, user)
        order.sample_id = sample.id
        orders.add_item(order, _line(sample), user)
    except orders.OrderError as error:
        raise SampleError({"": "; ".join(str(m) for m in error.errors.values())}) from None
    _move(sample, transition, {"order_id": order.id, "evaluation_seen": True})
    return order


def _close(sample, transition, data, user):
    errors = {}
    reason = _required(data, "close_reason", 500, _("Say why the sample request is closed."), errors, True)
    _raise(errors)
    _move(sample, transition, {"close_reason": reason, "closed_at": utcnow(), "evaluation_seen": True})


ROUND_FIELDS = ("customer_id", "product_id", "title", "specification", "quantity", "retained_quantity",
                "sample_fee", "sample_fee_terms", "courier_fee", "courier_fee_terms", "currency")


def _new_round(sample, transition, data, user):
    """A new draft sheet with the same item, the customer's feedback added to the requirement; this one closes
    naming it (and the new one names this one), so both rounds are found from each other."""
    feedback = _("Round after %(number)s, customer's feedback: %(comment)s", number=sample.number,
                 comment=sample.evaluation_comment or "-")
    following = SampleRequest(number=numbering.next_number("sample", local_today().year), state=S.DRAFT.value,
                              created_by_id=user.id, requirement=f"{sample.requirement}\n\n{feedback}".strip(),
                              **{name: getattr(sample, name) for name in ROUND_FIELDS})
    db.session.add(following)
    db.session.flush()
    audit.record("create", following, summary=f"{following.number} {following.title} ← {sample.number}")
    _move(sample, transition, {"close_reason": _("Next round: %(number)s", number=following.number),
                               "closed_at": utcnow(), "evaluation_seen": True})
    return following


_HANDLERS = {
    "submit": _submit, "approve": _approve, "reject": _reject, "start": _start, "finish": _finish, "send": _send,
    "receive": _receive, "evaluate": _evaluate, "convert_quote": _convert_quote, "convert_order": _convert_order,
    "new_round": _new_round, "close": _close,
}
assert set(_HANDLERS) == set(WORKFLOW.transitions)


def mark_evaluation_seen(sample: SampleRequest, user: User) -> bool:
    """The salesperson has read the buyer's evaluation; True if it was unread."""
    if not owns(user, sample) or user.role not in STAFF:
        raise TransitionError(_("You may not do this."))
    if sample.evaluation_seen:
        return False
    changes = audit.apply_changes(sample, {"evaluation_seen": True})
    audit.record("update", sample, changes=changes)
    db.session.flush()
    return True


# The sheet

def find_customer(text: str | None, user: User) -> Customer | None:
    """The customer `user` may see whose code (or exact company name) is `text`."""
    text = normalise(printable(text))[:200]
    if not text:
        return None
    scoped = visible_customers(user)
    customer = db.session.scalar(scoped.where(func.upper(Customer.code) == text.upper()))
    if customer is None:
        found = db.session.scalars(scoped.where(Customer.name_key == name_key(text)).limit(2)).all()
        customer = found[0] if len(found) == 1 else None
    return customer


def active_products() -> list[Product]:
    return db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code)).all()


def record_id(value) -> int | None:
    """A database id from user input, or None (never a number the database would refuse)."""
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**31 else None


def _amount(data: dict, field: str, errors: dict) -> Decimal | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or amount < 0 or amount >= Decimal("1e12"):
        errors[field] = _("Enter an amount of zero or more.")
    return amount


def _count(data: dict, field: str, errors: dict) -> int | None:
    value = data.get(field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not 1 <= number <= MAX_QUANTITY:
        errors[field] = _("Enter a whole number of at least 1.")
    return number


def clean(data: dict, user: User, current: SampleRequest | None = None) -> dict:
    """Normalised values of a sample sheet; SampleError lists every problem at once."""
    errors: dict[str, str] = {}
    values: dict = {}
    customer = None
    if record_id(data.get("customer_id")):
        customer = db.session.scalar(visible_customers(user).where(Customer.id == record_id(data["customer_id"])))
    elif data.get("customer_code"):
        customer = find_customer(data.get("customer_code"), user)
    if customer is None:
        errors["customer_code"] = _("Enter the code or exact name of one of your customers.")
    values["customer_id"] = customer.id if customer else None
    values["title"] = _required(data, "title", 200, _("Give the sample a short title."), errors)
    values["requirement"] = _required(data, "requirement", 10000, _("Describe what the customer requires."),
                                      errors, multiline=True)
    values["specification"] = _text(data, "specification") or None
    if values["specification"] and len(values["specification"]) > 300:
        errors["specification"] = _("At most %(n)d characters.", n=300)
    product_id = data.get("product_id") or None
    values["product_id"] = None
    if product_id:
        product = db.session.get(Product, record_id(product_id)) if record_id(product_id) else None
        keep = current is not None and current.product_id == getattr(product, "id", None)
        if product is None or not (product.active or keep):
            errors["product_id"] = _("Choose a product from the catalogue.")
        else:
            values["product_id"] = product.id
            if not values["specification"] and current is None:
                values["specification"] = product.specification
    values["quantity"] = _count(data, "quantity", errors)
    values["retained_quantity"] = _count(data, "retained_quantity", errors)
    terms = [t.value for t in FeeTerms]
    for fee in ("sample_fee", "courier_fee"):
        values[fee] = _amount(data, fee, errors)
        values[f"{fee}_terms"] = (data.get(f"{fee}_terms") or "").strip()
        if values[f"{fee}_terms"] not in terms:
            errors[f"{fee}_terms"] = _("Choose paid, collect or waived.")
    if values["sample_fee_terms"] in (FeeTerms.PAID.value, FeeTerms.COLLECT.value) and not values["sample_fee"] \
            and "sample_fee" not in errors:
        errors["sample_fee"] = _("Enter the sample fee, or choose waived.")
    for fee in ("sample_fee", "courier_fee"):
        if values[f"{fee}_terms"] == FeeTerms.WAIVED.value and values[fee] and fee not in errors:
            errors[fee] = _("A waived fee has no amount; leave it empty or choose paid or collect.")
    values["currency"] = (data.get("currency") or "").strip()
    if values["currency"] not in CURRENCIES:
        errors["currency"] = _("Choose a currency.")
    due = _date(data.get("due_date"), "due_date", errors)
    if due and due < local_today() and (current is None or due != current.due_date):
        errors["due_date"] = _("The due date cannot be in the past.")
    values["due_date"] = due
    _raise(errors)
    return values


def create_sample(data: dict, user: User) -> SampleRequest:
    """A new draft sheet with the next number of the year (DY2026-0001)."""
    values = clean(data, user)
    sample = SampleRequest(number=numbering.next_number("sample", local_today().year), state=S.DRAFT.value,
                           created_by_id=user.id, **values)
    db.session.add(sample)
    db.session.flush()
    audit.record("create", sample, summary=f"{sample.number} {sample.title}")
    return sample


def editable(sample: SampleRequest, user: User) -> bool:
    return sample.state == S.DRAFT.value and user.role in STAFF and owns(user, sample)


def update_sample(sample: SampleRequest, data: dict, user: User, version: int | None) -> dict:
    """Save changes to a draft, refusing them if someone else saved since `version` was read."""
    if not editable(sample, user):
        raise TransitionError(_("Only a draft can be edited."))
    if version is not None and int(version) != sample.version:
        raise ConflictError(changed_since(sample, int(version)))
    values = clean(data, user, current=sample)
    changes = audit.apply_changes(sample, values)
    if changes:
        audit.record("update", sample, changes=changes)
        db.session.flush()
    return changes


def changed_since(sample: SampleRequest, version: int) -> list[str]:
    """Names of the fields changed by the saves and transitions recorded after `version` (audit trail)."""
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.entity_type == "SampleRequest", AuditLog.entity_id == sample.id,
                               AuditLog.action.in_(("update", "transition")))
        .order_by(AuditLog.id.desc()).limit(max(min(sample.version - version, sample.version), 1))).all()
    fields: list[str] = []
    for entry in entries:
        for field in (entry.changes or {}):
            label = str(FIELD_LABELS[field]) if field in FIELD_LABELS else None
            if label and label not in fields:
                fields.append(label)
    return fields


def photos_allowed(sample: SampleRequest, user: User) -> bool:
    """Inspection photos are added while the sample is made or checked, by those who act on it."""
    return sample.state in PHOTO_STATES and user.role in STAFF and owns(user, sample)


def add_photo(sample: SampleRequest, file_storage, user: User, customer_visible: bool = False):
    """Attach a checked photo or PDF; UploadError says what is wrong with the file."""
    if not photos_allowed(sample, user):
        raise TransitionError(_("Photos can be added while the sample is in progress or finished."))
    return attachments.attach(sample, file_storage, user, customer_visible=customer_visible)


# Queries

def is_overdue(sample: SampleRequest, today: date) -> bool:
    return sample.due_date is not None and sample.due_date < today and sample.state in BEFORE_SENT


def search(user: User, filters: dict, today: date):
    """The scoped query of the sample list: text (number, title, customer, product, tracking number), state,
    customer code, salesperson, overdue; newest first."""
    stmt = (visible_samples(user).outerjoin(Product, SampleRequest.product_id == Product.id)
            .options(contains_eager(SampleRequest.customer).selectinload(Customer.owner),
                     contains_eager(SampleRequest.product)))
    q = normalise(printable(filters.get("q")))[:100]
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(*(func.lower(column).like(like) for column in (
            SampleRequest.number, SampleRequest.title, SampleRequest.specification, SampleRequest.tracking_no,
            Customer.code, Customer.name, Customer.name_en, Product.code, Product.name))))
    if filters.get("state"):
        stmt = stmt.where(SampleRequest.state == filters["state"])
    customer = normalise(printable(filters.get("customer")))[:40]
    if customer:
        stmt = stmt.where(func.upper(Customer.code) == customer.upper())
    owner = record_id(filters.get("owner"))
    if owner:
        stmt = stmt.where(Customer.owner_id == owner)
    if filters.get("overdue"):
        stmt = stmt.where(SampleRequest.due_date < today, SampleRequest.state.in_(BEFORE_SENT))
    return stmt.order_by(SampleRequest.created_at.desc(), SampleRequest.id.desc())


def board(user: User, owner_id: int | None = None, per_state: int = 50) -> list[dict]:
    """Open samples by state, soonest due first, at most `per_state` cards a column (three queries)."""
    base = visible_samples(user).where(SampleRequest.state.in_(OPEN_STATES))
    if owner_id:
        base = base.where(Customer.owner_id == owner_id)
    counts = dict(db.session.execute(
        base.with_only_columns(SampleRequest.state, func.count(SampleRequest.id)).group_by(SampleRequest.state)).all())
    rank = func.row_number().over(partition_by=SampleRequest.state,
                                  order_by=(SampleRequest.due_date.is_(None), SampleRequest.due_date,
                                            SampleRequest.id)).label("rank")
    ranked = base.add_columns(rank).subquery()
    row = aliased(SampleRequest, ranked)
    cards = db.session.scalars(select(row).where(ranked.c.rank <= per_state)
                               .options(selectinload(row.customer))
                               .order_by(ranked.c.state, ranked.c.rank)).all()
    columns = {state: {"state": state, "count": counts.get(state, 0), "samples": []} for state in OPEN_STATES}
    for sample in cards:
        columns[sample.state]["samples"].append(sample)
    return list(columns.values())


def _of_customers(stmt):
    return stmt.options(contains_eager(SampleRequest.customer))


def awaiting_approval(user: User, limit: int = 50) -> list[SampleRequest]:
    """Submitted sheets waiting for a manager's signature, oldest first (managers and admins only)."""
    if user.role not in MANAGERS:
        return []
    return db.session.scalars(_of_customers(visible_samples(user)).where(SampleRequest.state == S.SUBMITTED.value)
                              .order_by(SampleRequest.submitted_at, SampleRequest.id).limit(limit)).all()


def awaiting_evaluation(user: User, limit: int = 50) -> list[SampleRequest]:
    """Samples sent to the user's own customers and not yet evaluated, longest waiting first."""
    return db.session.scalars(
        _of_customers(visible_samples(user))
        .where(SampleRequest.state.in_((S.SENT.value, S.RECEIVED.value)), Customer.owner_id == user.id)
        .order_by(SampleRequest.sent_at, SampleRequest.id).limit(limit)).all()


def unread_evaluations(user: User, limit: int = 50) -> list[SampleRequest]:
    """Evaluations buyers gave in the portal that the salesperson (the customer's owner) has not read."""
    return db.session.scalars(
        _of_customers(visible_samples(user))
        .where(SampleRequest.evaluation_seen.is_(False), Customer.owner_id == user.id)
        .order_by(SampleRequest.evaluated_at, SampleRequest.id).limit(limit)).all()


def overdue(user: User, today: date, limit: int = 50) -> list[SampleRequest]:
    """Visible samples past their due date and not yet sent, most overdue first."""
    return db.session.scalars(
        _of_customers(visible_samples(user))
        .where(SampleRequest.due_date < today, SampleRequest.state.in_(BEFORE_SENT))
        .order_by(SampleRequest.due_date, SampleRequest.id).limit(limit)).all()
