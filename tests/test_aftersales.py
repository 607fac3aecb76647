"""Complaints (tickets) and service records: the state table for every role at the service and over HTTP,
due dates, the second visit on closing, bad input, filters, the monthly service-record list, query counts."""
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal import numbering
from portal.aftersales import services
from portal.extensions import db
from portal.models import (Attachment, AuditLog, CompanySettings, FollowUpVisit, Order, OrderItem, ServiceRecord,
                           Ticket, TicketEvent, TicketLine, User)
from portal.workflow import TransitionError
from tests.conftest import login

STATES = ["received", "assessed", "assigned", "proposed", "sent", "carried_out", "confirmed", "closed"]
ROLES = ["admin", "manager", "service", "sales-owner", "sales-other", "customer", "customer-other"]
STAFF = {"admin", "manager", "service"}
# transition -> (states it starts from, state it leads to, roles that may take it)
TABLE = {
    "assess": (("received",), "assessed", STAFF),
    "assign": (("assessed", "assigned", "proposed"), "assigned", STAFF),
    "propose": (("assigned",), "proposed", STAFF),
    "send": (("proposed",), "sent", STAFF),
    "carry_out": (("sent",), "carried_out", STAFF),
    "confirm": (("carried_out",), "confirmed", STAFF | {"customer"}),
    "reopen": (("carried_out", "confirmed"), "assigned", STAFF | {"customer"}),
    "close": (("confirmed",), "closed", STAFF),
}
TODAY = date(2026, 11, 27)


def data_for(name, assignee_id=None):
    return {
        "assess": {"severity": "major"},
        "assign": {"department": "quality", "assignee_id": str(assignee_id or "")},
        "propose": {"cause": "密封圈老化", "solution": "更换密封圈", "resolution": "repair", "cost_amount": "120.50"},
        "reopen": {"reason": "还在漏"},
        "close": {"summary": "已更换，客户满意", "preventive_action": "来料检验增加密封圈硬度测试"},
    }.get(name, {})


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    from portal.aftersales import views

    monkeypatch.setattr(services, "local_today", lambda: TODAY)
    monkeypatch.setattr(views, "local_today", lambda: TODAY)


@pytest.fixture
def owner(make_user):
    return make_user("sales", display_name="王销售")


@pytest.fixture
def customer(make_customer, owner):
    return make_customer(owner=owner, name="宁波海曙进出口有限公司")


@pytest.fixture
def make_order(app):
    def make(customer, quantities=("10", "5")):
        with app.app_context():
            order = Order(number=numbering.next_number("order", 2026), customer_id=customer.id, state="shipped",
                          currency="CNY")
            for i, quantity in enumerate(quantities, start=1):
                order.items.append(OrderItem(position=i, description=f"阀门 {i}", quantity=Decimal(quantity),
                                             unit="pcs", unit_price=Decimal("10")))
            db.session.add(order)
            db.session.commit()
            return order.id, [item.id for item in order.items], order.number
    return make


@pytest.fixture
def make_ticket(app):
    """make_ticket(customer, state="received", **fields) -> id of a ticket in that state."""

    def make(customer, state="received", **fields):
        with app.app_context():
            fields.setdefault("subject", "阀门漏水")
            fields.setdefault("description", "客户来电：阀门漏水")
            fields.setdefault("channel", "phone")
            fields.setdefault("category", "quality")
            if state != "received":
                fields.setdefault("severity", "major")
                fields.setdefault("due_on", date(2026, 12, 2))
            if state not in ("received", "assessed"):
                fields.setdefault("department", "quality")
            ticket = Ticket(number=numbering.next_number("ticket", 2026), customer_id=customer.id, state=state,
                            **fields)
            db.session.add(ticket)
            db.session.commit()
            return ticket.id
    return make


@pytest.fixture
def actors(make_user, make_customer, customer, owner):
    """role name -> user, for the rows of the transition table."""
    other_company = make_customer(owner=owner)
    return {
        "admin": make_user("admin"), "manager": make_user("manager"), "service": make_user("service"),
        "sales-owner": owner, "sales-other": make_user("sales"),
        "customer": make_user("customer", customer=customer),
        "customer-other": make_user("customer", customer=other_company),
    }


def load(app, ticket_id) -> Ticket:
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        _ = ticket.events, ticket.lines
        db.session.expunge_all()
        return ticket


def expected_for(role, state):
    base = "customer" if role == "customer" else role
    return {name for name, (sources, _target, roles) in TABLE.items() if state in sources and base in roles}


def post_action(client, ticket_id, name, data):
    return client.post(f"/aftersales/tickets/{ticket_id}/action/{name}",
                       data={f"{name}-{key}": value for key, value in data.items()})


def png_bytes() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(data, "PNG")
    return data.getvalue()


# The state table, at the service

