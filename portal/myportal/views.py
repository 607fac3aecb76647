"""The customer portal: a buyer's own company's orders, samples, documents, complaints and surveys — nothing
else.

Every record is loaded through `access.py` (scoped to the buyer's company at the query).
"""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import load_only, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import attachments
from ..aftersales import services as aftersales
from ..auth.access import role_required
from ..extensions import db
from ..i18n import local_today
from ..models import (FollowUpVisit, IssuedDocument, Order, OrderEvent, Role, SampleRequest, SampleState, Shipment,
                      Ticket, TicketEvent, TicketState)
from ..orders import services as orders
from ..samples import services as samples
from ..visits import services as visits
from ..web import apply_errors, render, see_other
from ..workflow import TransitionError
from . import bp, services
from .access import (get_my_order_or_404, get_my_pending_visit_or_404, get_my_sample_or_404,
                     get_my_ticket_or_404, get_my_visit_or_404, my_customer, my_documents, my_orders,
                     my_pending_visits, my_samples, my_tickets)
from .forms import ConfirmForm, EvaluationForm, FilesForm, ReopenForm, SurveyForm, TicketForm

buyers = role_required(Role.CUSTOMER)
PER_PAGE = 20
OPEN = (orders.S.CLOSED.value, orders.S.CANCELLED.value)
# The steps a buyer follows (the internal ones before the contract are left out).
STEPS = [s for s in orders.STEPS if s not in (orders.S.INQUIRY.value, orders.S.QUOTED.value)]


@bp.get("/")
@buyers
def index():
    """Open orders with their step, samples on the way, open complaints, a survey waiting, recent documents,
    the salesperson to contact."""
    customer = my_customer()
    open_orders = db.session.scalars(my_orders().where(Order.state.not_in(OPEN))
                                     .order_by(Order.promised_date, Order.id).limit(20)).all()
    on_the_way = db.session.scalars(my_samples().where(SampleRequest.state == SampleState.SENT.value)
                                    .order_by(SampleRequest.sent_at.desc()).limit(20)).all()
    to_evaluate = db.session.scalars(my_samples().where(SampleRequest.state.in_(samples.EVALUABLE))
                                     .limit(20)).all()
    documents = db.session.scalars(my_documents().limit(5)).all()
    open_tickets = db.session.scalars(my_tickets().where(Ticket.state.in_(services.OPEN_TICKET_STATES))
                                      .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(10)).all()
    pending = db.session.scalar(select(func.count()).select_from(my_pending_visits().subquery()))
    return render("myportal/index.html", customer=customer, open_orders=open_orders, on_the_way=on_the_way,
                  to_evaluate=to_evaluate, documents=documents, open_tickets=open_tickets, pending_surveys=pending)


@bp.get("/orders/")
@buyers
def order_list():
    page = db.paginate(my_orders().order_by(Order.contract_date.desc(), Order.id.desc()).options(
        load_only(Order.number, Order.contract_no, Order.customer_po, Order.state, Order.currency, Order.amount_total,
                  Order.promised_date)),  # what the list shows, of ~30 columns
        per_page=PER_PAGE, error_out=False)
    return render("myportal/orders.html", page=page, open_states=OPEN)


@bp.get("/orders/<int:order_id>")
@buyers
def order(order_id: int):
    """The buyer's view of one order: the customer-visible timeline, items and what has shipped, shipments
    with B/L and tracking numbers, money due and received, documents and shared files."""
    order = get_my_order_or_404(order_id)
    db.session.scalars(select(Order).where(Order.id == order.id).options(
        selectinload(Order.items), selectinload(Order.payments),
        selectinload(Order.shipments).selectinload(Shipment.lines))).all()
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                         OrderEvent.customer_visible.is_(True))
                                .order_by(OrderEvent.at.desc(), OrderEvent.id.desc())).all()
    documents = db.session.scalars(my_documents().where(IssuedDocument.order_id == order.id)).all()
    return render("myportal/order.html", order=order, events=events, documents=documents, steps=STEPS,
                  shipped=orders.shipped_quantities(order), dues=orders.dues(order),
                  open_amount=orders.open_amount(order), files=attachments.of(order, customer_visible_only=True),
                  today=local_today())


