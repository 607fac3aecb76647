"""Quotations: the transition table per role, approval that cannot be bypassed, exact Decimal totals, line
validation, version conflicts, conversion to an order, the list and its filters."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.i18n import local_today
from portal.models import AuditLog, Order, Product, Quote, QuoteItem, User, line_amount
from portal.quotes import services
from portal.workflow import TransitionError
from tests.conftest import login

STATES = ("draft", "pending_approval", "approved", "sent", "accepted", "declined", "converted", "cancelled")
WRITERS = {"admin", "manager", "sales"}
MANAGERS = {"admin", "manager"}
# Written out by hand (not read from services.WORKFLOW) so that a change to the table shows up here.
EXPECTED = {
    "submit": ({"draft"}, WRITERS),
    "approve": ({"pending_approval"}, MANAGERS),
    "reject": ({"pending_approval"}, MANAGERS),
    "send": ({"approved"}, WRITERS),
    "accept": ({"sent"}, WRITERS),
    "decline": ({"sent"}, WRITERS),
    "convert": ({"approved", "accepted"}, WRITERS),
    "cancel": ({"draft", "pending_approval", "approved", "sent"}, WRITERS),
    "copy": (set(STATES), WRITERS),
}


@pytest.fixture
def today(app):
    """The factory's date (Asia/Shanghai)."""
    with app.app_context():
        return local_today()


@pytest.fixture
def make_quote(app):
    """make_quote(customer, state="draft", lines=(("3", "0.3333"),), **fields) -> quote id (committed)."""
    from portal import numbering

    def make(customer, state="draft", lines=(("10", "12.5"),), **fields):
        with app.app_context():
            quote = Quote(number=numbering.next_number("quote", 2026), customer_id=getattr(customer, "id", customer),
                          currency=fields.pop("currency", "CNY"), state=state,
                          valid_until=fields.pop("valid_until", local_today() + timedelta(days=30)), **fields)
            for position, (quantity, price) in enumerate(lines, start=1):
                quote.items.append(QuoteItem(position=position, description=f"零件{position}",
                                             quantity=Decimal(quantity), unit="pcs", unit_price=Decimal(price)))
            db.session.add(quote)
            db.session.commit()
            return quote.id

    return make


def _quote(app, quote_id) -> Quote:
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        quote.items  # noqa: B018  (loaded before the session closes)
        db.session.expunge_all()
        return quote


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditLog))


def _version(client, quote_id) -> str:
    import re
    html = client.get(f"/quotes/{quote_id}").get_data(as_text=True)
    return re.search(r'name="version" value="(\d+)"', html).group(1)


# The transition table

@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ["admin", "manager", "sales", "service"])
def test_transition_table_per_role(ctx, make_user, make_customer, state, role):
    user_id = make_user(role).id  # rows made by the fixtures first: a read snapshot must not go stale
    customer = make_customer(owner=user_id if role == "sales" else None)
    user = db.session.get(User, user_id)
    quote = Quote(number="BJ2026-9999", customer_id=customer.id, state=state)
    db.session.add(quote)
    db.session.flush()
    allowed = {t.name for t in services.allowed_actions(quote, user)}
    expected = {name for name, (states, roles) in EXPECTED.items() if state in states and role in roles}
    assert allowed == expected
    for name in EXPECTED:
        if name not in expected:
            with pytest.raises(TransitionError):
                services.WORKFLOW.check(quote, user, name, services.owns(user, quote))


def test_salesperson_may_not_act_on_another_salespersons_quotation(ctx, make_user, make_customer):
    mine_id, other_id = make_user("sales").id, make_user("sales").id
    customer = make_customer(owner=other_id)
    mine = db.session.get(User, mine_id)
    quote = Quote(number="BJ2026-9998", customer_id=customer.id, state="draft")
    db.session.add(quote)
    db.session.flush()
    assert services.allowed_actions(quote, mine) == []
    with pytest.raises(TransitionError):
        services.transition(quote, "submit", mine)


