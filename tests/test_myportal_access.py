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
}
POST_ACCESS = {
    "/my/samples/{sample_id}/evaluate": NOBODY,
}
POST_ACCESS.update({
    "/customers/{customer_id}/portal/invite": ("admin", "manager"),
    "/customers/{customer_id}/portal/invitations/{invitation_id}/revoke": ("admin", "manager"),
    "/customers/{customer_id}/portal/users/{portal_user_id}/disable": ("admin", "manager"),
})
# The invitation link is public; its cases (valid, used, expired, revoked, wrong) are in tests/test_myportal.py.
SPECIAL = {"/invite/<token>"}


def make_records(owner, ids):
    """An open invitation and a portal user of the customer."""
    from datetime import timedelta

    from portal.extensions import db
    from portal.models import PortalInvitation, User
    from portal.models.base import utcnow

    invitation = PortalInvitation(customer_id=ids["customer_id"], username=f"inv{ids['customer_id']}",
                                  display_name="Buyer", token_hash=f"{ids['customer_id']:064d}",
                                  expires_at=utcnow() + timedelta(hours=1))
    user = User(username=f"portal{ids['customer_id']}", display_name="Buyer", role="customer",
                customer_id=ids["customer_id"], password_hash="x")
    db.session.add_all([invitation, user])
    db.session.flush()
    return {"invitation_id": invitation.id, "portal_user_id": user.id}
