"""Satisfaction reporting (满意度): daily problems, weekly figures, the monthly form (月客户满意度回访表) with
its draft → submitted states and corrections, the 12-month trend and chart, the PDF.

A visit counts in the local (Asia/Shanghai) day, ISO week and month of its `done_at`. Periods are queried
by UTC bounds computed from local midnights, so the index on done_at does the work and no row is converted.
Satisfaction rate = visits done with a score of 4 or 5 ÷ visits done with a score, a Decimal percentage
rounded half-up to 0.1; None when there is nothing to count.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Integer, bindparam, case, func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from .. import audit, datacache
from ..extensions import db
from ..i18n import local_today, local_zone
from ..models import Customer, FollowUpVisit, SatisfactionMonth, SatisfactionState, Ticket, User, VisitState
from ..models.base import UtcDateTime, utcnow
from ..workflow import TransitionError
from . import chart
from .access import done_visits

DRAFT, SUBMITTED = SatisfactionState.DRAFT.value, SatisfactionState.SUBMITTED.value
MAX_TEXT = 5000
MAX_ACTION = 2000
MAX_REASON = 500
SNAPSHOT_FORMAT = 1


class SatisfactionError(ValueError):
    """Bad input: {field: message} for the form ("" for the whole form); HTTP 422."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


class ConflictError(SatisfactionError):
    """The form changed since the page was loaded (optimistic locking); HTTP 409."""


# Periods

