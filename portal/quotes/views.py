"""Quotation pages: list and search, new, and the quotation with its lines edited in place (htmx) and its
next allowed actions. Every rule lives in services.py; these views parse, call, commit once, render."""
from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..auth.access import role_required, staff_required
from ..customers.access import visible_customers
from ..customers.services import normalise, salespeople
from ..extensions import db
from ..i18n import local_today
from ..models import Customer, Product, Quote, QuoteItem, Role
from ..products.services import choice_label, pickable
from ..web import apply_errors, is_htmx, render, see_other
from ..workflow import TransitionError
from . import bp, services
from .access import get_quote_or_404, visible_quotes
from .forms import ActionForm, FilterForm, HeaderForm, ItemForm, NewQuoteForm, VersionForm

PER_PAGE = 25
CUSTOMER_OPTIONS = 30
writers = role_required(Role.ADMIN, Role.MANAGER, Role.SALES)


@bp.app_template_global()
def quote_state_label(state: str) -> str:
    return str(services.STATE_LABELS.get(state, state))


def _load(quote_id: int) -> Quote:
    """The quotation in the user's scope (404 otherwise), its lines and their products loaded at once."""
    quote = get_quote_or_404(quote_id, current_user)
    db.session.scalars(select(Quote).where(Quote.id == quote.id)
                       .options(selectinload(Quote.items), selectinload(Quote.customer).selectinload(Customer.owner),
                                selectinload(Quote.approved_by))).all()
    return quote


# List and creation

@bp.get("/")
@staff_required
def index():
    """Quotations the user may see: search by number or customer, filters, pages; the rows alone for htmx."""
    form = FilterForm(request.args)
    form.state.choices = [("", _("All statuses"))] + [(k, str(v)) for k, v in services.STATE_LABELS.items()]
    form.owner.choices = [("", _("All salespeople"))] + [(str(u.id), u.display_name) for u in salespeople()]
    filters = form.data if form.validate() else {}
    stmt = services.search(current_user, filters).options(
        contains_eager(Quote.customer).selectinload(Customer.owner), selectinload(Quote.items))
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("quotes/index.html", "quotes/_list.html", form=form, page=page, args=args, today=local_today(),
                  soon=services.EXPIRING_DAYS)


def _customer_options(text: str) -> list[Customer]:
    """Customers of the user matching `text` (code or name), for the picker's suggestions."""
    stmt = visible_customers(current_user)
    text = normalise(text)[:60].lower()
    if text:
        like = f"%{text}%"
        stmt = stmt.where(or_(func.lower(Customer.code).like(like), func.lower(Customer.name).like(like),
                              func.lower(Customer.name_en).like(like)))
    return db.session.scalars(stmt.order_by(Customer.updated_at.desc()).limit(CUSTOMER_OPTIONS)).all()


@bp.route("/new", methods=["GET", "POST"])
@writers
def new():
    """A new draft for one of the user's customers (?customer=<id> preselects it)."""
    form = NewQuoteForm()
    chosen_customer = None
    if request.method == "GET":
        if is_htmx() and "customer_code" in request.args:  # the picker's suggestions while typing
            return render("quotes/new.html", "quotes/_customer_options.html",
                          customers=_customer_options(request.args.get("customer_code", "")))
        chosen = request.args.get("customer", "")
        if chosen.isdigit() and len(chosen) < 10:
            customer = db.session.scalar(visible_customers(current_user).where(Customer.id == int(chosen)))
            if customer is not None:
                form.customer_code.data = customer.code
                form.currency.data = customer.currency or "CNY"
                chosen_customer = customer
    elif form.validate_on_submit():
        try:
            quote = services.create_quote(form.data, current_user)
        except services.QuoteError as error:
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            flash(_("Quotation %(number)s created. Add its lines.", number=quote.number), "success")
            return see_other(url_for("quotes.detail", quote_id=quote.id) + "#items")
    return render("quotes/new.html", form=form, customers=_customer_options(""), chosen=chosen_customer,
                  status=422 if form.is_submitted() else 200)


# The quotation

def _product_choices(include_id: int | None = None):
    return [("", _("Free text (no catalogue product)"))] + [(str(p.id), choice_label(p)) for p in pickable(include_id)]


