"""Satisfaction pages: the index (today's problems, this and last week, 12 months, chart), a day, an ISO week,
and the monthly form (月客户满意度回访表) with save, submit and correct. Service staff, managers, admins only."""
from __future__ import annotations

from types import SimpleNamespace

from flask import current_app, flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ..aftersales import services as ticket_services
from ..extensions import db
from ..i18n import local_today
from ..paging import page_of_list
from ..visits import services as visit_services
from ..web import apply_errors, is_htmx, render, see_other, url_before_id
from ..workflow import TransitionError
from . import bp, rows, services
from .access import day_or_404, month_or_404, reporter_required, revision_arg_or_404, week_or_404
from .chart import percent
from .forms import CorrectForm, DayForm, MonthForm, problem_actions

VISITS_PER_PAGE = 100  # the page shows the month's visits a hundred at a time; the PDF has them all

FORM_STATE_LABELS = {"none": _l("not started"), "draft": _l("draft"), "submitted": _l("submitted")}


@bp.app_template_global()
def satisfaction_labels() -> dict:
    """Labels of the visits' channels and the tickets' states (from their areas), and of the form's states."""
    return {"channel": visit_services.CHANNEL_LABELS, "ticket_state": ticket_services.STATE_LABELS,
            "form_state": FORM_STATE_LABELS}


@bp.app_template_global()
def satisfaction_rows() -> SimpleNamespace:
    """What every visit or problem row of a table writes besides its own values: the beginnings of its links
    (url_before_id) and its words translated. Made once per worker for each language and script root, all it
    depends on (three url_for and a dozen translations cost ~60 us, twice a page)."""
    made = current_app.extensions.setdefault("portal.satisfaction_rows", {})
    made_for = (request.script_root, str(get_locale()))
    found = made.get(made_for)
    if found is None:
        found = made[made_for] = SimpleNamespace(
            visit_url=url_before_id("visits.detail", "visit_id"),
            ticket_url=url_before_id("aftersales.detail", "ticket_id"),
            customer_url=url_before_id("customers.detail", "customer_id"),
            channel={key: str(label) for key, label in visit_services.CHANNEL_LABELS.items()},
            ticket_state={key: str(label) for key, label in ticket_services.STATE_LABELS.items()},
            quality=_("Quality"), quality_not_ok=_("not all right"), service=_("Service"), not_timely=_("not timely"),
            suggestions=_("Suggestions"), no_ticket=_("no ticket"), problem=_("Problem"),
            action_taken=_("Action taken"))
        found.html = rows.Words(found)
    return found


bp.add_app_template_global(rows.visit_rows, "satisfaction_visit_rows")
bp.add_app_template_global(rows.problem_rows, "satisfaction_problem_rows")
bp.add_app_template_global(rows.form_problem_rows, "satisfaction_form_problem_rows")


@bp.app_template_filter("percent")
def percent_filter(value) -> str:
    return percent(value)


@bp.get("/")
@reporter_required
def index():
    """Today's (or ?day=) problems, this and last week with their due dates, the 12 months, the chart."""
    today = local_today()
    form = DayForm(request.args)
    valid = form.validate()
    day = form.day.data if valid else None
    return render("satisfaction/index.html", form=form, status=200 if valid else 422,
                  **services.index(today, day))


@bp.get("/daily/<day>")
@reporter_required
def daily(day: str):
    """One day: visits made, the rate, the customers with problems and what they said."""
    report = services.daily(day_or_404(day))
    return render("satisfaction/daily.html", report=report, today=local_today())


@bp.get("/weekly/<week>")
@reporter_required
def weekly(week: str):
    """An ISO week (e.g. 2026-W47): visits, rate, per salesperson, problems; due the Monday after."""
    year, number = week_or_404(week)
    return render("satisfaction/weekly.html", report=services.weekly(year, number), today=local_today())


def _context(year: int, month: int, revision: int | None = None, forms: dict | None = None, message=None,
             error=False, posted: dict | None = None, action_errors: dict | None = None) -> dict:
    report = services.month_report(year, month, revision)
    shown = report["form"]
    forms = forms or {}
    versions = {"revision": shown.revision if shown else "", "version": shown.version if shown else ""}
    # a form sent back with errors keeps the revision and version it was posted with (no silent overwrite)
    month_form = forms.get("month") or MonthForm(formdata=None, improvement_actions=shown.improvement_actions
                                                 if shown else None, **versions)
    visits = page_of_list(report["figures"]["rows"], request.args.get("page", 1, type=int), VISITS_PER_PAGE)
    may_correct = report["frozen"] and shown is report["latest"]
    return {**report, "month_form": month_form, "visits": visits,
            # the correction's form only where the page shows it (a form costs ~50 us to build)
            "correct_form": forms.get("correct") or (CorrectForm(formdata=None, **versions) if may_correct else None),
            "message": message, "status_error": error, "posted": posted or {}, "action_errors": action_errors or {},
            "may_correct": may_correct}


