"""Orders (订单) from inquiry to cash: items, timeline, production plan, inspections, shipments,
payments, change requests, dunning notes; and monthly sales targets."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from .base import Money, UtcDateTime, utcnow
from .products import Quantity, UnitPrice
from .quotes import line_amount


class OrderState(str, enum.Enum):
    INQUIRY = "inquiry"
    QUOTED = "quoted"
    CONTRACT_SIGNED = "contract_signed"
    DEPOSIT_RECEIVED = "deposit_received"
    PLAN_APPROVED = "plan_approved"
    IN_PRODUCTION = "in_production"
    INSPECTED = "inspected"
    SHIPPED = "shipped"
    BALANCE_RECEIVED = "balance_received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# Signed and not yet shipped. Written out in SQL, not bound, so that SQLite and PostgreSQL see in the queries
# of the home page the condition of the partial index below (4 % of the orders of a long-running desk).
AWAITING_SHIPMENT = ("contract_signed", "deposit_received", "plan_approved", "in_production", "inspected")
AWAITING_SHIPMENT_SQL = "state IN (" + ", ".join(f"'{state}'" for state in AWAITING_SHIPMENT) + ")"
# Signed and not fully paid: the receivables (about 6 % of a long-running desk's orders; SQLite cannot tell
# from its statistics that these states are rare, and scanned every order).
RECEIVABLE_STATES = AWAITING_SHIPMENT + ("shipped", "balance_received")


def receivable_sql(table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return (f"{prefix}state IN (" + ", ".join(f"'{state}'" for state in RECEIVABLE_STATES) + ")"
            f" AND {prefix}amount_total > {prefix}amount_paid")


RECEIVABLE_COLUMNS = ("customer_id", "currency", "amount_total", "amount_paid", "deposit_percent", "contract_date",
                      "balance_due_on", "state")

INCOTERMS = ("EXW", "FCA", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP")


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_state", "customer_id", "state"),
        Index("ix_orders_currency_contract", "currency", "contract_date"),  # the last exchange rate of a currency
        Index("ix_orders_state_promised", "state", "promised_date"),  # the list by status, by promised date
        Index("ix_orders_state_created", "state", "created_at"),  # the list by status, newest first
        # The list's count by status for a salesperson: on PostgreSQL an index-only scan (the customer id included)
        # joined by hash to the customers' (owner_id, id). Not on SQLite: an index (state, customer_id) there took
        # the receivables query away from its partial index (10 -> 40 ms).
        Index("ix_orders_state", "state", postgresql_include=["customer_id"]),
        Index("ix_orders_awaiting_shipment", "promised_date", sqlite_where=text(AWAITING_SHIPMENT_SQL),
              postgresql_where=text(AWAITING_SHIPMENT_SQL)),  # to ship this week, late deliveries
        # Receivables, dunning, the home page. Covering: the ranking and the ageing read every open order's amounts,
        # terms and due dates from the index alone (SQLite reads its WHERE's columns from the index too, hence state),
        # not ~5,400 rows scattered over 100,000 orders (SQLite 10 -> 3 ms to read them; PostgreSQL 2,400 pages).
        Index("ix_orders_receivable", *RECEIVABLE_COLUMNS, sqlite_where=text(receivable_sql()),
              postgresql_where=text(receivable_sql())),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    contract_no: Mapped[str | None] = mapped_column(String(20), unique=True)  # given when the contract is signed
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer_po: Mapped[str | None] = mapped_column(String(60))  # the buyer's own order number
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("samples.id"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    incoterm: Mapped[str | None] = mapped_column(String(10))
    port_of_loading: Mapped[str | None] = mapped_column(String(60))
    port_of_destination: Mapped[str | None] = mapped_column(String(60))
    deposit_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("30"))
    balance_days: Mapped[int] = mapped_column(default=0)  # balance due this many days after...
    balance_basis: Mapped[str] = mapped_column(String(10), default="shipment")  # ...shipment or bl
    payment_terms: Mapped[str | None] = mapped_column(String(300))  # the wording for documents
    terms: Mapped[str | None] = mapped_column(Text)  # per-order additions to the contract terms
    promised_date: Mapped[date | None] = mapped_column(Date, index=True)
    contract_date: Mapped[date | None] = mapped_column(Date, index=True)
    # CNY per unit of `currency`, fixed when the contract is signed (sales figures and targets are in CNY)
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    # Kept equal to `total`, `paid` and the balance's due date by `refresh_amounts` on every flush, so that
    # lists, receivables and reports can filter and sum in SQL without loading lines and payments.
    amount_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    balance_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(20), default=OrderState.INQUIRY.value)
    progress: Mapped[int] = mapped_column(default=0)  # production progress, percent
    notes: Mapped[str | None] = mapped_column(Text)  # internal
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped["Customer"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                  order_by="OrderItem.position")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                    order_by="OrderEvent.at")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                     order_by="Shipment.id")
    payments: Mapped[list[Payment]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                   order_by="Payment.received_on")
    inspections: Mapped[list[Inspection]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                         order_by="Inspection.inspected_on")
    plan: Mapped[ProductionPlan | None] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                       uselist=False)
    change_requests: Mapped[list[ChangeRequest]] = relationship(back_populates="order",
                                                                cascade="all, delete-orphan",
                                                                order_by="ChangeRequest.id")

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    def computed_balance_due_on(self) -> date | None:
        """The balance falls due `balance_days` after the last shipment (or its B/L), once something shipped."""
        from datetime import timedelta

        dates = [s.bl_date if self.balance_basis == "bl" else s.ship_date for s in self.shipments]
        dates = [d for d in dates if d]
        return max(dates) + timedelta(days=self.balance_days or 0) if dates else None


class OrderItem(db.Model):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    description: Mapped[str] = mapped_column(String(200))
    specification: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def amount(self) -> Decimal:
        return line_amount(self.quantity, self.unit_price)


class OrderEvent(db.Model):
    """The order's timeline: every transition and record, with whether the customer may see it."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_at", "order_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))  # a transition name or a record kind
    state_from: Mapped[str | None] = mapped_column(String(20))
    state_to: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    customer_visible: Mapped[bool] = mapped_column(default=False)

    order: Mapped[Order] = relationship(back_populates="events")
    user: Mapped["User | None"] = relationship()  # noqa: F821


