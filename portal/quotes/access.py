"""Who sees which quotations: the customer archive's rule, applied through the quotation's customer."""
from flask import abort
from sqlalchemy import Select, select

from ..customers.access import EDIT_ALL, customer_scope
from ..extensions import db
from ..models import Customer, Quote, User


def visible_quotes(user: User) -> Select:
    return select(Quote).join(Customer, Quote.customer_id == Customer.id).where(customer_scope(user))


def get_quote_or_404(quote_id: int, user: User) -> Quote:
    quote = db.session.scalar(visible_quotes(user).where(Quote.id == quote_id))
    if quote is None:
        abort(404)
    return quote


def owns(user: User, quote: Quote) -> bool:
    return user.role in EDIT_ALL or quote.customer.owner_id == user.id
