"""After-sales pages: complaints (list, new, the ticket with its steps, notes and files) and service records."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import attachments, audit, uploads
from ..auth.access import role_required, staff_required
from ..customers.access import get_customer_or_404, visible_customers
from ..extensions import db
from ..i18n import local_today
from ..models import Customer, FollowUpVisit, Order, Role, Ticket, TicketEvent, TicketLine, User
from ..orders.access import get_order_or_404, visible_orders
from ..security import MAX_ID
from ..visits.access import visible_visits
from ..web import apply_errors, render, see_other
from ..workflow import TransitionError
from . import bp, services
from .access import get_service_record_or_404, get_ticket_or_404
from .forms import ActionForm, FileForm, FilterForm, NoteForm, ServiceRecordForm, TicketForm

PER_PAGE = 25
creators = role_required(Role.ADMIN, Role.MANAGER, Role.SERVICE, Role.SALES)
service_side = role_required(Role.ADMIN, Role.MANAGER, Role.SERVICE)


# Labels and the pieces other pages show

@bp.app_template_global()
def ticket_state_label(state: str) -> str:
    return str(services.STATE_LABELS.get(state, state or ""))


@bp.app_template_global()
def ticket_labels() -> dict:
    return {"state": services.STATE_LABELS, "channel": services.CHANNEL_LABELS, "category": services.CATEGORY_LABELS,
            "severity": services.SEVERITY_LABELS, "department": services.DEPARTMENT_LABELS,
            "resolution": services.RESOLUTION_LABELS, "event": services.EVENT_LABELS}


@bp.app_template_global()
def ticket_event_label(kind: str) -> str:
    return str(services.EVENT_LABELS.get(kind, kind or ""))


@bp.app_template_global()
def aftersales_of_order(order) -> dict:
    """The order page's complaints and service records, in the user's scope."""
    return {"tickets": services.tickets_of_order(current_user, order.id),
            "records": services.records_of_order(current_user, order.id),
            "may_create": current_user.role in services.CREATORS and (
                current_user.role != Role.SALES.value or order.customer.owner_id == current_user.id),
            "may_record": services.may_edit_records(current_user), "today": local_today()}


@bp.app_template_global()
def aftersales_of_customer(customer, limit: int = 10) -> list:
    """The customer's latest complaints, newest first, in the user's scope."""
    return services.tickets_of_customer(current_user, customer.id, limit)


def _arg_id(name: str) -> int | None:
    """A record id from the query string; one no database integer holds is no record (404)."""
    value = request.args.get(name, type=int)
    if value is not None and not 0 < value <= MAX_ID:
        abort(404)
    return value


def visit_href(visit_id: int) -> str:
    return url_for("visits.detail", visit_id=visit_id)


# The list

@bp.get("/tickets/")
@staff_required
def index():
    """Complaints the user may see, filtered, by due date; the rows alone for htmx."""
    form = FilterForm(request.args)
    filters = form.data if form.validate() else {}
    today = local_today()
    stmt = services.search(current_user, filters, today).options(*services.list_options())
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("aftersales/index.html", "aftersales/_list.html", form=form, page=page, args=args, today=today,
                  is_overdue=services.is_overdue)


# A new complaint

def _resolve(form) -> tuple[Customer | None, Order | None, dict]:
    """The customer (by code) and order (by number) named by the form, both in the user's scope."""
    errors = {}
    code = (form.customer_code.data or "").strip().upper()
    customer = db.session.scalar(visible_customers(current_user).where(Customer.code == code)) if code else None
    if customer is None:
        errors["customer_code"] = _("Enter the code of one of your customers.")
    order = None
    number = (form.order_number.data or "").strip().upper()
    if number:
        order = db.session.scalar(visible_orders(current_user).where(Order.number == number))
        if order is None or (customer is not None and order.customer_id != customer.id):
            errors["order_number"] = _("This order is not one of this customer's.")
            order = None
    return customer, order, errors


def _chosen_lines() -> list[tuple[str, str | None]]:
    return [(item_id, (request.form.get(f"qty_{item_id}") or "").strip() or None)
            for item_id in request.form.getlist("item")]


