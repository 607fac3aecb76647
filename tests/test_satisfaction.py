"""Satisfaction reporting on a fixed data set, every figure computed by hand below.

Visits made (local time = Asia/Shanghai = UTC+8; li and wang are the salespeople stored on the visits):

  #  local time            UTC                  who   score rating  problem
  a  2026-09-30 23:59:59   2026-09-30 15:59:59  li    2     1       yes (score)      -> September
  b  2026-10-01 00:00:00   2026-09-30 16:00:00  li    5     5                        -> October (1st, midnight)
  c  2026-10-10 10:00      2026-10-10 02:00     li    4     4
  d  2026-10-15 10:00      2026-10-15 02:00     wang  3     3       yes (quality)    "包装破损"
  e  2026-10-20 10:00      2026-10-20 02:00     wang  5     4
  f  2026-10-31 23:59:59   2026-10-31 15:59:59  wang  1     2       yes (service)
  g  2026-11-01 00:00:00   2026-10-31 16:00:00  li    4     5                        -> November
  plus a visit still due and a cancelled one (never counted).

October = b c d e f: 5 visits; scores 5 4 3 5 1 -> 3 satisfied of 5 = 60.0 %;
  ratings 5 4 3 4 2 = 18 / 5 = 3.60.
  li: b c -> 2 of 2 = 100.0 %, ratings 5 4 -> 4.50.  wang: d e f -> 1 of 3 = 33.3 %, ratings 3 4 2 -> 3.00.
ISO week 2026-W44 (Mon 10-26 .. Sun 11-01) spans two months: f and g -> 2 visits, 1 of 2 = 50.0 %.
"""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal.extensions import db
from portal.models import FollowUpVisit, SatisfactionMonth
from portal.satisfaction import services
from portal.workflow import TransitionError
from tests.conftest import login


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def add_visit(customer_id, salesperson_id, done_at, score, rating, *, quality_ok=True, service_timely=True,
              quality_note=None, service_note=None, suggestions=None, state="done") -> int:
    problem = (not quality_ok) or (not service_timely) or score <= 3
    visit = FollowUpVisit(customer_id=customer_id, reason="manual", due_on=done_at.date(), state=state,
                          channel="phone", answered_by="张经理", quality_ok=quality_ok, quality_note=quality_note,
                          service_timely=service_timely, service_note=service_note, sales_rating=rating,
                          suggestions=suggestions, score=score, problem=problem, salesperson_id=salesperson_id,
                          done_at=done_at if state == "done" else None)
    db.session.add(visit)
    db.session.flush()
    return visit.id


@pytest.fixture
def data(app, make_user, make_customer):
    """The data set of the module docstring; returns the ids."""
    li = make_user("sales", display_name="李明")
    wang = make_user("sales", display_name="王芳")
    hengda = make_customer(owner=li, name="恒达五金 Hengda Hardware")
    jinyu = make_customer(owner=wang, name="金宇机械 Jinyu Machinery")
    with app.app_context():
        ids = {"li": li.id, "wang": wang.id, "hengda": hengda.id, "jinyu": jinyu.id}
        ids["a"] = add_visit(hengda.id, li.id, utc(2026, 9, 30, 15, 59, 59), 2, 1)
        ids["b"] = add_visit(hengda.id, li.id, utc(2026, 9, 30, 16, 0, 0), 5, 5)
        ids["c"] = add_visit(hengda.id, li.id, utc(2026, 10, 10, 2, 0), 4, 4, suggestions="希望缩短交期")
        ids["d"] = add_visit(jinyu.id, wang.id, utc(2026, 10, 15, 2, 0), 3, 3, quality_ok=False,
                             quality_note="包装破损")
        ids["e"] = add_visit(jinyu.id, wang.id, utc(2026, 10, 20, 2, 0), 5, 4)
        ids["f"] = add_visit(jinyu.id, wang.id, utc(2026, 10, 31, 15, 59, 59), 1, 2, service_timely=False,
                             service_note="回复太慢")
        ids["g"] = add_visit(hengda.id, li.id, utc(2026, 10, 31, 16, 0, 0), 4, 5)
        add_visit(hengda.id, li.id, utc(2026, 10, 12, 2, 0), 5, 5, state="due")
        add_visit(hengda.id, li.id, utc(2026, 10, 13, 2, 0), 1, 1, state="cancelled")
        db.session.commit()
    return ids