def _item_form(item: QuoteItem | None = None, posted: bool = False) -> ItemForm:
    """The line editor: from the posted form, or blank / filled from `item`."""
    if posted:
        form = ItemForm()
    else:
        form = ItemForm(formdata=None, obj=item)
        if item is not None:
            form.product_id.data = str(item.product_id or "")
            form.quantity.data = f"{item.quantity.normalize():f}"
            form.unit_price.data = f"{item.unit_price.normalize():f}"
    form.product_id.choices = _product_choices(item.product_id if item else None)
    return form


def _context(quote: Quote, *, editing=None, header_form=None, item_form=None, action_errors=None,
             notices=()) -> dict:
    """Everything the quotation fragment shows; forms passed in carry the user's values and errors."""
    editable = services.may_edit(current_user, quote) and not services.is_locked(quote)
    if editing == "header" and header_form is None:  # fresh forms carry the version read now; posted ones
        header_form = HeaderForm(formdata=None, obj=quote, version=quote.version)  # keep theirs
    edited_item = next((i for i in quote.items if i.id == editing), None) if isinstance(editing, int) else None
    if item_form is None and editable and (edited_item is not None or editing is None):
        item_form = _item_form(edited_item)
        item_form.version.data = quote.version
    copied_from = (db.session.scalar(visible_quotes(current_user).where(Quote.id == quote.copied_from_id))
                   if quote.copied_from_id else None)
    sample_url = (url_for("samples.detail", sample_id=quote.sample_id)
                  if quote.sample_id and "samples.detail" in current_app.view_functions else None)
    return {
        "quote": quote, "editable": editable, "editing": editing if editable else None,
        "header_form": header_form if editable else None, "item_form": item_form if editable else None,
        "actions": services.allowed_actions(quote, current_user),
        "action_form": ActionForm(formdata=None), "action_errors": action_errors or {},
        "version_form": VersionForm(formdata=None),
        "copied_from": copied_from, "sample_url": sample_url, "today": local_today(),
        "history": db.session.scalars(audit.history(quote).limit(50)).all(), "notices": notices,
    }


def _show(quote: Quote, status: int = 200, **kwargs):
    return render("quotes/detail.html", "quotes/_quote.html", status=status, **_context(quote, **kwargs))


@bp.get("/<int:quote_id>")
@staff_required
def detail(quote_id: int):
    """The quotation: header, lines and totals, next actions, history; ?edit=header or ?edit=<line id>."""
    quote = _load(quote_id)
    edit = request.args.get("edit", "")
    editing = "header" if edit == "header" else int(edit) if edit.isdigit() and len(edit) < 10 else None
    return _show(quote, editing=editing)


def _save(quote_id: int, change, form, *, editing=None, form_name: str, done: str, anchor: str = "#items"):
    """Run one change of the header or lines and commit. Refused input re-renders with the errors (422); a
    save over someone else's newer save, or on a quotation that went out, is refused with the reason (409;
    422 for htmx, which swaps only that); a change after approval says it needs approval again."""
    quote = _load(quote_id)
    version = form.version.data or None
    if form.validate_on_submit():
        try:
            reopened = change(quote, version)
            db.session.commit()
        except (services.QuoteError, TransitionError, StaleDataError) as error:
            db.session.rollback()
            quote = _load(quote_id)
            if isinstance(error, StaleDataError):
                error = services.ConflictError(services.changed_since(quote, int(version or 0)))
            if isinstance(error, (TransitionError, services.ConflictError)):
                message = error.errors[""] if isinstance(error, services.ConflictError) else str(error)
                return _show(quote, status=422 if is_htmx() else 409, notices=[("error", message)])
            apply_errors(form, error.errors)
        else:
            messages = [("success", done)]
            if reopened:
                messages.append(("warning", _("The quotation was changed after it was submitted or approved: it is "
                                              "back to draft and needs a manager's approval again.")))
            if is_htmx():
                return _show(_load(quote_id), notices=messages)
            for category, message in messages:
                flash(message, category)
            return see_other(url_for("quotes.detail", quote_id=quote_id) + anchor)
    db.session.rollback()
    return _show(_load(quote_id), status=422, editing=editing, **{form_name: form})


