"""Order pages: list, new, the order with its timeline and records, and receivables."""
from datetime import date, timedelta
from types import SimpleNamespace

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from .. import attachments, audit, uploads
from ..auth.access import role_required, staff_required
from ..customers.access import get_customer_or_404, visible_customers
from ..customers.services import salespeople
from ..extensions import db
from ..i18n import local_today, translated
from ..models import (ChangeRequest, Customer, Inspection, Order, OrderEvent, OrderItem, Payment, Product,
                      ProductionPlan, ProductionPlanLine, Role, Shipment, ShipmentLine, User)
from ..web import apply_errors, render, see_other
from ..workflow import TransitionError
from . import bp, services
from .access import get_order_or_404
from .forms import (PAYMENT_KIND_LABELS, ActionForm, ChangeForm, DecisionForm, DeliveredForm, DunningForm, FileForm,
                    FilterForm, HeaderForm, InspectionForm, ItemForm, PaymentForm, PlanForm, ProgressForm,
                    ShipmentForm, TargetsForm)

PER_PAGE = 25
RECEIVABLE_GROUPS = 25  # customers per receivables page, as the other lists show 25 rows
sales_side = role_required(Role.ADMIN, Role.MANAGER, Role.SALES)
managers = role_required(Role.ADMIN, Role.MANAGER)


# What orders/_list.html shows, in the list's one statement and as plain rows: the columns it shows (an order
# has ~30), the customer's name from the join the scoped query already has, the salesperson by an outer join on
# the primary key. Two selectin loads of customers and users cost more than the page of orders itself (5 ms
# against 3), and orders with their customers and users as entities twice what the rows cost.
LIST_COLUMNS = (Order.id, Order.number, Order.contract_no, Order.customer_po, Order.state, Order.progress,
                Order.currency, Order.amount_total, Order.amount_paid, Order.promised_date,
                Customer.name.label("customer_name"), User.id.label("owner_id"), User.display_name.label("owner_name"))


def _list_rows(stmt):
    return stmt.with_only_columns(*LIST_COLUMNS).outerjoin(User, User.id == Customer.owner_id)


@bp.app_template_global()
def order_state_label(state: str) -> str:
    return translated(services.STATE_LABELS).get(state, state)


_ORDER_ID = bindparam("order_id")
# The records of one order its page shows, each in its relationship's order, as plain statements built once:
# selectin loaders rebuilt and keyed a statement with the whole option path for each (1.2 ms each, 0.3 now).
_RECORDS = {
    "items": select(OrderItem).where(OrderItem.order_id == _ORDER_ID).order_by(OrderItem.position),
    "payments": select(Payment).where(Payment.order_id == _ORDER_ID).order_by(Payment.received_on),
    "inspections": select(Inspection).where(Inspection.order_id == _ORDER_ID).order_by(Inspection.inspected_on),
    "shipments": select(Shipment).where(Shipment.order_id == _ORDER_ID).order_by(Shipment.id),
    "change_requests": select(ChangeRequest).where(ChangeRequest.order_id == _ORDER_ID).order_by(ChangeRequest.id)
    .options(joinedload(ChangeRequest.requested_by)),
    "events": select(OrderEvent).where(OrderEvent.order_id == _ORDER_ID).order_by(OrderEvent.at)
    .options(joinedload(OrderEvent.user)),
}
_PLAN = select(ProductionPlan).where(ProductionPlan.order_id == _ORDER_ID)
_PLAN_LINES = (select(ProductionPlanLine).where(ProductionPlanLine.plan_id == bindparam("plan_id"))
               .order_by(ProductionPlanLine.id))
_SHIPMENT_LINES = (select(ShipmentLine).join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                   .where(Shipment.order_id == _ORDER_ID).order_by(ShipmentLine.id))


