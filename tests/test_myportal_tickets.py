"""Complaints in the customer portal: a buyer reports a problem with photos, follows only the customer-visible
steps, confirms or reopens a solution carried out — and never sees another company's complaints."""
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal import numbering, uploads
from portal.extensions import db
from portal.models import Attachment, AuditLog, Order, OrderItem, Ticket, TicketEvent, TicketLine
from tests.conftest import login


def png(colour="green") -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(data, "PNG")
    return data.getvalue()


@pytest.fixture
def company(app, make_user, make_customer):
    """make(name) -> ids of a company with a buyer (English), a salesperson, a signed order with two items,
    and two complaints: one waiting for the customer's confirmation (with an internal note, a cost, an internal
    and a shared file, an assignee) and one just received."""

    def make(name):
        sales = make_user("sales", display_name=f"Sales {name}")
        engineer = make_user("service", display_name=f"Engineer {name}")
        customer = make_customer(owner=sales, name=name, country="SE")
        buyer = make_user("customer", customer=customer, display_name=f"Buyer {name}", locale="en")
        with app.app_context():
            order = Order(number=numbering.next_number("order", 2026), contract_no=numbering.next_number("contract", 2026),
                          customer_id=customer.id, state="shipped", currency="USD", contract_date=date.today(),
                          items=[OrderItem(position=1, description="Ball valve DN25", quantity=Decimal(100), unit="pcs",
                                           unit_price=Decimal("3.50")),
                                 OrderItem(position=2, description="Gate valve DN50", quantity=Decimal(20), unit="pcs",
                                           unit_price=Decimal("12.00"))])
            db.session.add(order)
            db.session.flush()
            carried = Ticket(number=numbering.next_number("ticket", 2026), customer_id=customer.id, order_id=order.id,
                             channel="phone", category="quality", subject=f"Leaking valves {name}",
                             description="Ten valves leak at the stem.", state="carried_out", severity="major",
                             department="quality", assignee_id=engineer.id, cause="内部原因：密封圈批次不良",
                             solution="We replace the ten valves free of charge.", resolution="replacement",
                             cost_amount=Decimal("9876.54"), created_by_id=sales.id,
                             events=[TicketEvent(kind="received", state_to="received", customer_visible=True,
                                                 note="Received by phone"),
                                     TicketEvent(kind="note", note="内部备注：供应商要赔偿", customer_visible=False),
                                     TicketEvent(kind="send", state_from="proposed", state_to="sent",
                                                 customer_visible=True, note="Solution e-mailed"),
                                     TicketEvent(kind="carry_out", state_from="sent", state_to="carried_out",
                                                 customer_visible=True)])
            received = Ticket(number=numbering.next_number("ticket", 2026), customer_id=customer.id,
                              channel="email", category="delivery", subject=f"Late delivery {name}",
                              description="Two weeks late.", state="received",
                              events=[TicketEvent(kind="received", state_to="received", customer_visible=True)])
            db.session.add_all([carried, received])
            db.session.flush()
            files = {}
            for visible in (True, False):
                stored = uploads.store(png(), "attachments", "png")
                attachment = Attachment(entity_type="Ticket", entity_id=carried.id, stored_name=stored,
                                        original_name="shared-photo.png" if visible else "internal-analysis.png",
                                        content_type="image/png", size=10, customer_visible=visible)
                db.session.add(attachment)
                db.session.flush()
                files[visible] = attachment.id
            db.session.commit()
            return {"buyer": buyer, "sales": sales, "engineer": engineer, "customer": customer.id,
                    "order": order.id, "items": [i.id for i in order.items], "order_number": order.contract_no,
                    "carried": carried.id, "received": received.id, "carried_number": carried.number,
                    "received_number": received.number, "shared_file": files[True], "internal_file": files[False]}

    return make


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Ticket, TicketEvent, TicketLine, Attachment))


