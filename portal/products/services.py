"""Rules of the product catalogue: validation, unique codes, the list, the picker for quotation lines."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from .. import audit
from ..customers.services import normalise
from ..extensions import db
from ..models import CURRENCIES, Product, User

PRICE_PLACES = 4  # UnitPrice is Numeric(14, 4)
PRICE_LIMIT = Decimal("1e10")
THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


class ProductError(ValueError):
    """Refused input: {field: message} for the form (field "" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def parse_decimal(value) -> Decimal | None:
    """A finite Decimal from form data (Decimal, int or text; full-width digits allowed), else None."""
    if value is None or value == "":
        return None
    if isinstance(value, float):  # never trust binary floats with money
        value = repr(value)
    text = normalise(str(value))
    if "," in text:  # thousands separators only: "1,5" is refused rather than read as 15
        if not THOUSANDS.fullmatch(text):
            return None
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not -30 < number.adjusted() < 30:  # absurd exponents are typing mistakes
        return None
    return number


def places_needed(value: Decimal) -> int:
    """The decimal places `value` needs, trailing zeros ignored (1.50 needs one); exact, no rounding."""
    _sign, digits, exponent = value.as_tuple()
    digits = list(digits)
    while exponent < 0 and digits and digits[-1] == 0:
        digits.pop()
        exponent += 1
    return -exponent if digits and exponent < 0 else 0


def check_price(value, errors: dict, field: str, required: bool = False) -> Decimal | None:
    """A unit price: zero or more, at most four decimal places; problems go into `errors`."""
    if value is None or value == "":
        if required:
            errors[field] = _("Enter a price.")
        return None
    price = parse_decimal(value)
    if price is None or price < 0 or price >= PRICE_LIMIT:
        errors[field] = _("Enter a price of zero or more.")
        return None
    if places_needed(price) > PRICE_PLACES:
        errors[field] = _("A price has at most %(n)d decimal places.", n=PRICE_PLACES)
        return None
    return price.quantize(Decimal(1).scaleb(-PRICE_PLACES))


def clean(data: dict) -> dict:
    """Normalised values of a product form; ProductError lists every problem at once."""
    errors = {}
    values = {field: normalise(data.get(field)) or None for field in ("code", "name", "name_en", "specification")}
    if not values["code"]:
        errors["code"] = _("The product code is required.")
    if not values["name"]:
        errors["name"] = _("The product name is required.")
    values["unit"] = normalise(data.get("unit")) or "pcs"
    values["default_price"] = check_price(data.get("default_price"), errors, "default_price")
    currency = (data.get("currency") or "").strip()
    if currency not in CURRENCIES:
        errors["currency"] = _("Choose a currency.")
    values["currency"] = currency
    values["active"] = bool(data.get("active"))
    if errors:
        raise ProductError(errors)
    return values


def _code_taken(code: str, exclude_id: int | None = None) -> bool:
    stmt = select(Product.id).where(func.lower(Product.code) == code.lower())
    if exclude_id:
        stmt = stmt.where(Product.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


def create_product(data: dict, user: User) -> Product:
    """A new catalogue entry; the code must be unique (case-insensitive)."""
    values = clean(data)
    if _code_taken(values["code"]):
        raise ProductError({"code": _("This product code is already used.")})
    product = Product(**values)
    db.session.add(product)
    db.session.flush()
    audit.record("create", product, summary=f"{product.code} {product.name}", user=user)
    return product


def update_product(product: Product, data: dict, user: User) -> dict:
    """Save changes to a catalogue entry; lines already quoted keep their own copies of the values."""
    values = clean(data)
    if _code_taken(values["code"], exclude_id=product.id):
        raise ProductError({"code": _("This product code is already used.")})
    changes = audit.apply_changes(product, values)
    if changes:
        audit.record("update", product, changes=changes, summary=product.code, user=user)
    return changes


def search(filters: dict):
    """The product list: text search on code and names, active filter, by code."""
    stmt = select(Product)
    q = normalise(filters.get("q"))[:100]
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Product.code).like(like), func.lower(Product.name).like(like),
                              func.lower(Product.name_en).like(like)))
    if filters.get("active") in ("0", "1"):
        stmt = stmt.where(Product.active.is_(filters["active"] == "1"))
    return stmt.order_by(Product.code, Product.id)


def pickable(include_id: int | None = None) -> list[Product]:
    """Active products for the product select of a quotation line (plus the line's own, if inactive)."""
    condition = Product.active.is_(True)
    if include_id:
        condition = or_(condition, Product.id == include_id)
    return db.session.scalars(select(Product).where(condition).order_by(Product.code)).all()


def choice_label(product: Product) -> str:
    label = f"{product.code} · {product.name}"
    if product.specification:
        label += f" · {product.specification}"
    return label
