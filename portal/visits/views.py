"""Follow-up visit pages (回访): the lists by tab, a visit added by hand, the visit with its answers, moving
or cancelling it, internal notes, and a complaint opened from a visit's problem in one step."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..auth.access import role_required, staff_required
from ..customers.access import get_customer_or_404
from ..extensions import db
from ..i18n import local_today
from ..models import FollowUpVisit, Role
from ..security import MAX_ID
from ..web import apply_errors, is_htmx, render, see_other, wants_fragment
from ..workflow import TransitionError
from . import bp, services
from .access import get_visit_or_404, visible_visits
from .forms import (CATEGORY_CHOICES, TAB_LABELS, AnswerForm, AssignForm, CancelForm, FilterForm, NoteForm, RescheduleForm,
                    TicketForm, VisitForm)

PER_PAGE = 25
MAX_PAGE = 100_000  # a larger page number is an empty page, never an offset the database refuses
desk = role_required(Role.ADMIN, Role.MANAGER, Role.SERVICE)


@bp.app_template_global()
def visit_labels():
    return {"state": services.STATE_LABELS, "reason": services.REASON_LABELS, "channel": services.CHANNEL_LABELS,
            "tab": TAB_LABELS}


def ticket_url(ticket_id: int) -> str:
    """The complaint's page in the tickets area."""
    return url_for("aftersales.detail", ticket_id=ticket_id)


# The lists

def _tab_counts(today) -> dict:
    """How many visits are due today and overdue, in the user's scope (one query)."""
    due = FollowUpVisit.state == services.V.DUE.value
    row = db.session.execute(visible_visits(current_user).with_only_columns(
        func.coalesce(func.sum(case((due & (FollowUpVisit.due_on == today), 1), else_=0)), 0),
        func.coalesce(func.sum(case((due & (FollowUpVisit.due_on < today), 1), else_=0)), 0))).one()
    return {"today": row[0], "overdue": row[1]}


