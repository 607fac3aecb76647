"""Who sees which tickets and service records: the customer archive's rule, through the record's customer.
Service staff, managers and admins see all; a salesperson their own customers'; buyers use myportal/access.py."""
from flask import abort
from sqlalchemy import Select, select

from ..customers.access import SEE_ALL, customer_scope
from ..extensions import db
from ..models import Customer, Role, ServiceRecord, Ticket, User


def visible_tickets(user: User) -> Select:
    return select(Ticket).join(Customer, Ticket.customer_id == Customer.id).where(customer_scope(user))


def get_ticket_or_404(ticket_id: int, user: User) -> Ticket:
    ticket = db.session.scalar(visible_tickets(user).where(Ticket.id == ticket_id))
    if ticket is None:
        abort(404)
    return ticket


def visible_service_records(user: User) -> Select:
    return select(ServiceRecord).join(Customer, ServiceRecord.customer_id == Customer.id).where(customer_scope(user))


def get_service_record_or_404(record_id: int, user: User) -> ServiceRecord:
    record = db.session.scalar(visible_service_records(user).where(ServiceRecord.id == record_id))
    if record is None:
        abort(404)
    return record


def owns(user: User, ticket: Ticket) -> bool:
    """Whether `user` acts on `ticket` as its own: staff who see all, the customer's salesperson, the buyer's company."""
    if user.role in SEE_ALL:
        return True
    if user.role == Role.SALES.value:
        return ticket.customer.owner_id == user.id
    if user.role == Role.CUSTOMER.value:
        return user.customer_id is not None and user.customer_id == ticket.customer_id
    return False
