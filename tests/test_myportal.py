"""The customer portal: a buyer sees their own company's orders, samples and documents — and nothing else."""
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PIL import Image

from portal import numbering, uploads
from portal.extensions import db
from portal.models import (Attachment, Order, OrderEvent, OrderItem, Payment, SampleRequest, Shipment,
                           ShipmentLine)
from tests.conftest import login

TODAY = date.today()


@pytest.fixture
def company(app, make_user, make_customer):
    """make a company with a buyer, a salesperson, a shipped order (with a hidden and a visible event, a
    shared and an internal file), an inquiry, and samples in several states; returns ids."""

    def make(name):
        sales = make_user("sales", display_name=f"业务 {name}")
        customer = make_customer(owner=sales, name=name)
        buyer = make_user("customer", customer=customer)
        with app.app_context():
            order = Order(number=numbering.next_number("order", 2026), contract_no=numbering.next_number("contract", 2026),
                          customer_id=customer.id, state="shipped", currency="USD", contract_date=TODAY,
                          notes="内部备注：客户很难缠", customer_po=f"PO-{name}")
            item = OrderItem(position=1, description="Ball valve DN25", quantity=Decimal(100), unit="pcs",
                             unit_price=Decimal("3.50"))
            order.items = [item]
            order.payments = [Payment(kind="deposit", amount=Decimal("105.00"), received_on=TODAY)]
            order.shipments = [Shipment(ship_date=TODAY, carrier="COSCO", bl_no=f"BL-{name}",
                                        lines=[ShipmentLine(order_item=item, quantity=Decimal(60))])]
            order.events = [OrderEvent(kind="shipped", state_from="inspected", state_to="shipped", note="BL visible",
                                       customer_visible=True),
                            OrderEvent(kind="progress", note="工厂内部：良率偏低", customer_visible=False)]
            inquiry = Order(number=numbering.next_number("order", 2026), customer_id=customer.id, state="inquiry")
            db.session.add_all([order, inquiry])
            db.session.flush()
            files = {}
            for visible in (True, False):
                png = io.BytesIO()
                Image.new("RGB", (4, 4), "green" if visible else "red").save(png, "PNG")
                stored = uploads.store(png.getvalue(), "attachments", "png")
                attachment = Attachment(entity_type="Order", entity_id=order.id, stored_name=stored,
                                        original_name="shared.png" if visible else "internal.png",
                                        content_type="image/png", size=len(png.getvalue()), customer_visible=visible)
                db.session.add(attachment)
                db.session.flush()
                files[visible] = attachment.id
            samples = {}
            for state in ("sent", "draft", "evaluated"):
                sample = SampleRequest(number=numbering.next_number("sample", 2026), customer_id=customer.id,
                                       title=f"样品 {state}", state=state, courier_company="DHL",
                                       tracking_no=f"TRK-{name}-{state}")
                db.session.add(sample)
                db.session.flush()
                samples[state] = sample.id
            db.session.commit()
            return {"buyer": buyer, "sales": sales, "customer": customer.id, "order": order.id,
                    "inquiry": inquiry.id, "shared_file": files[True], "internal_file": files[False],
                    "samples": samples, "order_number": order.contract_no}

    return make


def test_buyer_sees_own_order_with_visible_steps_only(client, company):
    a = company("Alpha Trading AB")
    login(client, a["buyer"])
    page = client.get(f"/my/orders/{a['order']}").get_data(as_text=True)
    assert a["order_number"] in page and "BL-Alpha Trading AB" in page and "Ball valve DN25" in page
    assert "BL visible" in page
    assert "内部备注" not in page and "良率偏低" not in page and "internal.png" not in page
    assert "shared.png" in page
    assert "60" in page  # shipped so far
    listing = client.get("/my/orders/").get_data(as_text=True)
    assert a["order_number"] in listing
    assert client.get(f"/my/orders/{a['inquiry']}").status_code == 404  # inquiries are internal
    assert client.get(f"/my/orders/{a['order']}/files/{a['shared_file']}").status_code == 200
    assert client.get(f"/my/orders/{a['order']}/files/{a['internal_file']}").status_code == 404


def test_another_companys_records_answer_404_everywhere(client, company):
    a, b = company("Alpha Trading AB"), company("Beta Handel GmbH")
    login(client, a["buyer"])
    for url in (f"/my/orders/{b['order']}", f"/my/orders/{b['order']}/files/{b['shared_file']}",
                f"/my/orders/{a['order']}/files/{b['shared_file']}"):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/my/samples/{b['samples']['sent']}/evaluate", data={"evaluation": "approved"})
    assert response.status_code == 404
    for url in ("/my/", "/my/orders/", "/my/samples/", "/my/documents/"):
        page = client.get(url).get_data(as_text=True)
        assert "Beta" not in page and b["order_number"] not in page, url