def local_midnight(day: date) -> datetime:
    """The UTC instant of local midnight at the start of `day`."""
    return datetime.combine(day, time.min, tzinfo=local_zone()).astimezone(timezone.utc)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First day of the month and first day of the next."""
    first = date(year, month, 1)
    return first, date(year + (month == 12), month % 12 + 1, 1)


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def week_bounds(iso_year: int, week: int) -> tuple[date, date]:
    """Monday of the ISO week and the Monday after; ValueError when the week does not exist."""
    monday = date.fromisocalendar(iso_year, week, 1)
    return monday, monday + timedelta(days=7)


def due_on(year: int, month: int) -> date:
    """The monthly form is due on the 3rd of the next month."""
    return month_bounds(year, month)[1].replace(day=3)


def month_over(year: int, month: int, today: date) -> bool:
    return today >= month_bounds(year, month)[1]


# Figures

def rate(satisfied: int, scored: int) -> Decimal | None:
    if not scored:
        return None
    return (Decimal(satisfied) * 100 / Decimal(scored)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def average(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_UP)


_BOUND = UtcDateTime()

# The period's visits and the tickets opened from its problems: statements built once, run with the bounds.
_VISITS = (done_visits()
           .where(FollowUpVisit.done_at >= bindparam("start", type_=_BOUND),
                  FollowUpVisit.done_at < bindparam("end", type_=_BOUND))
           .join(Customer, Customer.id == FollowUpVisit.customer_id)
           .outerjoin(User, User.id == FollowUpVisit.salesperson_id)
           .with_only_columns(  # plain columns, not ORM objects: a month holds ~2,000 visits at 100,000 orders
               FollowUpVisit.id, FollowUpVisit.customer_id, Customer.name, Customer.code, FollowUpVisit.done_at,
               FollowUpVisit.channel, FollowUpVisit.answered_by, FollowUpVisit.quality_ok, FollowUpVisit.quality_note,
               FollowUpVisit.service_timely, FollowUpVisit.service_note, FollowUpVisit.salesperson_id,
               User.display_name, FollowUpVisit.sales_rating, FollowUpVisit.suggestions, FollowUpVisit.score,
               FollowUpVisit.problem)
           .order_by(FollowUpVisit.done_at, FollowUpVisit.id))
_TICKETS = (select(Ticket.id, Ticket.number, Ticket.state, Ticket.source_visit_id)
            .where(Ticket.source_visit_id.in_(bindparam("visit_ids", expanding=True))).order_by(Ticket.id))


def _rows(start: date, end: date) -> list[dict]:
    """Every visit made in [start, end) as plain JSON values (what the pages show and the snapshot keeps).
    Rows are read through the connection (no ORM result layer: ~1 us a row) and unpacked (a Row's attribute costs
    ~0.6 us, 17 a visit)."""
    connection = db.session.connection()
    visits = connection.execute(_VISITS, {"start": local_midnight(start), "end": local_midnight(end)}).all()
    problem_ids = [visit[0] for visit in visits if visit[16]]
    tickets: dict[int, list[dict]] = {}
    if problem_ids:
        for ticket_id, number, state, visit_id in connection.execute(_TICKETS, {"visit_ids": problem_ids}):
            tickets.setdefault(visit_id, []).append({"id": ticket_id, "number": number, "state": state})
    zone = local_zone()
    rows = []
    for (visit_id, customer_id, customer_name, customer_code, done_at, channel, answered_by, quality_ok, quality_note,
         service_timely, service_note, salesperson_id, salesperson_name, sales_rating, suggestions, score,
         problem) in visits:
        at = done_at.astimezone(zone)
        rows.append({
            "visit_id": visit_id, "customer_id": customer_id, "customer": customer_name,
            "customer_code": customer_code, "date": at.date().isoformat(), "time": f"{at.hour:02d}:{at.minute:02d}",
            "channel": channel, "answered_by": answered_by,
            "quality_ok": quality_ok, "quality_note": quality_note,
            "service_timely": service_timely, "service_note": service_note,
            "salesperson_id": salesperson_id,
            "salesperson": salesperson_name,
            "sales_rating": sales_rating, "suggestions": suggestions, "score": score,
            "problem": bool(problem), "tickets": tickets.get(visit_id, []),
        })
    return rows


def summarize(rows: list[dict]) -> dict:
    """Counts, rate and average salesperson rating of `rows`, overall and per salesperson (the one stored on
    the visit when it was made)."""
    def figures(group: list[dict]) -> dict:
        scored = [r["score"] for r in group if r["score"] is not None]
        ratings = [r["sales_rating"] for r in group if r["sales_rating"] is not None]
        satisfied = sum(1 for s in scored if s >= 4)
        return {"visits": len(group), "scored": len(scored), "satisfied": satisfied,
                "rate": rate(satisfied, len(scored)),
                "rated": len(ratings), "avg_rating": average(sum(ratings), len(ratings)),
                "problems": sum(1 for r in group if r["problem"])}

    groups: dict[int | None, list[dict]] = {}
    names: dict[int | None, str | None] = {}
    for row in rows:
        groups.setdefault(row["salesperson_id"], []).append(row)
        names[row["salesperson_id"]] = row["salesperson"]
    people = [{"salesperson_id": key, "salesperson": names[key], **figures(group)} for key, group in groups.items()]
    people.sort(key=lambda p: (p["salesperson_id"] is None, p["salesperson"] or ""))
    return {**figures(rows), "by_salesperson": people}


PERIOD_TABLES = ("follow_up_visits", "tickets", "customers", "users")  # what _rows reads


def _period(start: date, end: date) -> dict:
    """The visits of [start, end) with their figures; kept per worker until a visit, ticket, customer or user
    changes (portal/datacache.py). The rows are shared: callers must not change them."""
    return dict(datacache.cached("satisfaction_period", PERIOD_TABLES, (start, end, str(local_zone())),
                                 lambda: _compute_period(start, end)))


def _compute_period(start: date, end: date) -> dict:
    rows = _rows(start, end)
    return {"start": start, "end": end - timedelta(days=1), "rows": rows,
            "problem_rows": [r for r in rows if r["problem"]], **summarize(rows)}


def daily(day: date) -> dict:
    """One local day: visits made, the rate, and the customers with problems with what they said."""
    return {"day": day, "previous": (day - timedelta(days=1)).isoformat(),
            "next": (day + timedelta(days=1)).isoformat(), **_period(day, day + timedelta(days=1))}


def weekly(iso_year: int, week: int) -> dict:
    """One ISO week (Monday to Sunday, local): figures, per salesperson, problems; due the Monday after.
    ValueError when the week does not exist."""
    start, end = week_bounds(iso_year, week)
    previous, following = (start - timedelta(days=7)).isocalendar(), end.isocalendar()
    return {"iso_year": iso_year, "week": week, "label": f"{iso_year}-W{week:02d}", "due_on": end,
            "previous": f"{previous[0]}-W{previous[1]:02d}", "next": f"{following[0]}-W{following[1]:02d}",
            **_period(start, end)}


def month_figures(year: int, month: int) -> dict:
    """The monthly form's figures: every visit with its answers, rates overall and per salesperson, average
    salesperson rating, the problems with their tickets."""
    start, end = month_bounds(year, month)
    return {"year": year, "month": month, "label": f"{year}-{month:02d}", **_period(start, end)}


def trend(year: int, month: int, months: int = 12) -> list[dict]:
    """The `months` months ending with (year, month), oldest first: visits and rate of each, counted by the
    database in one pass over the period (each visit's month found from the local-midnight bounds); kept per
    worker until a visit changes."""
    points = datacache.cached("satisfaction_trend", ("follow_up_visits",), (year, month, months, str(local_zone())),
                              lambda: _trend(year, month, months))
    return [dict(point) for point in points]


_TREND: dict[int, object] = {}


def _trend_statement(months: int):
    """Visits, scored visits and satisfied ones of each of `months` months, one index range a month (a UNION ALL
    of range counts): the index (state, done_at, score) answers each alone. Built once per number of months and
    run with the month bounds as parameters b0..b<months>."""
    stmt = _TREND.get(months)
    if stmt is None:
        parts = [select(literal(i, Integer).label("i"), func.count(), func.count(FollowUpVisit.score),
                        func.coalesce(func.sum(case((FollowUpVisit.score >= 4, 1), else_=0)), 0))
                 .where(FollowUpVisit.state == VisitState.DONE.value,
                        FollowUpVisit.done_at >= bindparam(f"b{i}", type_=_BOUND),
                        FollowUpVisit.done_at < bindparam(f"b{i + 1}", type_=_BOUND))
                 for i in range(months)]
        stmt = _TREND[months] = union_all(*parts)
    return stmt


def _trend(year: int, month: int, months: int) -> list[dict]:
    spans = [add_months(year, month, -back) for back in range(months - 1, -1, -1)]
    bounds = [month_bounds(*spans[0])[0]] + [month_bounds(y, m)[1] for y, m in spans]
    counts = {int(i): (int(v), int(sc), int(sat)) for i, v, sc, sat in db.session.execute(
        _trend_statement(months), {f"b{i}": local_midnight(day) for i, day in enumerate(bounds)})}
    points = []
    for i, (y, m) in enumerate(spans):
        visits, scored, satisfied = counts.get(i, (0, 0, 0))
        points.append({"year": y, "month": m, "label": f"{y}-{m:02d}", "visits": visits,
                       "rate": rate(satisfied, scored)})
    return points


def chart_svg(points: list[dict]) -> Markup:
    """The chart of `points`, drawn once per worker for each language and set of points (~0.3 ms a drawing)."""
    key = (str(get_locale()), tuple((p["label"], p["visits"], p["rate"]) for p in points))
    return datacache.cached("satisfaction_chart", (), key, lambda: chart.chart_svg(points))


# The monthly form

def revisions(year: int, month: int) -> list[SatisfactionMonth]:
    """Every revision of the month's form, newest first (the snapshots, up to ~1 MB each, load when read)."""
    return db.session.scalars(select(SatisfactionMonth).where(
        SatisfactionMonth.year == year, SatisfactionMonth.month == month)
        .options(defer(SatisfactionMonth.snapshot))
        .order_by(SatisfactionMonth.revision.desc())).all()


def current_form(year: int, month: int) -> SatisfactionMonth | None:
    """The latest revision of the month's form, or None before the first save."""
    return db.session.scalar(select(SatisfactionMonth).where(
        SatisfactionMonth.year == year, SatisfactionMonth.month == month)
        .order_by(SatisfactionMonth.revision.desc()).limit(1))


def overdue(year: int, month: int, forms: list[SatisfactionMonth], today: date) -> bool:
    """Past the 3rd of the next month and no revision submitted yet (a correction in progress is not late)."""
    return today > due_on(year, month) and not any(f.state == SUBMITTED for f in forms)


def check_version(form: SatisfactionMonth | None, revision, version) -> None:
    """The page's revision and version must still be the latest; '' for both means the page saw no form."""
    seen = (str(revision or ""), str(version or ""))
    now = ("", "") if form is None else (str(form.revision), str(form.version))
    if seen != now:
        raise ConflictError({"": _("Someone else changed this form while you were working on it. Reload the page "
                                   "and apply your change again.")})


def clean(figures: dict, data: dict) -> dict:
    """The texts of a draft: improvement actions and an action per problem of the month (others ignored)."""
    errors = {}
    improvement = (data.get("improvement_actions") or "").strip()
    if len(improvement) > MAX_TEXT:
        errors["improvement_actions"] = _("At most %(n)d characters.", n=MAX_TEXT)
    problems = {str(r["visit_id"]) for r in figures["problem_rows"]}
    actions = {}
    for key, text in (data.get("problem_actions") or {}).items():
        key, text = str(key), (text or "").strip()
        if key not in problems:
            continue
        if len(text) > MAX_ACTION:
            errors[f"action-{key}"] = _("At most %(n)d characters.", n=MAX_ACTION)
        elif text:
            actions[key] = text
    if errors:
        raise SatisfactionError(errors)
    return {"improvement_actions": improvement or None, "problem_actions": actions or None}


def _new_form(user: User, year: int, month: int, revision: int, **values) -> SatisfactionMonth:
    form = SatisfactionMonth(year=year, month=month, revision=revision, state=DRAFT,
                             created_by_id=getattr(user, "id", None), **values)
    try:
        with db.session.begin_nested():  # two first saves at once: the second is told, not a 500
            db.session.add(form)
            db.session.flush()
    except IntegrityError:
        raise ConflictError({"": _("Someone else created this revision meanwhile. Reload the page.")}) from None
    return form


def save(year: int, month: int, user: User, data: dict, *, revision=None, version=None) -> SatisfactionMonth:
    """Save the draft's texts; the first save creates the form (revision 1). A submitted form is frozen (409)."""
    form = current_form(year, month)
    if form is not None and form.state == SUBMITTED and str(revision or "") == str(form.revision):
        raise TransitionError(_("This form has been submitted and is frozen. Make a correction to change it."))
    check_version(form, revision, version)
    values = clean(month_figures(year, month), data)
    if form is None:
        form = _new_form(user, year, month, 1, **values)
        audit.record("create", form, summary=f"{year}-{month:02d} r1", user=user)
        return form
    changes = audit.apply_changes(form, values)
    if changes:
        db.session.flush()
        audit.record("update", form, summary=f"{year}-{month:02d} r{form.revision}", changes=changes, user=user)
    return form


def ensure_form(year: int, month: int, user: User) -> SatisfactionMonth:
    """The latest revision, created as an empty draft when there is none yet."""
    form = current_form(year, month)
    if form is None:
        form = _new_form(user, year, month, 1)
        audit.record("create", form, summary=f"{year}-{month:02d} r1", user=user)
    return form


def _freeze(value):
    """JSON for the snapshot: Decimals and dates as strings."""
    if isinstance(value, dict):
        return {str(k): _freeze(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_freeze(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


DECIMAL_KEYS = {"rate", "avg_rating"}
DATE_KEYS = {"start", "end"}


def _thaw(value, key: str | None = None):
    """The snapshot back into the shapes month_figures gives (Decimals and dates)."""
    if isinstance(value, dict):
        return {k: _thaw(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_thaw(v) for v in value]
    if key in DECIMAL_KEYS and isinstance(value, str):
        return Decimal(value)
    if key in DATE_KEYS and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def submit(form: SatisfactionMonth, user: User, today: date | None = None) -> SatisfactionMonth:
    """Submit a draft once its month is over: the figures, rows and chart are frozen into the snapshot."""
    today = today or local_today()
    if form.state != DRAFT:
        raise TransitionError(_("This form has already been submitted."))
    if not month_over(form.year, form.month, today):
        raise TransitionError(_("A month's form can be submitted once the month is over."))
    figures = month_figures(form.year, form.month)
    figures["trend"] = trend(form.year, form.month)
    figures["format"] = SNAPSHOT_FORMAT
    form.snapshot = _freeze(figures)
    form.state = SUBMITTED
    form.submitted_by_id = user.id
    form.submitted_at = utcnow()
    db.session.flush()
    audit.record("transition", form, summary=f"{form.year}-{form.month:02d} r{form.revision}: submitted", user=user,
                 changes={"state": [DRAFT, SUBMITTED]})
    return form


def correct(form: SatisfactionMonth, user: User, reason: str) -> SatisfactionMonth:
    """A correction of a submitted form: revision N+1 as a new draft with the texts copied and the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise SatisfactionError({"reason": _("Say why the submitted form is corrected.")})
    if len(reason) > MAX_REASON:
        raise SatisfactionError({"reason": _("At most %(n)d characters.", n=MAX_REASON)})
    latest = current_form(form.year, form.month)
    if form.state != SUBMITTED or latest is None or latest.id != form.id:
        raise TransitionError(_("Only the latest submitted revision can be corrected."))
    new = _new_form(user, form.year, form.month, form.revision + 1, improvement_actions=form.improvement_actions,
                    problem_actions=dict(form.problem_actions or {}) or None, correction_reason=reason)
    audit.record("create", new, summary=f"{form.year}-{form.month:02d} r{new.revision}: {reason}", user=user)
    return new


def month_report(year: int, month: int, revision: int | None = None, today: date | None = None) -> dict:
    """What the monthly page and the PDF show: the chosen revision (default the latest); a submitted one from
    its snapshot, a draft (or no form yet) from the live figures."""
    today = today or local_today()
    forms = revisions(year, month)
    form = forms[0] if forms and revision is None else next((f for f in forms if f.revision == revision), None)
    frozen = None
    if form is not None and form.state == SUBMITTED:
        # a submitted snapshot never changes (a correction is a new revision): read and thawed once per worker;
        # the submission time keeps a restored or rebuilt database from meeting an older copy
        frozen = datacache.cached("satisfaction_snapshot", (), (form.id, form.version, form.submitted_at),
                                  lambda: _thaw(form.snapshot) if form.snapshot else None)
    if frozen is not None:
        figures = dict(frozen)
        points = figures.pop("trend", [])
    else:
        figures = month_figures(year, month)
        points = trend(year, month)
    actions = (form.problem_actions if form is not None else None) or {}
    return {
        "year": year, "month": month, "label": f"{year}-{month:02d}", "form": form, "revisions": forms,
        "latest": forms[0] if forms else None, "figures": figures, "points": points, "chart": chart_svg(points),
        "actions": {str(k): v for k, v in actions.items()}, "due_on": due_on(year, month),
        "overdue": overdue(year, month, forms, today), "month_over": month_over(year, month, today),
        "frozen": form is not None and form.state == SUBMITTED,
        "editable": form is None or (form.state == DRAFT and form is forms[0]),
    }


def months_list(today: date, months: int = 12) -> tuple[list[dict], list[dict]]:
    """The index's months, newest first (visits, rate, the form's state, due date, overdue), and the chart's
    points (oldest first)."""
    points = trend(today.year, today.month, months)
    first = (points[0]["year"], points[0]["month"])
    forms = db.session.scalars(select(SatisfactionMonth).where(
        SatisfactionMonth.year * 100 + SatisfactionMonth.month >= first[0] * 100 + first[1])
        .order_by(SatisfactionMonth.revision.desc())).all()
    by_month: dict[tuple[int, int], list[SatisfactionMonth]] = {}
    for form in forms:
        by_month.setdefault((form.year, form.month), []).append(form)
    rows = []
    for point in reversed(points):
        key = (point["year"], point["month"])
        month_forms = by_month.get(key, [])
        rows.append({**point, "form": month_forms[0] if month_forms else None, "due_on": due_on(*key),
                     "overdue": overdue(*key, month_forms, today)})
    return rows, points


def index(today: date, day: date | None = None) -> dict:
    """The index page: the day's problems, this and last week (with due dates), 12 months and the chart."""
    year, week, _weekday = today.isocalendar()
    this_week = weekly(year, week)
    last_monday = date.fromisocalendar(year, week, 1) - timedelta(days=7)
    last_year, last_week, _ = last_monday.isocalendar()
    months, points = months_list(today)
    return {"today": today, "day": daily(day or today), "weeks": [this_week, weekly(last_year, last_week)],
            "months": months, "chart": chart_svg(points)}


# The PDF

def render_pdf(year: int, month: int, revision: int | None = None, lang: str = "zh"):
    """The monthly form as a PDF through the documents' renderer (letterhead from the company settings);
    a draft (or a month without a form) carries the DRAFT watermark."""
    from ..documents import render as pdf
    from ..documents.services import company, upload_urls

    report = month_report(year, month, revision)
    settings = company()
    html = render_template(
        "documents/satisfaction.html", **report, kind="satisfaction", lang=lang,
        html_lang="zh-CN" if lang == "zh" else "en", t=(lambda zh, en: zh) if lang == "zh" else (lambda zh, en: en),
        seller=settings, number=f"{year}-{month:02d}", version=report["form"].revision if report["form"] else 1,
        draft=not report["frozen"], logo_url=f"upload:company/{settings.logo_file}" if settings.logo_file else None,
        percent=chart.percent)
    return pdf.html_to_pdf(html, upload_urls(settings))
