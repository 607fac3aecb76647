"""Who sees which follow-up visits: service staff, managers and admins all; a salesperson their own
customers'; buyers only through myportal/access.py (their own pending visits, on /my/survey)."""
from flask import abort
from sqlalchemy import Select, select

from ..customers.access import customer_scope
from ..extensions import db
from ..models import Customer, FollowUpVisit, User


def visible_visits(user: User) -> Select:
    return select(FollowUpVisit).join(Customer, FollowUpVisit.customer_id == Customer.id).where(customer_scope(user))


def get_visit_or_404(visit_id: int, user: User) -> FollowUpVisit:
    visit = db.session.scalar(visible_visits(user).where(FollowUpVisit.id == visit_id))
    if visit is None:
        abort(404)
    return visit