def _load(order_id: int) -> Order:
    """The order in the user's scope, with everything its page shows loaded in a fixed number of queries.
    Like selectin loading, a relationship already loaded in this session is left as it is."""
    order = get_order_or_404(order_id, current_user)
    params = {"order_id": order.id}
    unloaded = sa_inspect(order).unloaded
    for name, stmt in _RECORDS.items():
        if name in unloaded:
            set_committed_value(order, name, db.session.scalars(stmt, params).unique().all())
    if "plan" in unloaded:
        set_committed_value(order, "plan", db.session.scalar(_PLAN, params))
    if order.plan is not None and "lines" in sa_inspect(order.plan).unloaded:
        set_committed_value(order.plan, "lines", db.session.scalars(_PLAN_LINES, {"plan_id": order.plan.id}).all())
    if order.shipments and any("lines" in sa_inspect(s).unloaded for s in order.shipments):
        lines = {}
        for line in db.session.scalars(_SHIPMENT_LINES, params):
            lines.setdefault(line.shipment_id, []).append(line)
        for shipment in order.shipments:
            if "lines" in sa_inspect(shipment).unloaded:
                set_committed_value(shipment, "lines", lines.get(shipment.id, []))
    return order


def _product_choices():
    products = db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code).limit(500))
    return [("", "—")] + [(str(p.id), f"{p.code} {p.name}") for p in products]


class PageForms:
    """The order page's blank forms, each built when the template first shows it: most sections show their
    form only in some states, and ten forms (with the products for the item form and the last exchange rate
    for the action form) cost more than the page's records. A form given with its errors is used as it is."""

    def __init__(self, given: dict, **factories):
        self._given = given
        self._factories = factories

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._factories:
            raise AttributeError(name)
        form = self._given.get(name) or self._factories[name]()
        setattr(self, name, form)
        return form


def _item_form():
    form = ItemForm(formdata=None)
    form.product_id.choices = _product_choices()
    return form


def _detail(order: Order, status: int = 200, open_form: str | None = None, **forms):
    """The order page; `forms` replaces the blank form of the section that failed, with its errors (shown open).
    `open_form` names a section's blank form (services.offered_forms; templates/orders/_form_<name>.html) to show
    open; an htmx request (its <details> opening) gets only that form. A form not offered now is not found.
    The page itself shows these forms folded, loaded when opened: built on every view they were a fifth of its
    time and a third of its bytes, for a form opened on few views."""
    today = local_today()
    editing_item = forms.get("editing_item") or request.args.get("edit_item", type=int)
    edit_form = forms.get("edit_item_form")
    if editing_item and edit_form is None:
        item = next((i for i in order.items if i.id == editing_item), None)
        edit_form = ItemForm(formdata=None, obj=item) if item else None
        if edit_form:
            edit_form.product_id.data = str(item.product_id or "")
    if edit_form is not None:
        edit_form.product_id.choices = _product_choices()
    plan = order.plan
    shipped = services.shipped_quantities(order)
    remaining = {i.id: i.quantity - shipped.get(i.id, 0) for i in order.items}
    open_amount = services.open_amount(order)
    offered = services.offered_forms(order, current_user, open_amount, remaining)
    if open_form is not None and open_form not in offered:
        abort(404)
    page_forms = PageForms(
        forms,
        action_form=lambda: ActionForm(formdata=None, contract_date=today,
                                       exchange_rate=services.last_exchange_rate(order.currency)),
        item_form=_item_form,
        progress_form=lambda: ProgressForm(formdata=None, progress=order.progress),
        payment_form=lambda: PaymentForm(formdata=None, received_on=today, amount=open_amount),
        plan_form=lambda: PlanForm(formdata=None, obj=plan),
        inspection_form=lambda: InspectionForm(formdata=None, inspected_on=today),
        shipment_form=lambda: ShipmentForm(formdata=None, ship_date=today),
        change_form=lambda: ChangeForm(formdata=None),
        dunning_form=lambda: DunningForm(formdata=None, noted_on=today),
        file_form=lambda: FileForm(formdata=None),
    )
    context = {
        "order": order, "today": today,
        "actions": services.WORKFLOW.allowed(order, current_user, True) if current_user.role != "service" else [],
        "may_edit": services.may_edit_terms(order) is not False and current_user.role != "service",
        "forms": page_forms, "action_errors": forms["action_form"].form_errors if forms.get("action_form") else [],
        "edit_item_form": edit_form, "editing_item": editing_item,
        "plan": plan,
        "shipment_quantities": forms.get("shipment_quantities") or {},
        "plan_quantities": forms.get("plan_quantities") or {},
        "shipped": shipped, "remaining": remaining,
        "deposit_due": services.deposit_due(order), "open_amount": open_amount,
        "ageing": services.ageing(order, today), "dues": services.dues(order),
        "files": attachments.of(order),
        "inspection_files": attachments.of_each(order.inspections),
        "dunning": services.dunning_notes([order.id]).get(order.id, []),
        "history": audit.recent(order),
        "payment_kinds": translated(PAYMENT_KIND_LABELS), "bucket_labels": translated(services.BUCKET_LABELS),
        "steps": services.STEPS,
        "offered_forms": offered,
        "open_forms": {name for name in offered if f"{name}_form" in forms or name == open_form},
    }
    fragment = f"orders/_form_{open_form}.html" if open_form else None
    return render("orders/detail.html", fragment=fragment, status=status, **context)