@bp.route("/tickets/new", methods=["GET", "POST"])
@creators
def new():
    """Record a complaint; ?customer_id= or ?order_id= fills in the customer, the order and its items."""
    form = TicketForm()
    customer = order = None
    if request.method == "GET":
        order_id = _arg_id("order_id")
        customer_id = _arg_id("customer_id")
        if order_id:
            order = get_order_or_404(order_id, current_user)
            customer = order.customer
            form.order_number.data = order.number
        elif customer_id:
            customer = get_customer_or_404(customer_id, current_user)
        if customer is not None:
            form.customer_code.data = customer.code
    elif form.validate_on_submit():
        customer, order, errors = _resolve(form)
        try:
            if errors:
                raise services.TicketError(errors)
            ticket = services.create_ticket(
                current_user, customer, channel=form.channel.data, category=form.category.data,
                subject=form.subject.data, description=form.description.data, order=order, lines=_chosen_lines(),
                contact_name=form.contact_name.data)
            upload = request.files.get("file")
            if upload is not None and upload.filename:
                services.add_file(ticket, current_user, upload)
            db.session.commit()
        except services.TicketError as error:
            db.session.rollback()
            apply_errors(form, {("order_number" if k == "order" else k): v for k, v in error.errors.items()})
        except uploads.UploadError as error:
            db.session.rollback()
            form.file.errors = [str(error)]
        except TransitionError:
            db.session.rollback()
            abort(404)
        else:
            flash(_("Complaint %(number)s recorded.", number=ticket.number), "success")
            return see_other(url_for("aftersales.detail", ticket_id=ticket.id))
    else:
        customer, order, errors = _resolve(form)
        apply_errors(form, {k: v for k, v in errors.items() if not getattr(form, k).errors})
    if order is None and customer is not None:
        recent = db.session.scalars(visible_orders(current_user).where(Order.customer_id == customer.id)
                                    .order_by(Order.created_at.desc()).limit(10)).all()
    else:
        recent = []
    return render("aftersales/form.html", form=form, customer=customer, order=order, recent_orders=recent,
                  chosen=set(request.form.getlist("item")), quantities=request.form,
                  status=422 if form.is_submitted() else 200)


# The ticket

def _load(ticket_id: int) -> Ticket:
    """The ticket in the user's scope, with what its page shows loaded in a fixed number of statements."""
    ticket = get_ticket_or_404(ticket_id, current_user)
    db.session.scalars(select(Ticket).where(Ticket.id == ticket.id).options(
        selectinload(Ticket.customer).selectinload(Customer.owner), selectinload(Ticket.order),
        selectinload(Ticket.assignee), selectinload(Ticket.closed_by), selectinload(Ticket.created_by),
        selectinload(Ticket.lines).selectinload(TicketLine.order_item),
        selectinload(Ticket.events).selectinload(TicketEvent.user),
        selectinload(Ticket.service_records))).all()
    return ticket


def _staff_choices():
    people = db.session.scalars(select(User).where(User.active.is_(True), User.role != Role.CUSTOMER.value)
                                .order_by(User.display_name).limit(500))
    return [("", "—")] + [(str(u.id), u.display_name) for u in people]


def _action_form(name: str, ticket: Ticket, formdata=None, choices=None) -> ActionForm:
    """The form of step `name`, its fields named with the step as prefix (several forms on one page)."""
    kwargs = {} if formdata is not None else {"formdata": None}
    form = ActionForm(prefix=name, **kwargs)
    form.assignee_id.choices = choices if choices is not None else _staff_choices()
    if formdata is None:
        form.version.data = ticket.version
        form.customer_visible.data = name in services.VISIBLE_BY_DEFAULT
        form.currency.data = ticket.currency
        form.department.data = ticket.department or ""
        form.assignee_id.data = str(ticket.assignee_id or "")
    return form