def by_name(figures):
    return {p["salesperson"]: p for p in figures["by_salesperson"]}


# Rounding

def test_rate_and_average_round_half_up():
    assert services.rate(1, 3) == Decimal("33.3")
    assert services.rate(2, 3) == Decimal("66.7")
    assert services.rate(1, 16) == Decimal("6.3")  # 6.25: half-up, not banker's 6.2
    assert services.rate(0, 0) is None
    assert services.average(29, 8) == Decimal("3.63")  # 3.625
    assert services.average(0, 0) is None


# Periods and figures

def test_month_figures_by_hand(app, data, ctx):
    october = services.month_figures(2026, 10)
    assert [r["visit_id"] for r in october["rows"]] == [data[k] for k in "bcdef"]
    assert (october["visits"], october["scored"], october["satisfied"]) == (5, 5, 3)
    assert october["rate"] == Decimal("60.0")
    assert october["avg_rating"] == Decimal("3.60")
    people = by_name(october)
    li, wang = people["李明"], people["王芳"]
    assert (li["visits"], li["satisfied"], li["rate"], li["avg_rating"]) == (2, 2, Decimal("100.0"), Decimal("4.50"))
    assert (wang["visits"], wang["satisfied"], wang["rate"], wang["avg_rating"]) == (3, 1, Decimal("33.3"), Decimal("3.00"))
    assert [r["visit_id"] for r in october["problem_rows"]] == [data["d"], data["f"]]
    first = october["rows"][0]
    assert (first["date"], first["time"]) == ("2026-10-01", "00:00")  # shown in local time


def test_month_boundaries_at_local_midnight(app, data, ctx):
    september = services.month_figures(2026, 9)
    november = services.month_figures(2026, 11)
    assert [r["visit_id"] for r in september["rows"]] == [data["a"]]  # 23:59:59 on the 30th, local
    assert [r["visit_id"] for r in november["rows"]] == [data["g"]]  # 00:00:00 on the 1st, local
    assert september["rate"] == Decimal("0.0") and november["rate"] == Decimal("100.0")


def test_a_month_without_visits(app, data, ctx):
    june = services.month_figures(2026, 6)
    assert (june["visits"], june["rate"], june["avg_rating"], june["by_salesperson"]) == (0, None, None, [])


def test_iso_week_boundaries_in_shanghai(app, make_customer, ctx):
    customer = make_customer()
    sunday_night = add_visit(customer.id, None, utc(2026, 11, 15, 15, 59, 59), 5, 5)  # Sun 23:59:59 local
    monday_midnight = add_visit(customer.id, None, utc(2026, 11, 15, 16, 0, 0), 2, 3)  # Mon 00:00:00 local
    db.session.flush()
    w46, w47 = services.weekly(2026, 46), services.weekly(2026, 47)
    assert [r["visit_id"] for r in w46["rows"]] == [sunday_night]
    assert [r["visit_id"] for r in w47["rows"]] == [monday_midnight]
    assert (w47["start"], w47["end"], w47["due_on"]) == (date(2026, 11, 16), date(2026, 11, 22), date(2026, 11, 23))
    assert (w47["previous"], w47["next"], w47["rate"]) == ("2026-W46", "2026-W48", Decimal("0.0"))


