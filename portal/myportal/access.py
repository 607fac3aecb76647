"""Every portal query starts here: scoped to the signed-in buyer's own company, at the query.

No portal view loads a record by id and checks afterwards: `get_my_*_or_404` select by id *within* the
buyer's company, so another company's id is simply not found (404).
"""
from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from ..documents.access import visible_documents
from ..extensions import db
from ..i18n import local_today
from ..models import (Customer, FollowUpVisit, IssuedDocument, Order, OrderState, SampleRequest, SampleState,
                      Ticket, VisitState)

# Orders the buyer sees: from the signed contract on (inquiries and quotations are the salesperson's work).
VISIBLE_ORDER_STATES = tuple(s.value for s in OrderState if s not in (OrderState.INQUIRY, OrderState.QUOTED))
# Samples the buyer sees: from approval on (drafts and sheets waiting for approval are internal).
VISIBLE_SAMPLE_STATES = tuple(s.value for s in SampleState if s not in (SampleState.DRAFT, SampleState.SUBMITTED))


def my_customer() -> Customer:
    """The buyer's company; a buyer without one may see nothing."""
    customer = db.session.get(Customer, current_user.customer_id) if current_user.customer_id else None
    if customer is None:
        abort(404)
    return customer


def my_orders() -> Select:
    return select(Order).where(Order.customer_id == my_customer().id, Order.state.in_(VISIBLE_ORDER_STATES))


def get_my_order_or_404(order_id: int) -> Order:
    order = db.session.scalar(my_orders().where(Order.id == order_id))
    if order is None:
        abort(404)
    return order


def my_samples() -> Select:
    return select(SampleRequest).where(SampleRequest.customer_id == my_customer().id,
                                       SampleRequest.state.in_(VISIBLE_SAMPLE_STATES))


def get_my_sample_or_404(sample_id: int) -> SampleRequest:
    sample = db.session.scalar(my_samples().where(SampleRequest.id == sample_id))
    if sample is None:
        abort(404)
    return sample


def my_documents() -> Select:
    """The company's issued documents, current versions only (documents/access.py decides for portal users)."""
    my_customer()
    return visible_documents(current_user).order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())


def my_tickets() -> Select:
    """The company's complaints, whatever channel they came by (phone, e-mail, visit, portal)."""
    return select(Ticket).where(Ticket.customer_id == my_customer().id)


def get_my_ticket_or_404(ticket_id: int) -> Ticket:
    ticket = db.session.scalar(my_tickets().where(Ticket.id == ticket_id))
    if ticket is None:
        abort(404)
    return ticket


def my_visits() -> Select:
    """The company's follow-up visits in any state (a POST on one already answered is refused with 409, not
    hidden); pages list only `my_pending_visits()`."""
    return select(FollowUpVisit).where(FollowUpVisit.customer_id == my_customer().id)


def get_my_visit_or_404(visit_id: int) -> FollowUpVisit:
    visit = db.session.scalar(my_visits().where(FollowUpVisit.id == visit_id))
    if visit is None:
        abort(404)
    return visit


def my_pending_visits() -> Select:
    """Visits the buyer may answer on /my/survey: due, and due today or earlier (factory time)."""
    return my_visits().where(FollowUpVisit.state == VisitState.DUE.value, FollowUpVisit.due_on <= local_today())


def get_my_pending_visit_or_404(visit_id: int) -> FollowUpVisit:
    visit = db.session.scalar(my_pending_visits().where(FollowUpVisit.id == visit_id))
    if visit is None:
        abort(404)
    return visit