def test_staff_cannot_open_portal_pages(client, company, make_user):
    a = company("Alpha Trading AB")
    login(client, make_user("manager"))
    for url in ("/my/", "/my/orders/", f"/my/orders/{a['order']}", "/my/samples/", "/my/documents/"):
        assert client.get(url).status_code == 404, url


def test_buyer_cannot_open_staff_pages(client, company):
    a = company("Alpha Trading AB")
    login(client, a["buyer"])
    for url in (f"/orders/{a['order']}", "/orders/", "/customers/", f"/samples/{a['samples']['sent']}",
                "/receivables/"):
        assert client.get(url).status_code == 404, url


def test_samples_show_tracking_and_hide_internal_states(client, company):
    a = company("Alpha Trading AB")
    login(client, a["buyer"])
    page = client.get("/my/samples/").get_data(as_text=True)
    assert "TRK-Alpha Trading AB-sent" in page and "样品 draft" not in page
    assert f"/my/samples/{a['samples']['sent']}/evaluate" in page
    assert f"/my/samples/{a['samples']['evaluated']}/evaluate" not in page


def test_evaluation_reaches_the_salesperson(app, client, company):
    a = company("Alpha Trading AB")
    sample_id = a["samples"]["sent"]
    login(client, a["buyer"])
    response = client.post(f"/my/samples/{sample_id}/evaluate", data={"evaluation": "changes_needed"})
    assert response.status_code == 422  # changes needed: say which
    with app.app_context():
        assert db.session.get(SampleRequest, sample_id).state == "sent"
    response = client.post(f"/my/samples/{sample_id}/evaluate",
                           data={"evaluation": "changes_needed", "evaluation_comment": "Colour too light"})
    assert response.status_code == 303
    with app.app_context():
        sample = db.session.get(SampleRequest, sample_id)
        assert sample.state == "evaluated" and sample.evaluation_comment == "Colour too light"
        assert sample.evaluation_seen is False and sample.evaluated_by_id == a["buyer"].id
    assert client.post(f"/my/samples/{sample_id}/evaluate", data={"evaluation": "approved"}).status_code == 303
    with app.app_context():  # a second evaluation is refused: nothing changed
        assert db.session.get(SampleRequest, sample_id).evaluation == "changes_needed"
    client.post("/logout", data={})
    login(client, a["sales"])
    assert "Colour too light" in client.get("/").get_data(as_text=True)


def test_documents_list_only_the_companys_issued_documents(app, client, company, make_user):
    from portal.documents import services as documents

    a, b = company("Alpha Trading AB"), company("Beta Handel GmbH")
    with app.test_request_context():
        from portal.models import User
        issuer = db.session.get(User, a["sales"].id)
        first = documents.issue(documents.order_subject("contract", db.session.get(Order, a["order"])), issuer)
        other = documents.issue(documents.order_subject("contract", db.session.get(Order, b["order"])),
                                db.session.get(User, b["sales"].id))
        db.session.commit()
        first_id, first_number, other_id = first.id, first.number, other.id
    login(client, a["buyer"])
    page = client.get("/my/documents/").get_data(as_text=True)
    assert first_number in page and f"/documents/issued/{first_id}.pdf" in page
    assert f"/documents/issued/{other_id}.pdf" not in page
    assert client.get(f"/documents/issued/{first_id}.pdf").status_code == 200
    assert client.get(f"/documents/issued/{other_id}.pdf").status_code == 404
    assert first_number in client.get(f"/my/orders/{a['order']}").get_data(as_text=True)


def test_overview_shows_open_orders_samples_on_the_way_and_contact(client, company):
    a = company("Alpha Trading AB")
    login(client, a["buyer"])
    page = client.get("/my/").get_data(as_text=True)
    assert a["order_number"] in page and "TRK-Alpha Trading AB-sent" in page and "业务 Alpha Trading AB" in page


# Invitations and portal accounts

def _invite(client, customer_id, **fields):
    data = {"invite-display_name": "Erik Lindqvist", "invite-username": "erik.l", "invite-email": "erik@nordic.example"}
    data.update({f"invite-{k}": v for k, v in fields.items()})
    return client.post(f"/customers/{customer_id}/portal/invite", data=data)


def _link_token(response_page: str) -> str:
    import re
    return re.search(r"/invite/([A-Za-z0-9_-]{20,})", response_page).group(1)


