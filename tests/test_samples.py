"""Sample requests (打样单): transition table per role, validation, version check, photos, overdue, board,
list search and filters, conversion to a quotation or order, audit trail."""
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal import numbering
from portal.extensions import db
from portal.models import Attachment, AuditLog, Order, Product, Quote, SampleRequest, User
from portal.samples import services
from portal.workflow import TransitionError
from tests.conftest import login

SALES_SIDE = {"admin", "manager", "sales"}
OPEN = ("draft", "submitted", "approved", "in_progress", "finished", "sent", "received", "evaluated")
STATES = OPEN + ("converted", "closed")
# What each role may do in each state (sales: on their own customer's sample), written out by hand.
EXPECTED = {
    "draft": {"submit": SALES_SIDE, "close": SALES_SIDE},
    "submitted": {"approve": {"admin", "manager"}, "reject": {"admin", "manager"}, "close": SALES_SIDE},
    "approved": {"start": SALES_SIDE, "close": SALES_SIDE},
    "in_progress": {"finish": SALES_SIDE, "close": SALES_SIDE},
    "finished": {"send": SALES_SIDE, "close": SALES_SIDE},
    "sent": {"receive": SALES_SIDE, "evaluate": SALES_SIDE | {"customer"}, "close": SALES_SIDE},
    "received": {"evaluate": SALES_SIDE | {"customer"}, "close": SALES_SIDE},
    "evaluated": {"convert_quote": SALES_SIDE, "convert_order": SALES_SIDE, "close": SALES_SIDE},
    "converted": {},
    "closed": {},
}
ACTIONS = ("submit", "approve", "reject", "start", "finish", "send", "receive", "evaluate", "convert_quote",
           "convert_order", "close")
DATA = {"reject": {"rejection_reason": "规格写得不清楚"}, "finish": {"inspection_note": "尺寸合格"},
        "send": {"courier_company": "顺丰", "tracking_no": "SF 1234567890"},
        "evaluate": {"evaluation": "approved", "evaluation_comment": "很好"}, "close": {"close_reason": "客户取消"}}
TARGET = {"submit": "submitted", "approve": "approved", "reject": "draft", "start": "in_progress",
          "finish": "finished", "send": "sent", "receive": "received", "evaluate": "evaluated",
          "convert_quote": "converted", "convert_order": "converted", "close": "closed"}
VALID = {"customer_code": "", "title": "不锈钢阀门样品", "requirement": "DN50，304 不锈钢", "quantity": "3",
         "retained_quantity": "1", "sample_fee": "", "sample_fee_terms": "waived", "courier_fee": "",
         "courier_fee_terms": "paid", "currency": "CNY", "due_date": ""}


def today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def switch(client, user):
    """Sign out whoever is signed in on `client`, then sign `user` in."""
    client.post("/logout")
    login(client, user)


def png_bytes(size=(8, 8)) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", size, "green").save(data, "PNG")
    return data.getvalue()


@pytest.fixture
def make_sample(app):
    """make_sample(customer, state="draft", **fields) -> id of a sample request in that state."""

    def make(customer, state="draft", **fields):
        with app.app_context():
            fields.setdefault("title", "样品")
            fields.setdefault("requirement", "客户要求")
            if state == "evaluated":
                fields.setdefault("evaluation", "approved")
            sample = SampleRequest(number=numbering.next_number("sample", 2026), customer_id=customer.id,
                                   state=state, **fields)
            db.session.add(sample)
            db.session.commit()
            return sample.id
    return make


def load(app, sample_id) -> SampleRequest:
    with app.app_context():
        sample = db.session.get(SampleRequest, sample_id)
        db.session.expunge(sample)
        return sample


def trail(app, sample_id, action=None):
    with app.app_context():
        stmt = select(AuditLog).where(AuditLog.entity_type == "SampleRequest", AuditLog.entity_id == sample_id)
        if action:
            stmt = stmt.where(AuditLog.action == action)
        return db.session.scalars(stmt.order_by(AuditLog.id)).all()


# The transition table, for each role, at the service (the same check guards the pages)

