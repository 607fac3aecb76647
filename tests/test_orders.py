"""Orders: the state table for each role, items, plan, inspections, shipments, payments, change requests,
receivables with ageing, and the pages that show them."""
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PIL import Image

from portal.extensions import db
from portal.models import AuditLog, ChangeRequest, Order, OrderEvent, Payment, Shipment
from tests.conftest import login

TODAY = date.today()


@pytest.fixture
def sales(make_user):
    return make_user("sales", display_name="王销售")


@pytest.fixture
def manager(make_user):
    return make_user("manager", display_name="李经理")


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(owner=sales, name="宁波海曙进出口有限公司")


def _new_order(client, customer, **fields) -> int:
    data = {"customer_code": customer.code, "currency": "CNY", "deposit_percent": "30", "balance_days": "30",
            "balance_basis": "shipment", "promised_date": (TODAY + timedelta(days=30)).isoformat()}
    data.update(fields)
    response = client.post("/orders/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].split("/orders/")[1].split("#")[0])


def _add_item(client, order_id, quantity="100", price="12.50", description="不锈钢球阀 DN25"):
    return client.post(f"/orders/{order_id}/items", data={"description": description, "quantity": quantity,
                                                           "unit": "pcs", "unit_price": price})


def _order(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        _ = order.items, order.payments, order.shipments, order.events, order.plan, order.change_requests
        db.session.expunge_all()
        return order


def _signed_order(client, customer, quantity="100", price="12.50", **fields) -> int:
    order_id = _new_order(client, customer, **fields)
    assert _add_item(client, order_id, quantity, price).status_code == 303
    response = client.post(f"/orders/{order_id}/action/sign_contract", data={"contract_date": TODAY.isoformat()})
    assert response.status_code == 303
    return order_id


def _to_production(client, app, manager, sales, order_id):
    """Deposit, plan written and approved by the manager, production started (client ends as `sales`)."""
    order = _order(app, order_id)
    client.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": str(order.total * Decimal("0.3")),
                                                       "received_on": TODAY.isoformat(), "method": "T/T"})
    item_id = order.items[0].id
    client.post(f"/orders/{order_id}/plan", data={"packaging": "纸箱", f"qty_{item_id}": str(order.items[0].quantity)})
    client.post(f"/orders/{order_id}/plan/submit", data={})
    client.post("/logout", data={})
    login(client, manager)
    assert client.post(f"/orders/{order_id}/plan/approve", data={}).status_code == 303
    client.post("/logout", data={})
    login(client, sales)
    assert client.post(f"/orders/{order_id}/action/start_production", data={}).status_code == 303


# The whole way, through the pages

def test_order_from_inquiry_to_closed(app, client, sales, manager, customer):
    login(client, sales)
    order_id = _new_order(client, customer, customer_po="PO-7788")
    assert _order(app, order_id).state == "inquiry"
    assert _add_item(client, order_id, "100", "12.50").status_code == 303
    assert _add_item(client, order_id, "3", "0.3333", description="密封圈").status_code == 303
    order = _order(app, order_id)
    assert order.total == Decimal("1251.00")  # 1250.00 + 3 × 0.3333 = 0.9999 → 1.00
    assert client.post(f"/orders/{order_id}/action/mark_quoted", data={}).status_code == 303
    assert client.post(f"/orders/{order_id}/action/sign_contract",
                       data={"contract_date": TODAY.isoformat()}).status_code == 303
    order = _order(app, order_id)
    assert order.state == "contract_signed" and order.contract_no.startswith(f"HT{TODAY.year}-")
    # Deposit 30 % of 1251.00 = 375.30: recording it moves the order on by itself.
    assert client.post(f"/orders/{order_id}/payments", data={
        "kind": "deposit", "amount": "375.30", "received_on": TODAY.isoformat(), "method": "T/T"}
    ).status_code == 303
    assert _order(app, order_id).state == "deposit_received"
    # Production cannot start before the manager signs the plan.
    assert client.post(f"/orders/{order_id}/action/start_production", data={}).status_code == 409
    items = _order(app, order_id).items
    client.post(f"/orders/{order_id}/plan", data={"packaging": "纸箱 20 只/箱", "marking": "NB-HS",
                                                   **{f"qty_{i.id}": str(i.quantity) for i in items}})
    client.post(f"/orders/{order_id}/plan/submit", data={})
    assert client.post(f"/orders/{order_id}/plan/approve", data={}).status_code == 409  # not a manager
    client.post("/logout", data={})
    login(client, manager)
    assert client.post(f"/orders/{order_id}/plan/approve", data={}).status_code == 303
    assert _order(app, order_id).state == "plan_approved"
    client.post("/logout", data={})
    login(client, sales)
    assert client.post(f"/orders/{order_id}/action/start_production", data={}).status_code == 303
    assert client.post(f"/orders/{order_id}/progress", data={"progress": "60", "note": "装配中",
                                                              "customer_visible": "y"}).status_code == 303
    # A failed inspection keeps the order in production; a pass moves it on.
    assert client.post(f"/orders/{order_id}/inspections", data={
        "inspected_on": TODAY.isoformat(), "inspector": "质检张", "result": "fail", "defects": "划痕 3 只"}
    ).status_code == 303
    assert _order(app, order_id).state == "in_production"
    assert client.post(f"/orders/{order_id}/inspections", data={
        "inspected_on": TODAY.isoformat(), "inspector": "质检张", "result": "pass"}).status_code == 303
    assert _order(app, order_id).state == "inspected"
    # Two partial shipments.
    first, second = items
    assert client.post(f"/orders/{order_id}/shipments", data={
        "ship_date": TODAY.isoformat(), "carrier": "中远海运", "bl_no": "COSU123", f"qty_{first.id}": "60"}
    ).status_code == 303
    order = _order(app, order_id)
    assert order.state == "shipped"
    assert client.post(f"/orders/{order_id}/shipments", data={
        "ship_date": TODAY.isoformat(), f"qty_{first.id}": "40", f"qty_{second.id}": "3"}).status_code == 303
    # The balance completes the payment and the order can close.
    assert client.post(f"/orders/{order_id}/payments", data={
        "kind": "balance", "amount": "875.70", "received_on": TODAY.isoformat()}).status_code == 303
    assert _order(app, order_id).state == "balance_received"
    assert client.post(f"/orders/{order_id}/action/close", data={}).status_code == 303
    order = _order(app, order_id)
    assert order.state == "closed" and order.paid == order.total
    kinds = [e.kind for e in order.events]
    for kind in ("created", "mark_quoted", "sign_contract", "payment", "deposit_received", "plan_approved",
                 "start_production", "progress", "inspection", "inspected", "shipment", "shipped",
                 "balance_received", "close"):
        assert kind in kinds, kind
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "COSU123" in page and order.contract_no in page and "PO-7788" in page