def test_walk_draft_to_sent_to_accepted_with_audit(app, client, make_user, make_customer, make_quote):
    sales, manager = make_user("sales", locale="en"), make_user("manager", locale="en")
    quote_id = make_quote(make_customer(owner=sales))
    boss = app.test_client()
    login(client, sales)
    login(boss, manager)
    assert client.post(f"/quotes/{quote_id}/action/submit").status_code == 303
    assert "Waiting for a manager" in client.get(f"/quotes/{quote_id}").get_data(as_text=True)
    assert client.post(f"/quotes/{quote_id}/action/approve").status_code == 409  # a salesperson cannot approve
    assert _quote(app, quote_id).state == "pending_approval"
    assert boss.post(f"/quotes/{quote_id}/action/approve").status_code == 303
    approved = _quote(app, quote_id)
    assert approved.state == "approved" and approved.approved_by_id == manager.id and approved.approved_at
    for name, state in (("send", "sent"), ("accept", "accepted")):
        assert client.post(f"/quotes/{quote_id}/action/{name}").status_code == 303
        assert _quote(app, quote_id).state == state
    with app.app_context():
        rows = db.session.scalars(select(AuditLog).where(AuditLog.entity_type == "Quote", AuditLog.action == "transition")
                                  .order_by(AuditLog.id)).all()
        assert [r.changes["state"][1] for r in rows] == ["pending_approval", "approved", "sent", "accepted"]
        assert [r.username for r in rows] == [sales.username, manager.username, sales.username, sales.username]


@pytest.mark.parametrize("state, name", [("draft", "approve"), ("pending_approval", "approve"), ("draft", "send"),
                                         ("pending_approval", "send"), ("draft", "convert"), ("sent", "submit"),
                                         ("converted", "cancel"), ("draft", "explode")])
def test_crafted_post_for_a_refused_transition_is_409_and_changes_nothing(app, client, login_as, make_customer,
                                                                          make_quote, state, name):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state=state)
    before, audits = _quote(app, quote_id), _audit_count(app)
    response = client.post(f"/quotes/{quote_id}/action/{name}", data={"reason": "x"})
    assert response.status_code == 409
    assert "not possible" in response.get_data(as_text=True) or "may not" in response.get_data(as_text=True)
    after = _quote(app, quote_id)
    assert (after.state, after.version, after.approved_by_id) == (before.state, before.version, None)
    assert _audit_count(app) == audits
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_service_staff_read_but_change_nothing(app, client, login_as, make_customer, make_quote):
    login_as("service", locale="en")
    quote_id = make_quote(make_customer(), state="pending_approval")
    html = client.get(f"/quotes/{quote_id}").get_data(as_text=True)
    assert "零件1" in html and 'action="/quotes/' not in html and "No action for you" in html
    for url in (f"/quotes/{quote_id}/action/approve", f"/quotes/{quote_id}/items", f"/quotes/{quote_id}/header"):
        assert client.post(url, data={"quantity": "1", "unit_price": "1", "description": "x"}).status_code == 404
    assert _quote(app, quote_id).state == "pending_approval"


@pytest.mark.parametrize("state, name", [("pending_approval", "reject"), ("sent", "decline"), ("draft", "cancel")])
def test_reject_decline_and_cancel_need_a_reason(app, client, login_as, make_customer, make_quote, state, name):
    manager = login_as("manager", locale="en")
    quote_id = make_quote(make_customer(owner=None), state=state)
    refused = client.post(f"/quotes/{quote_id}/action/{name}", data={"reason": "  "})
    assert refused.status_code == 422 and "Give a reason." in refused.get_data(as_text=True)
    assert _quote(app, quote_id).state == state
    assert client.post(f"/quotes/{quote_id}/action/{name}", data={"reason": "价格太高"}).status_code == 303
    quote = _quote(app, quote_id)
    assert quote.state != state and quote.rejection_reason == "价格太高"
    assert "价格太高" in client.get(f"/quotes/{quote_id}").get_data(as_text=True)
    assert manager


def test_submit_needs_lines_and_send_needs_a_valid_date(today, app, client, login_as, make_customer, make_quote):
    sales = login_as("sales", locale="en")
    customer = make_customer(owner=sales)
    empty = make_quote(customer, lines=())
    response = client.post(f"/quotes/{empty}/action/submit")
    assert response.status_code == 409 and "at least one line" in response.get_data(as_text=True)
    expired = make_quote(customer, state="approved", valid_until=today - timedelta(days=1))
    response = client.post(f"/quotes/{expired}/action/send")
    assert response.status_code == 409 and "expired" in response.get_data(as_text=True)
    assert _quote(app, expired).state == "approved"


# Approval cannot be bypassed

