"""What the staff home page ("my day") shows for each role."""
from datetime import datetime, timezone

from sqlalchemy import func, select

from ..customers import services as customer_services
from ..customers.access import visible_customers
from ..extensions import db
from ..i18n import local_today, local_zone
from ..models import AuditLog, Customer, Role, User


def my_day(user: User) -> dict:
    """The figures and lists of the user's start page."""
    today = local_today()
    day = {
        "now": datetime.now(timezone.utc),
        "today": today,
        "recent": db.session.scalars(
            select(AuditLog).where(AuditLog.user_id == user.id, AuditLog.action.not_in(("login", "logout")))
            .order_by(AuditLog.at.desc()).limit(8)).all(),
        "customers": db.session.scalar(
            visible_customers(user).with_only_columns(func.count(Customer.id)).order_by(None)),
    }
    if user.role in (Role.SALES.value, Role.MANAGER.value, Role.ADMIN.value):
        day["next_steps"] = customer_services.due_next_steps(user, today)
        day["today_logs"] = customer_services.logs_of_day(user, today, local_zone())
    if user.role in (Role.MANAGER.value, Role.ADMIN.value):
        day["team_logs"] = customer_services.team_logs_of_day(today, local_zone())
    if user.role in (Role.ADMIN.value, Role.MANAGER.value):
        day["users_by_role"] = dict(db.session.execute(
            select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)).all())
    return day
