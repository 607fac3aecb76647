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
    _trade(user, today, day)
    _aftersales(user, today, day)
    if user.role in (Role.ADMIN.value, Role.MANAGER.value):
        day["users_by_role"] = dict(db.session.execute(
            select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)).all())
    return day


def _trade(user: User, today, day: dict) -> None:
    """Samples, quotations, orders and money waiting for this user (each list bounded)."""
    from ..orders import services as orders
    from ..quotes import services as quotes
    from ..samples import services as samples

    sales_side = user.role in (Role.SALES.value, Role.MANAGER.value, Role.ADMIN.value)
    managers = user.role in (Role.MANAGER.value, Role.ADMIN.value)
    if managers:
        day["approvals"] = {"samples": samples.awaiting_approval(user, limit=20),
                            "quotes": quotes.pending_approval(user, limit=20),
                            "plans": orders.plans_awaiting_approval(user),
                            "changes": orders.changes_awaiting_approval(user)}
    if sales_side:
        day["evaluations"] = samples.unread_evaluations(user, limit=20)
        day["awaiting_evaluation"] = samples.awaiting_evaluation(user, limit=20)
        day["overdue_samples"] = samples.overdue(user, today, limit=20)
        day["to_ship"] = orders.to_ship_this_week(user, today)
        day["late"] = orders.late_deliveries(user, today)
        day["overdue_receivables"] = [group for group in orders.receivables(user, today, owner_id=(
            user.id if user.role == Role.SALES.value else None), per_page=15).groups if group.overdue > 0]
    if user.role == Role.SALES.value:
        day["month"] = orders.month_summary(user, today)


def _aftersales(user: User, today, day: dict) -> None:
    """Follow-up visits due today and overdue, complaints past their due date and the open ones: the service
    desk's work list (managers see it too; salespeople their own customers' overdue ones)."""
    from ..aftersales import services as tickets
    from ..visits import services as visits

    desk = user.role in (Role.SERVICE.value, Role.MANAGER.value, Role.ADMIN.value)
    day["visits_due"] = visits.due_list(user, today, limit=30)
    day["tickets_overdue"] = tickets.overdue(user, today, limit=20)
    if user.role == Role.SERVICE.value:
        day["tickets_open"] = [t for t in tickets.open_tickets(user, limit=30)
                               if t not in day["tickets_overdue"]][:20]
    day["aftersales_desk"] = desk
