"""Product catalogue pages: the list for all staff; new and edit for managers and admins."""
from decimal import Decimal

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import role_required, staff_required
from ..extensions import db
from ..models import Product, Role
from ..web import apply_errors, render, see_other
from . import bp, services
from .forms import FilterForm, ProductForm

PER_PAGE = 30
EDITORS = (Role.ADMIN.value, Role.MANAGER.value)


@bp.app_template_filter("price4")
def price4(value) -> str:
    """A unit price: two decimals at least, up to four when they matter (0.3333, 12.50)."""
    if value is None:
        return ""
    value = Decimal(value)
    places = min(max(services.places_needed(value), 2), 4)
    return f"{value:,.{places}f}"


@bp.app_template_filter("qty3")
def qty3(value) -> str:
    """A quantity without trailing zeros (1,000 or 2.5)."""
    if value is None:
        return ""
    value = Decimal(value)
    places = min(services.places_needed(value), 3)
    return f"{value:,.{places}f}"


@bp.app_template_filter("money2")
def money2(value) -> str:
    """An amount in cents, with thousands separators."""
    return "" if value is None else f"{Decimal(value):,.2f}"


def _add_rule_errors(form) -> None:
    """After WTForms refused the form, add the catalogue's own checks, so every problem shows at once."""
    try:
        services.clean(form.data)
    except services.ProductError as error:
        apply_errors(form, {f: m for f, m in error.errors.items() if not getattr(form, f).errors})


@bp.get("/")
@staff_required
def index():
    """The catalogue: search by code or name, pages; the rows alone for htmx."""
    form = FilterForm(request.args)
    filters = form.data if form.validate() else {}
    page = db.paginate(services.search(filters), page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("products/index.html", "products/_list.html", form=form, page=page, args=args,
                  can_edit=current_user.role in EDITORS)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MANAGER)
def new():
    """A new catalogue entry."""
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = services.create_product(form.data, current_user)
        except services.ProductError as error:
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            flash(_("Product %(code)s created.", code=product.code), "success")
            return see_other(url_for("products.index", q=product.code))
    elif form.is_submitted():
        _add_rule_errors(form)
    return render("products/form.html", form=form, product=None, status=422 if form.is_submitted() else 200)


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MANAGER)
def edit(product_id: int):
    """Change a catalogue entry (quotations keep the values they were written with)."""
    product = db.session.get(Product, product_id) if product_id < 2**31 else None
    if product is None:
        abort(404)
    form = ProductForm(obj=product)
    if request.method == "GET" and product.default_price is not None:
        form.default_price.data = f"{product.default_price.normalize():f}"
    if form.validate_on_submit():
        try:
            services.update_product(product, form.data, current_user)
        except services.ProductError as error:
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            flash(_("Product %(code)s saved.", code=product.code), "success")
            return see_other(url_for("products.index", q=product.code))
    elif form.is_submitted():
        _add_rule_errors(form)
    return render("products/form.html", form=form, product=product, status=422 if form.is_submitted() else 200)