def _page(year: int, month: int, status: int = 200, **context):
    return render("satisfaction/month.html", "satisfaction/_month.html", status=status,
                  **_context(year, month, **context))


def _refused(year: int, month: int, message: str):
    """409: the page again with the reason, nothing changed; htmx does not swap a 409, so it reloads the page."""
    response = _page(year, month, status=409, message=message, error=True)
    if is_htmx():
        flash(message, "error")
        response.headers["HX-Redirect"] = url_for("satisfaction.month", ym=f"{year}-{month:02d}")
    return response


def _done(year: int, month: int, message: str):
    if is_htmx():
        return _page(year, month, message=message)
    flash(message, "success")
    return see_other(url_for("satisfaction.month", ym=f"{year}-{month:02d}"))


def _texts(form: MonthForm) -> dict:
    return {"improvement_actions": form.improvement_actions.data, "problem_actions": problem_actions(request.form)}


def _invalid(year: int, month: int, form, errors: dict):
    """422: the form again with the posted texts and each message beside its field."""
    db.session.rollback()
    action_errors = {k: v for k, v in errors.items() if k.startswith("action-")}
    apply_errors(form, {k: v for k, v in errors.items() if k not in action_errors})
    key = "correct" if isinstance(form, CorrectForm) else "month"
    return _page(year, month, status=422, forms={key: form}, posted=problem_actions(request.form),
                 action_errors=action_errors)


@bp.route("/<ym>", methods=["GET", "POST"])
@reporter_required
def month(ym: str):
    """The monthly form (?revision=N for an older one); POST saves the draft's texts (the first save creates it)."""
    year, number = month_or_404(ym)
    if request.method == "GET":
        return _page(year, number, revision=revision_arg_or_404(year, number, request.args.get("revision")))
    form = MonthForm()
    if not form.validate_on_submit():
        return _invalid(year, number, form, {})
    def work():
        services.save(year, number, current_user, _texts(form), revision=form.revision.data, version=form.version.data)

    return _attempt(year, number, form, work, _("The form for %(month)s is saved.", month=ym))


def _attempt(year: int, number: int, form, work, message: str):
    """Run `work` and commit; refused steps and stale versions answer 409, bad texts re-render with 422."""
    try:
        work()
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        return _refused(year, number, str(error))
    except services.ConflictError as error:
        db.session.rollback()
        return _refused(year, number, " ".join(error.errors.values()))
    except services.SatisfactionError as error:
        db.session.rollback()
        return _invalid(year, number, form, error.errors)
    except StaleDataError:
        db.session.rollback()
        return _refused(year, number, _("Someone else saved this form at the same time. Reload and try again."))
    return _done(year, number, message)


@bp.post("/<ym>/submit")
@reporter_required
def submit(ym: str):
    """Save the posted texts (when the form posts them) and submit: the month's figures are frozen."""
    year, number = month_or_404(ym)
    form = MonthForm()
    if not form.validate_on_submit():
        return _invalid(year, number, form, {})

    def work():
        if "improvement_actions" in request.form:
            record = services.save(year, number, current_user, _texts(form), revision=form.revision.data,
                                   version=form.version.data)
        else:
            services.check_version(services.current_form(year, number), form.revision.data, form.version.data)
            record = services.ensure_form(year, number, current_user)
        services.submit(record, current_user, local_today())

    return _attempt(year, number, form, work, _("The form for %(month)s is submitted.", month=ym))


@bp.post("/<ym>/correct")
@reporter_required
def correct(ym: str):
    """A correction of the submitted form: a new revision as a draft (a reason is required)."""
    year, number = month_or_404(ym)
    form = CorrectForm()
    latest = services.current_form(year, number)
    if latest is None or latest.state != services.SUBMITTED:
        return _refused(year, number, _("Only a submitted form can be corrected."))
    if not form.validate_on_submit():
        return _invalid(year, number, form, {})
    try:
        services.check_version(latest, form.revision.data, form.version.data)
        new = services.correct(latest, current_user, form.reason.data)
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        return _refused(year, number, str(error))
    except services.ConflictError as error:
        db.session.rollback()
        return _refused(year, number, " ".join(error.errors.values()))
    except services.SatisfactionError as error:
        return _invalid(year, number, form, error.errors)
    return _done(year, number, _("Revision %(n)d of the form for %(month)s is a new draft.", n=new.revision, month=ym))