def test_a_week_spanning_two_months_and_two_years(app, data, make_customer, ctx):
    customer = make_customer()
    w44 = services.weekly(2026, 44)
    assert [r["visit_id"] for r in w44["rows"]] == [data["f"], data["g"]]
    assert (w44["visits"], w44["rate"]) == (2, Decimal("50.0"))
    new_year = add_visit(customer.id, None, utc(2021, 1, 2, 3, 0), 4, 4)  # Saturday 2 January 2021
    w53 = services.weekly(2020, 53)
    assert (w53["start"], w53["end"]) == (date(2020, 12, 28), date(2021, 1, 3))
    assert [r["visit_id"] for r in w53["rows"]] == [new_year]
    assert (w53["next"], services.weekly(2021, 1)["previous"]) == ("2021-W01", "2020-W53")
    # 2026 starts on a Thursday, so it has 53 ISO weeks too (2026-W53 ends on 2027-01-03); 2025 and 2027 do not
    w2026 = services.weekly(2026, 53)
    assert (w2026["start"], w2026["end"], w2026["next"]) == (date(2026, 12, 28), date(2027, 1, 3), "2027-W01")
    for year in (2025, 2027):
        with pytest.raises(ValueError):
            services.weekly(year, 53)


def test_daily_problems(app, data, ctx):
    day = services.daily(date(2026, 10, 15))
    assert (day["visits"], day["rate"]) == (1, Decimal("0.0"))
    [row] = day["problem_rows"]
    assert (row["customer"], row["quality_note"]) == ("金宇机械 Jinyu Machinery", "包装破损")
    assert services.daily(date(2026, 10, 14))["problem_rows"] == []


def test_trend_counts_each_month(app, data, ctx):
    points = services.trend(2026, 11)
    assert len(points) == 12 and points[0]["label"] == "2025-12" and points[-1]["label"] == "2026-11"
    assert [(p["label"], p["visits"], p["rate"]) for p in points[-3:]] == [
        ("2026-09", 1, Decimal("0.0")), ("2026-10", 5, Decimal("60.0")), ("2026-11", 1, Decimal("100.0"))]
    assert points[0]["rate"] is None and points[0]["visits"] == 0


def test_chart_is_valid_escaped_svg_with_a_title_per_point(app, ctx):
    import xml.etree.ElementTree as ET

    points = [{"label": "2026-09", "visits": 3, "rate": Decimal("66.7")},
              {"label": "<b>&", "visits": 0, "rate": None},
              {"label": "2026-11", "visits": 12, "rate": Decimal("100.0")}]
    svg = str(services.chart_svg(points))
    root = ET.fromstring(svg)  # well-formed XML, the label escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    groups = root.findall(f"{ns}g")
    assert len(groups) == 3 and all(g.find(f"{ns}title") is not None for g in groups)
    assert "66.7%" in groups[0].find(f"{ns}title").text and "<b>&" in groups[1].find(f"{ns}title").text
    assert "style=" not in svg and "<script" not in svg
    assert len(root.findall(f"{ns}polyline")) == 0  # the month without visits breaks the line: no 2-point segment
    assert len(root.findall(f"{ns}circle")) == 3  # two rate dots and the legend's


# The monthly form

def test_overdue_after_the_third_not_before(app, ctx):
    assert services.due_on(2026, 10) == date(2026, 11, 3)
    assert services.due_on(2026, 12) == date(2027, 1, 3)
    assert services.overdue(2026, 10, [], date(2026, 11, 3)) is False
    assert services.overdue(2026, 10, [], date(2026, 11, 4)) is True
    submitted = SatisfactionMonth(year=2026, month=10, state="submitted")
    assert services.overdue(2026, 10, [submitted], date(2026, 11, 20)) is False


def test_index_marks_overdue_months(app, client, data, make_user, monkeypatch):
    login(client, make_user("service", locale="en"))
    monkeypatch.setattr("portal.satisfaction.views.local_today", lambda: date(2026, 11, 3))
    page = client.get("/satisfaction/").get_data(as_text=True)
    assert 'id="month-2026-10" class="overdue"' not in page and 'id="month-2026-10"' in page
    monkeypatch.setattr("portal.satisfaction.views.local_today", lambda: date(2026, 11, 4))
    page = client.get("/satisfaction/").get_data(as_text=True)
    assert 'id="month-2026-10" class="overdue"' in page
    assert 'id="month-2026-09" class="overdue"' in page  # no form for September either


