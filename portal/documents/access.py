"""Who sees which documents and records: staff follow the orders' visibility, portal users their own company."""
from flask import abort
from sqlalchemy import Select, false, select

from ..customers.access import customer_scope
from ..extensions import db
from ..models import Customer, IssuedDocument, Order, PrintJob, Role, Shipment, User

ISSUERS = (Role.ADMIN, Role.MANAGER, Role.SALES)  # issue documents of the orders they may edit
PRINTERS = (Role.ADMIN, Role.MANAGER)  # the print centre


def visible_documents(user: User) -> Select:
    """Issued documents `user` may download. Portal users: their company's current versions only
    (drafts are never stored, so they never see one); staff: every version of the customers they see."""
    stmt = select(IssuedDocument)
    if user.role == Role.CUSTOMER.value:
        if not user.customer_id:
            return stmt.where(false())
        return stmt.where(IssuedDocument.customer_id == user.customer_id, IssuedDocument.current.is_(True))
    return stmt.join(Customer, IssuedDocument.customer_id == Customer.id).where(customer_scope(user))


def get_document_or_404(document_id: int, user: User) -> IssuedDocument:
    document = db.session.scalar(visible_documents(user).where(IssuedDocument.id == document_id))
    if document is None:
        abort(404)
    return document


def visible_shipments(user: User) -> Select:
    return (select(Shipment).join(Order, Shipment.order_id == Order.id)
            .join(Customer, Order.customer_id == Customer.id).where(customer_scope(user)))


def get_shipment_or_404(shipment_id: int, user: User) -> Shipment:
    shipment = db.session.scalar(visible_shipments(user).where(Shipment.id == shipment_id))
    if shipment is None:
        abort(404)
    return shipment


def get_job_or_404(job_id: int) -> PrintJob:
    """Print jobs are shared by the print centre's users (admins and managers)."""
    return db.get_or_404(PrintJob, job_id)