# The state table, role by role

@pytest.mark.parametrize("role, allowed", [("admin", True), ("manager", True), ("sales", True), ("service", False)])
def test_sign_contract_by_role(app, client, make_user, customer, sales, role, allowed):
    login(client, sales)
    order_id = _new_order(client, customer)
    _add_item(client, order_id)
    client.post("/logout", data={})
    login(client, sales if role == "sales" else make_user(role))  # the salesperson of the customer
    response = client.post(f"/orders/{order_id}/action/sign_contract", data={})
    assert response.status_code == (303 if allowed else 404)
    assert _order(app, order_id).state == ("contract_signed" if allowed else "inquiry")


def test_another_salesperson_cannot_act_on_the_order(app, client, make_user, customer, sales):
    login(client, sales)
    order_id = _new_order(client, customer)
    client.post("/logout", data={})
    login(client, make_user("sales"))
    assert client.post(f"/orders/{order_id}/action/mark_quoted", data={}).status_code == 404
    assert _order(app, order_id).state == "inquiry"


@pytest.mark.parametrize("name", ["close", "start_production", "confirm_deposit", "nonsense"])
def test_crafted_transition_not_in_the_table_changes_nothing(app, client, sales, customer, name):
    login(client, sales)
    order_id = _new_order(client, customer)
    events = len(_order(app, order_id).events)
    response = client.post(f"/orders/{order_id}/action/{name}", data={})
    assert response.status_code == 409
    order = _order(app, order_id)
    assert order.state == "inquiry" and len(order.events) == events


def test_contract_needs_items_and_numbers_have_no_gaps(app, client, sales, customer):
    login(client, sales)
    empty = _new_order(client, customer)
    response = client.post(f"/orders/{empty}/action/sign_contract", data={})
    assert response.status_code == 422
    assert _order(app, empty).contract_no is None
    numbers = [_order(app, _signed_order(client, customer)).contract_no for _ in range(3)]
    suffixes = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert suffixes == [1, 2, 3]