def test_month_page_marks_overdue_after_the_third(app, client, data, make_user, monkeypatch):
    login(client, make_user("service", locale="en"))
    monkeypatch.setattr("portal.satisfaction.services.local_today", lambda: date(2026, 11, 3))
    assert 'id="form-overdue"' not in client.get("/satisfaction/2026-10").get_data(as_text=True)
    monkeypatch.setattr("portal.satisfaction.services.local_today", lambda: date(2026, 11, 4))
    assert 'id="form-overdue"' in client.get("/satisfaction/2026-10").get_data(as_text=True)
    assert "OVERDUE" in pdf_text(client.get("/documents/satisfaction/2026-10.pdf"))


def test_pages_show_the_figures(app, client, data, make_user):
    login(client, make_user("manager", locale="en"))
    page = client.get("/satisfaction/2026-10").get_data(as_text=True)
    assert '<dd class="sat-visits">5</dd>' in page and "<strong>60.0%</strong>" in page
    assert '<dd class="sat-rating">3.60</dd>' in page
    assert "33.3%" in page and "100.0%" in page and "4.50" in page
    assert "恒达五金 Hengda Hardware" in page and "包装破损" in page and "<svg" in page
    week = client.get("/satisfaction/weekly/2026-W44").get_data(as_text=True)
    assert '<dd class="sat-visits">2</dd>' in week and "50.0%" in week and "2026-W43" in week and "2026-W45" in week
    assert client.get("/satisfaction/weekly/2025-W53").status_code == 404  # 2025 has 52 ISO weeks
    assert client.get("/satisfaction/weekly/2027-W53").status_code == 404
    assert client.get("/satisfaction/weekly/2026-W00").status_code == 404
    assert client.get("/satisfaction/weekly/2020-W53").status_code == 200
    assert client.get("/satisfaction/weekly/2026-W53").status_code == 200  # 2026 starts on a Thursday: 53 weeks
    assert client.get("/satisfaction/weekly/2026-47").status_code == 404
    day = client.get("/satisfaction/?day=2026-10-15").get_data(as_text=True)
    assert f'id="problem-{data["d"]}"' in day
    assert client.get("/satisfaction/?day=2026-13-45").status_code == 422
    assert client.get("/satisfaction/daily/2026-10-31").status_code == 200
    assert client.get("/satisfaction/daily/2026-02-30").status_code == 404
    assert client.get("/satisfaction/2026-13").status_code == 404
    assert client.get("/satisfaction/2999-01").status_code == 404  # a month still to come
    empty = client.get("/satisfaction/2026-06")
    assert empty.status_code == 200 and '<dd class="sat-rate"><strong>—</strong>' in empty.get_data(as_text=True)


def pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages)


def test_pdf_contains_the_months_figures(app, client, data, make_user):
    login(client, make_user("service"))
    text = pdf_text(client.get("/documents/satisfaction/2026-10.pdf"))
    assert "月客户满意度回访表" in text and "60.0%" in text and "3.60" in text and "33.3%" in text
    assert "恒达五金" in text and "包装破损" in text and "草稿" in text  # a draft until submitted
    assert "3 / 5" in text  # satisfied / visits with a score
    empty = pdf_text(client.get("/documents/satisfaction/2026-06.pdf"))
    assert "本月无回访" in empty and "—" in empty
    english = app.test_client()
    login(english, make_user("manager", locale="en"))
    text = pdf_text(english.get("/documents/satisfaction/2026-10.pdf"))
    assert "MONTHLY CUSTOMER SATISFACTION FORM" in text and "60.0%" in text and "Jinyu Machinery" in text
    assert english.get("/documents/satisfaction/2026-10.pdf?revision=1").status_code == 404  # no form yet