def _submit(order: Order, form, form_name: str, action, message: str, anchor: str = "", **extra):
    """Validate a section's form, run its service, commit once; 422/409 re-render the page with errors."""
    if form.validate_on_submit():
        try:
            action()
            db.session.commit()
        except services.OrderError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        except (TransitionError, uploads.UploadError) as error:
            db.session.rollback()
            flash(str(error), "error")
            return _detail(_load(order.id), status=409 if isinstance(error, TransitionError) else 422,
                           **({form_name: form} if form_name else {}), **extra)
        except StaleDataError:
            db.session.rollback()
            flash(_("Someone else changed this order at the same time. Reload and try again."), "error")
            return _detail(_load(order.id), status=409)
        else:
            flash(message, "success")
            return see_other(url_for("orders.detail", order_id=order.id) + anchor)
    else:
        db.session.rollback()
    if not form_name:  # a one-button form the page does not re-render: say what was wrong above it
        for messages in [form.form_errors, *(f.errors for f in form)]:
            for message in messages:
                flash(str(message), "error")
        return _detail(_load(order.id), status=422, **extra)
    return _detail(_load(order.id), status=422, **{form_name: form}, **extra)


# List and creation

@bp.get("/orders/")
@staff_required
def index():
    """Orders the user may see, with search, filters and pages; the rows alone for htmx."""
    form = FilterForm(request.args)
    form.state.choices = [("", _("All statuses"))] + list(translated(services.STATE_LABELS).items())
    # the salesperson filter is shown to managers and admins; a salesperson's list reads them only to check one given
    people = salespeople() if current_user.role != Role.SALES.value or request.args.get("owner") else []
    form.owner.choices = [("", _("All salespeople"))] + [(str(u.id), u.display_name) for u in people]
    filters = form.data if form.validate() else {}
    page = services.list_page(current_user, filters, request.args.get("page", 1, type=int), PER_PAGE,
                              rows=_list_rows)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("orders/index.html", "orders/_list.html", form=form, page=page, args=args,
                  sort=filters.get("sort") or "-created", today=local_today())


@bp.route("/orders/new", methods=["GET", "POST"])
@sales_side
def new():
    """A new order (inquiry) for one of the user's customers."""
    form = HeaderForm()
    customer = None
    if request.method == "GET" and request.args.get("customer", type=int):
        customer = get_customer_or_404(request.args.get("customer", type=int), current_user)
        form.customer_code.data = customer.code
        form.currency.data = customer.currency
    if form.validate_on_submit():
        code = (form.customer_code.data or "").strip().upper()
        customer = db.session.scalar(visible_customers(current_user).where(Customer.code == code)) if code else None
        if customer is None:
            form.customer_code.errors = list(form.customer_code.errors) + [_("Enter the code of one of your customers.")]
        else:
            try:
                order = services.create_order(customer, form.data, current_user)
            except services.OrderError as error:
                apply_errors(form, error.errors)
            else:
                db.session.commit()
                flash(_("Order %(number)s created. Add its items.", number=order.number), "success")
                return see_other(url_for("orders.detail", order_id=order.id) + "#items")
    return render("orders/form.html", form=form, order=None, status=422 if form.is_submitted() else 200)


@bp.get("/orders/<int:order_id>")
@staff_required
def detail(order_id: int):
    """The order: timeline, next actions, items, plan, inspections, shipments, payments, changes, files.
    ?form=<name> opens that section's blank form; for htmx (its <details> opening) only the form."""
    return _detail(_load(order_id), open_form=request.args.get("form") or None)


