"""Who sees which orders: the customer archive's rule, applied through the order's customer."""
from flask import abort
from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.orm import aliased, contains_eager

from ..customers.access import EDIT_ALL, customer_scope, customer_scope_key
from ..extensions import db
from ..models import Customer, Order, User


def visible_orders(user: User, indexed: bool = True) -> Select:
    """The orders `user` may see, joined to their customer. `indexed=False` (a list walking its sort column's
    index on SQLite, orders.services.list_page) checks the scope order by order, see of_customer_where."""
    stmt = select(Order).join(Customer, Order.customer_id == Customer.id)
    if indexed:
        return stmt.where(customer_scope(user))
    return stmt.where(of_customer_where(customer_scope(user, indexed=False, customer=ORDER_CUSTOMER)))


ORDER_CUSTOMER = aliased(Customer, name="order_customer")


def of_customer_where(*conditions):
    """The order's customer meets `conditions` (written on ORDER_CUSTOMER), as a correlated EXISTS read by the
    primary key for each order walked. The same condition on the joined customers made SQLite first build a
    Bloom filter from every customer (1.2 ms at 10,000) to return a page of 25 orders."""
    return exists().where(ORDER_CUSTOMER.id == Order.customer_id, *conditions)


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