def test_save_creates_the_draft_then_locks_optimistically(app, client, data, make_user):
    login(client, make_user("service", locale="en"))
    response = client.post("/satisfaction/2026-10", data={
        "improvement_actions": "加强包装检验", f"action-{data['d']}": "已补发", "action-999999": "ignored",
        "revision": "", "version": ""})
    assert response.status_code == 303
    with app.app_context():
        form = db.session.scalar(db.select(SatisfactionMonth))
        assert (form.revision, form.state, form.improvement_actions) == (1, "draft", "加强包装检验")
        assert form.problem_actions == {str(data["d"]): "已补发"}
        version = form.version
    stale = client.post("/satisfaction/2026-10", data={"improvement_actions": "x", "revision": "", "version": ""})
    assert stale.status_code == 409
    too_long = client.post("/satisfaction/2026-10", data={
        "improvement_actions": "ok", f"action-{data['d']}": "x" * 2001, "revision": "1", "version": str(version)})
    assert too_long.status_code == 422 and f'id="action-{data["d"]}-error"' in too_long.get_data(as_text=True)
    ok = client.post("/satisfaction/2026-10", data={"improvement_actions": "加强包装检验，每批抽检",
                                                    "revision": "1", "version": str(version)})
    assert ok.status_code == 303
    with app.app_context():
        form = db.session.scalar(db.select(SatisfactionMonth))
        assert form.improvement_actions == "加强包装检验，每批抽检" and form.problem_actions is None
        assert form.version == version + 1


def test_submitted_form_is_frozen_and_corrected_as_revision_2(app, client, data, make_user):
    service = make_user("service", locale="en", display_name="Service Lead")
    login(client, service)
    client.post("/satisfaction/2026-10", data={"improvement_actions": "加强包装检验",
                                               f"action-{data['d']}": "已补发", "revision": "", "version": ""})
    with app.app_context():
        version = db.session.scalar(db.select(SatisfactionMonth.version))
    response = client.post("/satisfaction/2026-10/submit", data={
        "improvement_actions": "加强包装检验", f"action-{data['d']}": "已补发", "revision": "1", "version": str(version)})
    assert response.status_code == 303
    with app.app_context():
        form = db.session.scalar(db.select(SatisfactionMonth))
        assert (form.state, form.submitted_by_id) == ("submitted", service.id) and form.submitted_at is not None
        assert form.snapshot["rate"] == "60.0" and form.snapshot["visits"] == 5
        assert len(form.snapshot["rows"]) == 5 and form.snapshot["trend"][-1]["rate"] == "60.0"
        version = form.version
        # later changes to the visits: c now scores 1, a new visit in October
        db.session.get(FollowUpVisit, data["c"]).score = 1
        add_visit(data["hengda"], data["li"], utc(2026, 10, 25, 2, 0), 1, 1)
        db.session.commit()
        assert services.month_figures(2026, 10)["rate"] == Decimal("33.3")  # 2 of 6 now
    page = client.get("/satisfaction/2026-10").get_data(as_text=True)
    assert "<strong>60.0%</strong>" in page and '<dd class="sat-visits">5</dd>' in page
    assert 'name="improvement_actions"' not in page  # nothing to edit
    text = pdf_text(client.get("/documents/satisfaction/2026-10.pdf"))
    assert "60.0%" in text and "33.3%" in text and "草稿" not in text and "已补发" in text
    # edits are refused
    edit = client.post("/satisfaction/2026-10", data={"improvement_actions": "changed", "revision": "1",
                                                      "version": str(version)})
    assert edit.status_code == 409
    again = client.post("/satisfaction/2026-10/submit", data={"revision": "1", "version": str(version)})
    assert again.status_code == 409
    # a correction needs a reason, then makes revision 2 as a draft with the texts copied
    assert client.post("/satisfaction/2026-10/correct", data={"reason": "", "revision": "1",
                                                              "version": str(version)}).status_code == 422
    corrected = client.post("/satisfaction/2026-10/correct", data={"reason": "漏录一次回访", "revision": "1",
                                                                   "version": str(version)})
    assert corrected.status_code == 303
    with app.app_context():
        first, second = db.session.scalars(db.select(SatisfactionMonth).order_by(SatisfactionMonth.revision)).all()
        assert (first.revision, first.state, first.snapshot["rate"]) == (1, "submitted", "60.0")
        assert (second.revision, second.state, second.correction_reason) == (2, "draft", "漏录一次回访")
        assert second.improvement_actions == "加强包装检验" and second.problem_actions == {str(data["d"]): "已补发"}
        assert second.snapshot is None
    latest = client.get("/satisfaction/2026-10").get_data(as_text=True)
    assert "<strong>33.3%</strong>" in latest and 'id="revision-1"' in latest  # the draft shows live figures
    older = client.get("/satisfaction/2026-10?revision=1").get_data(as_text=True)
    assert "<strong>60.0%</strong>" in older
    assert client.get("/satisfaction/2026-10?revision=3").status_code == 404
    assert "60.0%" in pdf_text(client.get("/documents/satisfaction/2026-10.pdf?revision=1"))