@bp.route("/orders/<int:order_id>/edit", methods=["GET", "POST"])
@sales_side
def edit(order_id: int):
    """Edit terms and dates (after signing only with an approved change request)."""
    order = _load(order_id)
    if services.may_edit_terms(order) is False:
        flash(_("A signed order changes only through an approved change request."), "error")
        if request.method == "GET":
            return see_other(url_for("orders.detail", order_id=order.id) + "#changes")
        return _detail(order, status=409)
    form = HeaderForm(obj=order)
    if request.method == "GET":
        form.version.data = order.version
    if form.validate_on_submit():
        try:
            services.update_header(order, form.data, current_user, form.version.data)
            db.session.commit()
        except services.OrderError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        except StaleDataError:
            db.session.rollback()
            form.form_errors.append(_("Someone else changed this order at the same time. Reload and try again."))
        else:
            flash(_("Order %(number)s saved.", number=order.number), "success")
            return see_other(url_for("orders.detail", order_id=order.id))
    return render("orders/form.html", form=form, order=order, status=422 if form.is_submitted() else 200)


@bp.post("/orders/<int:order_id>/action/<name>")
@sales_side
def action(order_id: int, name: str):
    """A transition from the state table; anything the table does not allow answers 409."""
    order = _load(order_id)
    form = ActionForm()
    return _submit(order, form, "action_form", lambda: services.take(order, name, form.data, current_user),
                   _("Order %(number)s updated.", number=order.number))


# Items

@bp.post("/orders/<int:order_id>/items")
@sales_side
def item_add(order_id: int):
    order = _load(order_id)
    form = ItemForm()
    form.product_id.choices = _product_choices()
    return _submit(order, form, "item_form", lambda: services.add_item(order, _item_data(form), current_user),
                   _("Line added."), "#items")


@bp.post("/orders/<int:order_id>/items/<int:item_id>")
@sales_side
def item_update(order_id: int, item_id: int):
    order = _load(order_id)
    item = _item_or_404(order, item_id)
    form = ItemForm()
    form.product_id.choices = _product_choices()
    return _submit(order, form, "edit_item_form",
                   lambda: services.update_item(order, item, _item_data(form), current_user), _("Line saved."),
                   "#items", editing_item=item.id)


@bp.post("/orders/<int:order_id>/items/<int:item_id>/delete")
@sales_side
def item_delete(order_id: int, item_id: int):
    order = _load(order_id)
    item = _item_or_404(order, item_id)
    form = DecisionForm()
    return _submit(order, form, "", lambda: services.remove_item(order, item, current_user),
                   _("Line removed."), "#items")


