"""Access tables of the product catalogue (checked by tests/test_access.py for every role)."""
STAFF = ("admin", "manager", "sales", "service")
EDITORS = ("admin", "manager")

GET_ACCESS = {
    "/products/": STAFF,
    "/products/new": EDITORS,
    "/products/{product_id}/edit": EDITORS,
}
POST_ACCESS = {
    "/products/new": EDITORS,
    "/products/{product_id}/edit": EDITORS,
}


def make_records(owner, ids):
    """One catalogue entry (products belong to no customer)."""
    from portal.extensions import db
    from portal.models import Product

    product = Product(code=f"P-{ids['customer_id']}", name="不锈钢阀门", unit="pcs")
    db.session.add(product)
    db.session.flush()
    return {"product_id": product.id}