def test_manager_invites_a_buyer_who_sets_a_password_once(app, client, make_user, make_customer):
    from portal.models import PortalInvitation, User

    customer = make_customer(owner=make_user("sales"), name="Nordic Home AB", country="SE")
    login(client, make_user("manager"))
    assert _invite(client, customer.id, username="x").status_code == 422  # too short
    response = _invite(client, customer.id)
    assert response.status_code == 303
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    token = _link_token(page)
    with app.app_context():
        invitation = db.session.query(PortalInvitation).one()
        assert token not in (invitation.token_hash or "") and len(invitation.token_hash) == 64
    client.post("/logout", data={})
    anonymous = app.test_client()
    assert anonymous.get(f"/invite/{token}").status_code == 200
    bad = anonymous.post(f"/invite/{token}", data={"password": "password", "confirm": "password"})
    assert bad.status_code == 422  # too common
    mismatch = anonymous.post(f"/invite/{token}", data={"password": "Fjord-Blue-2026", "confirm": "Fjord-Blue-2027"})
    assert mismatch.status_code == 422
    done = anonymous.post(f"/invite/{token}", data={"password": "Fjord-Blue-2026", "confirm": "Fjord-Blue-2026"})
    assert done.status_code == 303
    with app.app_context():
        user = db.session.query(User).filter_by(username="erik.l").one()
        assert user.role == "customer" and user.customer_id == customer.id and user.locale == "en"
    # used once: the link is dead
    assert anonymous.get(f"/invite/{token}").status_code == 404
    assert anonymous.post(f"/invite/{token}", data={"password": "Other-Pass-77", "confirm": "Other-Pass-77"}
                          ).status_code == 404
    login(anonymous, "erik.l", "Fjord-Blue-2026")
    assert anonymous.get("/my/").status_code == 200


def test_invitation_expires_can_be_revoked_and_wrong_tokens_fail(app, client, make_user, make_customer):
    from datetime import timedelta as td

    from portal.models import PortalInvitation
    from portal.models.base import utcnow

    customer = make_customer(name="杭州恒泰五金", country="CN")
    login(client, make_user("manager"))
    _invite(client, customer.id, username="buyer.a")
    first = _link_token(client.get(f"/customers/{customer.id}").get_data(as_text=True))
    _invite(client, customer.id, username="buyer.b")
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    second = _link_token(page)
    assert _invite(client, customer.id, username="buyer.b").status_code == 422  # taken by an open invitation
    with app.app_context():
        one = db.session.query(PortalInvitation).filter_by(username="buyer.a").one()
        one.expires_at = utcnow() - td(minutes=1)
        two_id = db.session.query(PortalInvitation).filter_by(username="buyer.b").one().id
        db.session.commit()
        assert db.session.query(PortalInvitation).filter_by(username="buyer.b").one().locale == "zh"
    anonymous = app.test_client()
    assert anonymous.get(f"/invite/{first}").status_code == 404  # expired
    assert client.post(f"/customers/{customer.id}/portal/invitations/{two_id}/revoke", data={}).status_code == 303
    assert anonymous.get(f"/invite/{second}").status_code == 404  # revoked
    assert anonymous.get("/invite/not-a-real-token").status_code == 404
    assert anonymous.get("/invite/" + "x" * 300).status_code == 404


def test_salespeople_cannot_invite_and_disabled_buyers_are_signed_out(app, client, make_user, make_customer):
    sales = make_user("sales")
    customer = make_customer(owner=sales)
    buyer = make_user("customer", customer=customer)
    login(client, sales)
    assert _invite(client, customer.id).status_code == 404
    buyer_client = app.test_client()
    login(buyer_client, buyer)
    assert buyer_client.get("/my/").status_code == 200
    client.post("/logout", data={})
    login(client, make_user("manager"))
    assert f"/portal/users/{buyer.id}/disable" in client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert client.post(f"/customers/{customer.id}/portal/users/{buyer.id}/disable", data={}).status_code == 303
    assert buyer_client.get("/my/").status_code in (302, 401)  # the session ended at once
    with app.app_context():
        from portal.models import AuditLog
        assert db.session.query(AuditLog).filter_by(entity_type="User", entity_id=buyer.id).count() >= 1


def test_invitation_email_is_checked(app, client, make_user, make_customer):
    from portal.models import PortalInvitation

    customer = make_customer()
    login(client, make_user("admin"))
    assert _invite(client, customer.id, email="not-an-address").status_code == 422
    with app.app_context():
        assert db.session.query(PortalInvitation).count() == 0