def _detail(ticket: Ticket, status: int = 200, forms: dict | None = None, message: str | None = None):
    forms = forms or {}
    today = local_today()
    actions = services.allowed(ticket, current_user)
    choices = _staff_choices() if any("assignee_id" in t.fields for t in actions) else [("", "—")]
    action_forms = {t.name: forms.get(t.name) or _action_form(t.name, ticket, choices=choices) for t in actions}
    may_work = current_user.role in services.CREATORS and services.owns(current_user, ticket)
    second_visit = db.session.scalar(visible_visits(current_user).where(
        FollowUpVisit.ticket_id == ticket.id, FollowUpVisit.reason == "ticket").limit(1))
    context = {
        "ticket": ticket, "today": today, "actions": actions, "action_forms": action_forms, "message": message,
        "overdue": services.is_overdue(ticket, today), "steps": services.STEPS,
        "note_form": forms.get("note") or NoteForm(formdata=None),
        "file_form": forms.get("file") or FileForm(formdata=None),
        "may_work": may_work, "may_record": services.may_edit_records(current_user),
        "files": attachments.of(ticket), "second_visit": second_visit, "visit_href": visit_href,
        "history": db.session.scalars(audit.history(ticket).limit(50)).all(),
    }
    return render("aftersales/detail.html", status=status, **context)


def _refused(ticket_id: int, message: str):
    """409: the page again with the reason; nothing changed."""
    return _detail(_load(ticket_id), status=409, message=message)


@bp.get("/tickets/<int:ticket_id>")
@staff_required
def detail(ticket_id: int):
    """The ticket: header, items, steps, next steps, notes, files, service records, visits."""
    return _detail(_load(ticket_id))


@bp.post("/tickets/<int:ticket_id>/action/<name>")
@staff_required
def action(ticket_id: int, name: str):
    """One step of the state table: 409 when not allowed now or for this user, 422 for bad input."""
    ticket = _load(ticket_id)
    try:
        services.WORKFLOW.check(ticket, current_user, name, services.owns(current_user, ticket))
    except TransitionError as error:
        return _refused(ticket_id, str(error))
    form = _action_form(name, ticket, formdata=request.form)
    if form.validate_on_submit():
        try:
            services.take(ticket, current_user, name, form.data)
            db.session.commit()
        except services.ConflictError as error:
            db.session.rollback()
            return _refused(ticket_id, str(error.errors[""]))
        except TransitionError as error:
            db.session.rollback()
            return _refused(ticket_id, str(error))
        except services.TicketError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        except StaleDataError:
            db.session.rollback()
            return _refused(ticket_id, _("Someone else changed this complaint at the same time. Reload the page "
                                         "and try again."))
        else:
            flash(_("Complaint %(number)s: %(state)s.", number=ticket.number,
                    state=ticket_state_label(ticket.state)), "success")
            return see_other(url_for("aftersales.detail", ticket_id=ticket.id))
    else:
        db.session.rollback()
    return _detail(_load(ticket_id), status=422, forms={name: form})