def test_adding_a_line_after_approval_sends_it_back_for_approval(app, client, login_as, make_user, make_customer,
                                                                 make_quote):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state="approved", approved_by_id=make_user("manager").id)
    response = client.post(f"/quotes/{quote_id}/items", data={"description": "新零件", "quantity": "1",
                                                              "unit_price": "2", "version": _version(client, quote_id)},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "back to draft" in html and 'data-state="draft"' in html
    quote = _quote(app, quote_id)
    assert quote.state == "draft" and quote.approved_by_id is None and len(quote.items) == 2
    # ...so it cannot be sent or converted until approved again.
    for name in ("send", "convert"):
        assert client.post(f"/quotes/{quote_id}/action/{name}").status_code == 409
    assert _quote(app, quote_id).state == "draft"


@pytest.mark.parametrize("change", ["update", "remove"])
def test_changing_or_removing_a_line_while_pending_returns_it_to_draft(app, client, login_as, make_customer,
                                                                       make_quote, change):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state="pending_approval", lines=(("1", "1"), ("2", "2")))
    item_id = _quote(app, quote_id).items[0].id
    version = _version(client, quote_id)
    if change == "update":
        response = client.post(f"/quotes/{quote_id}/items/{item_id}",
                               data={"description": "零件1", "quantity": "5", "unit_price": "1", "version": version})
    else:
        response = client.post(f"/quotes/{quote_id}/items/{item_id}/delete", data={"version": version})
    assert response.status_code == 303
    assert "back to draft" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _quote(app, quote_id).state == "draft"


def test_an_unchanged_line_save_keeps_the_approval(app, client, login_as, make_customer, make_quote):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state="approved", lines=(("10", "12.5"),))
    item_id = _quote(app, quote_id).items[0].id
    response = client.post(f"/quotes/{quote_id}/items/{item_id}", data={
        "description": "零件1", "quantity": "10.000", "unit": "pcs", "unit_price": "12.50",
        "version": _version(client, quote_id)})
    assert response.status_code == 303 and _quote(app, quote_id).state == "approved"


def test_terms_change_after_approval_needs_approval_but_internal_notes_do_not(today, app, client, login_as, make_customer,
                                                                             make_quote):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state="approved", terms="T/T 30%")
    header = {"currency": "CNY", "valid_until": (today + timedelta(days=30)).isoformat(), "terms": "T/T 30%"}
    response = client.post(f"/quotes/{quote_id}/header", data={**header, "notes": "客户很急",
                                                               "version": _version(client, quote_id)})
    assert response.status_code == 303 and _quote(app, quote_id).state == "approved"
    response = client.post(f"/quotes/{quote_id}/header", data={**header, "terms": "T/T 50%", "notes": "客户很急",
                                                               "version": _version(client, quote_id)})
    assert response.status_code == 303
    quote = _quote(app, quote_id)
    assert quote.state == "draft" and quote.terms == "T/T 50%" and quote.notes == "客户很急"


def test_copy_makes_an_unapproved_draft_and_leaves_the_original(app, client, login_as, make_user, make_customer,
                                                                make_quote):
    sales = login_as("sales", locale="en")
    manager = make_user("manager")
    original = make_quote(make_customer(owner=sales), state="approved", approved_by_id=manager.id,
                          lines=(("3", "0.3333"), ("1000000", "12.5")), terms="FOB")
    response = client.post(f"/quotes/{original}/action/copy")
    assert response.status_code == 303
    with app.app_context():
        copy = db.session.scalar(select(Quote).where(Quote.copied_from_id == original))
        assert response.headers["Location"] == f"/quotes/{copy.id}"
        assert copy.state == "draft" and copy.approved_by_id is None and copy.approved_at is None
        assert [(i.quantity, i.unit_price) for i in copy.items] == [(Decimal("3"), Decimal("0.3333")),
                                                                   (Decimal("1000000"), Decimal("12.5"))]
        assert copy.terms == "FOB" and copy.number != db.session.get(Quote, original).number
        assert db.session.get(Quote, original).state == "approved"
    # The copy cannot go out on the original's approval.
    assert client.post(f"/quotes/{copy.id}/action/send").status_code == 409


@pytest.mark.parametrize("state", ["approved", "accepted"])
def test_conversion_creates_the_order_with_the_lines_linked_both_ways(app, client, login_as, make_customer,
                                                                      make_quote, state):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state=state, lines=(("3", "0.3333"), ("2.5", "100")),
                          incoterm="FOB", port="Ningbo")
    response = client.post(f"/quotes/{quote_id}/action/convert")
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalar(select(Order))
        quote = db.session.get(Quote, quote_id)
        assert response.headers["Location"] == f"/orders/{order.id}"
        assert order.quote_id == quote.id and quote.order_id == order.id and quote.state == "converted"
        assert [(i.description, i.quantity, i.unit_price) for i in order.items] == [
            (i.description, i.quantity, i.unit_price) for i in quote.items]
        assert order.total == quote.total == Decimal("251.00")
        assert order.state == "quoted" and order.incoterm == "FOB" and order.port_of_destination == "Ningbo"
    html = client.get(f"/quotes/{quote_id}").get_data(as_text=True)
    assert f'href="/orders/{order.id}"' in html
    assert client.post(f"/quotes/{quote_id}/action/convert").status_code == 409  # only once
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