def test_service_rules_directly(app, data, make_user, ctx):
    user = make_user("service")
    form = services.ensure_form(2026, 10, user)
    with pytest.raises(TransitionError):
        services.submit(form, user, today=date(2026, 10, 31))  # the month is not over
    with pytest.raises(TransitionError):
        services.correct(form, user, "x")  # only a submitted form
    services.submit(form, user, today=date(2026, 11, 1))
    with pytest.raises(services.SatisfactionError):
        services.correct(form, user, "  ")
    second = services.correct(form, user, "reason")
    with pytest.raises(TransitionError):
        services.correct(form, user, "again")  # revision 1 is no longer the latest
    assert services.current_form(2026, 10).id == second.id
    with pytest.raises(services.ConflictError):
        services.save(2026, 10, user, {}, revision=1, version=form.version)


def test_problems_link_the_visit_and_the_ticket_opened_from_it(app, client, data, make_user):
    from portal.models import Ticket

    with app.app_context():
        ticket = Ticket(number="TS2026-0042", customer_id=data["jinyu"], channel="phone", category="packaging",
                        subject="包装破损", description="回访发现包装破损", state="assigned", source_visit_id=data["d"])
        db.session.add(ticket)
        db.session.commit()
        ticket_id = ticket.id
    login(client, make_user("service", locale="en"))
    page = client.get("/satisfaction/2026-10").get_data(as_text=True)
    row = page[page.index(f'id="problem-{data["d"]}"'):]
    row = row[:row.index("</tr>")]
    assert f'href="/aftersales/tickets/{ticket_id}">TS2026-0042</a>' in row and "state-assigned" in row
    assert f'href="/aftersales/visits/{data["d"]}"' in row
    with app.app_context():
        assert services.month_figures(2026, 10)["problem_rows"][0]["tickets"] == [
            {"id": ticket_id, "number": "TS2026-0042", "state": "assigned"}]
    daily = client.get("/satisfaction/?day=2026-10-15").get_data(as_text=True)
    assert "TS2026-0042" in daily


def test_month_page_shows_the_visits_a_page_at_a_time_and_the_pdf_all(app, client, data, make_user, monkeypatch):
    from portal.satisfaction import views
    monkeypatch.setattr(views, "VISITS_PER_PAGE", 2)
    login(client, make_user("manager", locale="en"))
    visits = ("b", "c", "d", "e", "f")  # October in Shanghai
    seen = []
    for page_no in (1, 2, 3):
        page = client.get(f"/satisfaction/2026-10?page={page_no}").get_data(as_text=True)
        shown = [key for key in visits if f'id="visit-{data[key]}"' in page]
        assert len(shown) == (2 if page_no < 3 else 1)
        assert "of 5; the PDF lists them all" in page
        assert '<dd class="sat-visits">5</dd>' in page  # the figures are the month's, whatever the page
        seen += shown
    assert sorted(seen) == sorted(visits)
    past_the_end = client.get("/satisfaction/2026-10?page=99").get_data(as_text=True)
    assert [key for key in visits if f'id="visit-{data[key]}"' in past_the_end] == seen[-1:]  # the last page
    text = pdf_text(client.get("/documents/satisfaction/2026-10.pdf"))
    assert "恒达五金" in text and "金宇机械" in text and "包装破损" in text and "回复太慢" in text
