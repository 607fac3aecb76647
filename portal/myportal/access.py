"""Every portal query starts here: scoped to the signed-in buyer's own company."""
from flask import abort
from flask_login import current_user

from ..extensions import db
from ..models import Customer


def my_customer() -> Customer:
    """The buyer's company; a buyer without one may see nothing."""
    customer = db.session.get(Customer, current_user.customer_id) if current_user.customer_id else None
    if customer is None:
        abort(404)
    return customer
