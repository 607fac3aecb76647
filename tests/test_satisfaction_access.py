"""Access tables of the satisfaction reports and their PDF (checked by tests/test_access.py for every role).
The reports span every customer: service staff, managers and admins only; salespeople and buyers get 404."""
REPORTERS = ("admin", "manager", "service")

GET_ACCESS = {
    "/satisfaction/": REPORTERS,
    "/satisfaction/daily/2026-10-15": REPORTERS,
    "/satisfaction/weekly/2026-W42": REPORTERS,
    "/satisfaction/2026-10": REPORTERS,
}
POST_ACCESS = {
    "/satisfaction/2026-10": REPORTERS,
    "/satisfaction/2026-10/submit": REPORTERS,
    "/satisfaction/2026-10/correct": REPORTERS,
}


def make_records(owner, ids):
    """A visit of the customer made in October 2026 (local), with a problem, so the pages show a row."""
    from datetime import date, datetime, timezone

    from portal.extensions import db
    from portal.models import FollowUpVisit

    visit = FollowUpVisit(customer_id=ids["customer_id"], reason="manual", due_on=date(2026, 10, 15), state="done",
                          channel="phone", answered_by="张经理", quality_ok=False, quality_note="包装破损",
                          service_timely=True, sales_rating=4, score=3, problem=True, salesperson_id=owner,
                          done_at=datetime(2026, 10, 15, 2, 0, tzinfo=timezone.utc))
    db.session.add(visit)
    db.session.flush()
    return {"satisfaction_visit_id": visit.id}