def _item_or_404(order: Order, item_id: int) -> OrderItem:
    item = next((i for i in order.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


def _item_data(form) -> dict:
    data = dict(form.data)
    data["quantity"] = request.form.get("quantity")
    data["unit_price"] = request.form.get("unit_price")
    return data


# Production

@bp.post("/orders/<int:order_id>/progress")
@sales_side
def progress(order_id: int):
    order = _load(order_id)
    form = ProgressForm()
    return _submit(order, form, "progress_form",
                   lambda: services.set_progress(order, form.progress.data, form.note.data,
                                                 form.customer_visible.data, current_user),
                   _("Progress recorded."), "#timeline")


def _quantities(prefix: str = "qty_") -> dict[int, str]:
    result = {}
    for key, value in request.form.items():
        if key.startswith(prefix) and key[len(prefix):].isdigit():
            result[int(key[len(prefix):])] = value.strip()
    return result


@bp.post("/orders/<int:order_id>/plan")
@sales_side
def plan_save(order_id: int):
    """Write the production plan (生产计划单); saving a changed plan needs approval again."""
    order = _load(order_id)
    form = PlanForm()
    quantities = _quantities()
    return _submit(order, form, "plan_form",
                   lambda: services.save_plan(order, form.data, quantities, current_user),
                   _("Production plan saved."), "#plan", plan_quantities=quantities)


@bp.post("/orders/<int:order_id>/plan/<any(submit, approve, reject):name>")
@sales_side
def plan_action(order_id: int, name: str):
    order = _load(order_id)
    form = ActionForm()
    return _submit(order, form, "action_form",
                   lambda: services.plan_action(order, name, current_user, form.reason.data or ""),
                   _("Production plan updated."), "#plan")


@bp.post("/orders/<int:order_id>/inspections")
@sales_side
def inspection_add(order_id: int):
    """Record an inspection (验货); a pass moves the order on; a photo or report may be attached."""
    order = _load(order_id)
    form = InspectionForm()

    def run():
        inspection = services.record_inspection(order, form.data, current_user)
        photo = request.files.get("photo")
        if photo is not None and photo.filename:
            attachments.attach(inspection, photo, current_user, parent=order)

    return _submit(order, form, "inspection_form", run, _("Inspection recorded."), "#inspections")


@bp.post("/orders/<int:order_id>/shipments")
@sales_side
def shipment_add(order_id: int):
    """Record a shipment with the quantities of each line (partial shipments allowed)."""
    order = _load(order_id)
    form = ShipmentForm()
    quantities = _quantities()
    return _submit(order, form, "shipment_form",
                   lambda: services.record_shipment(order, form.data, quantities, current_user),
                   _("Shipment recorded."), "#shipments", shipment_quantities=quantities)


@bp.post("/orders/<int:order_id>/shipments/<int:shipment_id>/delivered")
@sales_side
def shipment_delivered(order_id: int, shipment_id: int):
    order = _load(order_id)
    shipment = next((s for s in order.shipments if s.id == shipment_id), None)
    if shipment is None:
        abort(404)
    form = DeliveredForm()
    return _submit(order, form, "",
                   lambda: services.confirm_delivery(order, shipment, form.delivered_on.data, current_user),
                   _("Delivery confirmed."), "#shipments")


# Money

@bp.post("/orders/<int:order_id>/payments")
@sales_side
def payment_add(order_id: int):
    """Record a payment received; overpayment and non-positive amounts are refused."""
    order = _load(order_id)
    form = PaymentForm()
    data_amount = request.form.get("amount")
    return _submit(order, form, "payment_form",
                   lambda: services.record_payment(order, dict(form.data, amount=data_amount), current_user),
                   _("Payment recorded."), "#payments")


@bp.post("/orders/<int:order_id>/dunning")
@sales_side
def dunning_add(order_id: int):
    """A dunning note (催款): who was asked, what they promised."""
    order = _load(order_id)
    form = DunningForm()
    back = request.form.get("back")
    response = _submit(order, form, "dunning_form",
                       lambda: services.add_dunning(order, dict(form.data, promised_amount=request.form.get(
                           "promised_amount")), current_user), _("Dunning note added."), "#payments")
    if back == "receivables" and response.status_code == 303:
        return see_other(url_for("orders.receivables") + f"#order-{order.id}")
    return response


# Change requests

@bp.post("/orders/<int:order_id>/changes")
@sales_side
def change_add(order_id: int):
    """A written change request (变更) for a signed order."""
    order = _load(order_id)
    form = ChangeForm()
    return _submit(order, form, "change_form",
                   lambda: services.request_change(order, form.what.data, form.why.data, current_user),
                   _("Change request sent for approval."), "#changes")


@bp.post("/orders/<int:order_id>/changes/<int:change_id>/<any(approve, reject):decision>")
@managers
def change_decide(order_id: int, change_id: int, decision: str):
    order = _load(order_id)
    request_ = next((c for c in order.change_requests if c.id == change_id), None)
    if request_ is None:
        abort(404)
    form = DecisionForm()
    return _submit(order, form, "",
                   lambda: services.decide_change(order, request_, decision == "approve", form.note.data or "",
                                                  current_user), _("Change request decided."), "#changes")


# Files

@bp.post("/orders/<int:order_id>/files")
@sales_side
def file_add(order_id: int):
    """Attach a scan or photo to the order (size and real type checked)."""
    order = _load(order_id)
    form = FileForm()

    def run():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise services.OrderError({"file": _("Choose a file.")})
        attachments.attach(order, upload, current_user, customer_visible=form.customer_visible.data)

    return _submit(order, form, "file_form", run, _("File attached."), "#files")


@bp.get("/orders/<int:order_id>/files/<int:attachment_id>")
@staff_required
def file(order_id: int, attachment_id: int):
    """A file of the order or of one of its inspections, for users who may see the order."""
    order = _load(order_id)
    found = attachments.get_for(order, attachment_id)
    for inspection in order.inspections:
        found = found or attachments.get_for(inspection, attachment_id)
    if found is None:
        abort(404)
    return attachments.send(found, download=request.args.get("download") == "1")


# Receivables

@bp.get("/receivables/")
@staff_required
def receivables():
    """Open amounts by customer and currency, ageing buckets, collection rate, dunning notes."""
    today = local_today()
    try:
        as_of = date.fromisoformat(request.args.get("as_of") or today.isoformat())
    except ValueError:
        as_of = today
    owner = request.args.get("owner", type=int) if current_user.role != "sales" else None
    month = request.args.get("month") or today.strftime("%Y-%m")
    try:
        year, month_no = (int(p) for p in month.split("-"))
        start = date(year, month_no, 1)
    except (ValueError, TypeError):
        start = today.replace(day=1)
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    page_no = max(1, min(request.args.get("page", 1, type=int), 100_000))
    result = services.receivables(current_user, as_of, owner, page=page_no, per_page=RECEIVABLE_GROUPS)
    pages = max(1, -(-result.count // RECEIVABLE_GROUPS))
    page = SimpleNamespace(page=page_no, pages=pages, has_prev=page_no > 1, prev_num=page_no - 1,
                           has_next=page_no < pages, next_num=page_no + 1)
    args = {k: v for k, v in {"as_of": request.args.get("as_of"), "month": request.args.get("month"),
                              "owner": owner}.items() if v}
    order_ids = [order.id for group in result.groups for order, *_rest in group.orders]
    return render("orders/receivables.html", groups=result.groups, totals=result.totals, count=result.count,
                  page=page, args=args, as_of=as_of, owner=owner, month=start.strftime("%Y-%m"),
                  rate=services.collection_rate(current_user, start, end, owner), period=(start, end),
                  notes=services.dunning_notes(order_ids), buckets=services.BUCKETS,
                  bucket_labels=services.BUCKET_LABELS,
                  salespeople=salespeople() if current_user.role != "sales" else [])


EVENT_LABELS = {
    "created": _l("Order created"), "progress": _l("Production progress"), "payment": _l("Payment received"),
    "inspection": _l("Inspection"), "shipment": _l("Shipment"), "delivered": _l("Delivered"),
    "plan_saved": _l("Production plan written"), "plan_submitted": _l("Production plan submitted"),
    "plan_approved_by_manager": _l("Production plan approved by the manager"),
    "plan_rejected": _l("Production plan sent back"), "change_requested": _l("Change requested"),
    "change_approved": _l("Change approved"), "change_rejected": _l("Change rejected"),
    "change_applied": _l("Change applied"),
}
PLAN_STATE_LABELS = {"draft": _l("Draft"), "submitted": _l("Waiting for approval"), "approved": _l("Approved")}
CHANGE_STATE_LABELS = {"requested": _l("Waiting for approval"), "approved": _l("Approved"), "rejected": _l("Rejected"),
                       "applied": _l("Applied")}


@bp.app_template_global()
def event_label(kind: str) -> str:
    return translated(EVENT_LABELS).get(kind, kind)


@bp.app_template_global()
def plan_state_label(state: str) -> str:
    return translated(PLAN_STATE_LABELS).get(state, state)


@bp.app_template_global()
def change_state_label(state: str) -> str:
    return translated(CHANGE_STATE_LABELS).get(state, state)


# Sales targets

@bp.route("/targets/", methods=["GET", "POST"])
@sales_side
def targets():
    """Monthly sales targets (CNY) per salesperson with achievement and collection; managers set them."""
    year = request.values.get("year", type=int) or local_today().year
    if not 2000 <= year <= 2100:
        year = local_today().year
    people = salespeople() if current_user.role in ("admin", "manager") else [current_user]
    status, errors = 200, {}
    if request.method == "POST":
        if current_user.role not in ("admin", "manager"):
            abort(404)
        form = TargetsForm()
        if not form.validate_on_submit():
            abort(400)
        amounts = {}
        for key, raw in request.form.items():
            parts = key.split("_")
            if len(parts) == 3 and parts[0] == "t" and parts[1].isdigit() and parts[2].isdigit():
                amounts[(int(parts[1]), int(parts[2]))] = raw
        try:
            changed = services.set_targets(year, amounts, {p.id: p for p in people}, current_user)
        except services.OrderError as error:
            db.session.rollback()
            errors, status = error.errors, 422
            flash(_("Some amounts are not valid; nothing was saved."), "error")
        else:
            db.session.commit()
            flash(_("Targets saved (%(n)s changed).", n=changed), "success")
            return see_other(url_for("orders.targets", year=year))
    return render("orders/targets.html", status=status, year=year, table=services.target_table(year, people),
                  errors=errors, entered=request.form if errors else {}, form=TargetsForm(formdata=None),
                  editable=current_user.role in ("admin", "manager"), this_month=local_today().month
                  if year == local_today().year else None)
