"""Who sees which orders: the customer archive's rule, applied through the order's customer."""
from flask import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from ..customers.access import EDIT_ALL, customer_scope
from ..extensions import db
from ..models import Customer, Order, User


def visible_orders(user: User, indexed: bool = True) -> Select:
    return select(Order).join(Customer, Order.customer_id == Customer.id).where(customer_scope(user, indexed))


def get_order_or_404(order_id: int, user: User) -> Order:
    # the customer comes with the scope's join (every order page shows it; a lazy load was one more statement)
    order = db.session.scalar(visible_orders(user).where(Order.id == order_id).options(contains_eager(Order.customer)))
    if order is None:
        abort(404)
    return order


def owns(user: User, order: Order) -> bool:
    return user.role in EDIT_ALL or order.customer.owner_id == user.id