@bp.get("/")
@staff_required
def index():
    """Visits by tab (due, today, overdue, upcoming, done, ...) with filters; the rows alone for htmx."""
    form = FilterForm(request.args)
    form.validate()
    filters = {name: value for name, value in form.data.items() if not form[name].errors}
    tab = filters.get("tab") if filters.get("tab") in services.TABS else "due"
    filters["tab"] = tab
    today = local_today()
    number = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    page = db.paginate(services.search(current_user, filters, today), page=number, per_page=PER_PAGE,
                       error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    tab_args = {k: v for k, v in args.items() if k != "tab"}
    return render("visits/index.html", "visits/_list.html", form=form, page=page, args=args, tab=tab,
                  tab_args=tab_args, tabs=services.TABS, today=today, counts=_tab_counts(today),
                  oob=wants_fragment())


@bp.route("/new", methods=["GET", "POST"])
@desk
def new():
    """A visit added by hand for a customer (optionally about one of its orders); ?customer=<id> preselects."""
    form = _with_assignees(VisitForm())
    if request.method == "GET":
        customer_id = request.args.get("customer", type=int)
        if customer_id:
            if not 0 < customer_id <= MAX_ID:
                abort(404)
            form.customer_code.data = get_customer_or_404(customer_id, current_user).code
        form.assigned_to_id.data = str(current_user.id) if current_user.role == Role.SERVICE.value else ""
        return render("visits/form.html", form=form)
    try:
        visit = services.create_visit(current_user, request.form, local_today())
    except services.VisitError as error:
        db.session.rollback()
        apply_errors(form, error.errors)
        return render("visits/form.html", form=form, status=422)
    db.session.commit()
    flash(_("Follow-up visit added."), "success")
    return see_other(url_for("visits.detail", visit_id=visit.id))


# The visit

def _context(visit, forms=None, message=None, error=False) -> dict:
    """Everything the visit page shows; `forms` replaces the blank form of a section that failed."""
    forms = forms or {}
    today = local_today()
    tickets = services.source_tickets(visit, current_user)
    actions = {t.name for t in services.WORKFLOW.allowed(visit, current_user)}
    if tickets:
        actions.discard("ticket")
    defaults = services.ticket_defaults(visit) if "ticket" in actions else {}
    ticket_form = forms.get("ticket") or TicketForm(formdata=None, **defaults)
    ticket_form.category.choices = _categories()
    return {
        "visit": visit, "today": today, "actions": actions, "message": message, "status_error": error,
        "overdue": visit.state == services.V.DUE.value and visit.due_on < today,
        "answer_form": forms.get("answer") or AnswerForm(formdata=None, version=visit.version),
        "reschedule_form": forms.get("reschedule") or RescheduleForm(formdata=None, version=visit.version,
                                                                     due_on=max(today, visit.due_on)),
        "cancel_form": forms.get("cancel") or CancelForm(formdata=None, version=visit.version),
        "assign_form": _with_assignees(forms.get("assign") or AssignForm(
            formdata=None, version=visit.version, assigned_to_id=str(visit.assigned_to_id or ""))),
        "note_form": forms.get("note") or NoteForm(formdata=None),
        "ticket_form": ticket_form, "tickets": tickets, "ticket_url": ticket_url,
        "may_note": current_user.role in services.STAFF,
        "history": db.session.scalars(audit.history(visit).limit(50)).all(),
    }


def _with_assignees(form):
    form.assigned_to_id.choices = [("", "—")] + [(str(u.id), u.display_name) for u in services.assignable_users()]
    return form


def _categories():
    """The tickets area's categories when it has them, else the same five in this area's words."""
    try:
        from ..aftersales.services import CATEGORY_LABELS
    except ImportError:
        return CATEGORY_CHOICES
    return list(CATEGORY_LABELS.items())


def _page(visit, status=200, **context):
    return render("visits/detail.html", "visits/_visit.html", status=status, **_context(visit, **context))


@bp.get("/<int:visit_id>")
@staff_required
def detail(visit_id: int):
    """The visit: customer, what it follows, due date, state, the answers or the form for them, actions."""
    return _page(get_visit_or_404(visit_id, current_user))


def _refused(visit_id: int, message: str):
    """409: the page again with the reason, nothing changed; htmx (which does not swap a 409) reloads it."""
    response = _page(get_visit_or_404(visit_id, current_user), status=409, message=message, error=True)
    if is_htmx():
        flash(message, "error")
        response.headers["HX-Redirect"] = url_for("visits.detail", visit_id=visit_id)
    return response


def _run(visit_id: int, name: str, form, step, message: str, anchor: str = ""):
    """Run one step on the visit: 409 when not allowed now or changed meanwhile, 422 with the form's errors for
    bad input (nothing stored), else the page (htmx) or a redirect to it."""
    visit = get_visit_or_404(visit_id, current_user)
    try:
        step(visit)
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        return _refused(visit_id, str(error))
    except services.VisitError as error:
        db.session.rollback()
        apply_errors(form, error.errors)
        return _page(get_visit_or_404(visit_id, current_user), status=422, forms={name: form})
    except StaleDataError:
        db.session.rollback()
        return _refused(visit_id, _("Someone else changed this visit meanwhile. Reload it and try again."))
    if is_htmx():
        return _page(visit, message=message)
    flash(message, "success")
    return see_other(url_for("visits.detail", visit_id=visit_id) + anchor)


@bp.post("/<int:visit_id>/answer")
@desk
def answer(visit_id: int):
    """Record the customer's answers; the visit is done and marked as a problem when the answers say so."""
    form = AnswerForm()
    return _run(visit_id, "answer", form,
                lambda visit: services.record_answers(visit, current_user, request.form, request.form.get("channel")),
                _("Answers recorded."))


@bp.post("/<int:visit_id>/reschedule")
@desk
def reschedule(visit_id: int):
    """Move a due visit to another day, with the reason."""
    form = RescheduleForm()
    return _run(visit_id, "reschedule", form,
                lambda visit: services.reschedule(visit, current_user, request.form, local_today()),
                _("Visit moved."))


@bp.post("/<int:visit_id>/assign")
@desk
def assign(visit_id: int):
    """Give a due visit to someone of the service desk."""
    form = _with_assignees(AssignForm())
    return _run(visit_id, "assign", form, lambda visit: services.assign(visit, current_user, request.form),
                _("Visit assigned."))


@bp.post("/<int:visit_id>/cancel")
@desk
def cancel(visit_id: int):
    """Cancel a due visit, with the reason."""
    form = CancelForm()
    return _run(visit_id, "cancel", form, lambda visit: services.cancel(visit, current_user, request.form),
                _("Visit cancelled."))


@bp.post("/<int:visit_id>/note")
@staff_required
def note(visit_id: int):
    """An internal note on the visit (salespeople too, on their own customers' visits)."""
    form = NoteForm()
    return _run(visit_id, "note", form, lambda visit: services.add_note(visit, current_user, request.form.get("note")),
                _("Note added."), "#internal-notes")


@bp.post("/<int:visit_id>/ticket")
@desk
def ticket(visit_id: int):
    """Open a complaint from the visit in one step, linked to it; then go to the complaint."""
    visit = get_visit_or_404(visit_id, current_user)
    form = TicketForm()
    form.category.choices = _categories()
    try:
        created = services.open_ticket_from_visit(visit, current_user, request.form)
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        return _refused(visit_id, str(error))
    except ValueError as error:  # VisitError or the tickets area's TicketError: {field: message}
        if not hasattr(error, "errors"):
            raise
        db.session.rollback()
        apply_errors(form, error.errors)
        return _page(get_visit_or_404(visit_id, current_user), status=422, forms={"ticket": form})
    except StaleDataError:
        db.session.rollback()
        return _refused(visit_id, _("Someone else changed this visit meanwhile. Reload it and try again."))
    flash(_("Complaint %(number)s opened from this visit.", number=created.number), "success")
    url = ticket_url(created.id)
    if is_htmx():
        response = render("visits/detail.html", "visits/_visit.html", **_context(visit))
        response.headers["HX-Redirect"] = url
        return response
    return see_other(url)
