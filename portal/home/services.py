"""What the staff home page ("my day") shows for each role."""
from datetime import datetime, timezone

from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditLog, Customer, Role, User


def my_day(user: User) -> dict:
    """The figures and lists of the user's start page."""
    day = {"recent": db.session.scalars(
        select(AuditLog).where(AuditLog.user_id == user.id, AuditLog.action.not_in(("login", "logout")))
        .order_by(AuditLog.at.desc()).limit(8)).all()}
    if user.role == Role.SALES.value:
        day["my_customers"] = db.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.owner_id == user.id))
    if user.role in (Role.ADMIN.value, Role.MANAGER.value):
        day["customers"] = db.session.scalar(select(func.count()).select_from(Customer))
        day["users_by_role"] = dict(db.session.execute(
            select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)).all())
    day["now"] = datetime.now(timezone.utc)
    return day