# Money

@pytest.mark.parametrize("quantity, price, amount", [
    ("3", "0.3333", "1.00"),  # 0.9999 rounds up to the cent
    ("1000000", "12.5", "12500000.00"),
    ("1", "0.005", "0.01"),  # half up, not half even
    ("1", "0.125", "0.13"),
    ("0.001", "0.0001", "0.00"),
    ("99999999.999", "9999.9999", "999999989990.00"),
])
def test_line_amounts_are_exact_and_rounded_half_up_to_the_cent(quantity, price, amount):
    assert line_amount(Decimal(quantity), Decimal(price)) == Decimal(amount)
    assert str(line_amount(Decimal(quantity), Decimal(price))) == amount


def test_totals_are_the_sum_of_rounded_lines_and_shown_with_the_lines(app, client, login_as, make_customer,
                                                                      make_quote):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), lines=(("3", "0.3333"), ("1000000", "12.5")))
    assert _quote(app, quote_id).total == Decimal("12500001.00")
    response = client.post(f"/quotes/{quote_id}/items", headers={"HX-Request": "true"}, data={
        "description": "螺丝", "quantity": "3", "unit_price": "0.3333", "version": _version(client, quote_id)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<th class="num nowrap" id="quote-total">12,500,002.00</th>' in html
    assert "0.3333" in html and "12,500,000.00" in html


@pytest.mark.parametrize("data, field, message", [
    ({"quantity": "-1"}, "quantity", "greater than zero"),
    ({"quantity": "0"}, "quantity", "greater than zero"),
    ({"quantity": "1.2345"}, "quantity", "at most 3 decimal places"),
    ({"quantity": "100000000000"}, "quantity", "greater than zero"),
    ({"quantity": "abc"}, "quantity", "greater than zero"),
    ({"quantity": "NaN"}, "quantity", "greater than zero"),
    ({"quantity": "1,5"}, "quantity", "greater than zero"),
    ({"quantity": "1e-9999999"}, "quantity", "greater than zero"),
    ({"quantity": ""}, "quantity", "Enter a quantity"),
    ({"unit_price": "-0.01"}, "unit_price", "zero or more"),
    ({"unit_price": "0.12345"}, "unit_price", "at most 4 decimal places"),
    ({"unit_price": "1e20"}, "unit_price", "zero or more"),
    ({"unit_price": "Infinity"}, "unit_price", "zero or more"),
    ({"unit_price": ""}, "unit_price", "Enter a price"),
    ({"quantity": "99999999999", "unit_price": "9999999999"}, "quantity", "too large"),
    ({"description": ""}, "description", "Describe the item"),
    ({"product_id": "99999999999999999999"}, "product_id", "Choose a product"),
])
def test_bad_lines_are_422_with_the_error_beside_the_field_and_change_nothing(app, client, login_as, make_customer,
                                                                              make_quote, data, field, message):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state="approved")
    before, audits = _quote(app, quote_id), _audit_count(app)
    form = {"description": "新零件", "quantity": "2", "unit_price": "3", "version": _version(client, quote_id), **data}
    for htmx in (False, True):
        response = client.post(f"/quotes/{quote_id}/items", data=form, headers={"HX-Request": "true"} if htmx else {})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in html and f'id="{field}-error"' in html
        assert f'value="{form["description"]}"' in html if form["description"] else True  # values kept
    after = _quote(app, quote_id)
    assert (after.state, after.version, len(after.items)) == (before.state, before.version, 1)
    assert _audit_count(app) == audits


def test_bad_line_update_changes_nothing(app, client, login_as, make_customer, make_quote):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state="approved")
    item_id = _quote(app, quote_id).items[0].id
    response = client.post(f"/quotes/{quote_id}/items/{item_id}", data={
        "description": "零件1", "quantity": "-5", "unit_price": "12.5", "version": _version(client, quote_id)})
    assert response.status_code == 422 and 'id="quantity-error"' in response.get_data(as_text=True)
    quote = _quote(app, quote_id)
    assert quote.state == "approved" and quote.items[0].quantity == Decimal("10")


