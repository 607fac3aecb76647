"""After-sales (售后): complaints handled to closure (tickets and their steps), service records,
follow-up visits (回访) and the monthly customer-satisfaction form (月客户满意度回访表)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Money, UtcDateTime, utcnow
from .products import Quantity


class TicketState(str, enum.Enum):
    RECEIVED = "received"  # recorded, not yet assessed
    ASSESSED = "assessed"  # severity and due date set
    ASSIGNED = "assigned"  # passed to the responsible department and person
    PROPOSED = "proposed"  # cause and solution written
    SENT = "sent"  # solution sent to the customer
    CARRIED_OUT = "carried_out"  # solution carried out, waiting for the customer's confirmation
    CONFIRMED = "confirmed"  # the customer confirmed
    CLOSED = "closed"  # summary and preventive action written


class Channel(str, enum.Enum):
    PHONE = "phone"
    FAX = "fax"
    EMAIL = "email"
    WECHAT = "wechat"
    VISIT = "visit"
    PORTAL = "portal"


class Category(str, enum.Enum):
    QUALITY = "quality"
    DELIVERY = "delivery"
    PACKAGING = "packaging"
    SERVICE = "service"
    OTHER = "other"


class Severity(str, enum.Enum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class Department(str, enum.Enum):
    TECHNICAL = "technical"
    PRODUCTION = "production"
    QUALITY = "quality"
    LOGISTICS = "logistics"
    SALES = "sales"


class Resolution(str, enum.Enum):
    """What the solution gives the customer (returns and claims, 退货索赔, carry an amount)."""

    REPAIR = "repair"
    REPLACEMENT = "replacement"
    RETURN = "return"
    CLAIM = "claim"
    EXPLANATION = "explanation"
    OTHER = "other"


class Ticket(db.Model):
    """A complaint (投诉) or a return/claim, from receipt to closure."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_state_due", "state", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # TS2026-0001
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(12), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(100))  # who complained
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(12), default=TicketState.RECEIVED.value, index=True)
    severity: Mapped[str | None] = mapped_column(String(10), index=True)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)  # follows from the severity
    department: Mapped[str | None] = mapped_column(String(12), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    cause: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(String(12))
    cost_amount: Mapped[Decimal | None] = mapped_column(Money)  # what it costs the factory (internal)
    claim_amount: Mapped[Decimal | None] = mapped_column(Money)  # refunded / credited to the customer
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    summary: Mapped[str | None] = mapped_column(Text)  # closing summary
    preventive_action: Mapped[str | None] = mapped_column(Text)  # so that it does not recur
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopen_count: Mapped[int] = mapped_column(default=0)
    # The follow-up visit whose answers opened this ticket (a visit with a problem, one step).
    source_visit_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_up_visits.id", use_alter=True, ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # staff or the buyer
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped["Customer"] = relationship()  # noqa: F821
    order: Mapped["Order | None"] = relationship()  # noqa: F821
    assignee: Mapped["User | None"] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    closed_by: Mapped["User | None"] = relationship(foreign_keys=[closed_by_id])  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    source_visit: Mapped["FollowUpVisit | None"] = relationship(foreign_keys=[source_visit_id])
    lines: Mapped[list[TicketLine]] = relationship(back_populates="ticket", cascade="all, delete-orphan",
                                                   order_by="TicketLine.id")
    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", cascade="all, delete-orphan",
                                                     order_by="TicketEvent.at")
    service_records: Mapped[list[ServiceRecord]] = relationship(back_populates="ticket",
                                                                order_by="ServiceRecord.served_on")


class TicketLine(db.Model):
    """An order item the complaint is about, with the quantity concerned."""

    __tablename__ = "ticket_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"))
    quantity: Mapped[Decimal | None] = mapped_column(Quantity)

    ticket: Mapped[Ticket] = relationship(back_populates="lines")
    order_item: Mapped["OrderItem"] = relationship()  # noqa: F821


