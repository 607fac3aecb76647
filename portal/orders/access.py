"""Who sees which orders: the customer archive's rule, applied through the order's customer."""
from flask import abort
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import contains_eager

from ..customers.access import EDIT_ALL, customer_scope, customer_scope_key
from ..extensions import db
from ..models import Customer, Order, User


def visible_orders(user: User, indexed: bool = True) -> Select:
    return select(Order).join(Customer, Order.customer_id == Customer.id).where(customer_scope(user, indexed))


# get_order_or_404's statement for each scope (customer_scope_key: a role, or one salesperson), built once:
# building it cost more than running it.
_BY_ID: dict[tuple, Select] = {}


def get_order_or_404(order_id: int, user: User) -> Order:
    key = customer_scope_key(user)
    stmt = _BY_ID.get(key)
    if stmt is None:
        # the customer comes with the scope's join (every order page shows it; a lazy load was one more statement)
        stmt = _BY_ID[key] = (visible_orders(user).where(Order.id == bindparam("order_id"))
                              .options(contains_eager(Order.customer)))
    order = db.session.scalar(stmt, {"order_id": order_id})
    if order is None:
        abort(404)
    return order


def owns(user: User, order: Order) -> bool:
    return user.role in EDIT_ALL or order.customer.owner_id == user.id