def test_a_catalogue_product_fills_the_line(app, client, login_as, make_customer, make_quote):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), lines=())
    with app.app_context():
        valve = Product(code="V-100", name="闸阀", specification="DN50 PN16", unit="set", default_price=Decimal("88.8800"))
        dollar = Product(code="V-200", name="球阀", unit="pcs", default_price=Decimal("9.5"), currency="USD")
        db.session.add_all([valve, dollar])
        db.session.commit()
        valve_id, dollar_id = valve.id, dollar.id
    fill = client.get(f"/quotes/{quote_id}/items/fill?product_id={valve_id}&quantity=3", headers={"HX-Request": "true"})
    html = fill.get_data(as_text=True)
    assert fill.status_code == 200 and 'value="闸阀"' in html and 'value="DN50 PN16"' in html
    assert 'value="set"' in html and 'value="88.88"' in html
    free = client.get(f"/quotes/{quote_id}/items/fill?product_id=&description=自由文本", headers={"HX-Request": "true"})
    assert 'value="自由文本"' in free.get_data(as_text=True)
    # Without JavaScript the service fills what was left empty.
    version = _version(client, quote_id)
    assert client.post(f"/quotes/{quote_id}/items", data={"product_id": valve_id, "quantity": "2",
                                                          "version": version}).status_code == 303
    item = _quote(app, quote_id).items[0]
    assert (item.description, item.specification, item.unit, item.unit_price) == (
        "闸阀", "DN50 PN16", "set", Decimal("88.8800"))
    # A price in another currency is not copied into a CNY quotation.
    response = client.post(f"/quotes/{quote_id}/items", data={"product_id": dollar_id, "quantity": "1",
                                                              "version": _version(client, quote_id)})
    assert response.status_code == 422 and "in USD" in response.get_data(as_text=True)


# Concurrency