def stored_files(app):
    folder = Path(app.instance_path) / "uploads" / "attachments"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_list_and_detail_show_the_customer_visible_steps_only(client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    listing = client.get("/my/tickets/").get_data(as_text=True)
    assert a["carried_number"] in listing and a["received_number"] in listing
    assert listing.index(a["received_number"]) < listing.index(a["carried_number"])  # newest first
    assert "Waiting for your confirmation" in listing and "Solution carried out" in listing  # state, last step
    page = client.get(f"/my/tickets/{a['carried']}").get_data(as_text=True)
    assert "Leaking valves Alpha AB" in page and a["order_number"] in page
    assert "Received by phone" in page and "Solution e-mailed" in page
    assert "We replace the ten valves free of charge." in page and "Replacement" in page
    assert "shared-photo.png" in page
    for secret in ("内部备注", "9876.54", "9,876.54", "internal-analysis.png", "Engineer Alpha AB", "密封圈",
                   "Major"):
        assert secret not in page, secret
    assert f"/my/tickets/{a['carried']}/confirm" in page and f"/my/tickets/{a['carried']}/reopen" in page
    received = client.get(f"/my/tickets/{a['received']}").get_data(as_text=True)
    assert "/confirm" not in received and "/reopen" not in received
    assert client.get(f"/my/tickets/{a['carried']}/files/{a['shared_file']}").status_code == 200
    assert client.get(f"/my/tickets/{a['carried']}/files/{a['internal_file']}").status_code == 404
    assert client.get(f"/my/tickets/{a['received']}/files/{a['shared_file']}").status_code == 404  # not its file


def test_overview_lists_open_complaints(client, company, app):
    a = company("Alpha AB")
    with app.app_context():
        db.session.get(Ticket, a["received"]).state = "closed"
        db.session.commit()
    login(client, a["buyer"])
    page = client.get("/my/").get_data(as_text=True)
    assert a["carried_number"] in page and "Waiting for your confirmation" in page
    assert a["received_number"] not in page  # closed


def test_another_companys_complaints_answer_404_everywhere(app, client, company):
    a, b = company("Alpha AB"), company("Beta GmbH")
    login(client, a["buyer"])
    before = counts(app)
    ids = sorted({b["carried"], b["received"], b["carried"] + 1, b["received"] + 1, b["carried"] - 1 or 99,
                  10_000, 2**31 + 5} - {a["carried"], a["received"]})
    for ticket_id in ids:
        assert client.get(f"/my/tickets/{ticket_id}").status_code == 404, ticket_id
        for file_id in (b["shared_file"], b["internal_file"], a["shared_file"]):
            assert client.get(f"/my/tickets/{ticket_id}/files/{file_id}").status_code == 404
        assert client.post(f"/my/tickets/{ticket_id}/confirm", data={}).status_code == 404
        assert client.post(f"/my/tickets/{ticket_id}/reopen", data={"reason": "x"}).status_code == 404
        response = client.post(f"/my/tickets/{ticket_id}/files",
                               data={"photos": [(io.BytesIO(png()), "p.png")]}, content_type="multipart/form-data")
        assert response.status_code == 404
    assert client.get(f"/my/tickets/{a['carried']}/files/{b['shared_file']}").status_code == 404
    assert client.get(f"/my/tickets/new?order_id={b['order']}").status_code == 404
    assert counts(app) == before
    with app.app_context():
        assert db.session.get(Ticket, b["carried"]).state == "carried_out"
    for url in ("/my/", "/my/tickets/", "/my/tickets/new", f"/my/tickets/{a['carried']}", "/my/survey",
                "/my/orders/"):
        page = client.get(url).get_data(as_text=True)
        for secret in (b["carried_number"], b["received_number"], "Beta GmbH", b["order_number"]):
            assert secret not in page, (url, secret)


def test_staff_ticket_pages_refuse_buyers(client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    for url in ("/aftersales/tickets/", f"/aftersales/tickets/{a['carried']}", "/aftersales/visits/"):
        assert client.get(url).status_code == 404, url


def test_report_a_problem_with_photos(app, client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    form = client.get("/my/tickets/new").get_data(as_text=True)
    assert 'value="Buyer Alpha AB"' in form and a["order_number"] in form  # contact defaults to the buyer
    items = client.get(f"/my/tickets/new?order_id={a['order']}", headers={"HX-Request": "true"})
    assert items.status_code == 200 and 'id="ticket-items"' in items.get_data(as_text=True)
    assert "Gate valve DN50" in items.get_data(as_text=True) and "<html" not in items.get_data(as_text=True)
    files_before = len(stored_files(app))
    response = client.post("/my/tickets/new", data={
        "order_id": str(a["order"]), "category": "quality", "subject": "Scratched handles",
        "description": "Twelve handles are scratched.", "contact_name": "Erik",
        "item": [str(a["items"][1])], f"qty_{a['items'][1]}": "12",
        "photos": [(io.BytesIO(png("red")), "one.png"), (io.BytesIO(png("blue")), "two.png")],
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.subject == "Scratched handles"))
        assert response.headers["Location"] == f"/my/tickets/{ticket.id}"
        assert ticket.channel == "portal" and ticket.state == "received" and ticket.customer_id == a["customer"]
        assert ticket.order_id == a["order"] and ticket.created_by_id == a["buyer"].id
        assert ticket.contact_name == "Erik" and ticket.number.startswith("TS")
        assert [(line.order_item_id, line.quantity) for line in ticket.lines] == [(a["items"][1], Decimal(12))]
        files = db.session.scalars(select(Attachment).where(Attachment.entity_type == "Ticket",
                                                            Attachment.entity_id == ticket.id)).all()
        assert sorted(f.original_name for f in files) == ["one.png", "two.png"]
        assert all(f.customer_visible and f.uploaded_by_id == a["buyer"].id for f in files)
        assert [e.kind for e in ticket.events if e.customer_visible] == ["received"]
        number, ticket_id = ticket.number, ticket.id
    assert len(stored_files(app)) == files_before + 2
    page = client.get(f"/my/tickets/{ticket_id}").get_data(as_text=True)
    assert number in page and "one.png" in page and "two.png" in page
    assert number in client.get("/my/tickets/").get_data(as_text=True)


def test_a_disguised_file_refuses_everything(app, client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    before, files_before = counts(app), len(stored_files(app))
    response = client.post("/my/tickets/new", data={
        "order_id": str(a["order"]), "category": "quality", "subject": "Broken", "description": "Broken.",
        "contact_name": "Erik",
        "photos": [(io.BytesIO(png()), "good.png"), (io.BytesIO(b"MZ\x90\x00 not an image"), "evil.png")],
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "evil.png" in response.get_data(as_text=True)
    assert "Only PNG or JPEG images and PDF files can be uploaded." in response.get_data(as_text=True)
    assert counts(app) == before and len(stored_files(app)) == files_before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity_type == "Ticket")) == 0


def test_another_companys_order_or_items_are_refused(app, client, company):
    a, b = company("Alpha AB"), company("Beta GmbH")
    login(client, a["buyer"])
    before = counts(app)
    base = {"category": "quality", "subject": "Broken", "description": "Broken.", "contact_name": "Erik"}
    response = client.post("/my/tickets/new", data={**base, "order_id": str(b["order"])})
    assert response.status_code == 422
    response = client.post("/my/tickets/new", data={**base, "order_id": str(a["order"]),
                                                     "item": [str(b["items"][0])]})
    assert response.status_code == 422
    response = client.post("/my/tickets/new", data={**base, "order_id": str(a["order"]), "item": [str(a["items"][0])],
                                                     f"qty_{a['items'][0]}": "101"})  # 100 ordered
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)
    response = client.post("/my/tickets/new", data={**base, "order_id": str(a["order"]), "category": "bogus"})
    assert response.status_code == 422
    response = client.post("/my/tickets/new", data={**base, "subject": ""})
    assert response.status_code == 422
    assert counts(app) == before


def test_a_complaint_without_an_order(app, client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    response = client.post("/my/tickets/new", data={"order_id": "", "category": "service", "subject": "No answer",
                                                    "description": "Nobody answers the phone.",
                                                    "contact_name": "Erik"})
    assert response.status_code == 303
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.subject == "No answer"))
        assert ticket.order_id is None and ticket.channel == "portal" and ticket.category == "service"


def test_confirm_and_reopen_only_when_carried_out(app, client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    for name, data in (("confirm", {}), ("reopen", {"reason": "Still leaking"})):
        response = client.post(f"/my/tickets/{a['received']}/{name}", data=data)
        assert response.status_code == 409, name
        assert "only after the solution was carried out" in response.get_data(as_text=True)
    response = client.post(f"/my/tickets/{a['carried']}/reopen", data={"reason": "  "})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Ticket, a["carried"]).state == "carried_out"
        assert db.session.get(Ticket, a["received"]).state == "received"
    response = client.post(f"/my/tickets/{a['carried']}/reopen", data={"reason": "Three still leak"})
    assert response.status_code == 303
    with app.app_context():
        ticket = db.session.get(Ticket, a["carried"])
        assert ticket.state == "assigned" and ticket.reopen_count == 1
        last = ticket.events[-1]
        assert (last.kind, last.note, last.customer_visible, last.user_id) == ("reopen", "Three still leak", True,
                                                                               a["buyer"].id)
        ticket.state = "carried_out"
        db.session.commit()
        version = ticket.version
    response = client.post(f"/my/tickets/{a['carried']}/confirm", data={"version": str(version - 1)})
    assert response.status_code == 409  # an outdated page
    response = client.post(f"/my/tickets/{a['carried']}/confirm", data={"note": "All good now",
                                                                        "version": str(version)})
    assert response.status_code == 303
    with app.app_context():
        ticket = db.session.get(Ticket, a["carried"])
        assert ticket.state == "confirmed" and ticket.events[-1].kind == "confirm"
    assert client.post(f"/my/tickets/{a['carried']}/confirm", data={}).status_code == 409
    assert client.post(f"/my/tickets/{a['carried']}/reopen", data={"reason": "x"}).status_code == 409
    page = client.get(f"/my/tickets/{a['carried']}").get_data(as_text=True)
    assert "Three still leak" in page and "Solution confirmed" in page


def test_add_photos_later(app, client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    url = f"/my/tickets/{a['received']}/files"
    before = counts(app)
    response = client.post(url, data={"photos": [(io.BytesIO(b"%PDF-1.4 no end"), "broken.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and counts(app) == before
    assert client.post(url, data={}, content_type="multipart/form-data").status_code == 422
    response = client.post(url, data={"photos": [(io.BytesIO(png()), "later.png")]}, content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        photo = db.session.scalar(select(Attachment).where(Attachment.original_name == "later.png"))
        assert photo.entity_type == "Ticket" and photo.entity_id == a["received"] and photo.customer_visible
        ticket = db.session.get(Ticket, a["received"])
        assert ticket.events[-1].customer_visible and "later.png" in ticket.events[-1].note
        ticket.state = "closed"
        db.session.commit()
    assert "later.png" in client.get(f"/my/tickets/{a['received']}").get_data(as_text=True)
    response = client.post(url, data={"photos": [(io.BytesIO(png()), "late.png")]}, content_type="multipart/form-data")
    assert response.status_code == 409


def test_staff_do_not_open_portal_complaints(client, company, make_user):
    a = company("Alpha AB")
    login(client, make_user("service"))
    for url in ("/my/tickets/", "/my/tickets/new", f"/my/tickets/{a['carried']}", "/my/survey"):
        assert client.get(url).status_code == 404, url


def test_pages_in_chinese(app, client, company, make_user):
    """The default language renders every new page (new strings may still be English until merged)."""
    from datetime import timedelta

    from portal.i18n import local_today
    from portal.models import FollowUpVisit

    a = company("Alpha AB")
    with app.app_context():
        db.session.add(FollowUpVisit(customer_id=a["customer"], reason="ticket", ticket_id=a["carried"],
                                     due_on=local_today() - timedelta(days=3)))
        db.session.commit()
    buyer = make_user("customer", customer=a["customer"], locale="zh")
    login(client, buyer)
    for url in ("/my/", "/my/tickets/", "/my/tickets/new", f"/my/tickets/new?order_id={a['order']}",
                f"/my/tickets/{a['carried']}", f"/my/tickets/{a['received']}", "/my/survey"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="zh-CN"' in response.get_data(as_text=True), url
    assert a["carried_number"] in client.get("/my/survey").get_data(as_text=True)