@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ["admin", "manager", "sales", "service", "customer"])
def test_transition_table(app, make_user, make_customer, make_sample, role, state):
    owner = make_user("sales")
    customer = make_customer(owner=owner)
    user = owner if role == "sales" else make_user(role, customer=customer if role == "customer" else None)
    sample_id = make_sample(customer, state)
    expected = {name for name, roles in EXPECTED[state].items() if role in roles}
    with app.test_request_context():
        actor = db.session.get(User, user.id)
        sample = db.session.get(SampleRequest, sample_id)
        assert {t.name for t in services.allowed(sample, actor)} == expected
        for name in ACTIONS:
            if name in expected:
                continue
            with pytest.raises(TransitionError):
                services.perform(sample, name, DATA.get(name, {}), actor)
            assert sample.state == state
        for name in sorted(expected):  # each allowed one really works (fresh record each time)
            db.session.rollback()
            sample = db.session.get(SampleRequest, sample_id)
            services.perform(sample, name, DATA.get(name, {}), actor)
            assert sample.state == TARGET[name]
        db.session.rollback()


@pytest.mark.parametrize("name", ["submit", "start", "close"])
def test_owner_only_another_salesperson_cannot_act(app, make_user, make_customer, make_sample, name):
    owner, other = make_user("sales"), make_user("sales")
    state = {"submit": "draft", "start": "approved", "close": "draft"}[name]
    sample_id = make_sample(make_customer(owner=owner), state)
    with app.test_request_context():
        sample = db.session.get(SampleRequest, sample_id)
        assert services.allowed(sample, db.session.get(User, other.id)) == []
        with pytest.raises(TransitionError):
            services.perform(sample, name, DATA.get(name, {}), db.session.get(User, other.id))
        db.session.rollback()
    assert load(app, sample_id).state == state


def test_another_salesperson_gets_404_on_the_pages(client, make_user, make_customer, make_sample):
    owner, other = make_user("sales"), make_user("sales")
    sample_id = make_sample(make_customer(owner=owner), "draft")
    login(client, other)
    assert client.get(f"/samples/{sample_id}").status_code == 404
    assert client.post(f"/samples/{sample_id}/action/submit").status_code == 404


