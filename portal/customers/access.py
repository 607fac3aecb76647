"""Who sees which customers. Every customer list, search, export, detail and edit starts here."""
from flask import abort
from sqlalchemy import Select, bindparam, false, select, true

from ..extensions import db
from ..models import Customer, Role, User

SEE_ALL = (Role.ADMIN.value, Role.MANAGER.value, Role.SERVICE.value)
EDIT_ALL = (Role.ADMIN.value, Role.MANAGER.value)


def customer_scope(user: User, indexed: bool = True, customer=Customer):
    """The condition on Customer (or `customer`, an alias of it) for what `user` may see; records of customers
    (samples, quotations, orders) join their customer and filter with it. `indexed=False` writes the same
    condition so that the database cannot drive the query from the owner index (see orders.services.list_page)."""
    if user.role in SEE_ALL:
        return true()
    if user.role == Role.SALES.value:
        return (customer.owner_id if indexed else customer.owner_id + 0) == user.id
    return false()


def customer_scope_key(user: User) -> tuple:
    """All that customer_scope(user) depends on (a cache key for results read through it): the role, and for
    a salesperson who they are. Change it with customer_scope."""
    return (user.role, user.id if user.role == Role.SALES.value else None)


def visible_customers(user: User, indexed: bool = True) -> Select:
    """The customers `user` may see: salespeople their own, managers, admins and service all (`indexed` see
    customer_scope)."""
    return select(Customer).where(customer_scope(user, indexed))


_by_id: dict[tuple, Select] = {}  # customer_scope_key -> get_customer_or_404's statement, built once per worker


def get_customer_or_404(customer_id: int, user: User) -> Customer:
    """A customer in `user`'s scope, or 404 (whether it does not exist or is someone else's). The statement is
    built once per scope: building and keying it cost more than running it."""
    key = customer_scope_key(user)
    stmt = _by_id.get(key)
    if stmt is None:
        stmt = _by_id[key] = visible_customers(user).where(Customer.id == bindparam("customer_id"))
    customer = db.session.scalar(stmt, {"customer_id": customer_id})
    if customer is None:
        abort(404)
    return customer


def can_edit(user: User, customer: Customer) -> bool:
    """Managers and admins edit all; a salesperson their own; service staff read only."""
    if user.role in EDIT_ALL:
        return True
    return user.role == Role.SALES.value and customer.owner_id == user.id


def get_editable_customer_or_404(customer_id: int, user: User) -> Customer:
    customer = get_customer_or_404(customer_id, user)
    if not can_edit(user, customer):
        abort(404)
    return customer


def can_reassign(user: User) -> bool:
    return user.role in EDIT_ALL
