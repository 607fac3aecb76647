"""Follow-up visits (回访): scheduled after deliveries and closed tickets, made by service staff (or
answered by the buyer on the portal), with the four questions of the source documents and a score."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import CompanySettings, FollowUpVisit, Shipment, Ticket, VisitReason, VisitState


def visit_delay_days() -> int:
    settings = db.session.get(CompanySettings, 1)
    return settings.visit_delay_days if settings is not None and settings.visit_delay_days else 7


def schedule_after_delivery(shipment: Shipment, delivered_on: date) -> FollowUpVisit:
    """The visit `visit_delay_days` after a delivery; once per shipment (a corrected delivery date moves it
    while it is still due)."""
    due = delivered_on + timedelta(days=visit_delay_days())
    visit = db.session.scalar(select(FollowUpVisit).where(
        FollowUpVisit.shipment_id == shipment.id, FollowUpVisit.reason == VisitReason.DELIVERY.value))
    if visit is not None:
        if visit.state == VisitState.DUE.value and visit.due_on != due:
            changes = audit.apply_changes(visit, {"due_on": due})
            audit.record("update", visit, changes=changes)
        return visit
    order = shipment.order
    visit = FollowUpVisit(customer_id=order.customer_id, order_id=order.id, shipment_id=shipment.id,
                          reason=VisitReason.DELIVERY.value, due_on=due)
    db.session.add(visit)
    db.session.flush()
    audit.record("create", visit, summary=order.number)
    return visit


def schedule_after_ticket(ticket: Ticket, closed_on: date) -> FollowUpVisit:
    """二次回访: a second visit after a ticket is closed, `visit_delay_days` later; once per ticket."""
    visit = db.session.scalar(select(FollowUpVisit).where(
        FollowUpVisit.ticket_id == ticket.id, FollowUpVisit.reason == VisitReason.TICKET.value))
    if visit is not None:
        return visit
    visit = FollowUpVisit(customer_id=ticket.customer_id, order_id=ticket.order_id, ticket_id=ticket.id,
                          reason=VisitReason.TICKET.value, due_on=closed_on + timedelta(days=visit_delay_days()))
    db.session.add(visit)
    db.session.flush()
    audit.record("create", visit, summary=ticket.number)
    return visit
