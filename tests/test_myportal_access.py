"""Access tables of the customer portal (checked by tests/test_access.py for every role).

In those generic tests the records belong to a customer of a salesperson, and the "customer" role is a
buyer of ANOTHER company: so every portal URL naming a record answers 404 to every role there (nobody
in that setup may open it). That a buyer opens their own company's records is tested in
tests/test_myportal.py, together with buyer A trying every URL with buyer B's ids.
"""
NOBODY = ()

GET_ACCESS = {
    "/my/orders/": ("customer",),
    "/my/samples/": ("customer",),
    "/my/documents/": ("customer",),
    "/my/orders/{order_id}": NOBODY,
    "/my/orders/{order_id}/files/{order_file_id}": NOBODY,
    "/my/tickets/": ("customer",),
    "/my/tickets/new": ("customer",),
    "/my/tickets/{portal_ticket_id}": NOBODY,
    "/my/tickets/{portal_ticket_id}/files/{portal_ticket_file_id}": NOBODY,
    "/my/survey": ("customer",),  # ?visit=<id> of another company: 404, in tests/test_myportal_survey.py
}
POST_ACCESS = {
    "/my/samples/{sample_id}/evaluate": NOBODY,
    "/my/tickets/new": ("customer",),
    "/my/tickets/{portal_ticket_id}/confirm": NOBODY,
    "/my/tickets/{portal_ticket_id}/reopen": NOBODY,
    "/my/tickets/{portal_ticket_id}/files": NOBODY,
    "/my/survey/{portal_visit_id}": NOBODY,
}
POST_ACCESS.update({
    "/customers/{customer_id}/portal/invite": ("admin", "manager"),
    "/customers/{customer_id}/portal/invitations/{invitation_id}/revoke": ("admin", "manager"),
    "/customers/{customer_id}/portal/users/{portal_user_id}/disable": ("admin", "manager"),
})
# The invitation link is public; its cases (valid, used, expired, revoked, wrong) are in tests/test_myportal.py.
SPECIAL = {"/invite/<token>"}


def make_records(owner, ids):
    """An open invitation and a portal user of the customer; a complaint of the customer waiting for the
    customer's confirmation, with a customer-visible file; a follow-up visit due yesterday."""
    from datetime import timedelta

    from portal import numbering
    from portal.extensions import db
    from portal.i18n import local_today
    from portal.models import Attachment, FollowUpVisit, PortalInvitation, Ticket, TicketEvent, User
    from portal.models.base import utcnow

    invitation = PortalInvitation(customer_id=ids["customer_id"], username=f"inv{ids['customer_id']}",
                                  display_name="Buyer", token_hash=f"{ids['customer_id']:064d}",
                                  expires_at=utcnow() + timedelta(hours=1))
    user = User(username=f"portal{ids['customer_id']}", display_name="Buyer", role="customer",
                customer_id=ids["customer_id"], password_hash="x")
    ticket = Ticket(number=numbering.next_number("ticket", 2026), customer_id=ids["customer_id"], channel="phone",
                    category="quality", subject="Leaking valves", description="Ten valves leak.",
                    state="carried_out", solution="Replacement shipped.",
                    events=[TicketEvent(kind="received", state_to="received", customer_visible=True)])
    visit = FollowUpVisit(customer_id=ids["customer_id"], reason="manual", due_on=local_today() - timedelta(days=1))
    db.session.add_all([invitation, user, ticket, visit])
    db.session.flush()
    photo = Attachment(entity_type="Ticket", entity_id=ticket.id, stored_name="x.png", original_name="x.png",
                       content_type="image/png", size=1, customer_visible=True)
    db.session.add(photo)
    db.session.flush()
    return {"invitation_id": invitation.id, "portal_user_id": user.id, "portal_ticket_id": ticket.id,
            "portal_ticket_file_id": photo.id, "portal_visit_id": visit.id}
