"""The satisfaction figures' statements built once (services._rows: rows read as tuples; services._trend: one index
range a month, a UNION ALL) give what the statements they replaced gave, on generated visits: every state, times
on both sides of local midnights at month ends and the year's end, missing answers, salespeople or none,
tickets opened from problems. The old computations are kept below as they were."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, select

from portal.extensions import db
from portal.i18n import local_zone
from portal.models import Customer, FollowUpVisit, Ticket, User
from portal.satisfaction import services
from portal.satisfaction.access import done_visits
from portal.satisfaction.services import add_months, local_midnight, month_bounds, rate


def _in_period(stmt, start: date, end: date):
    return stmt.where(FollowUpVisit.done_at >= local_midnight(start), FollowUpVisit.done_at < local_midnight(end))


def old_rows(start: date, end: date) -> list[dict]:
    """services._rows before the statement was built once and its rows unpacked."""
    visits = db.session.execute(
        _in_period(done_visits(), start, end)
        .join(Customer, Customer.id == FollowUpVisit.customer_id)
        .outerjoin(User, User.id == FollowUpVisit.salesperson_id)
        .with_only_columns(
            FollowUpVisit.id, FollowUpVisit.customer_id, Customer.name.label("customer_name"),
            Customer.code.label("customer_code"), FollowUpVisit.done_at, FollowUpVisit.channel,
            FollowUpVisit.answered_by, FollowUpVisit.quality_ok, FollowUpVisit.quality_note,
            FollowUpVisit.service_timely, FollowUpVisit.service_note, FollowUpVisit.salesperson_id,
            User.display_name.label("salesperson_name"), FollowUpVisit.sales_rating, FollowUpVisit.suggestions,
            FollowUpVisit.score, FollowUpVisit.problem)
        .order_by(FollowUpVisit.done_at, FollowUpVisit.id)).all()
    problem_ids = [v.id for v in visits if v.problem]
    tickets: dict[int, list[dict]] = {}
    if problem_ids:
        for ticket in db.session.execute(
                select(Ticket.id, Ticket.number, Ticket.state, Ticket.source_visit_id)
                .where(Ticket.source_visit_id.in_(problem_ids)).order_by(Ticket.id)):
            tickets.setdefault(ticket.source_visit_id, []).append(
                {"id": ticket.id, "number": ticket.number, "state": ticket.state})
    rows = []
    for visit in visits:
        at = visit.done_at.astimezone(local_zone())
        rows.append({
            "visit_id": visit.id, "customer_id": visit.customer_id, "customer": visit.customer_name,
            "customer_code": visit.customer_code, "date": at.date().isoformat(), "time": at.strftime("%H:%M"),
            "channel": visit.channel, "answered_by": visit.answered_by,
            "quality_ok": visit.quality_ok, "quality_note": visit.quality_note,
            "service_timely": visit.service_timely, "service_note": visit.service_note,
            "salesperson_id": visit.salesperson_id,
            "salesperson": visit.salesperson_name,
            "sales_rating": visit.sales_rating, "suggestions": visit.suggestions, "score": visit.score,
            "problem": bool(visit.problem), "tickets": tickets.get(visit.id, []),
        })
    return rows


def old_trend(year: int, month: int, months: int) -> list[dict]:
    """services._trend before it counted a month at a time: one pass, each visit's month found by a CASE."""
    spans = [(add_months(year, month, -back), month_bounds(*add_months(year, month, -back)))
             for back in range(months - 1, -1, -1)]
    which = case(*[(FollowUpVisit.done_at < local_midnight(end), i) for i, (_, (_, end)) in enumerate(spans)])
    stmt = (_in_period(done_visits(), spans[0][1][0], spans[-1][1][1])
            .with_only_columns(which.label("i"), func.count(FollowUpVisit.id), func.count(FollowUpVisit.score),
                               func.coalesce(func.sum(case((FollowUpVisit.score >= 4, 1), else_=0)), 0))
            .group_by(which))
    counts = {int(i): (int(v), int(sc), int(sat)) for i, v, sc, sat in db.session.execute(stmt)}
    points = []
    for i, ((y, m), _) in enumerate(spans):
        visits, scored, satisfied = counts.get(i, (0, 0, 0))
        points.append({"year": y, "month": m, "label": f"{y}-{m:02d}", "visits": visits,
                       "rate": rate(satisfied, scored)})
    return points


# Local month starts from 2025-11 to 2027-02 (the year's end inside), and moments around them.
STARTS = [date(2025 + (m > 12) + (m > 24), (m - 1) % 12 + 1, 1) for m in range(11, 27)]
OFFSETS = [timedelta(0), timedelta(seconds=-1), timedelta(seconds=1), timedelta(microseconds=-1),
           timedelta(hours=-8), timedelta(hours=8), timedelta(days=14, hours=3, minutes=7)]