class ProductionPlan(db.Model):
    """生产计划单: what to make, how to pack and mark it, by when; a manager approves it."""

    __tablename__ = "production_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    packaging: Mapped[str | None] = mapped_column(Text)
    marking: Mapped[str | None] = mapped_column(Text)
    required_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="draft", index=True)  # draft, submitted, approved
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    order: Mapped[Order] = relationship(back_populates="plan")
    approved_by: Mapped["User | None"] = relationship()  # noqa: F821
    lines: Mapped[list[ProductionPlanLine]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                                           order_by="ProductionPlanLine.id")


class ProductionPlanLine(db.Model):
    __tablename__ = "production_plan_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("production_plans.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    required_date: Mapped[date | None] = mapped_column(Date)

    plan: Mapped[ProductionPlan] = relationship(back_populates="lines")
    order_item: Mapped[OrderItem] = relationship()


class Inspection(db.Model):
    """验货记录."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    inspector: Mapped[str] = mapped_column(String(60))
    passed: Mapped[bool]
    defects: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="inspections")


class Shipment(db.Model):
    """One dispatch of goods; an order may ship in several (partial shipments)."""

    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_ship_date", "ship_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(100))  # carrier or forwarder
    booking_no: Mapped[str | None] = mapped_column(String(60))
    container_no: Mapped[str | None] = mapped_column(String(60))
    bl_no: Mapped[str | None] = mapped_column(String(60))
    tracking_no: Mapped[str | None] = mapped_column(String(60), index=True)
    ship_date: Mapped[date | None] = mapped_column(Date)
    bl_date: Mapped[date | None] = mapped_column(Date)
    arrival_date: Mapped[date | None] = mapped_column(Date)
    delivered_on: Mapped[date | None] = mapped_column(Date)  # confirmed delivery (follow-up visits count from it)
    receiver_name: Mapped[str | None] = mapped_column(String(100))
    receiver_address: Mapped[str | None] = mapped_column(String(300))
    receiver_phone: Mapped[str | None] = mapped_column(String(40))
    shipping_marks: Mapped[str | None] = mapped_column(Text)  # 唛头
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="shipments")
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment", cascade="all, delete-orphan",
                                                     order_by="ShipmentLine.id")


class ShipmentLine(db.Model):
    __tablename__ = "shipment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    cartons: Mapped[int | None]
    per_carton: Mapped[Decimal | None] = mapped_column(Quantity)
    net_weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    gross_weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    volume_cbm: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_item: Mapped[OrderItem] = relationship()


class PaymentKind(str, enum.Enum):
    DEPOSIT = "deposit"
    BALANCE = "balance"
    OTHER = "other"


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_received_on", "received_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(30))  # T/T, L/C, cash, acceptance bill...
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="payments")


class ChangeRequest(db.Model):
    """变更: a written change to a signed order, with who approved it."""

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="requested", index=True)  # requested, approved, rejected
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))

    order: Mapped[Order] = relationship(back_populates="change_requests")
    requested_by: Mapped["User | None"] = relationship(foreign_keys=[requested_by_id])  # noqa: F821
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])  # noqa: F821


class DunningNote(db.Model):
    """催款记录: who was asked for payment, and what they promised."""

    __tablename__ = "dunning_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    noted_on: Mapped[date] = mapped_column(Date)
    contact: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text)
    promised_on: Mapped[date | None] = mapped_column(Date)
    promised_amount: Mapped[Decimal | None] = mapped_column(Money)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    user: Mapped["User | None"] = relationship()  # noqa: F821


class SalesTarget(db.Model):
    """A salesperson's target for one month, in CNY."""

    __tablename__ = "sales_targets"
    __table_args__ = (UniqueConstraint("user_id", "year", "month", name="uq_sales_targets_user_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    year: Mapped[int]
    month: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Money)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821


@event.listens_for(Session, "before_flush")
def refresh_amounts(session, flush_context, instances) -> None:
    """Keep the stored amounts of every order touched in this flush equal to what its lines, payments and
    shipments say (whatever code path changed them)."""
    touched = set()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Order):
            touched.add(obj)
        elif isinstance(obj, (OrderItem, Payment, Shipment)) and obj.order is not None:
            touched.add(obj.order)
    for order in touched:
        if order in session.deleted:
            continue
        total, paid, due = order.total, order.paid, order.computed_balance_due_on()
        if order.amount_total != total:
            order.amount_total = total
        if order.amount_paid != paid:
            order.amount_paid = paid
        if order.balance_due_on != due:
            order.balance_due_on = due
