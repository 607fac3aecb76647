"""Who sees the satisfaction reports: they span every customer, so only the roles that see all customers
(service staff, managers, admins) open them; salespeople and buyers get 404. URL parts (day, ISO week,
month, revision) are parsed here, and anything that is not a real one answers 404."""
from __future__ import annotations

import re
from datetime import date

from flask import abort
from sqlalchemy import Select, select

from ..auth.access import role_required
from ..customers.access import customer_scope
from ..extensions import db
from ..models import Customer, FollowUpVisit, Role, SatisfactionMonth, User, VisitState

REPORTERS = (Role.ADMIN.value, Role.MANAGER.value, Role.SERVICE.value)
reporter_required = role_required(*REPORTERS)
FIRST_YEAR, LAST_YEAR = 2000, 2100  # keeps the local-midnight arithmetic far from datetime's limits

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def may_report(user: User) -> bool:
    return getattr(user, "role", None) in REPORTERS


def done_visits(user: User | None = None) -> Select:
    """Visits made (state done), every customer's: the reports' source. With `user`, also the customer scope,
    which for the reporting roles is everything."""
    stmt = select(FollowUpVisit).where(FollowUpVisit.state == VisitState.DONE.value)
    if user is not None:
        stmt = stmt.join(Customer, FollowUpVisit.customer_id == Customer.id).where(customer_scope(user))
    return stmt


def parse_month(text: str) -> tuple[int, int] | None:
    match = _MONTH.fullmatch(text or "")
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    return (year, month) if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12 else None


def parse_week(text: str) -> tuple[int, int] | None:
    """(ISO year, week) of 'YYYY-Www' when that week exists (2020-W53 does, 2026-W53 does not)."""
    match = _WEEK.fullmatch(text or "")
    if not match:
        return None
    year, week = int(match[1]), int(match[2])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    return year, week


def parse_day(text: str) -> date | None:
    if not _DAY.fullmatch(text or ""):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def month_or_404(text: str) -> tuple[int, int]:
    """A month up to the current one (a form for a month still to come does not exist)."""
    from ..i18n import local_today

    found = parse_month(text)
    today = local_today()
    if found is None or found > (today.year, today.month):
        abort(404)
    return found


def revision_arg_or_404(year: int, month: int, value: str | None) -> int | None:
    """?revision=N of an existing revision of the month; None when not asked for."""
    if value is None:
        return None
    if not value.isdigit() or len(value) > 6:
        abort(404)
    return get_revision_or_404(year, month, int(value)).revision


def week_or_404(text: str) -> tuple[int, int]:
    return parse_week(text) or abort(404)


def day_or_404(text: str) -> date:
    return parse_day(text) or abort(404)


def get_revision_or_404(year: int, month: int, revision: int) -> SatisfactionMonth:
    form = db.session.scalar(select(SatisfactionMonth).where(
        SatisfactionMonth.year == year, SatisfactionMonth.month == month, SatisfactionMonth.revision == revision))
    if form is None:
        abort(404)
    return form
