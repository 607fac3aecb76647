"""The product catalogue: list with search, active filter and pages; create and edit for managers; prices exact."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog, Product
from portal.products import services

VALID = {"code": "V-100", "name": "闸阀", "unit": "set", "currency": "CNY", "active": "y"}


@pytest.fixture
def make_product(app):
    def make(code, **fields):
        with app.app_context():
            product = Product(code=code, name=fields.pop("name", f"产品{code}"), **fields)
            db.session.add(product)
            db.session.commit()
            return product.id

    return make


def _products(app):
    with app.app_context():
        return db.session.scalars(select(Product).order_by(Product.id)).all()


@pytest.mark.parametrize("text, value", [("12.5", "12.5"), ("１２．５", "12.5"), ("1,234.5678", "1234.5678"),
                                         ("0", "0"), (" 7 ", "7")])
def test_prices_are_read_exactly(text, value):
    assert services.parse_decimal(text) == Decimal(value)


@pytest.mark.parametrize("text", ["1,5", "12.5.1", "abc", "NaN", "Infinity", "1e-99999", "1e99999", "0x10"])
def test_unreadable_numbers_are_refused(text):
    assert services.parse_decimal(text) is None


def test_manager_creates_a_product_with_a_four_place_price(app, client, login_as):
    login_as("manager", locale="en")
    response = client.post("/products/new", data={**VALID, "code": " V-100 ", "default_price": "0.3333",
                                                  "specification": "DN50"})
    assert response.status_code == 303
    product = _products(app)[0]
    assert (product.code, product.default_price, product.unit, product.active) == (
        "V-100", Decimal("0.3333"), "set", True)
    with app.app_context():
        assert db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "Product", AuditLog.action == "create"))
    assert "0.3333" in client.get("/products/").get_data(as_text=True)


@pytest.mark.parametrize("data, field, message", [
    ({"default_price": "0.12345"}, "default_price", "at most 4 decimal places"),
    ({"default_price": "-1"}, "default_price", "zero or more"),
    ({"default_price": "abc"}, "default_price", "zero or more"),
    ({"default_price": "NaN"}, "default_price", "zero or more"),
    ({"default_price": "99999999999"}, "default_price", "zero or more"),
    ({"code": ""}, "code", "required"),
    ({"name": "   "}, "name", "required"),
    ({"currency": "XXX"}, "currency", "Not a valid choice"),
])
def test_bad_product_is_422_with_values_kept_and_nothing_saved(app, client, login_as, data, field, message):
    login_as("admin", locale="en")
    response = client.post("/products/new", data={**VALID, "specification": "保留规格", **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and f'id="{field}-error"' in html and 'value="保留规格"' in html
    assert _products(app) == []


def test_product_codes_are_unique_ignoring_case(app, client, login_as, make_product):
    login_as("manager", locale="en")
    make_product("V-100")
    response = client.post("/products/new", data={**VALID, "code": "v-100"})
    assert response.status_code == 422 and "already used" in response.get_data(as_text=True)
    assert len(_products(app)) == 1


def test_edit_changes_the_product_and_is_audited(app, client, login_as, make_product):
    login_as("manager", locale="en")
    product_id = make_product("V-100", default_price=Decimal("100.0000"))
    form = client.get(f"/products/{product_id}/edit").get_data(as_text=True)
    assert 'value="100"' in form
    response = client.post(f"/products/{product_id}/edit", data={**VALID, "default_price": "99.5", "active": ""})
    assert response.status_code == 303
    product = _products(app)[0]
    assert product.default_price == Decimal("99.5") and product.active is False
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "update"))
        assert entry.changes["default_price"] == ["100.0000", "99.5000"]
    assert client.get("/products/99999999999999999999/edit").status_code == 404


def test_list_search_active_filter_and_pages(app, client, login_as, make_product):
    login_as("sales", locale="en")
    for i in range(32):
        make_product(f"P{i:03d}", name=f"螺栓{i}", active=i != 5)
    make_product("X-1", name="Ball valve", name_en="Ball valve EN")
    html = client.get("/products/").get_data(as_text=True)
    assert "33 products" in html and "P000" in html and "P031" not in html and "page=2" in html
    assert "Edit" not in html and "/products/new" not in html  # salespeople read the catalogue only
    assert "P031" in client.get("/products/?page=2").get_data(as_text=True)
    found = client.get("/products/?q=ball", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in found and "X-1" in found and "P000" not in found
    inactive = client.get("/products/?active=0").get_data(as_text=True)
    assert "1 products" in inactive and "P005" in inactive
    assert "32 products" in client.get("/products/?active=1").get_data(as_text=True)


def test_customers_and_service_cannot_edit(client, login_as, make_product):
    product_id = make_product("V-1")
    login_as("service")
    assert client.get("/products/").status_code == 200
    assert client.post(f"/products/{product_id}/edit", data=VALID).status_code == 404