@bp.get("/orders/<int:order_id>/files/<int:attachment_id>")
@buyers
def order_file(order_id: int, attachment_id: int):
    """A file the factory shared with the customer (marked customer-visible) — nothing else."""
    order = get_my_order_or_404(order_id)
    found = attachments.get_for(order, attachment_id)
    if found is None or not found.customer_visible:
        abort(404)
    return attachments.send(found)


@bp.get("/samples/")
@buyers
def sample_list():
    page = db.paginate(my_samples().order_by(SampleRequest.created_at.desc(), SampleRequest.id.desc()),
                       per_page=PER_PAGE, error_out=False)
    return render("myportal/samples.html", page=page, form=EvaluationForm(formdata=None), forms={},
                  evaluable=samples.EVALUABLE)


@bp.post("/samples/<int:sample_id>/evaluate")
@buyers
def evaluate(sample_id: int):
    """The buyer's evaluation of a sample they received; it reaches the salesperson's home page."""
    sample = get_my_sample_or_404(sample_id)
    form = EvaluationForm()
    if form.validate_on_submit():
        try:
            samples.perform(sample, "evaluate", {"evaluation": form.evaluation.data,
                                                 "evaluation_comment": form.evaluation_comment.data},
                            current_user)
            db.session.commit()
        except TransitionError:
            db.session.rollback()
            flash(_("This sample cannot be evaluated now."), "error")
            return see_other(url_for("myportal.sample_list"))
        except samples.SampleError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        else:
            flash(_("Thank you: your evaluation of %(number)s has been sent to %(name)s.", number=sample.number,
                    name=sample.customer.owner.display_name if sample.customer.owner else _("the factory")),
                  "success")
            return see_other(url_for("myportal.sample_list"))
    page = db.paginate(my_samples().order_by(SampleRequest.created_at.desc(), SampleRequest.id.desc()),
                       per_page=PER_PAGE, error_out=False)
    return render("myportal/samples.html", status=422, page=page, form=EvaluationForm(formdata=None),
                  forms={sample.id: form}, evaluable=samples.EVALUABLE)


@bp.get("/documents/")
@buyers
def document_list():
    page = db.paginate(my_documents(), per_page=PER_PAGE, error_out=False)
    return render("myportal/documents.html", page=page)


# Complaints

@bp.app_template_global()
def my_ticket_state(state: str) -> str:
    """A complaint's state in the customer's words."""
    return str(services.TICKET_STATE_LABELS.get(state, state))


def _labels() -> dict:
    return {"event": aftersales.EVENT_LABELS, "category": aftersales.CATEGORY_LABELS,
            "resolution": aftersales.RESOLUTION_LABELS}


@bp.get("/tickets/")
@buyers
def ticket_list():
    """The company's complaints, newest first, with the last step the customer may see."""
    page = db.paginate(my_tickets().options(selectinload(Ticket.order))
                       .order_by(Ticket.received_at.desc(), Ticket.id.desc()), per_page=PER_PAGE, error_out=False)
    last = {}
    if page.items:
        for event in db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id.in_([t.id for t in page.items]), TicketEvent.customer_visible.is_(True))
                .order_by(TicketEvent.at, TicketEvent.id)):
            last[event.ticket_id] = event
    return render("myportal/tickets.html", page=page, last=last, labels=_labels(),
                  open_states=services.OPEN_TICKET_STATES)


def _order_choice(value) -> Order | None:
    """The buyer's order named by the form (None when none or not one of theirs)."""
    order_id = _record_id(value)
    return db.session.scalar(my_orders().where(Order.id == order_id)) if order_id else None