def test_cancel_needs_a_reason_and_ends_the_order(app, client, sales, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    assert client.post(f"/orders/{order_id}/action/cancel", data={"reason": " "}).status_code == 422
    assert _order(app, order_id).state == "contract_signed"
    assert client.post(f"/orders/{order_id}/action/cancel", data={"reason": "客户取消"}).status_code == 303
    order = _order(app, order_id)
    assert order.state == "cancelled" and order.cancel_reason == "客户取消"
    assert client.post(f"/orders/{order_id}/action/cancel", data={"reason": "again"}).status_code == 409


def test_deposit_by_letter_of_credit_needs_a_note(app, client, sales, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    assert client.post(f"/orders/{order_id}/action/confirm_deposit", data={}).status_code == 422
    assert client.post(f"/orders/{order_id}/action/confirm_deposit",
                       data={"note": "L/C 12345 opened"}).status_code == 303
    assert _order(app, order_id).state == "deposit_received"


# Items and editing

@pytest.mark.parametrize("quantity, price", [("-1", "10"), ("0", "10"), ("abc", "10"), ("5", "-2"),
                                             ("1e12", "1"), ("5", "NaN")])
def test_bad_item_is_refused_and_nothing_changes(app, client, sales, customer, quantity, price):
    login(client, sales)
    order_id = _new_order(client, customer)
    response = _add_item(client, order_id, quantity, price)
    assert response.status_code == 422
    assert _order(app, order_id).items == []


def test_signed_order_changes_only_through_an_approved_change_request(app, client, sales, manager, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    item_id = _order(app, order_id).items[0].id
    assert _add_item(client, order_id).status_code == 409
    assert client.get(f"/orders/{order_id}/edit").status_code == 303
    assert client.post(f"/orders/{order_id}/changes", data={"what": "数量改为 120", "why": ""}).status_code == 422
    assert client.post(f"/orders/{order_id}/changes", data={"what": "数量改为 120", "why": "客户追加"}
                       ).status_code == 303
    change_id = _order(app, order_id).change_requests[0].id
    assert client.post(f"/orders/{order_id}/changes/{change_id}/approve", data={}).status_code == 404  # sales
    client.post("/logout", data={})
    login(client, manager)
    assert client.post(f"/orders/{order_id}/changes/{change_id}/approve", data={"note": "同意"}).status_code == 303
    client.post("/logout", data={})
    login(client, sales)
    response = client.post(f"/orders/{order_id}/items/{item_id}", data={
        "description": "不锈钢球阀 DN25", "quantity": "120", "unit": "pcs", "unit_price": "12.50"})
    assert response.status_code == 303
    order = _order(app, order_id)
    assert order.items[0].quantity == Decimal("120") and order.total == Decimal("1500.00")
    assert order.change_requests[0].state == "applied"
    # The approval is used up: the next edit needs a new request.
    assert _add_item(client, order_id).status_code == 409


def test_second_save_of_the_same_version_is_refused_with_what_changed(app, client, sales, make_user, customer):
    login(client, sales)
    order_id = _new_order(client, customer)
    version = _order(app, order_id).version
    form = {"customer_po": "PO-1", "currency": "CNY", "deposit_percent": "30", "balance_days": "30",
            "balance_basis": "shipment", "version": str(version)}
    assert client.post(f"/orders/{order_id}/edit", data=form).status_code == 303
    response = client.post(f"/orders/{order_id}/edit", data=dict(form, customer_po="PO-2", deposit_percent="50"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "customer_po" in page or "PO" in page
    assert _order(app, order_id).customer_po == "PO-1"


@pytest.mark.parametrize("field, value", [("deposit_percent", "120"), ("deposit_percent", "-5"),
                                          ("balance_days", "400"), ("currency", "BTC"), ("incoterm", "XYZ")])
def test_bad_header_is_refused(app, client, sales, customer, field, value):
    login(client, sales)
    data = {"customer_code": customer.code, "currency": "CNY", "deposit_percent": "30", "balance_days": "30",
            "balance_basis": "shipment", field: value}
    response = client.post("/orders/new", data=data)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(Order).count() == 0


def test_new_order_only_for_own_customers(app, client, make_user, make_customer, sales):
    other = make_customer(owner=make_user("sales"))
    login(client, sales)
    response = client.post("/orders/new", data={"customer_code": other.code, "currency": "CNY",
                                                 "deposit_percent": "30", "balance_days": "0",
                                                 "balance_basis": "shipment"})
    assert response.status_code == 422
    assert other.name not in response.get_data(as_text=True)


# Money

def test_overpayment_zero_negative_and_future_payments_are_refused(app, client, sales, customer):
    login(client, sales)
    order_id = _signed_order(client, customer, "10", "100")  # 1000.00
    base = {"kind": "deposit", "received_on": TODAY.isoformat()}
    for amount in ("1000.01", "0", "-5", "abc"):
        assert client.post(f"/orders/{order_id}/payments", data=dict(base, amount=amount)).status_code == 422, amount
    future = (TODAY + timedelta(days=2)).isoformat()
    assert client.post(f"/orders/{order_id}/payments", data=dict(base, amount="10", received_on=future)
                       ).status_code == 422
    assert _order(app, order_id).payments == []
    response = client.post(f"/orders/{order_id}/payments", data=dict(base, amount="1000.01"))
    assert "1,000.00" in response.get_data(as_text=True)
    assert client.post(f"/orders/{order_id}/payments", data=dict(base, amount="1000.00")).status_code == 303
    assert _order(app, order_id).paid == Decimal("1000.00")


def test_payments_before_signing_are_refused(app, client, sales, customer):
    login(client, sales)
    order_id = _new_order(client, customer)
    _add_item(client, order_id)
    response = client.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": "10",
                                                                 "received_on": TODAY.isoformat()})
    assert response.status_code == 409


def test_money_is_exact(ctx, make_customer):
    from portal.models import OrderItem
    from portal.orders import services

    order = Order(number="X", customer_id=make_customer().id, deposit_percent=Decimal("33.33"))
    order.items = [OrderItem(position=1, description="a", quantity=Decimal("3"), unit_price=Decimal("0.1")),
                   OrderItem(position=2, description="b", quantity=Decimal("7"), unit_price=Decimal("0.0333"))]
    assert order.total == Decimal("0.53")  # 0.30 + 0.2331 → 0.23
    assert services.deposit_due(order) == Decimal("0.18")  # 0.176649 → 0.18 (half up)
    assert all(isinstance(v, Decimal) for v in (order.total, services.deposit_due(order)))


@pytest.mark.parametrize("days_overdue, bucket", [(-5, "not_due"), (0, "not_due"), (1, "d1_30"), (30, "d1_30"),
                                                  (31, "d31_60"), (60, "d31_60"), (61, "d61_90"), (90, "d61_90"),
                                                  (91, "over_90"), (400, "over_90")])
def test_ageing_buckets_on_fixed_dates(days_overdue, bucket):
    from portal.orders.services import bucket as bucket_of

    as_of = date(2026, 3, 31)
    assert bucket_of(as_of - timedelta(days=days_overdue), as_of) == bucket
    assert bucket_of(None, as_of) == "not_due"


def test_ageing_of_an_order_settles_the_oldest_due_first(ctx, make_customer):
    from portal.models import OrderItem, ShipmentLine
    from portal.orders import services

    order = Order(number="X", customer_id=make_customer().id, deposit_percent=Decimal("30"), balance_days=30,
                  balance_basis="shipment", contract_date=date(2026, 1, 1), state="shipped")
    item = OrderItem(position=1, description="a", quantity=Decimal("10"), unit_price=Decimal("100"))
    order.items = [item]
    order.shipments = [Shipment(ship_date=date(2026, 2, 1), lines=[ShipmentLine(order_item=item,
                                                                                quantity=Decimal("10"))])]
    order.payments = [Payment(kind="deposit", amount=Decimal("100.00"), received_on=date(2026, 1, 5))]
    split = services.ageing(order, date(2026, 4, 15))
    # deposit 300 due 1 Jan (104 days) less 100 paid → 200 over 90; balance 700 due 3 Mar (43 days) → 31–60.
    assert split["over_90"] == Decimal("200.00") and split["d31_60"] == Decimal("700.00")
    assert sum(split.values()) == Decimal("900.00")
    order.balance_basis = "bl"  # no B/L date yet: the balance is not due
    assert services.ageing(order, date(2026, 4, 15))["not_due"] == Decimal("700.00")


def test_receivables_page_and_collection_rate(app, client, sales, manager, customer, make_customer, make_user):
    login(client, sales)
    order_id = _signed_order(client, customer, "10", "100")  # 1000.00, deposit 300 due today
    client.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": "150",
                                                       "received_on": TODAY.isoformat()})
    other = make_customer(owner=make_user("sales"), name="别人的客户")
    with app.app_context():
        from portal import numbering
        from portal.models import OrderItem
        foreign = Order(number=numbering.next_number("order", 2026), customer_id=other.id, state="contract_signed",
                        contract_date=TODAY, deposit_percent=Decimal("30"))
        foreign.items = [OrderItem(position=1, description="x", quantity=Decimal(1), unit_price=Decimal("999"))]
        db.session.add(foreign)
        db.session.commit()
    page = client.get("/receivables/").get_data(as_text=True)
    assert customer.name in page and "850.00" in page and "别人的客户" not in page
    with app.test_request_context():
        from portal.models import User
        from portal.orders import services
        user = db.session.get(User, sales.id)
        rate = services.collection_rate(user, TODAY.replace(day=1), TODAY)
        assert rate["CNY"]["due"] == Decimal("300.00") and rate["CNY"]["received"] == Decimal("150.00")
        assert rate["CNY"]["rate"] == Decimal("50.0")
        # a manager's rate counts every customer's orders (read without the join to customers), or one salesperson's
        boss = db.session.get(User, manager.id)
        every = services.collection_rate(boss, TODAY.replace(day=1), TODAY)
        assert (every["CNY"]["due"], every["CNY"]["received"]) == (Decimal("599.70"), Decimal("150.00"))
        mine = services.collection_rate(boss, TODAY.replace(day=1), TODAY, owner_id=sales.id)
        assert (mine["CNY"]["due"], mine["CNY"]["received"]) == (Decimal("300.00"), Decimal("150.00"))
        theirs = services.collection_rate(boss, TODAY.replace(day=1), TODAY, owner_id=other.owner_id)
        assert (theirs["CNY"]["due"], theirs["CNY"]["rate"]) == (Decimal("299.70"), Decimal("0.0"))
    client.post("/logout", data={})
    login(client, manager)
    page = client.get("/receivables/").get_data(as_text=True)
    assert customer.name in page and "别人的客户" in page


def test_dunning_note_is_kept_with_the_promise(app, client, sales, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    assert client.post(f"/orders/{order_id}/dunning", data={"noted_on": TODAY.isoformat(), "note": ""}
                       ).status_code == 422
    response = client.post(f"/orders/{order_id}/dunning", data={
        "noted_on": TODAY.isoformat(), "contact": "Mr. Lee", "note": "答应月底付款",
        "promised_on": (TODAY + timedelta(days=10)).isoformat(), "promised_amount": "500"})
    assert response.status_code == 303
    assert "答应月底付款" in client.get(f"/orders/{order_id}").get_data(as_text=True)
    for days, note in ((-3, "第一次催款"), (-1, "第二次催款")):
        assert client.post(f"/orders/{order_id}/dunning", data={
            "noted_on": (TODAY + timedelta(days=days)).isoformat(), "note": note}).status_code == 303
    # the receivables page shows the order's two latest notes under it, the promise with its date
    row = client.get("/receivables/").get_data(as_text=True).split(f'id="order-{order_id}"')[1].split("</tr>")[0]
    promised = (TODAY + timedelta(days=10)).isoformat()
    assert (f'<div class="muted small">{TODAY.isoformat()} Mr. Lee: 答应月底付款 → 承诺 {promised}</div>'
            f'<div class="muted small">{(TODAY - timedelta(days=1)).isoformat()} : 第二次催款</div>') in row
    assert "第一次催款" not in row


# Shipping

def test_shipment_never_exceeds_what_is_left_and_needs_a_passed_inspection(app, client, sales, manager, customer):
    login(client, sales)
    order_id = _signed_order(client, customer, "10", "5")
    item_id = _order(app, order_id).items[0].id
    assert client.post(f"/orders/{order_id}/shipments", data={"ship_date": TODAY.isoformat(),
                                                               f"qty_{item_id}": "5"}).status_code == 409
    _to_production(client, app, manager, sales, order_id)
    client.post(f"/orders/{order_id}/inspections", data={"inspected_on": TODAY.isoformat(), "inspector": "QC",
                                                          "result": "pass"})
    response = client.post(f"/orders/{order_id}/shipments", data={"ship_date": TODAY.isoformat(),
                                                                   f"qty_{item_id}": "11"})
    assert response.status_code == 422
    assert client.post(f"/orders/{order_id}/shipments", data={"ship_date": TODAY.isoformat()}).status_code == 422
    assert client.post(f"/orders/{order_id}/shipments", data={"ship_date": TODAY.isoformat(),
                                                               f"qty_{item_id}": "7"}).status_code == 303
    assert client.post(f"/orders/{order_id}/shipments", data={"ship_date": TODAY.isoformat(),
                                                               f"qty_{item_id}": "4"}).status_code == 422
    order = _order(app, order_id)
    assert order.state == "shipped" and len(order.shipments) == 1
    shipment_id = order.shipments[0].id
    assert client.post(f"/orders/{order_id}/shipments/{shipment_id}/delivered",
                       data={"delivered_on": (TODAY + timedelta(days=3)).isoformat()}).status_code == 422
    assert client.post(f"/orders/{order_id}/shipments/{shipment_id}/delivered",
                       data={"delivered_on": TODAY.isoformat()}).status_code == 303
    assert _order(app, order_id).shipments[0].delivered_on == TODAY


def test_failed_inspection_needs_defects(app, client, sales, manager, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    _to_production(client, app, manager, sales, order_id)
    response = client.post(f"/orders/{order_id}/inspections", data={
        "inspected_on": TODAY.isoformat(), "inspector": "QC", "result": "fail", "defects": ""})
    assert response.status_code == 422
    assert _order(app, order_id).state == "in_production"


def test_plan_rejection_needs_a_reason_and_goes_back_to_draft(app, client, sales, manager, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    item = _order(app, order_id).items[0]
    assert client.post(f"/orders/{order_id}/plan", data={f"qty_{item.id}": "0"}).status_code == 422
    assert client.post(f"/orders/{order_id}/plan", data={f"qty_{item.id}": "100"}).status_code == 303
    client.post(f"/orders/{order_id}/plan/submit", data={})
    client.post("/logout", data={})
    login(client, manager)
    assert client.post(f"/orders/{order_id}/plan/reject", data={"reason": ""}).status_code == 422
    assert client.post(f"/orders/{order_id}/plan/reject", data={"reason": "交期太紧"}).status_code == 303
    plan = _order(app, order_id).plan
    assert plan.state == "draft" and plan.rejection_reason == "交期太紧"


# Files

def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def test_files_are_checked_by_content_and_served_only_in_scope(app, client, sales, make_user, customer):
    login(client, sales)
    order_id = _new_order(client, customer)
    fake = client.post(f"/orders/{order_id}/files", data={"file": (io.BytesIO(b"MZ\x90\x00 not an image"),
                                                                   "photo.png")},
                       content_type="multipart/form-data")
    assert fake.status_code == 422
    response = client.post(f"/orders/{order_id}/files", data={"file": (io.BytesIO(_png()), "合同扫描.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        from portal.models import Attachment
        attachment = db.session.query(Attachment).one()
        assert attachment.original_name == "合同扫描.png" and attachment.content_type == "image/png"
    served = client.get(f"/orders/{order_id}/files/{attachment.id}")
    assert served.status_code == 200 and served.data == _png()
    assert served.headers["Content-Type"] == "image/png"
    client.post("/logout", data={})
    login(client, make_user("sales"))
    assert client.get(f"/orders/{order_id}/files/{attachment.id}").status_code == 404


def test_oversized_file_is_refused(app, client, sales, customer):
    login(client, sales)
    order_id = _new_order(client, customer)
    big = b"%PDF-1.4\n" + b"0" * (app.config["UPLOAD_MAX_BYTES"] + 10)
    response = client.post(f"/orders/{order_id}/files", data={"file": (io.BytesIO(big), "big.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code in (413, 422)
    with app.app_context():
        from portal.models import Attachment
        assert db.session.query(Attachment).count() == 0


# Lists

def test_list_search_filters_and_scope(app, client, sales, make_user, make_customer, customer):
    login(client, sales)
    first = _new_order(client, customer, customer_po="PO-ALPHA")
    _signed_order(client, customer)
    other = make_customer(owner=make_user("sales"), name="他人客户")
    with app.app_context():
        db.session.add(Order(number="DD1999-0001", customer_id=other.id, state="inquiry"))
        db.session.commit()
    page = client.get("/orders/").get_data(as_text=True)
    assert "DD1999-0001" not in page and customer.name in page
    rows = client.get("/orders/?q=alpha", headers={"HX-Request": "true", "HX-Target": "results"})
    text = rows.get_data(as_text=True)
    assert _order(app, first).number in text and "<html" not in text
    signed = client.get("/orders/?state=contract_signed").get_data(as_text=True)
    assert _order(app, first).number not in signed
    assert client.get("/orders/?state=<script>&sort=');drop&page=-3").status_code == 200


def test_late_deliveries_and_this_weeks_shipments(app, client, sales, customer):
    login(client, sales)
    late = _signed_order(client, customer, promised_date=(TODAY - timedelta(days=2)).isoformat())
    page = client.get("/orders/?late=1").get_data(as_text=True)
    assert _order(app, late).number in page
    with app.test_request_context():
        from portal.models import User
        from portal.orders import services
        user = db.session.get(User, sales.id)
        assert [o.id for o in services.late_deliveries(user, TODAY)] == [late]


def test_every_change_is_in_the_audit_trail(app, client, sales, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    with app.app_context():
        actions = {(a.action, a.entity_type) for a in db.session.query(AuditLog)}
    assert {("create", "Order"), ("create", "OrderItem"), ("transition", "Order")} <= actions
    with app.app_context():
        assert db.session.query(OrderEvent).filter_by(order_id=order_id, kind="sign_contract").one().customer_visible


def test_service_staff_read_but_do_not_act(app, client, sales, make_user, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    client.post("/logout", data={})
    login(client, make_user("service"))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert f"/orders/{order_id}/action/" not in page and f"/orders/{order_id}/payments" not in page
    assert client.post(f"/orders/{order_id}/payments", data={"amount": "1"}).status_code == 404


def test_change_request_records_who_approved(app, client, sales, manager, customer):
    login(client, sales)
    order_id = _signed_order(client, customer)
    client.post(f"/orders/{order_id}/changes", data={"what": "改交期", "why": "原料延误"})
    change_id = _order(app, order_id).change_requests[0].id
    client.post("/logout", data={})
    login(client, manager)
    client.post(f"/orders/{order_id}/changes/{change_id}/reject", data={"note": "不同意"})
    with app.app_context():
        change = db.session.get(ChangeRequest, change_id)
        assert change.state == "rejected" and change.decided_by_id == manager.id and change.decision_note == "不同意"
    assert client.post(f"/orders/{order_id}/changes/{change_id}/approve", data={}).status_code == 409


# Exchange rate, targets, my day

def test_foreign_contract_needs_an_exchange_rate_and_suggests_the_last_one(app, client, sales, make_customer):
    buyer = make_customer(owner=sales, name="Nordic Home AB", currency="USD", country="SE")
    login(client, sales)
    order_id = _new_order(client, buyer, currency="USD")
    _add_item(client, order_id, "10", "3.5")
    for bad in ("", "abc", "0", "-7", "99999"):
        response = client.post(f"/orders/{order_id}/action/sign_contract", data={"exchange_rate": bad})
        assert response.status_code == 422, bad
    assert _order(app, order_id).contract_no is None
    assert client.post(f"/orders/{order_id}/action/sign_contract", data={"exchange_rate": "7.1234"}
                       ).status_code == 303
    assert _order(app, order_id).exchange_rate == Decimal("7.1234")
    second = _new_order(client, buyer, currency="USD")
    _add_item(client, second)
    assert 'value="7.123400"' in client.get(f"/orders/{second}").get_data(as_text=True)


def test_targets_are_set_by_managers_and_measured_in_cny(app, client, sales, manager, make_customer):
    login(client, sales)
    cny = make_customer(owner=sales)
    usd = make_customer(owner=sales, currency="USD")
    first = _signed_order(client, cny, "10", "1000")  # CNY 10,000.00
    order_id = _new_order(client, usd, currency="USD")
    _add_item(client, order_id, "100", "10")  # USD 1,000.00 at 7 → CNY 7,000.00
    client.post(f"/orders/{order_id}/action/sign_contract", data={"exchange_rate": "7"})
    client.post(f"/orders/{first}/payments", data={"kind": "deposit", "amount": "3000",
                                                    "received_on": TODAY.isoformat()})
    assert client.post("/targets/", data={f"t_{sales.id}_{TODAY.month}": "20000"}).status_code == 404
    client.post("/logout", data={})
    login(client, manager)
    response = client.post(f"/targets/?year={TODAY.year}", data={f"t_{sales.id}_{TODAY.month}": "20000",
                                                                  f"t_{sales.id}_1": "abc"})
    assert response.status_code == 422 and 'value="abc"' in response.get_data(as_text=True)
    with app.app_context():
        from portal.models import SalesTarget
        assert db.session.query(SalesTarget).count() == 0
    response = client.post(f"/targets/?year={TODAY.year}", data={f"t_{sales.id}_{TODAY.month}": "20000"})
    assert response.status_code == 303
    with app.test_request_context():
        from portal.models import User
        from portal.orders import services
        row = services.target_table(TODAY.year, [db.session.get(User, sales.id)])[0]
        month = row["months"][TODAY.month - 1]
        assert month["target"] == Decimal("20000.00") and month["signed"] == Decimal("17000.00")
        assert month["achievement"] == Decimal("85.0") and month["received"] == Decimal("3000.00")
        assert db.session.query(AuditLog).filter_by(entity_type="SalesTarget").count() == 1
    client.post("/logout", data={})
    login(client, sales)
    page = client.get("/").get_data(as_text=True)
    assert "85.0%" in page
    page = client.get("/targets/").get_data(as_text=True)
    assert "17,000" in page and f'name="t_{sales.id}_1"' not in page  # read-only for the salesperson


def test_my_day_shows_approvals_late_deliveries_and_overdue_money(app, client, sales, manager, customer):
    login(client, sales)
    late = _signed_order(client, customer, promised_date=(TODAY - timedelta(days=3)).isoformat())
    item_id = _order(app, late).items[0].id
    client.post(f"/orders/{late}/plan", data={f"qty_{item_id}": "100"})
    client.post(f"/orders/{late}/plan/submit", data={})
    with app.app_context():  # the deposit fell due 40 days ago
        order = db.session.get(Order, late)
        order.contract_date = TODAY - timedelta(days=40)
        db.session.commit()
    assert client.post(f"/orders/{late}/changes", data={"what": "改交期", "why": "原料延误"}).status_code == 303
    page = client.get("/").get_data(as_text=True)
    number = _order(app, late).number
    assert 'id="deliveries"' in page and number in page
    assert 'id="overdue-receivables"' in page and customer.name in page
    assert 'id="approvals"' not in page
    client.post("/logout", data={})
    login(client, manager)
    page = client.get("/").get_data(as_text=True)
    approvals = page.split('id="approvals"', 1)[1].split("</section>", 1)[0]
    assert f"/orders/{late}#plan" in approvals and f"/orders/{late}#changes" in approvals and "改交期" in approvals
    assert "(2)" in approvals  # the plan and the change request
    client.post(f"/orders/{late}/plan/approve", data={})
    change_id = _order(app, late).change_requests[0].id
    assert client.post(f"/orders/{late}/changes/{change_id}/reject", data={"note": "不同意"}).status_code == 303
    approvals = client.get("/").get_data(as_text=True).split('id="approvals"', 1)[1].split("</section>", 1)[0]
    assert f"/orders/{late}#" not in approvals


def test_customer_page_lists_its_orders_and_offers_new_ones(app, client, sales, make_user, customer):
    login(client, sales)
    order_id = _new_order(client, customer)
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f"/orders/{order_id}" in page and f"/orders/new?customer={customer.id}" in page
    new = client.get(f"/orders/new?customer={customer.id}").get_data(as_text=True)
    assert f'value="{customer.code}"' in new
    client.post("/logout", data={})
    login(client, make_user("service"))
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f"/orders/{order_id}" in page and "/orders/new" not in page


def test_stored_amounts_follow_lines_payments_and_shipments(app, client, sales, manager, customer):
    login(client, sales)
    order_id = _new_order(client, customer, balance_days="30")
    _add_item(client, order_id, "10", "2.345")  # 23.45 (half up)
    _add_item(client, order_id, "1", "0.005")  # 0.01
    order = _order(app, order_id)
    assert order.amount_total == order.total == Decimal("23.46")
    client.post(f"/orders/{order_id}/items/{order.items[1].id}/delete", data={})
    assert _order(app, order_id).amount_total == Decimal("23.45")
    client.post(f"/orders/{order_id}/action/sign_contract", data={})
    _to_production(client, app, manager, sales, order_id)
    order = _order(app, order_id)
    assert order.amount_paid == order.paid == Decimal("7.04")  # 30 % of 23.45 = 7.035 → 7.04
    client.post(f"/orders/{order_id}/inspections", data={"inspected_on": TODAY.isoformat(), "inspector": "QC",
                                                          "result": "pass"})
    ship_on = TODAY - timedelta(days=5)
    client.post(f"/orders/{order_id}/shipments", data={"ship_date": ship_on.isoformat(),
                                                        f"qty_{order.items[0].id}": "10"})
    assert _order(app, order_id).balance_due_on == ship_on + timedelta(days=30)


def test_next_due_date_is_that_of_the_oldest_open_amount(ctx, make_customer):
    from portal.models import OrderItem
    from portal.orders import services

    order = Order(number="X", customer_id=make_customer().id, deposit_percent=Decimal("30"), balance_days=30,
                  balance_basis="shipment", contract_date=date(2026, 1, 1), state="shipped")
    order.items = [OrderItem(position=1, description="a", quantity=Decimal("10"), unit_price=Decimal("100"))]
    order.shipments = [Shipment(ship_date=date(2026, 2, 1))]
    assert services.next_open_due(order) == date(2026, 1, 1)  # nothing paid: the deposit
    order.payments = [Payment(kind="deposit", amount=Decimal("300.00"), received_on=date(2026, 1, 3))]
    assert services.next_open_due(order) == date(2026, 3, 3)  # deposit paid: the balance


def test_receivables_page_by_page_with_totals_over_all_customers(app, client, manager, make_customer, make_user):
    """Most overdue customer first, page by page (the page shows 25 customers), totals per currency over every page
    (stored amounts)."""
    from portal import numbering
    from portal.models import OrderItem, User
    from portal.orders import services

    owner = make_user("sales")
    as_of = date(2026, 6, 30)
    customers = [make_customer(owner=owner, name=f"欠款客户{i:02d}") for i in range(53)]
    with app.app_context():
        for i, customer in enumerate(customers):  # customer i owes i+1 hundred (deposit 30 % due on signing)
            order = Order(number=numbering.next_number("order", 2026), customer_id=customer.id,
                          state="contract_signed", contract_date=date(2026, 6, 1) if i % 2 else date(2026, 7, 1),
                          deposit_percent=Decimal("30"), currency="CNY")
            order.items = [OrderItem(position=1, description="x", quantity=Decimal(1),
                                     unit_price=Decimal(100 * (i + 1)))]
            db.session.add(order)
        db.session.commit()
    with app.test_request_context():
        user = db.session.get(User, manager.id)
        first = services.receivables(user, as_of, page=1, per_page=50)
        second = services.receivables(user, as_of, page=2, per_page=50)
        assert first.count == second.count == 53 and len(first.groups) == 50 and len(second.groups) == 3
        # overdue: the odd customers' deposits (30 % of 200, 400, ... 5200), biggest first
        assert first.groups[0].customer.name == "欠款客户51" and first.groups[0].overdue == Decimal("1560.00")
        overdue = sum(Decimal(30 * (i + 1)) for i in range(1, 53, 2))
        assert first.totals["CNY"]["d1_30"] == overdue
        assert sum(first.totals["CNY"].values()) == sum(Decimal(100 * (i + 1)) for i in range(53))
    login(client, manager)
    page = client.get(f"/receivables/?as_of={as_of.isoformat()}").get_data(as_text=True)
    assert 'id="receivable-totals"' in page and "欠款客户51" in page and "欠款客户00" not in page
    assert "page=2" in page and page.count('<tr class="group"') == 25
    assert "欠款客户00" not in client.get(f"/receivables/?as_of={as_of.isoformat()}&page=2").get_data(as_text=True)
    last = client.get(f"/receivables/?as_of={as_of.isoformat()}&page=3").get_data(as_text=True)
    assert "欠款客户00" in last and last.count('<tr class="group"') == 3


def test_order_page_builds_only_the_forms_it_shows(app, client, sales, customer):
    """The item form reads the products and is shown only while the terms may change: a signed order's page
    neither reads the products nor builds the forms of hidden sections, and runs a fixed number of statements."""
    from sqlalchemy import event

    login(client, sales)
    inquiry = _new_order(client, customer)
    signed = _signed_order(client, customer)
    with app.app_context():
        engine = db.engine
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    counts = {}
    for order_id in (inquiry, signed):
        client.get(f"/orders/{order_id}")
        seen.clear()
        event.listen(engine, "before_cursor_execute", note)
        try:
            html = client.get(f"/orders/{order_id}").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        counts[order_id] = (len(seen), sum("FROM products" in s for s in seen), 'name="product_id"' in html)
    assert counts[inquiry][1:] == (1, True)
    assert counts[signed][1:] == (0, False)
    assert counts[signed][0] <= 20, counts


def test_folded_forms_load_when_opened_and_without_javascript(app, client, sales, customer, make_user):
    """The "record …" forms of the order page are folded and not built with it: htmx loads one when its <details>
    opens (?form=<name>, only the form), the same link without JavaScript gives the page with it open, and a
    failed post shows it open with its errors. A form the page does not offer (state, role, name) is not found."""
    login(client, sales)
    order_id = _signed_order(client, customer)  # contract signed: payment, dunning note and change offered
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    for name, action in (("payment", "payments"), ("dunning", "dunning"), ("change", "changes")):
        assert f'hx-get="/orders/{order_id}?form={name}" hx-trigger="toggle once"' in page
        assert f'<a href="/orders/{order_id}?form={name}#' in page  # without JavaScript
        assert f'action="/orders/{order_id}/{action}"' not in page
    assert "?form=shipment" not in page and "?form=inspection" not in page

    full = client.get(f"/orders/{order_id}?form=payment")
    html = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in html
    opened = html.split("<details open><summary>", 1)[1].split("</details>", 1)[0]
    assert opened.startswith("登记收款")
    assert f'action="/orders/{order_id}/payments"' in opened and 'name="csrf_token"' in opened
    assert f'hx-get="/orders/{order_id}?form=dunning"' in html  # the others stay folded

    swap = client.get(f"/orders/{order_id}?form=payment", headers={"HX-Request": "true"})
    fragment = swap.get_data(as_text=True)
    assert swap.status_code == 200 and "HX-Request" in swap.headers["Vary"]
    assert "<html" not in fragment and "<details" not in fragment
    assert fragment.strip().startswith(f'<form method="post" action="/orders/{order_id}/payments"')
    assert 'name="amount"' in fragment and 'value="1250.00"' in fragment  # the open amount, 100 × 12.50

    for name in ("shipment", "inspection", "nonsense"):
        assert client.get(f"/orders/{order_id}?form={name}").status_code == 404
        assert client.get(f"/orders/{order_id}?form={name}", headers={"HX-Request": "true"}).status_code == 404

    failed = client.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": "-5",
                                                                "received_on": TODAY.isoformat()})
    html = failed.get_data(as_text=True)
    assert failed.status_code == 422
    opened = html.split("<details open><summary>", 1)[1].split("</details>", 1)[0]
    assert f'action="/orders/{order_id}/payments"' in opened and 'class="errors"' in opened
    assert f'hx-get="/orders/{order_id}?form=change"' in html

    client.post("/logout", data={})
    login(client, make_user("service"))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "?form=" not in page
    assert client.get(f"/orders/{order_id}?form=payment").status_code == 404


@pytest.mark.parametrize("state, role, open_amount, left, offered", [
    ("inquiry", "sales", "0", "5", set()),
    ("quoted", "sales", "0", "5", set()),
    ("contract_signed", "sales", "100", "5", {"payment", "dunning", "change"}),
    ("deposit_received", "manager", "70", "5", {"payment", "dunning", "change"}),
    ("plan_approved", "admin", "70", "5", {"payment", "dunning", "change"}),
    ("in_production", "sales", "70", "5", {"payment", "dunning", "change", "inspection"}),
    ("inspected", "sales", "70", "5", {"payment", "dunning", "change", "inspection", "shipment"}),
    ("inspected", "sales", "70", "0", {"payment", "dunning", "change", "inspection"}),
    ("shipped", "sales", "70", "0", {"payment", "dunning", "change", "inspection"}),
    ("shipped", "sales", "0", "0", {"change", "inspection"}),
    ("balance_received", "sales", "0", "0", {"change"}),
    ("closed", "sales", "0", "0", set()),
    ("cancelled", "sales", "0", "5", set()),
    ("shipped", "service", "70", "5", set()),
])
def test_forms_offered_by_state_role_open_amount_and_what_is_left(state, role, open_amount, left, offered):
    from types import SimpleNamespace

    from portal.orders.services import offered_forms

    order = SimpleNamespace(state=state)
    user = SimpleNamespace(role=role)
    assert offered_forms(order, user, Decimal(open_amount), {1: Decimal("0"), 2: Decimal(left)}) == offered


CSRF_TOKEN = re.compile(r'"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,8}\.[A-Za-z0-9_-]{20,}"')  # itsdangerous's signed token


def test_list_rows_are_the_same_whichever_plan_reads_them(app, client, sales, manager, make_customer, customer,
                                                          monkeypatch):
    """The list's rows (customer and salesperson from the joins, "—" without one) and its scope and salesperson
    filter checked through the order's customer when SQLite walks the sort index (orders.access.of_customer_where)."""
    from portal.orders import services

    login(client, sales)
    _new_order(client, customer, customer_po="PO-ROWS")
    _signed_order(client, customer)
    nobody = make_customer(name="无人负责客户")
    with app.app_context():
        db.session.add(Order(number="DD1999-0002", customer_id=nobody.id, state="inquiry", currency="USD"))
        db.session.commit()
    paths = {sales: ["/orders/", "/orders/?sort=customer"],
             manager: ["/orders/", f"/orders/?owner={sales.id}", "/orders/?sort=-number&page=1"]}
    clients = {sales: client, manager: app.test_client()}
    login(clients[manager], manager)
    client.get("/orders/")  # shows and clears the flashed messages
    pages = []
    for walk_from in (10_000, 1):  # the planner's own plan, then the sort-index walk
        monkeypatch.setattr(services, "WALK_SORT_INDEX_FROM", walk_from)
        # the CSRF tokens carry the second they were signed in: masked, or a page signed a second later differs
        pages.append([CSRF_TOKEN.sub('"csrf"', clients[user].get(path).get_data(as_text=True))
                      for user, user_paths in paths.items() for path in user_paths])
    assert pages[0] == pages[1]
    own, _by_customer, everyone, owner_filter, _by_number = pages[0]
    assert "PO-ROWS" in own and customer.name in own and "DD1999-0002" not in own
    assert "DD1999-0002" in everyone and "王销售" in everyone
    row = everyone.split("DD1999-0002", 1)[1].split("</tr>", 1)[0]
    assert "无人负责客户" in row and "<td>—</td>" in row
    assert "DD1999-0002" not in owner_filter and "PO-ROWS" in owner_filter