@bp.post("/tickets/<int:ticket_id>/notes")
@staff_required
def note_add(ticket_id: int):
    """A note on the timeline (staff and the customer's salesperson), optionally shown to the customer."""
    ticket = _load(ticket_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.add_note(ticket, current_user, form.note.data, form.customer_visible.data)
            db.session.commit()
        except TransitionError as error:
            db.session.rollback()
            return _refused(ticket_id, str(error))
        except services.TicketError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        else:
            flash(_("Note added."), "success")
            return see_other(url_for("aftersales.detail", ticket_id=ticket.id) + "#timeline")
    return _detail(_load(ticket_id), status=422, forms={"note": form})


@bp.post("/tickets/<int:ticket_id>/files")
@staff_required
def file_add(ticket_id: int):
    """Attach a photo or PDF (checked by content and size, stored privately)."""
    ticket = _load(ticket_id)
    form = FileForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise uploads.UploadError(_("Choose a file."))
            services.add_file(ticket, current_user, upload, customer_visible=form.file_visible.data)
            db.session.commit()
        except TransitionError as error:
            db.session.rollback()
            return _refused(ticket_id, str(error))
        except uploads.UploadError as error:
            db.session.rollback()
            form.file.errors = [str(error)]
        else:
            flash(_("File attached."), "success")
            return see_other(url_for("aftersales.detail", ticket_id=ticket.id) + "#files")
    return _detail(_load(ticket_id), status=422, forms={"file": form})


@bp.get("/tickets/<int:ticket_id>/files/<int:attachment_id>")
@staff_required
def file(ticket_id: int, attachment_id: int):
    """A file of the ticket, for users who may see the ticket."""
    ticket = get_ticket_or_404(ticket_id, current_user)
    found = attachments.get_for(ticket, attachment_id)
    if found is None:
        abort(404)
    return attachments.send(found, download=request.args.get("download") == "1")


# Service records

@bp.get("/service-records/")
@staff_required
def records():
    """The month's service records with totals; ?print=1 gives the bare print layout."""
    today = local_today()
    year, month = services.parse_month(request.args.get("month")) or (today.year, today.month)
    result = services.service_records_of_month(current_user, year, month)
    previous = (year - 1, 12) if month == 1 else (year, month - 1)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    template = "aftersales/records_print.html" if request.args.get("print") == "1" else "aftersales/records.html"
    return render(template, result=result, month=f"{year}-{month:02d}", previous=f"{previous[0]}-{previous[1]:02d}",
                  following=f"{following[0]}-{following[1]:02d}", may_record=services.may_edit_records(current_user))


def _record_links():
    """Ticket and order a new record belongs to, named by ?ticket_id= / ?order_id= (scoped; 404 otherwise)."""
    ticket_id = _arg_id("ticket_id")
    order_id = _arg_id("order_id")
    ticket = get_ticket_or_404(ticket_id, current_user) if ticket_id else None
    order = get_order_or_404(order_id, current_user) if order_id else None
    return ticket, order


@bp.route("/service-records/new", methods=["GET", "POST"])
@service_side
def record_new():
    """A service record of a complaint (?ticket_id=) or an order (?order_id=)."""
    form = ServiceRecordForm()
    ticket, order = _record_links()
    if request.method == "GET":
        form.served_on.data = local_today()
    if form.validate_on_submit():
        try:
            if ticket is None and order is None:
                raise services.TicketError({"": _("Open this form from a complaint or an order.")})
            record = services.create_service_record(current_user, dict(form.data), ticket=ticket, order=order)
            db.session.commit()
        except services.TicketError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        else:
            flash(_("Service record saved."), "success")
            if ticket is not None:
                return see_other(url_for("aftersales.detail", ticket_id=ticket.id) + "#service")
            return see_other(url_for("orders.detail", order_id=record.order_id) + "#aftersales")
    elif form.is_submitted():
        try:
            services.clean_record(dict(form.data))
        except services.TicketError as error:
            apply_errors(form, {k: v for k, v in error.errors.items() if not getattr(form, k).errors})
    return render("aftersales/record_form.html", form=form, record=None, ticket=ticket, order=order,
                  status=422 if form.is_submitted() else 200)


@bp.route("/service-records/<int:record_id>/edit", methods=["GET", "POST"])
@service_side
def record_edit(record_id: int):
    """Edit a service record (service staff, managers, admins)."""
    record = get_service_record_or_404(record_id, current_user)
    form = ServiceRecordForm(obj=record if request.method == "GET" else None)
    if request.method == "GET":
        form.hours.data = str(record.hours) if record.hours is not None else ""
        form.version.data = record.version
    if form.validate_on_submit():
        try:
            services.update_service_record(record, current_user, dict(form.data))
            db.session.commit()
        except (services.ConflictError, StaleDataError) as error:
            db.session.rollback()
            message = error.errors[""] if isinstance(error, services.ConflictError) else _(
                "Someone else changed this service record at the same time. Reload the page and try again.")
            record = get_service_record_or_404(record_id, current_user)
            form.form_errors.append(message)
            return render("aftersales/record_form.html", form=form, record=record, ticket=record.ticket,
                          order=record.order, status=409)
        except services.TicketError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        else:
            flash(_("Service record saved."), "success")
            return see_other(url_for("aftersales.records", month=record.served_on.strftime("%Y-%m")))
    status = 200
    if form.is_submitted():
        status = 422
        record = get_service_record_or_404(record_id, current_user)
    return render("aftersales/record_form.html", form=form, record=record, ticket=record.ticket,
                  order=record.order, status=status)