def test_crafted_post_cannot_bypass_the_managers_approval(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    sample_id = make_sample(make_customer(owner=sales), "submitted")
    login(client, sales)
    page = client.get(f"/samples/{sample_id}").get_data(as_text=True)
    assert "/action/approve" not in page
    for name in ("approve", "start", "finish", "nonsense"):
        response = client.post(f"/samples/{sample_id}/action/{name}", data=DATA.get(name, {}))
        assert response.status_code == 409
    sample = load(app, sample_id)
    assert sample.state == "submitted" and sample.approved_by_id is None and sample.approved_at is None
    assert trail(app, sample_id, "transition") == []
    # Editing after submission is refused too (approval would otherwise cover a changed sheet).
    response = client.post(f"/samples/{sample_id}/edit", data={**VALID, "title": "偷改"})
    assert response.status_code == 409 and load(app, sample_id).title == "样品"


def test_service_staff_read_only(app, client, make_user, make_customer, make_sample):
    sample_id = make_sample(make_customer(owner=make_user("sales")), "draft")
    login(client, make_user("service"))
    page = client.get(f"/samples/{sample_id}")
    assert page.status_code == 200 and "/action/" not in page.get_data(as_text=True)
    assert client.post(f"/samples/{sample_id}/action/submit").status_code == 404
    assert client.get("/samples/new").status_code == 404
    assert load(app, sample_id).state == "draft"


# The whole way through the pages, with audit entries

def test_walk_from_new_to_quotation_with_links_both_ways(app, client, make_user, make_customer):
    sales, manager = make_user("sales"), make_user("manager", display_name="王经理")
    customer = make_customer(owner=sales)
    login(client, sales)
    form = client.get(f"/samples/new?customer={customer.id}").get_data(as_text=True)
    assert f'value="{customer.code}"' in form
    response = client.post("/samples/new", data={**VALID, "customer_code": customer.code})
    assert response.status_code == 303
    with app.app_context():
        sample_id = db.session.scalar(select(SampleRequest.id))
    assert load(app, sample_id).number == f"DY{today().year}-0001"
    assert client.post(f"/samples/{sample_id}/action/submit").status_code == 303
    switch(client, manager)
    assert client.post(f"/samples/{sample_id}/action/approve").status_code == 303
    page = client.get(f"/samples/{sample_id}").get_data(as_text=True)
    assert "王经理" in page and 'id="signature"' in page
    switch(client, sales)
    for name in ("start", "finish", "send"):
        assert client.post(f"/samples/{sample_id}/action/{name}", data=DATA.get(name, {})).status_code == 303
    assert load(app, sample_id).tracking_no == "SF1234567890"
    assert client.post(f"/samples/{sample_id}/action/receive",
                       data={"received_on": today().isoformat()}).status_code == 303
    assert client.post(f"/samples/{sample_id}/action/evaluate", data=DATA["evaluate"]).status_code == 303
    assert client.post(f"/samples/{sample_id}/action/convert_quote").status_code == 303
    sample = load(app, sample_id)
    assert sample.state == "converted" and sample.quote_id
    with app.app_context():
        quote = db.session.get(Quote, sample.quote_id)
        assert quote.sample_id == sample_id and quote.customer_id == customer.id and quote.state == "draft"
        assert [i.description for i in quote.items] == ["不锈钢阀门样品"]
        number = quote.number
    assert number in client.get(f"/samples/{sample_id}").get_data(as_text=True)
    moves = [entry.changes["state"] for entry in trail(app, sample_id, "transition")]
    assert moves == [["draft", "submitted"], ["submitted", "approved"], ["approved", "in_progress"],
                     ["in_progress", "finished"], ["finished", "sent"], ["sent", "received"],
                     ["received", "evaluated"], ["evaluated", "converted"]]
    assert trail(app, sample_id, "create")


def test_convert_to_order_creates_an_inquiry_linked_both_ways(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    with app.app_context():
        product = Product(code="V-50", name="阀门", unit="pcs", default_price=12, currency="CNY")
        db.session.add(product)
        db.session.commit()
        product_id = product.id
    sample_id = make_sample(make_customer(owner=sales), "evaluated", product_id=product_id)
    login(client, sales)
    assert client.post(f"/samples/{sample_id}/action/convert_order").status_code == 303
    sample = load(app, sample_id)
    with app.app_context():
        order = db.session.get(Order, sample.order_id)
        assert order.state == "inquiry" and order.sample_id == sample_id
        assert [(i.product_id, str(i.unit_price)) for i in order.items] == [(product_id, "12.0000")]
    page = client.get(f"/samples/{sample_id}").get_data(as_text=True)
    assert f'href="/orders/{sample.order_id}"' in page


def test_only_an_approved_sample_converts(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    sample_id = make_sample(make_customer(owner=sales), "evaluated", evaluation="changes_needed")
    login(client, sales)
    assert "/action/convert_quote" not in client.get(f"/samples/{sample_id}").get_data(as_text=True)
    assert client.post(f"/samples/{sample_id}/action/convert_quote").status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Quote.id))) == 0
    assert load(app, sample_id).state == "evaluated"