def test_a_stale_save_is_refused_naming_what_changed(today, app, client, login_as, make_user, make_customer, make_quote):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), terms="A")
    stale = _version(client, quote_id)
    header = {"currency": "CNY", "valid_until": (today + timedelta(days=10)).isoformat()}
    assert client.post(f"/quotes/{quote_id}/header", data={**header, "terms": "B", "version": stale}).status_code == 303
    # A second editor, still at the old version, saves a line: refused, told the terms changed.
    item_id = _quote(app, quote_id).items[0].id
    response = client.post(f"/quotes/{quote_id}/items/{item_id}", data={
        "description": "零件1", "quantity": "99", "unit_price": "1", "version": stale})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "Someone else changed this quotation" in html and "Terms" in html
    assert _quote(app, quote_id).items[0].quantity == Decimal("10")
    # Lines changed meanwhile: a stale header save names them; with htmx the refusal is swapped in (422).
    current = _version(client, quote_id)
    assert client.post(f"/quotes/{quote_id}/items", data={"description": "x", "quantity": "1", "unit_price": "1",
                                                          "version": current}).status_code == 303
    response = client.post(f"/quotes/{quote_id}/header", data={**header, "terms": "C", "version": current},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Lines" in html and "Someone else" in html
    assert _quote(app, quote_id).terms == "B"


def test_a_manager_cannot_approve_a_version_they_did_not_see(app, client, login_as, make_customer, make_quote):
    manager = login_as("manager", locale="en")
    quote_id = make_quote(make_customer(), state="pending_approval")
    seen = _version(client, quote_id)
    with app.app_context():  # meanwhile the lines change and it is submitted again
        quote = db.session.get(Quote, quote_id)
        quote.items[0].unit_price = Decimal("1")
        quote.updated_at = quote.updated_at + timedelta(seconds=1)
        db.session.commit()
    response = client.post(f"/quotes/{quote_id}/action/approve", data={"version": seen})
    assert response.status_code == 409 and "Someone else" in response.get_data(as_text=True)
    assert _quote(app, quote_id).state == "pending_approval"
    assert manager


def test_sent_quotations_are_locked(app, client, login_as, make_customer, make_quote):
    sales = login_as("sales", locale="en")
    quote_id = make_quote(make_customer(owner=sales), state="sent")
    html = client.get(f"/quotes/{quote_id}").get_data(as_text=True)
    assert f'action="/quotes/{quote_id}/items"' not in html and "copy it" in html
    response = client.post(f"/quotes/{quote_id}/items", data={"description": "x", "quantity": "1", "unit_price": "1"})
    assert response.status_code == 409 and len(_quote(app, quote_id).items) == 1


# Creation and the list

def test_new_quotation_for_own_customer_only(today, app, client, login_as, make_user, make_customer):
    sales = login_as("sales", locale="en")
    mine = make_customer(owner=sales, name="我的客户有限公司", currency="USD")
    theirs = make_customer(owner=make_user("sales"))
    page = client.get(f"/quotes/new?customer={mine.id}").get_data(as_text=True)
    assert f'value="{mine.code}"' in page and '<option selected value="USD">' in page
    assert f'value="{theirs.code}"' not in client.get(f"/quotes/new?customer={theirs.id}").get_data(as_text=True)
    refused = client.post("/quotes/new", data={"customer_code": theirs.code, "currency": "CNY"})
    assert refused.status_code == 422 and "No customer with this code" in refused.get_data(as_text=True)
    past = client.post("/quotes/new", data={"customer_code": mine.code, "currency": "CNY",
                                            "valid_until": (today - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and "cannot be in the past" in past.get_data(as_text=True)
    created = client.post("/quotes/new", data={"customer_code": mine.code.lower(), "currency": "USD", "incoterm": "FOB"})
    assert created.status_code == 303
    with app.app_context():
        quote = db.session.scalar(select(Quote))
        assert quote.number == f"BJ{today.year}-0001" and quote.customer_id == mine.id
        assert quote.state == "draft" and quote.valid_until == today + timedelta(days=30)
        assert quote.created_by_id == sales.id
    options = client.get("/quotes/new?customer_code=我的", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert mine.code in options and theirs.code not in options and "<html" not in options


def test_list_search_filters_and_scope(today, app, client, login_as, make_user, make_customer, make_quote):
    sales = login_as("sales", locale="en")
    other = make_user("sales")
    mine = make_customer(owner=sales, name="宁波甲公司")
    draft = make_quote(mine)
    soon = make_quote(mine, state="sent", valid_until=today + timedelta(days=3))
    later = make_quote(mine, state="approved", valid_until=today + timedelta(days=60))
    hidden = make_quote(make_customer(owner=other, name="杭州乙公司"))
    numbers = {qid: _quote(app, qid).number for qid in (draft, soon, later, hidden)}

    def listed(query=""):
        html = client.get(f"/quotes/?{query}").get_data(as_text=True)
        return {qid for qid, number in numbers.items() if number in html}

    assert listed() == {draft, soon, later}
    assert listed("state=sent") == {soon}
    assert listed("expiring=y") == {soon}
    assert listed(f"q={numbers[later]}") == {later}
    assert listed("q=甲公司") == {draft, soon, later}
    assert listed("q=乙公司") == set()
    assert listed("state=nonsense") == {draft, soon, later}
    fragment = client.get("/quotes/?state=draft", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]
    client = app.test_client()
    login(client, make_user("manager", locale="en"))
    assert listed() == {draft, soon, later, hidden}
    assert listed(f"owner={other.id}") == {hidden}


def test_list_is_paginated_with_a_fixed_number_of_statements(app, client, login_as, make_user, make_customer,
                                                           make_quote):
    from sqlalchemy import event

    login_as("manager")
    customers = [make_customer(owner=make_user("sales")) for _ in range(3)]
    for i in range(3):
        make_quote(customers[i % 3])
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    client.get("/quotes/")  # per-worker caches filled (portal/datacache.py): their misses are not rows
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/quotes/")
        few = len(statements)
        for i in range(30):
            make_quote(customers[i % 3], lines=(("1", "1"), ("2", "2")))
        statements.clear()
        html = client.get("/quotes/").get_data(as_text=True)
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert few == many, (few, many)
    assert "33" in html and "?page=2" in html


def test_detail_page_runs_a_fixed_number_of_statements(app, client, login_as, make_customer, make_quote):
    from sqlalchemy import event

    sales = login_as("sales")
    few_id = make_quote(make_customer(owner=sales), state="approved", lines=(("1", "1"),))
    many_id = make_quote(make_customer(owner=sales), state="approved", lines=[("1", str(i)) for i in range(1, 25)])
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(f"/quotes/{few_id}")
        few, statements[:] = len(statements), []
        html = client.get(f"/quotes/{many_id}").get_data(as_text=True)
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert few == many, (few, many)
    assert "300.00" in html  # 1 + 2 + ... + 24
