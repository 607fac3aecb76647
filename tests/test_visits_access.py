"""Access tables of the follow-up visits area (checked by tests/test_access.py for every role)."""
from datetime import date

STAFF = ("admin", "manager", "sales", "service")
DESK = ("admin", "manager", "service")

GET_ACCESS = {
    "/aftersales/visits/": STAFF,
    "/aftersales/visits/new": DESK,
    "/aftersales/visits/{visit_id}": STAFF,
}
POST_ACCESS = {
    "/aftersales/visits/new": DESK,
    "/aftersales/visits/{visit_id}/answer": DESK,
    "/aftersales/visits/{visit_id}/reschedule": DESK,
    "/aftersales/visits/{visit_id}/assign": DESK,
    "/aftersales/visits/{visit_id}/cancel": DESK,
    "/aftersales/visits/{visit_id}/note": STAFF,
    "/aftersales/visits/{visit_id}/ticket": DESK,
}


def make_records(owner, ids):
    """A due follow-up visit of the customer."""
    from portal.extensions import db
    from portal.models import FollowUpVisit

    visit = FollowUpVisit(customer_id=ids["customer_id"], reason="manual", due_on=date(2026, 11, 20))
    db.session.add(visit)
    db.session.flush()
    return {"visit_id": visit.id}