@bp.post("/<int:quote_id>/header")
@writers
def header(quote_id: int):
    """Save currency, validity, Incoterm, port, terms and notes."""
    form = HeaderForm()
    return _save(quote_id, lambda quote, version: services.update_header(quote, form.data, current_user, version)[1],
                 form, editing="header", form_name="header_form", done=_("Quotation saved."), anchor="")


def _item_data(form: ItemForm) -> dict:
    return {name: form[name].data for name in ("product_id", "description", "specification", "quantity", "unit",
                                                "unit_price")}


def _item_or_404(quote: Quote, item_id: int) -> QuoteItem:
    item = next((i for i in quote.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


@bp.post("/<int:quote_id>/items")
@writers
def item_add(quote_id: int):
    """Add a line (a catalogue product fills what was left empty)."""
    form = _item_form(posted=True)
    return _save(quote_id, lambda quote, version: services.add_item(quote, _item_data(form), current_user,
                                                                     version)[1],
                 form, form_name="item_form", done=_("Line added."))


@bp.post("/<int:quote_id>/items/<int:item_id>")
@writers
def item_update(quote_id: int, item_id: int):
    """Save a line."""
    _item_or_404(_load(quote_id), item_id)
    form = _item_form(posted=True)

    def change(quote, version):
        return services.update_item(_item_or_404(quote, item_id), _item_data(form), current_user, version)[1]

    return _save(quote_id, change, form, editing=item_id, form_name="item_form", done=_("Line saved."))


@bp.post("/<int:quote_id>/items/<int:item_id>/delete")
@writers
def item_delete(quote_id: int, item_id: int):
    """Remove a line."""
    _item_or_404(_load(quote_id), item_id)
    form = VersionForm()
    return _save(quote_id, lambda quote, version: services.remove_item(_item_or_404(quote, item_id), current_user,
                                                                       version),
                 form, form_name="version_form", done=_("Line removed."))


@bp.get("/<int:quote_id>/items/fill")
@writers
def item_fill(quote_id: int):
    """The description, specification, unit and price fields filled from the chosen product (htmx)."""
    quote = _load(quote_id)
    if not services.may_edit(current_user, quote):
        abort(404)
    chosen = request.args.get("product_id", "")
    product = db.session.get(Product, int(chosen)) if chosen.isdigit() and len(chosen) < 10 else None
    form = ItemForm(formdata=None)
    form.process(request.args)  # free text keeps what was typed
    if product is not None:
        form.description.data = product.name
        form.specification.data = product.specification
        form.unit.data = product.unit
        if product.default_price is not None and product.currency == quote.currency:
            form.unit_price.data = f"{product.default_price.normalize():f}"
    return render("quotes/_item_fill.html", item_form=form, product=product, quote=quote)


@bp.post("/<int:quote_id>/action/<name>")
@writers
def action(quote_id: int, name: str):
    """A transition of the state table (or copy, convert); anything the table refuses answers 409, a missing
    reason 422, and nothing changes."""
    quote = _load(quote_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _show(quote, status=422, action_errors={name: next(iter(form.errors.values()))[0]})
    try:
        result = services.transition(quote, name, current_user, form.data, form.version.data or None)
        db.session.commit()
    except (services.QuoteError, TransitionError, StaleDataError) as error:
        db.session.rollback()
        quote = _load(quote_id)
        if isinstance(error, StaleDataError):
            error = services.ConflictError(services.changed_since(quote, int(form.version.data or 0)))
        if isinstance(error, services.ConflictError):
            flash(error.errors[""], "error")
            return _show(quote, status=409)
        if isinstance(error, services.QuoteError):
            return _show(quote, status=422, action_errors={name: error.errors.get("reason") or str(error)})
        flash(str(error), "error")
        return _show(quote, status=409)
    if isinstance(result, Quote) and result.id != quote.id:
        flash(_("Quotation %(number)s created as a copy of %(source)s. It is a draft and needs approval before it "
                "goes out.", number=result.number, source=quote.number), "success")
        return see_other(url_for("quotes.detail", quote_id=result.id))
    if not isinstance(result, Quote):
        flash(_("Order %(number)s created from quotation %(quote)s.", number=result.number, quote=quote.number),
              "success")
        return see_other(url_for("orders.detail", order_id=result.id))
    flash(_("Quotation %(number)s: %(state)s.", number=quote.number, state=quote_state_label(quote.state)),
          "success")
    return see_other(url_for("quotes.detail", quote_id=quote.id))