@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_transition_table_at_the_service(app, actors, customer, make_ticket, role, state):
    ticket_id = make_ticket(customer, state)
    expected = expected_for(role, state)
    with app.test_request_context():
        actor = db.session.get(User, actors[role].id)
        ticket = db.session.get(Ticket, ticket_id)
        assert {t.name for t in services.allowed(ticket, actor)} == expected
        for name in TABLE:
            if name in expected:
                continue
            with pytest.raises(TransitionError):
                services.take(ticket, actor, name, data_for(name, actors["service"].id))
            assert ticket.state == state
        for name in sorted(expected):  # each allowed one really works, on a fresh copy
            db.session.rollback()
            ticket = db.session.get(Ticket, ticket_id)
            event = services.take(ticket, actor, name, data_for(name, actors["service"].id))
            assert ticket.state == TABLE[name][1]
            assert (event.kind, event.state_from, event.state_to, event.user_id) == (
                name, state, TABLE[name][1], actor.id)
        db.session.rollback()


# The state table, over HTTP: allowed steps redirect, refused ones answer 409, out of scope 404

@pytest.mark.parametrize("name", sorted(TABLE))
@pytest.mark.parametrize("role", ROLES)
def test_transition_table_over_http(app, client, actors, customer, make_ticket, role, name):
    sources, target, _roles = TABLE[name]
    ticket_id = make_ticket(customer, sources[0])
    wrong_state = next(s for s in STATES if s not in sources)
    other_id = make_ticket(customer, wrong_state)
    login(client, actors[role])
    response = post_action(client, ticket_id, name, data_for(name, actors["service"].id))
    refused = post_action(client, other_id, name, data_for(name, actors["service"].id))
    if role in ("sales-other", "customer", "customer-other"):
        assert response.status_code == 404 and refused.status_code == 404
        assert load(app, ticket_id).state == sources[0]
    elif role == "sales-owner":
        assert response.status_code == 409 and refused.status_code == 409
        assert load(app, ticket_id).state == sources[0]
    else:
        assert response.status_code == 303, response.get_data(as_text=True)[:3000]
        assert load(app, ticket_id).state == target
        assert refused.status_code == 409
    assert load(app, other_id).state == wrong_state


def test_customers_confirm_and_reopen_only_their_own_company(app, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "carried_out")
    with app.test_request_context():
        ticket = db.session.get(Ticket, ticket_id)
        with pytest.raises(TransitionError):
            services.take(ticket, db.session.get(User, actors["customer-other"].id), "confirm", {})
        event = services.take(ticket, db.session.get(User, actors["customer"].id), "confirm",
                              {"customer_visible": False})
        assert ticket.state == "confirmed" and event.customer_visible  # the buyer's own steps are always visible
        db.session.rollback()


# Due dates and the overdue filter

@pytest.mark.parametrize("severity, due", [("minor", date(2026, 12, 7)), ("major", date(2026, 12, 2)),
                                           ("critical", date(2026, 11, 29))])
def test_due_date_follows_the_severity_with_default_days(app, actors, customer, make_ticket, severity, due):
    ticket_id = make_ticket(customer)
    with app.test_request_context():
        ticket = db.session.get(Ticket, ticket_id)
        services.take(ticket, db.session.get(User, actors["service"].id), "assess", {"severity": severity})
        db.session.commit()
    assert load(app, ticket_id).due_on == due


@pytest.mark.parametrize("severity, due", [("minor", date(2026, 12, 27)), ("major", date(2026, 12, 4)),
                                           ("critical", date(2026, 11, 28))])
def test_due_date_follows_the_company_settings(app, actors, customer, make_ticket, severity, due):
    with app.app_context():
        db.session.add(CompanySettings(id=1, ticket_days_minor=30, ticket_days_major=7, ticket_days_critical=1))
        db.session.commit()
    ticket_id = make_ticket(customer)
    with app.test_request_context():
        ticket = db.session.get(Ticket, ticket_id)
        services.take(ticket, db.session.get(User, actors["admin"].id), "assess", {"severity": severity})
        db.session.commit()
    assert load(app, ticket_id).due_on == due


def test_overdue_means_open_and_past_due(app, client, actors, customer, make_ticket):
    late = make_ticket(customer, "assigned", due_on=date(2026, 11, 26), subject="LATE-OPEN")
    make_ticket(customer, "assigned", due_on=date(2026, 11, 27), subject="DUE-TODAY")
    make_ticket(customer, "closed", due_on=date(2026, 11, 1), subject="LATE-CLOSED")
    make_ticket(customer, "received", subject="NO-DUE-DATE")
    with app.test_request_context():
        assert [t.id for t in services.overdue(db.session.get(User, actors["service"].id), TODAY)] == [late]
        assert len(services.open_tickets(db.session.get(User, actors["service"].id))) == 3
        assert services.overdue(db.session.get(User, actors["sales-other"].id), TODAY) == []
    login(client, actors["service"])
    html = client.get("/aftersales/tickets/?overdue=y").get_data(as_text=True)
    assert "LATE-OPEN" in html and "DUE-TODAY" not in html and "LATE-CLOSED" not in html
    assert "NO-DUE-DATE" not in html