visit = st.fixed_dictionaries({
    "start": st.sampled_from(STARTS), "offset": st.sampled_from(OFFSETS),
    "state": st.sampled_from(["done", "done", "done", "due", "cancelled"]),
    "customer": st.integers(0, 2), "salesperson": st.sampled_from([None, 0, 1]),
    "score": st.one_of(st.none(), st.integers(1, 5)), "rating": st.one_of(st.none(), st.integers(1, 5)),
    "quality_ok": st.sampled_from([None, True, False]), "service_timely": st.sampled_from([None, True, False]),
    "note": st.sampled_from([None, "", "包装破损", "<b>&"]), "channel": st.sampled_from([None, "phone", "wechat"]),
    "problem": st.booleans(), "tickets": st.integers(0, 2)})


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(visits=st.lists(visit, max_size=25))
def test_rows_and_trend_match_the_old_statements(app, visits):
    with app.test_request_context():
        try:
            people = [User(username=f"fig-sales-{n}", display_name=f"销售{n}", role="sales", password_hash="x")
                      for n in range(2)]
            customers = [Customer(code=f"F{n:04d}", name=f"客户{n} <Co>") for n in range(3)]
            db.session.add_all(people + customers)
            db.session.flush()
            for n, v in enumerate(visits):
                at = local_midnight(v["start"]).astimezone(timezone.utc) + v["offset"]
                record = FollowUpVisit(
                    customer_id=customers[v["customer"]].id, reason="manual", due_on=at.date(), state=v["state"],
                    channel=v["channel"], answered_by=v["note"], quality_ok=v["quality_ok"], quality_note=v["note"],
                    service_timely=v["service_timely"], service_note=v["note"], sales_rating=v["rating"],
                    suggestions=v["note"], score=v["score"], problem=v["problem"],
                    salesperson_id=None if v["salesperson"] is None else people[v["salesperson"]].id,
                    done_at=at if v["state"] == "done" or n % 3 == 0 else None)  # some not done carry a time
                db.session.add(record)
                db.session.flush()
                for k in range(v["tickets"]):
                    db.session.add(Ticket(number=f"TF-{n}-{k}", customer_id=record.customer_id, channel="phone",
                                          category="quality", subject="s", description="d",
                                          state=["received", "closed"][k % 2], source_visit_id=record.id))
            db.session.flush()
            for start in STARTS[:-1]:
                _, end = month_bounds(start.year, start.month)
                assert services._rows(start, end) == old_rows(start, end), start
                for months in (1, 3, 12):
                    assert services._trend(start.year, start.month, months) == \
                        old_trend(start.year, start.month, months), (start, months)
            week = date(2026, 12, 28)  # an ISO week across the year's end, and a single day
            assert services._rows(week, week + timedelta(days=7)) == old_rows(week, week + timedelta(days=7))
            assert services._rows(STARTS[3], STARTS[3] + timedelta(days=1)) == \
                old_rows(STARTS[3], STARTS[3] + timedelta(days=1))
        finally:
            db.session.rollback()


def test_trend_reads_the_index_alone(app):
    """The trend's counts come from the index (state, done_at, score) without reading the table's rows."""
    with app.test_request_context():
        compiled = services._trend_statement(12).compile(dialect=db.engine.dialect)
        connection = db.session.connection()
        if db.engine.dialect.name == "sqlite":
            params = tuple("2026-01-01 00:00:00.000000" if name.startswith("b") else value
                           for name, value in ((n, compiled.params[n]) for n in compiled.positiontup))
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params).all()
            details = [row[-1] for row in plan if "follow_up_visits" in row[-1]]
            assert len(details) == 12 and all("COVERING INDEX ix_follow_up_visits_state_done_score" in d
                                              for d in details), details
        else:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            # On a small, never vacuumed table an index-only scan costs what an index scan does (no page is known
            # all-visible), and the planner took the state index or the done_at index as it pleased: every other
            # index of the table is dropped for this transaction (DDL rolls back), so the plan shows whether the
            # covering index answers the statement alone (PostgreSQL builds an index-only path for an index that
            # holds every column read, and no plain one). At 100,000 orders the planner picks it by itself.
            others = connection.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'follow_up_visits' "
                "AND indexname <> 'ix_follow_up_visits_state_done_score' AND indexdef NOT LIKE '%%UNIQUE%%'").scalars()
            for name in list(others):
                connection.exec_driver_sql(f'DROP INDEX "{name}"')
            params = {name: datetime(2026, 1, 1, tzinfo=timezone.utc) if name.startswith("b") else value
                      for name, value in compiled.params.items()}
            plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + str(compiled), params))
            assert plan.count("Index Only Scan using ix_follow_up_visits_state_done_score") == 12, plan
        db.session.rollback()


def test_chart_is_kept_per_language_and_points(app):
    """The page's chart is the drawing of its points in the page's language, drawn once and then reused."""
    from decimal import Decimal

    from flask_babel import force_locale

    from portal import datacache
    from portal.satisfaction import chart

    points = [{"year": 2026, "month": m, "label": f"2026-{m:02d}", "visits": 10 * m, "rate": Decimal("87.5")}
              for m in range(1, 13)]
    with app.test_request_context():
        drawn = {}
        for locale in ("zh", "en"):
            with force_locale(locale):
                drawn[locale] = services.chart_svg(points)
                assert drawn[locale] == chart.chart_svg(points)
                hits = datacache.stats["hits"]
                assert services.chart_svg([dict(p) for p in points]) == drawn[locale]
                assert datacache.stats["hits"] == hits + 1
                changed = [*points[:-1], {**points[-1], "rate": Decimal("87.6")}]
                assert services.chart_svg(changed) == chart.chart_svg(changed) != drawn[locale]
        assert drawn["zh"] != drawn["en"]
        db.session.rollback()