def _record_id(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _ticket_form(**kwargs) -> TicketForm:
    form = TicketForm(**kwargs)
    chosen = db.session.scalars(my_orders().order_by(Order.contract_date.desc(), Order.id.desc()).limit(200)).all()
    form.order_id.choices = [("", _("— not about one order —"))] + [
        (str(o.id), " · ".join(filter(None, (o.contract_no or o.number, o.customer_po and f"PO {o.customer_po}",
                                             o.contract_date and o.contract_date.isoformat()))))
        for o in chosen]
    form.category.choices = list(_labels()["category"].items())
    # choosing an order shows its items at once (the same GET answers the fragment to htmx)
    form.order_id.render_kw = {"hx-get": url_for("myportal.ticket_new"), "hx-target": "#ticket-items",
                               "hx-swap": "outerHTML", "hx-trigger": "change"}
    return form


def _item_errors(errors: dict) -> dict:
    """The errors about the items ("lines", "qty_<id>"), shown in the items fieldset instead of on the form."""
    return {key: errors.pop(key) for key in list(errors) if key == "lines" or key.startswith("qty_")}


@bp.route("/tickets/new", methods=["GET", "POST"])
@buyers
def ticket_new():
    """Report a problem: order, items concerned, category, description, photos (all checked before anything
    is stored). Choosing the order shows its items (an htmx swap; ?order_id= from the order's page)."""
    customer = my_customer()
    if request.method == "GET":
        form = _ticket_form(formdata=request.args if request.args else None)
        form.contact_name.data = form.contact_name.data or current_user.display_name
        order = _order_choice(form.order_id.data)
        if form.order_id.data and order is None:
            abort(404)
        return render("myportal/ticket_form.html", "myportal/_ticket_items.html", form=form, order=order,
                      selected=[], quantities={}, item_errors={})
    form = _ticket_form()
    order = _order_choice(form.order_id.data)
    selected = request.form.getlist("item")
    quantities = {key[4:]: value for key, value in request.form.items() if key.startswith("qty_")}
    item_errors = {}
    if form.validate_on_submit():
        try:
            ticket = services.report_problem(current_user, customer, {
                "order": order, "lines": services.ticket_lines(selected, quantities),
                "category": form.category.data, "subject": form.subject.data,
                "description": form.description.data, "contact_name": form.contact_name.data},
                request.files.getlist(form.photos.name))
            db.session.commit()
        except (services.PortalError, aftersales.TicketError) as error:
            db.session.rollback()
            errors = dict(error.errors)
            item_errors = _item_errors(errors)
            apply_errors(form, errors)
        else:
            flash(_("Thank you: your complaint %(number)s has been received.", number=ticket.number), "success")
            return see_other(url_for("myportal.ticket", ticket_id=ticket.id))
    return render("myportal/ticket_form.html", status=422, form=form, order=order, selected=selected,
                  quantities=quantities, item_errors=item_errors,
                  files_dropped=any(f.filename for f in request.files.getlist(form.photos.name)))


def _ticket_page(ticket: Ticket, status: int = 200, forms: dict | None = None, message: str | None = None):
    """The buyer's view of one complaint: customer-visible steps and files only."""
    forms = forms or {}
    return render("myportal/ticket.html", status=status, ticket=ticket, steps=services.customer_steps(ticket),
                  files=attachments.of(ticket, customer_visible_only=True), labels=_labels(), message=message,
                  solution_sent=ticket.state in services.SOLUTION_SENT,
                  answerable=ticket.state == TicketState.CARRIED_OUT.value,
                  confirm_form=forms.get("confirm") or ConfirmForm(formdata=None, version=ticket.version),
                  reopen_form=forms.get("reopen") or ReopenForm(formdata=None, version=ticket.version),
                  files_form=forms.get("files") or FilesForm(formdata=None),
                  closed=ticket.state == TicketState.CLOSED.value)


@bp.get("/tickets/<int:ticket_id>")
@buyers
def ticket(ticket_id: int):
    return _ticket_page(get_my_ticket_or_404(ticket_id))


def _refused(ticket_id: int, message: str):
    """409: the complaint again with the reason; nothing changed."""
    return _ticket_page(get_my_ticket_or_404(ticket_id), status=409, message=message)


def _respond(ticket_id: int, name: str, form):
    ticket = get_my_ticket_or_404(ticket_id)
    try:
        services.may_respond(ticket, name, form.version.data)
        if form.validate_on_submit():
            services.respond(ticket, current_user, name, form.data)
            db.session.commit()
        else:
            return _ticket_page(ticket, status=422, forms={name: form})
    except TransitionError as error:
        db.session.rollback()
        return _refused(ticket_id, str(error))
    except StaleDataError:
        db.session.rollback()
        return _refused(ticket_id, _("The complaint was changed at the same time. Look at it again."))
    except aftersales.ConflictError as error:
        db.session.rollback()
        return _refused(ticket_id, str(error))
    except (services.PortalError, aftersales.TicketError) as error:
        db.session.rollback()
        apply_errors(form, error.errors)
        return _ticket_page(get_my_ticket_or_404(ticket_id), status=422, forms={name: form})
    if name == "confirm":
        flash(_("Thank you for confirming the solution of %(number)s.", number=ticket.number), "success")
    else:
        flash(_("%(number)s is open again; the service desk will come back to you.", number=ticket.number),
              "success")
    return see_other(url_for("myportal.ticket", ticket_id=ticket.id))


@bp.post("/tickets/<int:ticket_id>/confirm")
@buyers
def ticket_confirm(ticket_id: int):
    """The buyer confirms the solution carried out."""
    return _respond(ticket_id, "confirm", ConfirmForm())


@bp.post("/tickets/<int:ticket_id>/reopen")
@buyers
def ticket_reopen(ticket_id: int):
    """Not solved: the complaint goes back to the service desk with the buyer's reason."""
    return _respond(ticket_id, "reopen", ReopenForm())


@bp.post("/tickets/<int:ticket_id>/files")
@buyers
def ticket_files(ticket_id: int):
    """More photos for an open complaint (checked like the first ones, all or nothing)."""
    ticket = get_my_ticket_or_404(ticket_id)
    form = FilesForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        added = services.add_files(ticket, current_user, request.files.getlist(form.photos.name))
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        return _refused(ticket_id, str(error))
    except StaleDataError:
        db.session.rollback()
        return _refused(ticket_id, _("The complaint was changed at the same time. Look at it again."))
    except (services.PortalError, aftersales.TicketError) as error:
        db.session.rollback()
        apply_errors(form, error.errors)
        return _ticket_page(get_my_ticket_or_404(ticket_id), status=422, forms={"files": form})
    flash(_("Files added: %(names)s", names=", ".join(a.original_name for a in added)), "success")
    return see_other(url_for("myportal.ticket", ticket_id=ticket.id) + "#files")


@bp.get("/tickets/<int:ticket_id>/files/<int:attachment_id>")
@buyers
def ticket_file(ticket_id: int, attachment_id: int):
    """A file of the complaint marked customer-visible (the buyer's own photos, files the factory shared)."""
    ticket = get_my_ticket_or_404(ticket_id)
    found = attachments.get_for(ticket, attachment_id)
    if found is None or not found.customer_visible:
        abort(404)
    return attachments.send(found)


# Survey (回访 answered by the buyer)

def _pending() -> list[FollowUpVisit]:
    return db.session.scalars(my_pending_visits().options(selectinload(FollowUpVisit.order),
                                                          selectinload(FollowUpVisit.ticket))
                              .order_by(FollowUpVisit.due_on.desc(), FollowUpVisit.id.desc()).limit(20)).all()


def _survey_page(visit, form=None, status: int = 200, message: str | None = None):
    """The pending visits and the form of `visit` (None: the newest pending one, if any)."""
    pending = _pending()
    form = form or SurveyForm(formdata=None, answered_by=current_user.display_name)
    return render("myportal/survey.html", status=status, pending=pending, visit=visit or next(iter(pending), None),
                  form=form, message=message)


@bp.get("/survey")
@buyers
def survey():
    """The follow-up questions waiting for the buyer (?visit=<id> picks one), or a friendly "nothing to answer"."""
    if request.args.get("visit"):
        visit_id = _record_id(request.args["visit"]) or abort(404)
        return _survey_page(get_my_pending_visit_or_404(visit_id))
    return _survey_page(None)


@bp.post("/survey/<int:visit_id>")
@buyers
def survey_answer(visit_id: int):
    """The buyer's answers; they count in the satisfaction reports as a portal visit."""
    visit = get_my_visit_or_404(visit_id)
    form = SurveyForm()
    try:
        services.may_answer(visit)
        if not form.validate_on_submit():
            return _survey_page(visit, form, status=422)
        services.answer_survey(visit, current_user, form.answers())
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        return _survey_page(None, status=409, message=str(error))
    except StaleDataError:
        db.session.rollback()
        return _survey_page(None, status=409, message=_("This survey was answered at the same time."))
    except visits.VisitError as error:
        db.session.rollback()
        apply_errors(form, error.errors)
        return _survey_page(get_my_visit_or_404(visit_id), form, status=422)
    flash(_("Thank you for your answers: they help us serve you better."), "success")
    return see_other(url_for("myportal.survey"))