# Closing and reopening

def test_closing_schedules_exactly_one_second_visit(app, client, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "confirmed")
    login(client, actors["service"])
    assert post_action(client, ticket_id, "close", data_for("close")).status_code == 303
    assert post_action(client, ticket_id, "close", data_for("close")).status_code == 409
    with app.app_context():
        visits = db.session.scalars(select(FollowUpVisit).where(FollowUpVisit.ticket_id == ticket_id)).all()
        assert len(visits) == 1
        assert (visits[0].reason, visits[0].due_on, visits[0].state) == ("ticket", date(2026, 12, 4), "due")
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.closed_by_id == actors["service"].id and ticket.closed_at is not None
        assert ticket.summary == "已更换，客户满意"
    html = client.get(f"/aftersales/tickets/{ticket_id}").get_data(as_text=True)
    assert f'/aftersales/visits/{visits[0].id}"' in html


def test_closing_needs_summary_and_preventive_action(app, client, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "confirmed")
    login(client, actors["manager"])
    response = post_action(client, ticket_id, "close", {"summary": "好了"})
    assert response.status_code == 422
    assert load(app, ticket_id).state == "confirmed"
    with app.app_context():
        assert db.session.scalar(select(func.count(FollowUpVisit.id))) == 0


def test_reopening_counts_and_goes_back_to_assigned(app, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "confirmed")
    with app.test_request_context():
        ticket = db.session.get(Ticket, ticket_id)
        with pytest.raises(services.TicketError) as refused:
            services.take(ticket, db.session.get(User, actors["service"].id), "reopen", {})
        assert "reason" in refused.value.errors
        services.take(ticket, db.session.get(User, actors["customer"].id), "reopen", {"reason": "还在漏"})
        services.take(ticket, db.session.get(User, actors["service"].id), "propose", data_for("propose"))
        services.take(ticket, db.session.get(User, actors["service"].id), "send", {})
        services.take(ticket, db.session.get(User, actors["service"].id), "carry_out", {})
        services.take(ticket, db.session.get(User, actors["service"].id), "reopen", {"reason": "又坏了"})
        db.session.commit()
    ticket = load(app, ticket_id)
    assert (ticket.state, ticket.reopen_count) == ("assigned", 2)
    reopened = [e for e in ticket.events if e.kind == "reopen"]
    assert [e.note for e in reopened] == ["还在漏", "又坏了"] and all(e.customer_visible for e in reopened)


def test_the_whole_way_with_customer_visible_steps(app, client, actors, customer, make_ticket):
    login(client, actors["service"])
    ticket_id = make_ticket(customer)
    for name in ["assess", "assign", "propose", "send", "carry_out", "confirm", "close"]:
        data = data_for(name, actors["service"].id)
        if name in services.VISIBLE_BY_DEFAULT:
            data["customer_visible"] = "y"
        if name == "propose":
            data["note"] = "内部：供应商批次 B-17"
        assert post_action(client, ticket_id, name, data).status_code == 303, name
    ticket = load(app, ticket_id)
    assert ticket.state == "closed" and ticket.cost_amount == Decimal("120.50")
    assert ticket.department == "quality" and ticket.assignee_id == actors["service"].id
    with app.app_context():
        steps = services.customer_steps(db.session.get(Ticket, ticket_id))
        assert [e.kind for e in steps] == ["send", "carry_out", "confirm", "close"]  # "received" was made by hand
        assert all("B-17" not in (e.note or "") for e in steps)
        assert db.session.scalar(select(func.count(AuditLog.id)).where(
            AuditLog.entity_type == "Ticket", AuditLog.entity_id == ticket_id, AuditLog.action == "transition")) == 7


def test_stale_version_is_refused_with_409(app, client, actors, customer, make_ticket):
    ticket_id = make_ticket(customer)
    login(client, actors["service"])
    html = client.get(f"/aftersales/tickets/{ticket_id}").get_data(as_text=True)
    assert 'name="assess-version"' in html
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        ticket.contact_name = "张三"  # someone else saves meanwhile
        db.session.commit()
        version = ticket.version
    response = post_action(client, ticket_id, "assess", {"severity": "minor", "version": str(version - 1)})
    assert response.status_code == 409
    assert load(app, ticket_id).state == "received"
    assert post_action(client, ticket_id, "assess", {"severity": "minor", "version": str(version)}).status_code == 303


# Creating

