"""Access tables of the quotations area (checked by tests/test_access.py for every role)."""
from decimal import Decimal

STAFF = ("admin", "manager", "sales", "service")
WRITERS = ("admin", "manager", "sales")

GET_ACCESS = {
    "/quotes/": STAFF,
    "/quotes/new": WRITERS,
    "/quotes/{quote_id}": STAFF,
    "/quotes/{quote_id}/items/fill": WRITERS,
}
POST_ACCESS = {
    "/quotes/new": WRITERS,
    "/quotes/{quote_id}/header": WRITERS,
    "/quotes/{quote_id}/items": WRITERS,
    "/quotes/{quote_id}/items/{quote_item_id}": WRITERS,
    "/quotes/{quote_id}/items/{quote_item_id}/delete": WRITERS,
    "/quotes/{quote_id}/action/submit": WRITERS,
}


def make_records(owner, ids):
    """A draft quotation of the customer with one line."""
    from portal import numbering
    from portal.extensions import db
    from portal.models import Quote, QuoteItem

    quote = Quote(number=numbering.next_number("quote", 2026), customer_id=ids["customer_id"], currency="CNY",
                  created_by_id=owner)
    quote.items.append(QuoteItem(position=1, description="不锈钢阀门", quantity=Decimal("10"), unit="pcs",
                                 unit_price=Decimal("12.5")))
    db.session.add(quote)
    db.session.flush()
    return {"quote_id": quote.id, "quote_item_id": quote.items[0].id}
