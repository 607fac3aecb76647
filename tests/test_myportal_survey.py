"""The follow-up survey in the customer portal: the buyer answers a pending visit (回访) themselves; it counts
as a portal visit; nothing of another company is reachable."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import numbering
from portal.extensions import db
from portal.i18n import local_today
from portal.models import AuditLog, FollowUpVisit, Order, Ticket
from tests.conftest import login

ANSWERS = {"quality_ok": "no", "quality_note": "Two pieces rusty", "service_timely": "yes",
           "sales_rating": "5", "suggestions": "A catalogue in Swedish", "score": "3"}


@pytest.fixture
def company(app, make_user, make_customer):
    """make(name) -> ids of a company with a buyer (English) and visits: due yesterday (after a delivery),
    due today (after a complaint), due in five days, done, cancelled."""

    def make(name):
        sales = make_user("sales", display_name=f"Sales {name}")
        customer = make_customer(owner=sales, name=name, country="SE")
        buyer = make_user("customer", customer=customer, display_name=f"Buyer {name}", locale="en")
        with app.app_context():
            today = local_today()
            order = Order(number=numbering.next_number("order", 2026), contract_no=numbering.next_number("contract", 2026),
                          customer_id=customer.id, state="shipped", currency="USD", contract_date=date.today())
            ticket = Ticket(number=numbering.next_number("ticket", 2026), customer_id=customer.id, channel="phone",
                            category="quality", subject=f"Complaint {name}", description="x", state="closed")
            db.session.add_all([order, ticket])
            db.session.flush()
            visits = {
                "yesterday": FollowUpVisit(customer_id=customer.id, reason="delivery", order_id=order.id,
                                           due_on=today - timedelta(days=1)),
                "today": FollowUpVisit(customer_id=customer.id, reason="ticket", ticket_id=ticket.id, due_on=today),
                "later": FollowUpVisit(customer_id=customer.id, reason="manual", due_on=today + timedelta(days=5)),
                "done": FollowUpVisit(customer_id=customer.id, reason="manual", due_on=today - timedelta(days=9),
                                      state="done", channel="phone", score=5),
                "cancelled": FollowUpVisit(customer_id=customer.id, reason="manual", due_on=today - timedelta(days=2),
                                           state="cancelled"),
            }
            db.session.add_all(visits.values())
            db.session.commit()
            return {"buyer": buyer, "sales": sales, "customer": customer.id, "order_number": order.contract_no,
                    "ticket_number": ticket.number, **{key: v.id for key, v in visits.items()}}

    return make


def done_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FollowUpVisit).where(FollowUpVisit.state == "done"))


def test_pending_visits_newest_due_first(client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    page = client.get("/my/survey").get_data(as_text=True)
    assert f'action="/my/survey/{a["today"]}"' in page  # the newest due first
    assert f"/my/survey?visit={a['yesterday']}" in page and f"/my/survey?visit={a['today']}" in page
    for other in ("later", "done", "cancelled"):
        assert f"visit={a[other]}" not in page and f"/my/survey/{a[other]}" not in page
    assert a["ticket_number"] in page and a["order_number"] in page
    assert 'value="Buyer Alpha AB"' in page  # answered_by defaults to the buyer
    chosen = client.get(f"/my/survey?visit={a['yesterday']}").get_data(as_text=True)
    assert f'action="/my/survey/{a["yesterday"]}"' in chosen
    overview = client.get("/my/").get_data(as_text=True)
    assert 'id="survey-prompt"' in overview


def test_answer_counts_as_a_portal_visit(app, client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    response = client.post(f"/my/survey/{a['yesterday']}", data={**ANSWERS, "answered_by": ""})
    assert response.status_code == 303 and response.headers["Location"] == "/my/survey"
    with app.app_context():
        visit = db.session.get(FollowUpVisit, a["yesterday"])
        assert (visit.state, visit.channel, visit.done_by_id) == ("done", "portal", a["buyer"].id)
        assert visit.answered_by == "Buyer Alpha AB" and visit.salesperson_id == a["sales"].id
        assert (visit.quality_ok, visit.service_timely, visit.sales_rating, visit.score) == (False, True, 5, 3)
        assert visit.quality_note == "Two pieces rusty" and visit.problem is True and visit.done_at is not None
        assert visit.notes is None
    page = client.get("/my/survey").get_data(as_text=True)
    assert "Thank you for your answers" in page
    assert f"/my/survey/{a['yesterday']}" not in page and f'action="/my/survey/{a["today"]}"' in page
    again = client.post(f"/my/survey/{a['yesterday']}", data={**ANSWERS, "score": "5"})
    assert again.status_code == 409 and "already been answered" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FollowUpVisit, a["yesterday"]).score == 3
    assert client.post(f"/my/survey/{a['yesterday']}", data={}).status_code == 409  # not 422: answered
    assert client.post(f"/my/survey/{a['later']}", data=ANSWERS).status_code == 409  # not open yet
    assert client.post(f"/my/survey/{a['cancelled']}", data=ANSWERS).status_code == 409


def test_a_buyer_cannot_write_internal_notes(app, client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    response = client.post(f"/my/survey/{a['today']}", data={**ANSWERS, "score": "5", "notes": "internal!",
                                                             "answered_by": "Erik"})
    assert response.status_code == 303
    with app.app_context():
        visit = db.session.get(FollowUpVisit, a["today"])
        assert visit.notes is None and visit.answered_by == "Erik" and visit.problem is True  # quality not OK


def test_bad_answers_change_nothing(app, client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    before = done_count(app)
    for bad in ({"score": "9"}, {"score": "0"}, {"sales_rating": "x"}, {"quality_ok": "maybe"}, {"score": ""},
                {"service_timely": ""}):
        response = client.post(f"/my/survey/{a['yesterday']}", data={**ANSWERS, **bad})
        assert response.status_code == 422, bad
        assert 'aria-invalid="true"' in response.get_data(as_text=True) or "errors" in response.get_data(as_text=True)
    assert done_count(app) == before
    with app.app_context():
        assert db.session.get(FollowUpVisit, a["yesterday"]).state == "due"
        assert db.session.scalar(select(func.count()).select_from(AuditLog)
                                 .where(AuditLog.entity_type == "FollowUpVisit")) == 0


def test_another_companys_visits_answer_404(app, client, company):
    a, b = company("Alpha AB"), company("Beta GmbH")
    login(client, a["buyer"])
    before = done_count(app)
    own = {a[k] for k in ("yesterday", "today", "later", "done", "cancelled")}
    theirs = {b[k] for k in ("yesterday", "today", "later", "done", "cancelled")}
    around = {i for v in theirs for i in (v - 1, v + 1)} | {9999, 2**31 + 1}
    for visit_id in sorted((theirs | around) - own):
        assert client.get(f"/my/survey?visit={visit_id}").status_code == 404, visit_id
        assert client.post(f"/my/survey/{visit_id}", data=ANSWERS).status_code == 404, visit_id
    for own_closed in (a["done"], a["cancelled"], a["later"]):  # not pending: not offered
        assert client.get(f"/my/survey?visit={own_closed}").status_code == 404
    assert client.get("/my/survey?visit=abc").status_code == 404
    assert done_count(app) == before
    page = client.get("/my/survey").get_data(as_text=True)
    assert b["ticket_number"] not in page and b["order_number"] not in page and "Beta" not in page


def test_nothing_to_answer_is_a_friendly_page(client, make_user, make_customer):
    buyer = make_user("customer", customer=make_customer(), locale="en")
    login(client, buyer)
    response = client.get("/my/survey")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="survey-empty"' in page and "<form" not in page.split('id="survey-empty"')[1]
    assert 'id="survey-prompt"' not in client.get("/my/").get_data(as_text=True)


def test_staff_visit_pages_refuse_buyers(client, company):
    a = company("Alpha AB")
    login(client, a["buyer"])
    for url in ("/aftersales/visits/", f"/aftersales/visits/{a['yesterday']}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/aftersales/visits/{a['yesterday']}/answer", data=ANSWERS).status_code == 404