def test_create_through_the_page_with_items_and_a_photo(app, client, actors, customer, make_order):
    order_id, item_ids, number = make_order(customer)
    login(client, actors["sales-owner"])
    page = client.get(f"/aftersales/tickets/new?order_id={order_id}")
    assert page.status_code == 200 and number in page.get_data(as_text=True)
    response = client.post("/aftersales/tickets/new", data={
        "customer_code": customer.code, "order_number": number, "channel": "wechat", "category": "quality",
        "subject": "阀门漏水", "description": "两只阀门漏水", "contact_name": "李工",
        "item": [str(item_ids[0])], f"qty_{item_ids[0]}": "3",
        "file": (io.BytesIO(png_bytes()), "leak.png")}, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.number == "TS2026-0001" and ticket.order_id == order_id and ticket.channel == "wechat"
        assert [(line.order_item_id, line.quantity) for line in ticket.lines] == [(item_ids[0], Decimal("3"))]
        assert [(e.kind, e.customer_visible) for e in ticket.events] == [("received", True), ("file", False)]
        assert db.session.scalar(select(func.count(Attachment.id)).where(Attachment.entity_type == "Ticket")) == 1
        ticket_id = ticket.id
    assert client.get(f"/aftersales/tickets/{ticket_id}").status_code == 200


def test_prefill_from_the_customer(client, actors, customer):
    login(client, actors["service"])
    html = client.get(f"/aftersales/tickets/new?customer_id={customer.id}").get_data(as_text=True)
    assert f'value="{customer.code}"' in html


def test_customer_users_are_forced_to_the_portal_channel(app, actors, customer):
    from portal.models import Customer

    with app.test_request_context():
        ticket = services.create_ticket(db.session.get(User, actors["customer"].id),
                                        db.session.get(Customer, customer.id), channel="phone", category="delivery",
                                        subject="晚到", description="晚到三天")
        assert ticket.channel == "portal" and ticket.events[0].customer_visible
        with pytest.raises(TransitionError):
            services.create_ticket(db.session.get(User, actors["customer-other"].id),
                                   db.session.get(Customer, customer.id), channel="portal", category="delivery",
                                   subject="x", description="y")
        db.session.rollback()


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


VALID = {"channel": "phone", "category": "quality", "subject": "阀门漏水", "description": "漏水"}


@pytest.mark.parametrize("changes", [
    {"subject": "x" * 201},
    {"description": "x" * 10001},
    {"subject": ""},
    {"channel": "pigeon"},
    {"customer_code": "C99999"},
    {"contact_name": "x" * 101},
])
def test_bad_ticket_input_is_422_and_nothing_is_stored(app, client, actors, customer, changes):
    login(client, actors["service"])
    response = client.post("/aftersales/tickets/new", data={"customer_code": customer.code, **VALID, **changes})
    assert response.status_code == 422
    assert _count(app, Ticket) == 0


def test_an_order_of_another_customer_is_refused(app, client, actors, customer, make_customer, make_order, owner):
    _order_id, _items, number = make_order(make_customer(owner=owner))
    login(client, actors["service"])
    response = client.post("/aftersales/tickets/new", data={"customer_code": customer.code, "order_number": number,
                                                            **VALID})
    assert response.status_code == 422
    assert _count(app, Ticket) == 0
    from portal.models import Customer

    with app.test_request_context():
        with pytest.raises(services.TicketError) as refused:
            services.create_ticket(db.session.get(User, actors["service"].id), db.session.get(Customer, customer.id),
                                   channel="phone", category="quality", subject="x", description="y",
                                   order=db.session.scalar(select(Order).where(Order.number == number)))
        assert "order" in refused.value.errors
        db.session.rollback()


@pytest.mark.parametrize("quantity", ["0", "-1", "11", "abc"])
def test_bad_item_quantity_is_refused(app, client, actors, customer, make_order, quantity):
    order_id, item_ids, number = make_order(customer)
    login(client, actors["service"])
    response = client.post("/aftersales/tickets/new", data={
        "customer_code": customer.code, "order_number": number, **VALID, "item": [str(item_ids[0])],
        f"qty_{item_ids[0]}": quantity})
    assert response.status_code == 422
    assert _count(app, Ticket) == 0 and _count(app, TicketLine) == 0


def test_a_disguised_file_is_refused_and_nothing_is_stored(app, client, actors, customer, make_ticket):
    login(client, actors["service"])
    response = client.post("/aftersales/tickets/new", data={
        "customer_code": customer.code, **VALID, "file": (io.BytesIO(b"MZ\x90\x00 not an image"), "photo.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert _count(app, Ticket) == 0 and _count(app, Attachment) == 0
    ticket_id = make_ticket(customer)
    response = client.post(f"/aftersales/tickets/{ticket_id}/files", data={
        "file": (io.BytesIO(b"<html>x</html>"), "photo.png")}, content_type="multipart/form-data")
    assert response.status_code == 422 and _count(app, Attachment) == 0
    response = client.post(f"/aftersales/tickets/{ticket_id}/files", data={
        "file": (io.BytesIO(png_bytes()), "ok.png"), "file_visible": "y"}, content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        assert attachment.customer_visible
    served = client.get(f"/aftersales/tickets/{ticket_id}/files/{attachment.id}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    other_ticket = make_ticket(customer)
    assert client.get(f"/aftersales/tickets/{other_ticket}/files/{attachment.id}").status_code == 404


@pytest.mark.parametrize("data, field", [
    ({"cause": "c", "solution": "s", "resolution": "claim"}, "claim_amount"),
    ({"cause": "c", "solution": "s", "resolution": "return", "claim_amount": "0"}, "claim_amount"),
    ({"cause": "c", "solution": "s", "resolution": "repair", "cost_amount": "-5"}, "cost_amount"),
    ({"cause": "c", "solution": "s", "resolution": "claim", "claim_amount": "-100"}, "claim_amount"),
    ({"cause": "c", "solution": "s", "resolution": "claim", "claim_amount": "1e20"}, "claim_amount"),
    ({"cause": "", "solution": "s", "resolution": "repair"}, "cause"),
    ({"cause": "c" * 10001, "solution": "s", "resolution": "repair"}, "cause"),
    ({"cause": "c", "solution": "s", "resolution": "magic"}, "resolution"),
])
def test_bad_proposal_is_422_and_nothing_changes(app, client, actors, customer, make_ticket, data, field):
    ticket_id = make_ticket(customer, "assigned")
    with app.test_request_context():
        ticket = db.session.get(Ticket, ticket_id)
        with pytest.raises(services.TicketError) as refused:
            services.take(ticket, db.session.get(User, actors["service"].id), "propose", data)
        assert field in refused.value.errors
        db.session.rollback()
    login(client, actors["service"])
    response = post_action(client, ticket_id, "propose", data)
    assert response.status_code == 422
    ticket = load(app, ticket_id)
    assert ticket.state == "assigned" and ticket.claim_amount is None and ticket.cause is None
    assert [e.kind for e in ticket.events] == []


def test_claim_with_its_amount_is_kept_exactly(app, client, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "assigned")
    login(client, actors["service"])
    response = post_action(client, ticket_id, "propose", {"cause": "运输破损", "solution": "退货并赔偿",
                                                           "resolution": "claim", "claim_amount": "1,234.565",
                                                           "currency": "USD"})
    assert response.status_code == 303
    ticket = load(app, ticket_id)
    assert (ticket.claim_amount, ticket.currency) == (Decimal("1234.57"), "USD")


def test_assign_needs_a_staff_person(app, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "assessed")
    with app.test_request_context():
        ticket = db.session.get(Ticket, ticket_id)
        for assignee in (actors["customer"].id, 999999, "x", ""):
            with pytest.raises(services.TicketError) as refused:
                services.take(ticket, db.session.get(User, actors["service"].id), "assign",
                              {"department": "quality", "assignee_id": assignee})
            assert "assignee_id" in refused.value.errors
        db.session.rollback()


# Notes

def test_notes_by_staff_and_the_customers_salesperson(app, client, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "assigned")
    login(client, actors["sales-owner"])
    assert client.post(f"/aftersales/tickets/{ticket_id}/notes", data={"note": "客户很着急"}).status_code == 303
    assert client.post(f"/aftersales/tickets/{ticket_id}/notes", data={"note": ""}).status_code == 422
    assert client.post(f"/aftersales/tickets/{ticket_id}/notes", data={"note": "x" * 5001}).status_code == 422
    client.post("/logout")
    login(client, actors["service"])
    assert client.post(f"/aftersales/tickets/{ticket_id}/notes",
                       data={"note": "已联系供应商", "customer_visible": "y"}).status_code == 303
    client.post("/logout")
    login(client, actors["sales-other"])
    assert client.post(f"/aftersales/tickets/{ticket_id}/notes", data={"note": "x"}).status_code == 404
    ticket = load(app, ticket_id)
    assert [(e.kind, e.note, e.customer_visible) for e in ticket.events] == [
        ("note", "客户很着急", False), ("note", "已联系供应商", True)]
    with app.app_context():
        assert [e.note for e in services.customer_steps(db.session.get(Ticket, ticket_id))] == ["已联系供应商"]


# Filters

def test_filters_state_severity_department(app, client, actors, customer, make_customer, make_ticket, owner):
    make_ticket(customer, "received", subject="T-RECEIVED")
    make_ticket(customer, "assigned", severity="critical", department="logistics", subject="T-CRITICAL-LOG")
    make_ticket(customer, "assigned", severity="minor", department="quality", subject="T-MINOR-QUA")
    make_ticket(make_customer(owner=actors["sales-other"], name="别人的客户"), "assigned", subject="T-OTHERS")
    make_ticket(customer, "closed", subject="T-CLOSED")
    login(client, actors["manager"])

    def listed(query):
        html = client.get(f"/aftersales/tickets/?{query}").get_data(as_text=True)
        return {s for s in ("T-RECEIVED", "T-CRITICAL-LOG", "T-MINOR-QUA", "T-OTHERS", "T-CLOSED") if s in html}

    assert listed("state=received") == {"T-RECEIVED"}
    assert listed("state=open") == {"T-RECEIVED", "T-CRITICAL-LOG", "T-MINOR-QUA", "T-OTHERS"}
    assert listed("severity=critical") == {"T-CRITICAL-LOG"}
    assert listed("department=quality") == {"T-MINOR-QUA", "T-OTHERS", "T-CLOSED"}
    assert listed(f"q={customer.code}") == {"T-RECEIVED", "T-CRITICAL-LOG", "T-MINOR-QUA", "T-CLOSED"}
    assert listed("q=别人") == {"T-OTHERS"}
    client.post("/logout")
    login(client, owner)
    assert listed("") == {"T-RECEIVED", "T-CRITICAL-LOG", "T-MINOR-QUA", "T-CLOSED"}


def test_month_filter_counts_the_local_day_from_midnight(app, client, actors, customer, make_ticket):
    # 2026-11-01 00:00 in Shanghai is 2026-10-31 16:00 UTC
    make_ticket(customer, subject="T-OCT-LAST", received_at=datetime(2026, 10, 31, 15, 59, 59, tzinfo=timezone.utc))
    make_ticket(customer, subject="T-NOV-FIRST", received_at=datetime(2026, 10, 31, 16, 0, 0, tzinfo=timezone.utc))
    make_ticket(customer, subject="T-NOV-LAST", received_at=datetime(2026, 11, 30, 15, 59, 59, tzinfo=timezone.utc))
    make_ticket(customer, subject="T-DEC-FIRST", received_at=datetime(2026, 11, 30, 16, 0, 0, tzinfo=timezone.utc))
    login(client, actors["service"])

    def listed(query):
        html = client.get(f"/aftersales/tickets/?{query}").get_data(as_text=True)
        return {s for s in ("T-OCT-LAST", "T-NOV-FIRST", "T-NOV-LAST", "T-DEC-FIRST") if s in html}

    assert listed("month=2026-11") == {"T-NOV-FIRST", "T-NOV-LAST"}
    assert listed("month=2026-10") == {"T-OCT-LAST"}
    assert listed("month=2026-12") == {"T-DEC-FIRST"}
    assert listed("month=junk") == {"T-OCT-LAST", "T-NOV-FIRST", "T-NOV-LAST", "T-DEC-FIRST"}


def test_list_is_ordered_by_due_date_then_received(app, client, actors, customer, make_ticket):
    make_ticket(customer, "assigned", due_on=date(2026, 12, 5), subject="T-C")
    make_ticket(customer, "assigned", due_on=date(2026, 11, 20), subject="T-A")
    make_ticket(customer, "received", subject="T-D", received_at=datetime(2026, 11, 2, tzinfo=timezone.utc))
    make_ticket(customer, "assigned", due_on=date(2026, 11, 20), subject="T-B",
                received_at=datetime(2026, 12, 1, tzinfo=timezone.utc))
    login(client, actors["service"])
    html = client.get("/aftersales/tickets/").get_data(as_text=True)
    positions = [html.index(s) for s in ("T-A", "T-B", "T-C", "T-D")]
    assert positions == sorted(positions)


def test_htmx_filter_answers_the_rows_only(client, actors, customer, make_ticket):
    make_ticket(customer, subject="T-ONE")
    login(client, actors["service"])
    response = client.get("/aftersales/tickets/?state=received", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "T-ONE" in html and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_list_runs_a_fixed_number_of_statements(app, client, actors, make_user, make_customer, make_ticket):
    from sqlalchemy import event

    login(client, actors["manager"])

    def add(n):
        for i in range(n):
            customer = make_customer(owner=make_user("sales"))
            make_ticket(customer, "assigned", assignee_id=make_user("service").id)

    add(3)
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/aftersales/tickets/")
        few = len(statements)
        event.remove(engine, "before_cursor_execute", count)
        add(27)
        event.listen(engine, "before_cursor_execute", count)
        statements.clear()
        html = client.get("/aftersales/tickets/").get_data(as_text=True)
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert few == many, (few, many)
    assert "?page=2" in html


# Service records

def test_service_record_from_the_ticket_and_from_the_order(app, client, actors, customer, make_ticket, make_order):
    order_id, _items, _number = make_order(customer)
    ticket_id = make_ticket(customer, "assigned", order_id=order_id)
    login(client, actors["service"])
    assert client.get(f"/aftersales/service-records/new?ticket_id={ticket_id}").status_code == 200
    response = client.post(f"/aftersales/service-records/new?ticket_id={ticket_id}", data={
        "served_on": "2026-11-25", "fault": "密封圈老化", "handling": "更换密封圈", "parts": "O 型圈 ×2",
        "hours": "1.5", "technician": "赵师傅"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/aftersales/tickets/{ticket_id}#service")
    response = client.post(f"/aftersales/service-records/new?order_id={order_id}", data={
        "served_on": "2026-11-26", "fault": "调试", "handling": "现场调试", "hours": "2.25"})
    assert response.status_code == 303
    with app.app_context():
        records = db.session.scalars(select(ServiceRecord).order_by(ServiceRecord.id)).all()
        assert [(r.ticket_id, r.order_id, r.customer_id, r.hours) for r in records] == [
            (ticket_id, order_id, customer.id, Decimal("1.50")), (None, order_id, customer.id, Decimal("2.25"))]
        assert db.session.scalar(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)) == "service"
        record_id = records[0].id
    assert "密封圈老化" in client.get(f"/orders/{order_id}").get_data(as_text=True)
    response = client.post(f"/aftersales/service-records/{record_id}/edit", data={
        "served_on": "2026-11-25", "fault": "密封圈老化", "handling": "更换密封圈并试压", "hours": "3"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(ServiceRecord, record_id).hours == Decimal("3.00")
    # an edit made on a page read before that change is refused, and changes nothing
    stale = client.post(f"/aftersales/service-records/{record_id}/edit", data={
        "served_on": "2026-11-25", "fault": "密封圈老化", "handling": "旧页面", "hours": "9", "version": "1"})
    assert stale.status_code == 409
    with app.app_context():
        record = db.session.get(ServiceRecord, record_id)
        assert (record.hours, record.handling, record.version) == (Decimal("3.00"), "更换密封圈并试压", 2)
    form = client.get(f"/aftersales/service-records/{record_id}/edit").get_data(as_text=True)
    assert 'name="version"' in form and 'value="2"' in form


@pytest.mark.parametrize("changes", [{"hours": "-1"}, {"hours": "abc"}, {"hours": "10000"}, {"fault": ""},
                                     {"served_on": "2026-12-01"}, {"parts": "x" * 501}, {"handling": ""}])
def test_bad_service_record_is_422_and_nothing_stored(app, client, actors, customer, make_ticket, changes):
    ticket_id = make_ticket(customer, "assigned")
    login(client, actors["service"])
    data = {"served_on": "2026-11-25", "fault": "漏水", "handling": "更换", "hours": "1"}
    response = client.post(f"/aftersales/service-records/new?ticket_id={ticket_id}", data={**data, **changes})
    assert response.status_code == 422
    assert _count(app, ServiceRecord) == 0


def test_service_record_needs_a_ticket_or_order_of_the_users_scope(app, client, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "assigned")
    login(client, actors["service"])
    data = {"served_on": "2026-11-25", "fault": "漏水", "handling": "更换"}
    assert client.post("/aftersales/service-records/new", data=data).status_code == 422
    assert client.post("/aftersales/service-records/new?ticket_id=99999", data=data).status_code == 404
    client.post("/logout")
    login(client, actors["sales-owner"])
    assert client.post(f"/aftersales/service-records/new?ticket_id={ticket_id}", data=data).status_code == 404
    assert _count(app, ServiceRecord) == 0


def test_monthly_service_records_with_totals_and_print_layout(app, client, actors, customer, make_customer,
                                                              owner):
    other = make_customer(owner=actors["sales-other"], name="别人的客户")
    with app.app_context():
        for served_on, hours, who in [(date(2026, 10, 31), "5", customer), (date(2026, 11, 1), "1.5", customer),
                                      (date(2026, 11, 30), "2.25", customer), (date(2026, 11, 15), None, other),
                                      (date(2026, 12, 1), "7", customer)]:
            db.session.add(ServiceRecord(customer_id=who.id, served_on=served_on, fault=f"F-{served_on}",
                                         handling="H", hours=Decimal(hours) if hours else None))
        db.session.commit()
    with app.test_request_context():
        month = services.service_records_of_month(db.session.get(User, actors["service"].id), 2026, 11)
        assert (month.count, month.hours) == (3, Decimal("3.75"))
        mine = services.service_records_of_month(db.session.get(User, owner.id), 2026, 11)
        assert (mine.count, mine.hours) == (2, Decimal("3.75"))
    login(client, actors["service"])
    html = client.get("/aftersales/service-records/?month=2026-11").get_data(as_text=True)
    assert "F-2026-11-01" in html and "F-2026-11-30" in html and "F-2026-11-15" in html
    assert "F-2026-10-31" not in html and "F-2026-12-01" not in html
    assert "<strong>3</strong>" in html and "<strong>3.75</strong>" in html and "print=1" in html
    printed = client.get("/aftersales/service-records/?month=2026-11&print=1").get_data(as_text=True)
    assert "F-2026-11-01" in printed and "<strong>3.75</strong>" in printed
    assert "mainnav" not in printed and "<script" not in printed and "/edit" not in printed
    client.post("/logout")
    login(client, owner)  # salespeople: their own customers' records, read only
    html = client.get("/aftersales/service-records/?month=2026-11").get_data(as_text=True)
    assert "F-2026-11-01" in html and "F-2026-11-15" not in html and "/edit" not in html


def test_service_records_default_to_the_current_month(app, client, actors, customer):
    with app.app_context():
        db.session.add(ServiceRecord(customer_id=customer.id, served_on=date.today(), fault="F-TODAY", handling="H"))
        db.session.commit()
    login(client, actors["service"])
    # the page takes the month from the site's clock, the record today's date: both agree but near midnight
    html = client.get("/aftersales/service-records/").get_data(as_text=True)
    assert "F-TODAY" in html or date.today().day in (1, 28, 29, 30, 31)


# The order and customer pages

def test_order_and_customer_pages_show_the_complaints(app, client, actors, customer, make_ticket, make_order):
    order_id, _items, _number = make_order(customer)
    make_ticket(customer, "assigned", order_id=order_id, subject="T-ON-ORDER")
    make_ticket(customer, "received", subject="T-NO-ORDER")
    login(client, actors["sales-owner"])
    html = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "T-ON-ORDER" in html and "T-NO-ORDER" not in html
    assert f"/aftersales/tickets/new?order_id={order_id}" in html
    assert "/aftersales/service-records/new" not in html  # salespeople do not write service records
    html = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert html.index("T-NO-ORDER") < html.index("T-ON-ORDER")  # newest first


def test_detail_page_runs_a_fixed_number_of_statements(app, client, actors, customer, make_ticket, make_order):
    from sqlalchemy import event

    order_id, item_ids, _number = make_order(customer, quantities=[str(i) for i in range(1, 13)])
    few_id = make_ticket(customer, "assigned", order_id=order_id)
    many_id = make_ticket(customer, "assigned", order_id=order_id)
    with app.app_context():
        few = db.session.get(Ticket, few_id)  # one of each, so both pages load the same kinds of rows
        few.lines.append(TicketLine(order_item_id=item_ids[0], quantity=Decimal("1")))
        few.events.append(TicketEvent(kind="note", note="N", user_id=actors["service"].id))
        db.session.add(ServiceRecord(customer_id=customer.id, ticket_id=few_id, served_on=date(2026, 11, 1),
                                     fault="F", handling="H"))
        many = db.session.get(Ticket, many_id)
        for i, item_id in enumerate(item_ids):
            many.lines.append(TicketLine(order_item_id=item_id, quantity=Decimal("1")))
            many.events.append(TicketEvent(kind="note", note=f"N{i}", user_id=actors[
                ("admin", "manager", "service", "sales-owner")[i % 4]].id))
            db.session.add(ServiceRecord(customer_id=customer.id, ticket_id=many_id, order_id=order_id,
                                         served_on=date(2026, 11, i + 1), fault=f"F{i}", handling="H"))
        db.session.commit()
    login(client, actors["service"])
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(f"/aftersales/tickets/{few_id}")
        few, statements[:] = len(statements), []
        html = client.get(f"/aftersales/tickets/{many_id}").get_data(as_text=True)
        many_count = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert few == many_count, (few, many_count)
    assert "N11" in html and "F11" in html


def test_salespeople_see_their_customers_tickets_without_step_forms(app, client, actors, customer, make_ticket):
    ticket_id = make_ticket(customer, "assessed")
    login(client, actors["sales-owner"])
    html = client.get(f"/aftersales/tickets/{ticket_id}").get_data(as_text=True)
    assert "/action/" not in html and f"/aftersales/tickets/{ticket_id}/notes" in html
    client.post("/logout")
    login(client, actors["sales-other"])
    assert client.get(f"/aftersales/tickets/{ticket_id}").status_code == 404
    assert client.get("/aftersales/tickets/").get_data(as_text=True).count("阀门漏水") == 0
    client.post("/logout")
    login(client, actors["service"])
    html = client.get(f"/aftersales/tickets/{ticket_id}").get_data(as_text=True)
    assert f"/aftersales/tickets/{ticket_id}/action/assign" in html


@pytest.mark.parametrize("url", ["/aftersales/tickets/new?order_id=99999999999",
                                 "/aftersales/tickets/new?customer_id=-1",
                                 "/aftersales/service-records/new?ticket_id=99999999999",
                                 "/aftersales/service-records/new?order_id=0"])
def test_ids_no_database_holds_are_404(client, actors, url):
    login(client, actors["service"])
    assert client.get(url).status_code == 404
