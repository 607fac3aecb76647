"""Who sees which sample requests: the customer archive's rule, applied through the sample's customer."""
from flask import abort
from sqlalchemy import Select, select

from ..customers.access import EDIT_ALL, customer_scope
from ..extensions import db
from ..models import Customer, Role, SampleRequest, User


def visible_samples(user: User) -> Select:
    return select(SampleRequest).join(Customer, SampleRequest.customer_id == Customer.id).where(customer_scope(user))


def get_sample_or_404(sample_id: int, user: User) -> SampleRequest:
    sample = db.session.scalar(visible_samples(user).where(SampleRequest.id == sample_id))
    if sample is None:
        abort(404)
    return sample


def owns(user: User, sample: SampleRequest) -> bool:
    """Managers and admins act on every sample; a salesperson on their own customers' samples;
    a buyer (portal user) on their own company's samples."""
    if user.role == Role.CUSTOMER.value:
        return user.customer_id is not None and sample.customer_id == user.customer_id
    return user.role in EDIT_ALL or sample.customer.owner_id == user.id