def test_htmx_action_answers_the_sheet_fragment(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    sample_id = make_sample(make_customer(owner=sales), "draft")
    login(client, sales)
    response = client.post(f"/samples/{sample_id}/action/submit", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="sample-state"' in html and "state-submitted" in html


def test_htmx_refusal_reloads_the_sheet_with_the_reason(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    sample_id = make_sample(make_customer(owner=sales), "submitted")
    login(client, sales)
    response = client.post(f"/samples/{sample_id}/action/submit", headers={"HX-Request": "true"})
    assert response.status_code == 409 and response.headers["HX-Redirect"] == f"/samples/{sample_id}"
    assert 'class="flash flash-error"' in client.get(f"/samples/{sample_id}").get_data(as_text=True)
    assert load(app, sample_id).state == "submitted"


# Transition values

@pytest.mark.parametrize("state, name, data, field", [
    ("submitted", "reject", {"rejection_reason": "  "}, "rejection_reason"),
    ("in_progress", "finish", {}, "inspection_note"),
    ("finished", "send", {"courier_company": "顺丰"}, "tracking_no"),
    ("finished", "send", {"courier_company": "顺丰", "tracking_no": "1", "expected_arrival": "2001-01-01"},
     "expected_arrival"),
    ("sent", "receive", {"received_on": "2999-01-01"}, "received_on"),
    ("sent", "receive", {"received_on": "31/12/2026"}, "received_on"),
    ("sent", "evaluate", {"evaluation": "maybe"}, "evaluation"),
    ("sent", "evaluate", {"evaluation": "rejected"}, "evaluation_comment"),
    ("draft", "close", {}, "close_reason"),
])
def test_transition_needs_its_values_else_422_and_nothing_changes(app, client, make_user, make_customer,
                                                                   make_sample, state, name, data, field):
    manager = make_user("manager")
    sample_id = make_sample(make_customer(), state)
    login(client, manager)
    response = client.post(f"/samples/{sample_id}/action/{name}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html
    assert load(app, sample_id).state == state and trail(app, sample_id) == []


def test_rejection_sends_it_back_with_the_reason(app, client, make_user, make_customer, make_sample):
    sample_id = make_sample(make_customer(), "submitted")
    login(client, make_user("manager"))
    assert client.post(f"/samples/{sample_id}/action/reject", data=DATA["reject"]).status_code == 303
    sample = load(app, sample_id)
    assert sample.state == "draft" and sample.rejection_reason == "规格写得不清楚"
    assert "规格写得不清楚" in client.get(f"/samples/{sample_id}").get_data(as_text=True)


# The sheet: validation and the version check

@pytest.mark.parametrize("changes, field, message", [
    ({"retained_quantity": "0"}, "retained_quantity", "请输入不小于 1 的整数"),
    ({"quantity": "abc"}, "quantity", None),
    ({"sample_fee_terms": "paid"}, "sample_fee", None),
    ({"sample_fee": "20", "sample_fee_terms": "waived"}, "sample_fee", None),
    ({"courier_fee": "-1"}, "courier_fee", None),
    ({"courier_fee_terms": "free"}, "courier_fee_terms", None),
    ({"due_date": "2001-01-01"}, "due_date", None),
    ({"due_date": "soon"}, "due_date", None),
    ({"customer_code": "C99999"}, "customer_code", None),
    ({"title": ""}, "title", None),
])
def test_invalid_sheet_is_422_with_the_error_beside_the_field(app, client, make_user, make_customer, changes, field,
                                                               message):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    login(client, sales)
    data = {**VALID, "customer_code": customer.code, **changes}
    response = client.post("/samples/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html
    assert 'value="3"' in html if field != "quantity" else 'value="abc"' in html  # values kept
    with app.app_context():
        assert db.session.scalar(select(func.count(SampleRequest.id))) == 0


def test_absurd_input_is_refused_not_a_500(app, client, make_user, make_customer):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    login(client, sales)
    big = "9" * 25
    response = client.post("/samples/new", data={**VALID, "customer_code": customer.code, "product_id": big,
                                                 "quantity": big, "due_date": "9999-99-99", "sample_fee": "1e400"})
    assert response.status_code == 422
    assert client.get(f"/samples/new?customer={big}").status_code == 404
    assert client.get(f"/samples/?owner={big}&q=%25_").status_code == 200
    assert client.get(f"/samples/board?owner={big}").status_code == 200
    # A NUL character is refused for every route before the view runs (portal/security.py).
    assert client.get("/samples/?q=a%00b").status_code == 422
    response = client.post("/samples/new", data={**VALID, "customer_code": customer.code, "title": "阀\x00门",
                                                 "requirement": "a\x00b"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SampleRequest)) == 0


def test_valid_fees_are_kept_exactly(app, client, make_user, make_customer):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    login(client, sales)
    response = client.post("/samples/new", data={**VALID, "customer_code": customer.code, "sample_fee": "150.5",
                                                 "sample_fee_terms": "collect", "courier_fee": "23",
                                                 "courier_fee_terms": "paid", "retained_quantity": "2",
                                                 "due_date": (today() + timedelta(days=7)).isoformat()})
    assert response.status_code == 303
    with app.app_context():
        sample = db.session.scalar(select(SampleRequest))
        assert (str(sample.sample_fee), str(sample.courier_fee), sample.retained_quantity) == ("150.50", "23.00", 2)


def test_salesperson_cannot_file_a_sample_for_another_salespersons_customer(app, client, make_user,
                                                                             make_customer):
    other_customer = make_customer(owner=make_user("sales"))
    login(client, make_user("sales"))
    response = client.post("/samples/new", data={**VALID, "customer_code": other_customer.code})
    assert response.status_code == 422
    assert client.get(f"/samples/new?customer={other_customer.id}").status_code == 404


def test_second_save_is_refused_and_names_what_changed(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    sample_id = make_sample(customer, "draft", due_date=today() + timedelta(days=5))
    login(client, sales)
    form = {**VALID, "customer_code": customer.code, "version": "1"}
    first = client.post(f"/samples/{sample_id}/edit", data={**form, "title": "第一次保存"})
    assert first.status_code == 303
    second = client.post(f"/samples/{sample_id}/edit", data={**form, "title": "第二次保存", "quantity": "9"})
    html = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "其他人" in html or "Someone else" in html
    assert "样品名称" in html or "Sample name" in html
    sample = load(app, sample_id)
    assert sample.title == "第一次保存" and sample.quantity == 3
    assert len(trail(app, sample_id, "update")) == 1


def test_edit_is_only_for_drafts(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    sample_id = make_sample(make_customer(owner=sales), "approved")
    login(client, sales)
    assert client.get(f"/samples/{sample_id}/edit").status_code == 303


# Photos

def _upload(client, sample_id, data: bytes, name="photo.png"):
    return client.post(f"/samples/{sample_id}/photos", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_photo_upload_checks_the_real_type_and_serves_it_only_in_scope(app, client, make_user, make_customer,
                                                                       make_sample):
    sales = make_user("sales")
    sample_id = make_sample(make_customer(owner=sales), "in_progress")
    other_id = make_sample(make_customer(owner=sales), "in_progress")
    login(client, sales)
    refused = _upload(client, sample_id, b"<html>not an image</html>", "evil.png")
    assert refused.status_code == 422 and 'id="file-error"' in refused.get_data(as_text=True)
    assert _upload(client, sample_id, b"", "empty.png").status_code == 422
    assert _upload(client, sample_id, png_bytes()).status_code == 303
    with app.app_context():
        photo = db.session.scalar(select(Attachment))
        assert photo.entity_type == "SampleRequest" and photo.content_type == "image/png"
        assert photo.stored_name != "photo.png"
    assert [e.summary for e in trail(app, sample_id, "attach")] == ["photo.png"]
    served = client.get(f"/samples/{sample_id}/photos/{photo.id}")
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == png_bytes()
    assert client.get(f"/samples/{other_id}/photos/{photo.id}").status_code == 404
    switch(client, make_user("sales"))
    assert client.get(f"/samples/{sample_id}/photos/{photo.id}").status_code == 404


def test_photo_size_cap(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    sample_id = make_sample(make_customer(owner=sales), "finished")
    login(client, sales)
    cap = app.config["UPLOAD_MAX_BYTES"]
    app.config["UPLOAD_MAX_BYTES"] = 100
    try:
        response = _upload(client, sample_id, png_bytes((200, 200)))
    finally:
        app.config["UPLOAD_MAX_BYTES"] = cap
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_photos_only_while_made_or_checked(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    sample_id = make_sample(make_customer(owner=sales), "draft")
    login(client, sales)
    assert _upload(client, sample_id, png_bytes()).status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 0


# Overdue, board, list

def test_overdue_rows_stand_out_and_filter(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    yesterday = today() - timedelta(days=1)
    late = make_sample(customer, "approved", title="迟了", due_date=yesterday)
    make_sample(customer, "sent", title="按时寄出", due_date=yesterday)  # sent in time enough: not overdue
    make_sample(customer, "draft", title="还早", due_date=today() + timedelta(days=3))
    login(client, sales)
    html = client.get("/samples/?overdue=y").get_data(as_text=True)
    assert "迟了" in html and "按时寄出" not in html and "还早" not in html
    assert 'class="overdue"' in html
    with app.test_request_context():
        assert [s.id for s in services.overdue(db.session.get(User, sales.id), today())] == [late]


def test_board_groups_open_samples_by_state(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    make_sample(customer, "draft", title="草稿甲")
    make_sample(customer, "sent", title="寄出乙", due_date=today() - timedelta(days=1))
    make_sample(customer, "approved", title="逾期丙", due_date=today() - timedelta(days=1))
    make_sample(customer, "closed", title="关闭丁")
    make_sample(make_customer(owner=make_user("sales")), "draft", title="别人的")
    login(client, sales)
    html = client.get("/samples/board").get_data(as_text=True)
    assert "关闭丁" not in html and "别人的" not in html

    def column(state):
        start = html.index(f'id="column-{state}"')
        return html[start:html.index("</section>", start)]
    assert "草稿甲" in column("draft") and "寄出乙" in column("sent")
    assert "逾期丙" in column("approved") and "board-card overdue" in column("approved")
    assert "board-card overdue" not in column("sent")


def test_list_search_and_filters(app, client, make_user, make_customer, make_sample):
    sales1, sales2 = make_user("sales"), make_user("sales")
    c1, c2 = make_customer(owner=sales1, name="宁波恒达"), make_customer(owner=sales2, name="深圳远航")
    with app.app_context():
        product = Product(code="P-77", name="铜球阀", unit="pcs")
        db.session.add(product)
        db.session.commit()
        product_id = product.id
    make_sample(c1, "sent", title="甲样", tracking_no="SF998877")
    make_sample(c1, "draft", title="乙样", product_id=product_id)
    make_sample(c2, "approved", title="丙样")
    login(client, make_user("manager"))

    def titles(query):
        html = client.get("/samples/?" + query).get_data(as_text=True)
        return {t for t in ("甲样", "乙样", "丙样") if t in html}
    assert titles("") == {"甲样", "乙样", "丙样"}
    assert titles("q=998877") == {"甲样"}
    assert titles("q=铜球") == {"乙样"}
    assert titles("q=远航") == {"丙样"}
    assert titles(f"customer={c1.code.lower()}") == {"甲样", "乙样"}
    assert titles(f"owner={sales2.id}") == {"丙样"}
    assert titles("state=draft") == {"乙样"}
    assert titles("state=bogus") == {"甲样", "乙样", "丙样"}  # an unknown value is ignored, never a 500
    fragment = client.get("/samples/?q=甲", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "甲样" in fragment
    switch(client, sales1)
    assert titles("") == {"甲样", "乙样"}


def test_list_is_paginated_with_a_fixed_number_of_queries(app, client, make_user, make_customer, make_sample):
    from sqlalchemy import event

    sales = make_user("sales")
    for i in range(30):
        make_sample(make_customer(owner=sales), "draft", title=f"样{i}")
    login(client, make_user("manager"))
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        html = client.get("/samples/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(set(re.findall(r'href="/samples/(\d+)"', html))) == 25
    assert len([s for s in statements if "samples" in s or "customers" in s or "users" in s]) < 10


def test_buyer_evaluation_stays_unread_until_marked(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    buyer = make_user("customer", customer=customer)
    sample_id = make_sample(customer, "sent")
    with app.test_request_context():
        services.record_evaluation(db.session.get(SampleRequest, sample_id), "changes_needed", "颜色偏深",
                                   db.session.get(User, buyer.id))
        db.session.commit()
        assert [s.id for s in services.unread_evaluations(db.session.get(User, sales.id))] == [sample_id]
    login(client, sales)
    assert "颜色偏深" in client.get(f"/samples/{sample_id}").get_data(as_text=True)
    assert client.post(f"/samples/{sample_id}/seen").status_code == 303
    assert load(app, sample_id).evaluation_seen is True


def test_changes_needed_leads_to_a_new_round_linked_both_ways(app, client, make_user, make_customer, make_sample):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    approved = make_sample(customer, "evaluated")
    changes = make_sample(customer, "evaluated", evaluation="changes_needed", evaluation_comment="颜色偏浅",
                          retained_quantity=2)
    login(client, sales)
    assert client.post(f"/samples/{approved}/action/new_round", data={}).status_code == 409
    assert load(app, approved).state == "evaluated"
    assert "/action/new_round" in client.get(f"/samples/{changes}").get_data(as_text=True)
    assert client.post(f"/samples/{changes}/action/new_round", data={}).status_code == 303
    old = load(app, changes)
    with app.app_context():
        following = db.session.scalars(select(SampleRequest).where(SampleRequest.id.not_in((approved, changes)))).one()
        assert following.state == "draft" and following.retained_quantity == 2
        assert old.number in following.requirement and "颜色偏浅" in following.requirement
    assert old.state == "closed" and following.number in old.close_reason