class TicketEvent(db.Model):
    """One step of a ticket (a transition or a note): who, when, what, and whether the customer sees it."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # a transition name, "note" or "service"
    state_from: Mapped[str | None] = mapped_column(String(12))
    state_to: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    customer_visible: Mapped[bool] = mapped_column(default=False)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    user: Mapped["User | None"] = relationship()  # noqa: F821


class ServiceRecord(db.Model):
    """服务记录: one service done (fault, how it was handled, parts, time), filed by month."""

    __tablename__ = "service_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    served_on: Mapped[date] = mapped_column(Date, index=True)
    fault: Mapped[str] = mapped_column(Text)
    handling: Mapped[str] = mapped_column(Text)
    parts: Mapped[str | None] = mapped_column(String(500))
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    technician: Mapped[str | None] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped["Customer"] = relationship()  # noqa: F821
    ticket: Mapped[Ticket | None] = relationship(back_populates="service_records")
    order: Mapped["Order | None"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship()  # noqa: F821


class VisitReason(str, enum.Enum):
    DELIVERY = "delivery"  # N days after a shipment was delivered
    TICKET = "ticket"  # 二次回访 after a ticket was closed
    MANUAL = "manual"  # added by service staff


class VisitState(str, enum.Enum):
    DUE = "due"
    DONE = "done"
    CANCELLED = "cancelled"


class VisitChannel(str, enum.Enum):
    PHONE = "phone"
    VISIT = "visit"
    EMAIL = "email"
    WECHAT = "wechat"
    PORTAL = "portal"  # answered by the buyer on /my/survey


class FollowUpVisit(db.Model):
    """回访: scheduled, then made, with the four questions of the source documents and a score."""

    __tablename__ = "follow_up_visits"
    __table_args__ = (
        # scheduling is idempotent: one delivery visit per shipment, one second visit per closed ticket
        UniqueConstraint("shipment_id", "reason", name="uq_follow_up_visits_shipment_reason"),
        Index("ix_follow_up_visits_state_due", "state", "due_on"),
        # the reports read done visits by period, and count them a month at a time from this index alone
        Index("ix_follow_up_visits_state_done_score", "state", "done_at", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(10), default=VisitReason.MANUAL.value)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default=VisitState.DUE.value, index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # the answers
    channel: Mapped[str | None] = mapped_column(String(10))
    answered_by: Mapped[str | None] = mapped_column(String(100))  # the customer's person who answered
    quality_ok: Mapped[bool | None]
    quality_note: Mapped[str | None] = mapped_column(Text)
    service_timely: Mapped[bool | None]
    service_note: Mapped[str | None] = mapped_column(Text)
    sales_rating: Mapped[int | None]  # 1-5, the salesperson
    suggestions: Mapped[str | None] = mapped_column(Text)  # other needs or suggestions
    score: Mapped[int | None]  # overall satisfaction 1-5; 4-5 counts as satisfied
    problem: Mapped[bool] = mapped_column(default=False, index=True)  # set from the answers by the services
    notes: Mapped[str | None] = mapped_column(Text)  # internal
    # The customer's salesperson when the visit was made (reports per salesperson stay true after reassignment).
    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # staff or the buyer (portal)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped["Customer"] = relationship()  # noqa: F821
    order: Mapped["Order | None"] = relationship()  # noqa: F821
    shipment: Mapped["Shipment | None"] = relationship()  # noqa: F821
    ticket: Mapped[Ticket | None] = relationship(foreign_keys=[ticket_id])
    assigned_to: Mapped["User | None"] = relationship(foreign_keys=[assigned_to_id])  # noqa: F821
    salesperson: Mapped["User | None"] = relationship(foreign_keys=[salesperson_id])  # noqa: F821
    done_by: Mapped["User | None"] = relationship(foreign_keys=[done_by_id])  # noqa: F821


class SatisfactionState(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class SatisfactionMonth(db.Model):
    """月客户满意度回访表 for one month. Submitted forms are frozen (their figures kept in `snapshot`);
    a correction is a new revision of the same month."""

    __tablename__ = "satisfaction_months"
    __table_args__ = (UniqueConstraint("year", "month", "revision", name="uq_satisfaction_months_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    month: Mapped[int]
    revision: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(10), default=SatisfactionState.DRAFT.value, index=True)
    improvement_actions: Mapped[str | None] = mapped_column(Text)  # written by the service lead
    problem_actions: Mapped[dict | None] = mapped_column(JSON)  # {visit_id: what was done}, for problems
    correction_reason: Mapped[str | None] = mapped_column(String(500))  # why revision > 1 exists
    snapshot: Mapped[dict | None] = mapped_column(JSON)  # the figures and rows as submitted
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    submitted_by: Mapped["User | None"] = relationship(foreign_keys=[submitted_by_id])  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821

    @property
    def due_on(self) -> date:
        """The 3rd of the following month."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return date(year, month, 3)
