"""Demo products, samples, quotations and orders: every state, some overdue, deterministic and idempotent.

`seed(staff, today, orders=N)` tops the database up to N orders (the first ones are hand-shaped to cover
every state of the workflow; the rest follow the same patterns), in batches so that 100,000 orders fit in
memory and in minutes.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, text

from . import numbering
from .models import (Customer, Inspection, Order, OrderEvent, OrderItem, Payment, Product, ProductionPlan,
                     ProductionPlanLine, Quote, QuoteItem, SalesTarget, SampleRequest, Shipment, ShipmentLine,
                     line_amount)
from .extensions import db

DEFAULT_ORDERS = 60
PRODUCTS = [
    ("HL-BV-DN15", "不锈钢球阀", "Stainless steel ball valve", "DN15 PN16 304", "pcs", "18.50"),
    ("HL-BV-DN25", "不锈钢球阀", "Stainless steel ball valve", "DN25 PN16 304", "pcs", "26.80"),
    ("HL-BV-DN50", "不锈钢球阀", "Stainless steel ball valve", "DN50 PN16 316", "pcs", "88.00"),
    ("HL-HG-100", "不锈钢合页", "Stainless steel hinge", "100×75×2.5mm 拉丝", "pair", "6.35"),
    ("HL-HG-125", "不锈钢合页", "Stainless steel hinge", "125×75×3mm 拉丝", "pair", "8.90"),
    ("HL-HD-128", "铝合金拉手", "Aluminium cabinet handle", "孔距128mm 黑色", "pcs", "3.2500"),
    ("HL-DS-35", "阻尼铰链", "Soft-close hinge", "35mm 杯 全盖", "pcs", "4.1800"),
    ("HL-SL-450", "三节滑轨", "Ball-bearing drawer slide", "450mm 45宽 1.2mm", "set", "12.60"),
    ("HL-LK-60", "执手门锁", "Lever door lock", "60mm 锁舌 不锈钢", "set", "45.00"),
    ("HL-BR-L40", "角码", "Corner bracket", "40×40×2mm 镀锌", "pcs", "0.3600"),
    ("HL-SC-M6", "不锈钢螺丝", "Stainless steel screw", "M6×20 A2-70", "kg", "38.00"),
    ("HL-CS-75", "万向脚轮", "Swivel castor", "75mm PU 带刹车", "pcs", "9.80"),
]
CARRIERS = ["中远海运 COSCO", "马士基 Maersk", "顺丰速运", "德邦物流", "地中海航运 MSC", "DHL Express"]
PORTS = ["Hamburg", "Rotterdam", "Los Angeles", "Felixstowe", "Gothenburg", "Valencia", "Melbourne", "Genoa"]
REQUIREMENTS = ["按客户图纸打样，表面拉丝处理", "颜色按潘通色卡 Black 6C，激光刻客户 LOGO", "包装改为彩盒，每盒 10 只",
                "材质改为 316 不锈钢，需要盐雾测试 48 小时", "Sample per drawing rev. B, brushed finish",
                "Custom logo engraving, retail blister pack"]
EVALUATIONS = [("approved", "样品确认，可以下单。"), ("changes_needed", "颜色偏浅，请按色卡再打一次。"),
               ("rejected", "Finish not acceptable, too many scratches."), ("approved", "Approved, please quote 5,000 pcs.")]

# The order of states the generated orders cycle through (weights by repetition: a real desk has many shipped
# and closed orders, fewer in the early steps).
ORDER_PATTERN = ["inquiry", "quoted", "contract_signed", "deposit_received", "plan_approved", "in_production",
                 "in_production", "inspected", "shipped", "shipped", "shipped", "balance_received", "closed", "closed",
                 "closed", "closed", "cancelled"]
# The first two go to the portal demo customers (buyer1, buyer2): a sample on its way, one to evaluate.
SAMPLE_PATTERN = ["sent", "received", "draft", "submitted", "approved", "in_progress", "finished", "sent",
                  "evaluated", "evaluated", "converted", "closed"]
SAMPLE_STEPS = ["draft", "submitted", "approved", "in_progress", "finished", "sent", "received", "evaluated",
                "converted"]
QUOTE_PATTERN = ["draft", "pending_approval", "approved", "sent", "sent", "accepted", "declined", "converted",
                 "cancelled"]
CENT = Decimal("0.01")
RATES = {"CNY": Decimal("1"), "USD": Decimal("7.12"), "EUR": Decimal("7.76")}


def _at(day: date, hour: int = 2) -> datetime:
    return datetime.combine(day, time(hour, 30), tzinfo=timezone.utc)


def products() -> list[Product]:
    existing = {p.code: p for p in db.session.scalars(select(Product))}
    for code, name, name_en, spec, unit, price in PRODUCTS:
        if code not in existing:
            existing[code] = Product(code=code, name=name, name_en=name_en, specification=spec, unit=unit,
                                     default_price=Decimal(price), currency="CNY")
            db.session.add(existing[code])
    db.session.flush()
    return [existing[code] for code, *_rest in PRODUCTS]


def seed(staff: dict, today: date, orders: int = DEFAULT_ORDERS) -> dict:
    catalogue = products()
    customers = db.session.execute(
        select(Customer.id, Customer.owner_id, Customer.country, Customer.currency)
        .where(Customer.owner_id.is_not(None), Customer.status.in_(("active", "prospect")))
        .order_by(Customer.id).limit(max(orders // 3, 40))).all()
    if not customers:
        return {}
    managers = staff["manager"].id
    _samples(customers, catalogue, managers, today)
    _quotes(customers, catalogue, managers, today)
    _orders(orders, customers, catalogue, managers, today)
    _targets(staff, managers, today)
    _documents(staff)
    return {
        "samples": db.session.scalar(select(func.count()).select_from(SampleRequest)),
        "quotations": db.session.scalar(select(func.count()).select_from(Quote)),
        "orders": db.session.scalar(select(func.count()).select_from(Order)),
    }


def _samples(customers, catalogue, manager_id: int, today: date, count: int = 24) -> None:
    existing = db.session.scalar(select(func.count()).select_from(SampleRequest))
    for i in range(existing, count):
        rng = random.Random(50_000 + i)
        customer_id, owner_id, country, currency = customers[i % len(customers)]
        product = rng.choice(catalogue)
        state = SAMPLE_PATTERN[i % len(SAMPLE_PATTERN)]
        created = today - timedelta(days=rng.randint(5, 40))
        sample = SampleRequest(
            number=numbering.next_number("sample", created.year), customer_id=customer_id, product_id=product.id,
            title=f"{product.name} {product.specification}", requirement=rng.choice(REQUIREMENTS),
            specification=product.specification, quantity=rng.choice([2, 3, 5, 10]), retained_quantity=1,
            sample_fee=Decimal(rng.choice(["0", "200", "500"])), sample_fee_terms=rng.choice(["paid", "waived"]),
            courier_fee=Decimal(rng.choice(["25", "180", "320"])), courier_fee_terms=rng.choice(["paid", "collect"]),
            currency=currency, state=state, created_by_id=owner_id, created_at=_at(created),
            # every third open sample is late
            due_date=today + timedelta(days=(-3 if i % 3 == 0 else rng.randint(3, 20))))
        steps = SAMPLE_STEPS.index(state) if state != "closed" else 4
        if steps >= 1:
            sample.submitted_at = _at(created + timedelta(days=1))
        if steps >= 2:
            sample.approved_by_id, sample.approved_at = manager_id, _at(created + timedelta(days=1), 6)
        if steps >= 3:
            sample.started_at = _at(created + timedelta(days=2))
        if steps >= 4:
            sample.finished_at, sample.inspection_note = _at(created + timedelta(days=4)), "尺寸、外观检验合格"
        if steps >= 5:
            sample.courier_company = rng.choice(["顺丰速运", "DHL Express", "FedEx"])
            sample.tracking_no = f"SF{1_400_000_000 + i * 7919}"
            sample.sent_at = _at(created + timedelta(days=5))
            sample.expected_arrival = created + timedelta(days=9)
        if steps >= 6:
            sample.received_on = created + timedelta(days=9)
        if steps >= 7:
            result, comment = EVALUATIONS[i % len(EVALUATIONS)]
            sample.evaluation, sample.evaluation_comment = result, comment
            sample.evaluated_at = _at(created + timedelta(days=11))
            sample.evaluation_seen = i % 2 == 0
        if state == "closed":
            sample.close_reason, sample.closed_at = "客户不再需要", _at(created + timedelta(days=6))
        db.session.add(sample)
    db.session.flush()


def _quote_items(rng, catalogue, currency: str, kind):
    rate = Decimal("1") if currency == "CNY" else Decimal("0.14")
    items = []
    for position, product in enumerate(rng.sample(catalogue, rng.randint(1, 4)), start=1):
        price = (product.default_price * rate * Decimal(rng.choice(["0.95", "1", "1.05"]))).quantize(Decimal("0.0001"))
        items.append(kind(position=position, product_id=product.id, description=product.name if currency == "CNY"
                          else PRODUCTS[[p[0] for p in PRODUCTS].index(product.code)][2],
                          specification=product.specification, unit=product.unit, unit_price=price,
                          quantity=Decimal(rng.choice([200, 500, 1000, 2000, 5000]))))
    return items


def _quotes(customers, catalogue, manager_id: int, today: date, count: int = 18) -> None:
    existing = db.session.scalar(select(func.count()).select_from(Quote))
    for i in range(existing, count):
        rng = random.Random(60_000 + i)
        customer_id, owner_id, country, currency = customers[(i * 5) % len(customers)]
        state = QUOTE_PATTERN[i % len(QUOTE_PATTERN)]
        created = today - timedelta(days=rng.randint(2, 50))
        quote = Quote(number=numbering.next_number("quote", created.year), customer_id=customer_id,
                      currency=currency, valid_until=created + timedelta(days=30), state=state,
                      incoterm=None if currency == "CNY" else "FOB", port=None if currency == "CNY" else "Ningbo",
                      terms="30% 定金，70% 见提单复印件付清。" if currency == "CNY" else
                      "30% deposit by T/T, 70% against copy of B/L.",
                      created_by_id=owner_id, created_at=_at(created))
        quote.items = _quote_items(rng, catalogue, currency, QuoteItem)
        if state not in ("draft",):
            quote.submitted_at = _at(created)
        if state not in ("draft", "pending_approval"):
            quote.approved_by_id, quote.approved_at = manager_id, _at(created, 5)
        if state in ("sent", "accepted", "declined", "converted"):
            quote.sent_at = _at(created + timedelta(days=1))
        if state in ("accepted", "declined", "converted"):
            quote.decided_at = _at(created + timedelta(days=5))
        db.session.add(quote)
    db.session.flush()


def _orders(total: int, customers, catalogue, manager_id: int, today: date, batch: int = 2000) -> None:
    """Top the database up to `total` orders, with their lines, timeline, plan, inspection, shipment and payments,
    written as plain rows in batches (executemany with ids given here): 100,000 orders take a minute or two,
    where the ORM needed several milliseconds each. The stored amounts are computed here as the ORM hook would."""
    existing = db.session.scalar(select(func.count()).select_from(Order))
    if existing >= total:
        return
    rows = BulkRows()
    i = existing
    while i < total:
        size = min(batch, total - i)
        specs = [_order_spec(i + k, customers, today) for k in range(size)]
        by_year: dict[int, list] = {}
        for spec in specs:
            by_year.setdefault(spec["created"].year, []).append(spec)
        for year, group in by_year.items():
            for value, spec in zip(numbering.reserve("order", len(group), year), group):
                spec["number"] = numbering.format_value("order", value, year)
        signed = [s for s in specs if s["contract_date"]]
        by_year = {}
        for spec in signed:
            by_year.setdefault(spec["contract_date"].year, []).append(spec)
        for year, group in by_year.items():
            for value, spec in zip(numbering.reserve("contract", len(group), year), group):
                spec["contract_no"] = numbering.format_value("contract", value, year)
        for spec in specs:
            _order_rows(rows, spec, catalogue, manager_id, today)
        rows.flush()
        i += size
    rows.finish()


class BulkRows:
    """Rows of several tables with ids assigned here (continuing after the largest id in each table), written
    in foreign-key order with one executemany per table; on PostgreSQL the id sequences are moved past them."""

    def __init__(self):
        self.pending: dict = {}
        self.next_id: dict = {}
        self.defaults: dict = {}

    def add(self, model, **values) -> int:
        table = model.__table__
        if table not in self.next_id:
            self.next_id[table] = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
            now = datetime.now(timezone.utc)
            self.defaults[table] = {
                column.name: (None if column.default is None else
                              now if callable(column.default.arg) else column.default.arg)
                for column in table.columns}
            self.pending.setdefault(table, [])
        row_id = self.next_id[table]
        self.next_id[table] = row_id + 1
        row = dict(self.defaults[table])
        row.update(values, id=row_id)
        self.pending[table].append(row)
        return row_id

    def flush(self) -> None:
        for table, rows in self.pending.items():  # insertion order: parents were added first
            if rows:
                db.session.execute(table.insert(), rows)
                rows.clear()

    def finish(self) -> None:
        self.flush()
        if db.session.get_bind().dialect.name == "postgresql":
            for table in self.next_id:
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"))


def _order_spec(i: int, customers, today: date) -> dict:
    rng = random.Random(70_000 + i)
    customer_id, owner_id, country, currency = customers[i % len(customers)]
    state = ORDER_PATTERN[i % len(ORDER_PATTERN)]
    # Beyond the hand-shaped first orders (benchmarks), a desk's history: orders spread over three years,
    # and what is older than four months is closed (a few cancelled), as on a real desk.
    history = i >= DEFAULT_ORDERS and rng.random() < 0.9
    if history:
        state = "cancelled" if rng.random() < 0.04 else "closed"
    step = ["inquiry", "quoted", "contract_signed", "deposit_received", "plan_approved", "in_production", "inspected",
            "shipped", "balance_received", "closed"].index(state) if state != "cancelled" else 2
    age = rng.randint(5, 20) + step * rng.randint(6, 14) + (i // len(ORDER_PATTERN)) % 60
    if history:
        age = rng.randint(120, 3 * 365)
    created = today - timedelta(days=age)
    contract_date = created + timedelta(days=rng.randint(2, 6)) if step >= 2 else None
    if contract_date and contract_date > today:
        contract_date = today
    promised = (contract_date or created) + timedelta(days=rng.randint(35, 60))
    if step < 7:  # open orders: most are due in the coming weeks, one in seven is late
        promised = (today - timedelta(days=rng.randint(1, 12)) if i % 7 == 3
                    else max(promised, today + timedelta(days=rng.randint(2, 45))))
    return {"i": i, "rng": rng, "customer_id": customer_id, "owner_id": owner_id, "currency": currency,
            "export": country not in (None, "CN"), "state": state, "step": step, "created": created,
            "contract_date": contract_date, "promised": promised, "number": None, "contract_no": None}


def _order_rows(rows: BulkRows, spec: dict, catalogue, manager_id: int, today: date) -> None:
    rng, step, owner = spec["rng"], spec["step"], spec["owner_id"]
    created, signed_on = spec["created"], spec["contract_date"]
    order = dict(number=spec["number"], contract_no=spec["contract_no"], customer_id=spec["customer_id"],
                 currency=spec["currency"], state=spec["state"], created_by_id=owner, created_at=_at(created),
                 updated_at=_at(created), promised_date=spec["promised"], contract_date=signed_on,
                 deposit_percent=Decimal("30"),
                 exchange_rate=RATES.get(spec["currency"], Decimal("1")) if signed_on else None,
                 balance_days=rng.choice([0, 15, 30, 60]), balance_basis="bl" if spec["export"] else "shipment",
                 incoterm="FOB" if spec["export"] else None, port_of_loading="Ningbo" if spec["export"] else None,
                 port_of_destination=rng.choice(PORTS) if spec["export"] else None,
                 customer_po=f"PO-{20_000 + spec['i']}" if rng.random() < 0.6 else None,
                 payment_terms="30% T/T deposit, 70% against copy of B/L" if spec["export"] else "30%定金，发货后付清",
                 progress=0)
    items = _quote_items(rng, catalogue, spec["currency"], dict)
    total = sum((line_amount(it["quantity"], it["unit_price"]) for it in items), Decimal("0.00"))
    deposit = (total * order["deposit_percent"] / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    events, payments, day = [dict(kind="created", at=_at(created), user_id=owner)], [], signed_on or created
    plan = inspection = shipment = None
    if step >= 1:
        events.append(dict(kind="mark_quoted", at=_at(created, 3), user_id=owner, customer_visible=True,
                           state_from="inquiry", state_to="quoted"))
    if step >= 2:
        events.append(dict(kind="sign_contract", at=_at(day), user_id=owner, customer_visible=True,
                           note=spec["contract_no"], state_from="quoted", state_to="contract_signed"))
    if step >= 3:
        day = day + timedelta(days=rng.randint(1, 5))
        payments.append(dict(kind="deposit", amount=deposit, received_on=min(day, today), method="T/T",
                             reference=f"TT{spec['i']:06d}", created_by_id=owner))
        events.append(dict(kind="deposit_received", at=_at(day), user_id=owner, customer_visible=True,
                           state_from="contract_signed", state_to="deposit_received"))
    if step >= 4:
        day = day + timedelta(days=2)
        plan = dict(packaging="纸箱包装，每箱 20 只，外箱打包带", marking="客户唛头，见附件",
                    required_date=spec["promised"] - timedelta(days=7), state="approved",
                    approved_by_id=manager_id, approved_at=_at(day))
        events.append(dict(kind="plan_approved", at=_at(day), user_id=manager_id, customer_visible=True,
                           state_from="deposit_received", state_to="plan_approved"))
    if step >= 5:
        day = day + timedelta(days=1)
        order["progress"] = 100 if step >= 6 else rng.choice([10, 30, 50, 70, 90])
        events.append(dict(kind="start_production", at=_at(day), user_id=owner, customer_visible=True,
                           state_from="plan_approved", state_to="in_production"))
    if step >= 6:
        day = day + timedelta(days=rng.randint(10, 25))
        inspection = dict(inspected_on=min(day, today), inspector="质检 周工", passed=True, created_by_id=owner)
        events.append(dict(kind="inspected", at=_at(day), user_id=owner, customer_visible=True,
                           state_from="in_production", state_to="inspected"))
    if step >= 7:
        day = min(day + timedelta(days=rng.randint(2, 6)), today)
        shipment = dict(ship_date=day, bl_date=day if spec["export"] else None, carrier=rng.choice(CARRIERS),
                        bl_no=f"COSU{6_100_000 + spec['i']}" if spec["export"] else None,
                        container_no=f"CSNU{7_000_000 + spec['i']}" if spec["export"] else None,
                        tracking_no=None if spec["export"] else f"DB{80_000_000 + spec['i']}",
                        arrival_date=day + timedelta(days=30 if spec["export"] else 3), created_by_id=owner,
                        delivered_on=day + timedelta(days=3) if step >= 8 and not spec["export"] else None)
        events.append(dict(kind="shipped", at=_at(day), user_id=owner, customer_visible=True,
                           state_from="inspected", state_to="shipped"))
        order["balance_due_on"] = day + timedelta(days=order["balance_days"])
        # a third of the shipped orders are part paid; the rest wait for the balance (some overdue)
        if spec["state"] == "shipped" and spec["i"] % 3 == 0:
            payments.append(dict(kind="balance", amount=((total - deposit) / 2).quantize(CENT), received_on=day,
                                 method="T/T", created_by_id=owner))
    if step >= 8:
        day = min(day + timedelta(days=order["balance_days"] or 5), today)
        paid = sum((p["amount"] for p in payments), Decimal("0.00"))
        payments.append(dict(kind="balance", amount=total - paid, received_on=day, method="T/T",
                             created_by_id=owner))
        events.append(dict(kind="balance_received", at=_at(day), user_id=owner, customer_visible=True,
                           state_from="shipped", state_to="balance_received"))
    if step >= 9 and spec["state"] == "closed":
        order["closed_at"] = _at(day, 8)
        events.append(dict(kind="close", at=_at(day, 8), user_id=owner, customer_visible=True,
                           state_from="balance_received", state_to="closed"))
    if spec["state"] == "cancelled":
        order["cancel_reason"] = "客户项目取消"
        events.append(dict(kind="cancel", at=_at(day, 9), user_id=owner, customer_visible=True,
                           note=order["cancel_reason"], state_from="contract_signed", state_to="cancelled"))
    order["amount_total"] = total
    order["amount_paid"] = sum((p["amount"] for p in payments), Decimal("0.00"))
    order_id = rows.add(Order, **order)
    item_ids = [(rows.add(OrderItem, order_id=order_id, **item), item["quantity"]) for item in items]
    for entry in events:
        rows.add(OrderEvent, order_id=order_id, **entry)
    for payment in payments:
        rows.add(Payment, order_id=order_id, created_at=_at(payment["received_on"]), **payment)
    if plan is not None:
        plan_id = rows.add(ProductionPlan, order_id=order_id, **plan)
        for item_id, quantity in item_ids:
            rows.add(ProductionPlanLine, plan_id=plan_id, order_item_id=item_id, quantity=quantity)
    if inspection is not None:
        rows.add(Inspection, order_id=order_id, created_at=_at(inspection["inspected_on"]), **inspection)
    if shipment is not None:
        shipment_id = rows.add(Shipment, order_id=order_id, created_at=_at(shipment["ship_date"]), **shipment)
        for item_id, quantity in item_ids:
            rows.add(ShipmentLine, shipment_id=shipment_id, order_item_id=item_id, quantity=quantity)


def _documents(staff: dict) -> None:
    """Issue the contract and the delivery note of the first portal customer's first shipped order (once), so
    the buyer's document list is not empty."""
    from .documents import services as documents
    from .models import IssuedDocument, User

    if db.session.scalar(select(func.count()).select_from(IssuedDocument)):
        return
    buyer = db.session.scalar(select(User).where(User.username == "buyer1"))
    order = db.session.scalar(select(Order).where(Order.customer_id == getattr(buyer, "customer_id", None),
                                                  Order.state == "shipped").order_by(Order.id).limit(1))
    if order is None:
        return
    issuer = staff["sales1"]
    documents.issue(documents.order_subject("contract", order), issuer)
    documents.issue(documents.shipment_subject("delivery_note", order.shipments[0]), issuer)
    db.session.flush()


def _targets(staff: dict, manager_id: int, today: date) -> None:
    for username in ("sales1", "sales2"):
        user = staff[username]
        for month in range(1, 13):
            exists = db.session.scalar(select(SalesTarget.id).where(
                SalesTarget.user_id == user.id, SalesTarget.year == today.year, SalesTarget.month == month))
            if exists is None:
                db.session.add(SalesTarget(user_id=user.id, year=today.year, month=month, set_by_id=manager_id,
                                           amount=Decimal("300000") if username == "sales1" else Decimal("200000")))
    db.session.flush()
