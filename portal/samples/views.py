"""Sample request pages (打样单): list, board, new, the sheet with its next actions, edit, photos."""
from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from .. import attachments, audit, uploads
from ..auth.access import role_required, staff_required
from ..customers.access import get_customer_or_404
from ..customers.services import salespeople
from ..extensions import db
from ..i18n import local_today
from ..models import Order, Quote, Role
from ..web import apply_errors, is_htmx, render, see_other
from ..workflow import TransitionError
from . import bp, services
from .access import get_sample_or_404, owns
from .forms import (EVALUATION_LABELS, STATE_LABELS, TERMS_LABELS, BoardForm, FilterForm, PhotoForm, SampleForm,
                    action_form)

PER_PAGE = 25
sales_side = role_required(Role.ADMIN, Role.MANAGER, Role.SALES)


@bp.app_template_global()
def sample_labels():
    return {"state": STATE_LABELS, "terms": TERMS_LABELS, "evaluation": EVALUATION_LABELS}


def _owner_choices(blank):
    return [("", blank)] + [(str(u.id), u.display_name) for u in salespeople()]


# List and board

@bp.get("/")
@staff_required
def index():
    """The list: active search, filters, pages; the rows alone for htmx."""
    form = FilterForm(request.args)
    form.owner.choices = _owner_choices(_("All salespeople"))
    filters = form.data if form.validate() else {}
    today = local_today()
    page = db.paginate(services.search(current_user, filters, today), page=request.args.get("page", 1, type=int),
                       per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("samples/index.html", "samples/_list.html", form=form, page=page, args=args, today=today,
                  is_overdue=services.is_overdue)


@bp.get("/board")
@staff_required
def board():
    """Open samples in columns by state, overdue ones marked."""
    form = BoardForm(request.args)
    form.owner.choices = _owner_choices(_("All salespeople"))
    owner = services.record_id(form.owner.data) if form.validate() else None
    return render("samples/board.html", form=form, columns=services.board(current_user, owner),
                  today=local_today(), is_overdue=services.is_overdue)


# The sheet

def _form(**kwargs) -> SampleForm:
    form = SampleForm(**kwargs)
    form.product_id.choices = [("", "—")] + [(str(p.id), f"{p.code} {p.name}") for p in services.active_products()]
    return form


def _add_rule_errors(form, user, current=None) -> None:
    """After WTForms refused the form, run the sheet's own checks too, so every problem shows at once."""
    try:
        services.clean(form.data, user, current=current)
    except services.SampleError as error:
        apply_errors(form, {f: m for f, m in error.errors.items()
                            if not getattr(getattr(form, f, None), "errors", None)})


@bp.route("/new", methods=["GET", "POST"])
@sales_side
def new():
    """A new draft sheet; ?customer=<id> preselects one of the user's customers."""
    form = _form()
    if request.method == "GET" and request.args.get("customer"):
        customer_id = services.record_id(request.args["customer"]) or abort(404)
        form.customer_code.data = get_customer_or_404(customer_id, current_user).code
    if form.validate_on_submit():
        try:
            sample = services.create_sample(form.data, current_user)
        except services.SampleError as error:
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            flash(_("Sample request %(number)s created.", number=sample.number), "success")
            return see_other(url_for("samples.detail", sample_id=sample.id))
    elif form.is_submitted():
        _add_rule_errors(form, current_user)
    return render("samples/form.html", form=form, sample=None, status=422 if form.is_submitted() else 200)


@bp.route("/<int:sample_id>/edit", methods=["GET", "POST"])
@sales_side
def edit(sample_id: int):
    """Edit a draft; a save over someone else's newer save is refused and says what changed."""
    sample = get_sample_or_404(sample_id, current_user)
    if not services.editable(sample, current_user):
        if request.method == "POST":
            return _refused(sample_id, _("Only a draft can be edited."))
        flash(_("Only a draft can be edited."), "error")
        return see_other(url_for("samples.detail", sample_id=sample.id))
    form = _form(obj=sample)
    if request.method == "GET":
        form.version.data = sample.version
        form.customer_code.data = sample.customer.code
        form.product_id.data = str(sample.product_id or "")
    if form.validate_on_submit():
        try:
            services.update_sample(sample, form.data, current_user, request.form.get("version", type=int))
            db.session.commit()
        except TransitionError as error:
            db.session.rollback()
            flash(str(error), "error")
            return see_other(url_for("samples.detail", sample_id=sample_id))
        except services.SampleError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
            status = 409 if isinstance(error, services.ConflictError) else 422
            return render("samples/form.html", form=form, sample=get_sample_or_404(sample_id, current_user),
                          status=status)
        except StaleDataError:
            db.session.rollback()
            form.form_errors.append(_("Someone else saved this sample request at the same time. Reload and "
                                      "apply your change again."))
            return render("samples/form.html", form=form, sample=get_sample_or_404(sample_id, current_user),
                          status=409)
        flash(_("Sample request %(number)s saved.", number=sample.number), "success")
        return see_other(url_for("samples.detail", sample_id=sample.id))
    if form.is_submitted():
        _add_rule_errors(form, current_user, current=sample)
    return render("samples/form.html", form=form, sample=sample, status=422 if form.is_submitted() else 200)


def _context(sample, forms=None, message=None, error=False):
    """Everything the sheet shows; `forms` replaces the blank form of an action that failed."""
    forms = forms or {}
    actions = services.allowed(sample, current_user)
    today = local_today()
    defaults = {"receive": {"received_on": today}}
    action_forms = {t.name: forms.get(t.name) or action_form(t.name, formdata=None, **defaults.get(t.name, {}))
                    for t in actions}
    return {
        "sample": sample, "actions": actions, "action_forms": action_forms, "message": message,
        "status_error": error,
        "quote": db.session.get(Quote, sample.quote_id) if sample.quote_id else None,
        "order": db.session.get(Order, sample.order_id) if sample.order_id else None,
        "editable": services.editable(sample, current_user),
        "may_act": current_user.role in services.STAFF and owns(current_user, sample),
        "photo_form": forms.get("photo") or PhotoForm(formdata=None),
        "photos_allowed": services.photos_allowed(sample, current_user),
        "photos": attachments.of(sample), "overdue": services.is_overdue(sample, today),
        "steps": services.STEPS, "quote_link": "quotes.detail" in current_app.view_functions,
        "history": db.session.scalars(audit.history(sample).limit(50)).all(),
    }


def _sheet(sample, status=200, **context):
    return render("samples/detail.html", "samples/_sample.html", status=status, **_context(sample, **context))


@bp.get("/<int:sample_id>")
@staff_required
def detail(sample_id: int):
    """The sheet: state, next actions, approval, photos, evaluation, links, history."""
    return _sheet(get_sample_or_404(sample_id, current_user))


@bp.post("/<int:sample_id>/action/<name>")
@sales_side
def action(sample_id: int, name: str):
    """Take one transition; refused (409) when not allowed now, 422 when a value is missing or wrong."""
    sample = get_sample_or_404(sample_id, current_user)
    form = action_form(name)
    data = request.form.to_dict()
    try:
        created = services.perform(sample, name, data, current_user)
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        return _refused(sample_id, str(error))
    except services.SampleError as error:
        db.session.rollback()
        apply_errors(form, error.errors)
        return _sheet(get_sample_or_404(sample_id, current_user), status=422, forms={name: form})
    except StaleDataError:
        db.session.rollback()
        return _refused(sample_id, _("Someone else changed this sample request at the same time. Reload and "
                                     "try again."))
    if created is not None:
        message = _("%(number)s created from this sample.", number=created.number)
    else:
        message = _("Sample request %(number)s: %(state)s.", number=sample.number,
                    state=STATE_LABELS.get(sample.state, sample.state))
    if is_htmx():
        return _sheet(sample, message=message)
    flash(message, "success")
    return see_other(url_for("samples.detail", sample_id=sample.id))


def _refused(sample_id: int, message: str):
    """409: the page again with the reason, nothing changed. htmx does not swap a 409, so it is told to load
    the sheet afresh, which shows the reason."""
    response = _sheet(get_sample_or_404(sample_id, current_user), status=409, message=message, error=True)
    if is_htmx():
        flash(message, "error")
        response.headers["HX-Redirect"] = url_for("samples.detail", sample_id=sample_id)
    return response


@bp.post("/<int:sample_id>/seen")
@sales_side
def seen(sample_id: int):
    """The salesperson has read the evaluation the buyer gave in the portal."""
    sample = get_sample_or_404(sample_id, current_user)
    try:
        services.mark_evaluation_seen(sample, current_user)
    except TransitionError as error:
        return _refused(sample_id, str(error))
    db.session.commit()
    return see_other(url_for("samples.detail", sample_id=sample.id) + "#evaluation")


# Photos

@bp.post("/<int:sample_id>/photos")
@sales_side
def photo_add(sample_id: int):
    """Attach an inspection photo or PDF (checked by content and size, stored privately)."""
    sample = get_sample_or_404(sample_id, current_user)
    form = PhotoForm()
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise uploads.UploadError(_("Choose a file."))
        services.add_photo(sample, upload, current_user, customer_visible=form.customer_visible.data)
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        return _refused(sample_id, str(error))
    except uploads.UploadError as error:
        db.session.rollback()
        form.file.errors = [str(error)]
        return _sheet(get_sample_or_404(sample_id, current_user), status=422, forms={"photo": form})
    flash(_("Photo added."), "success")
    return see_other(url_for("samples.detail", sample_id=sample.id) + "#photos")


@bp.get("/<int:sample_id>/photos/<int:attachment_id>")
@staff_required
def photo(sample_id: int, attachment_id: int):
    """A photo of the sample, only for users who may see the sample."""
    sample = get_sample_or_404(sample_id, current_user)
    found = attachments.get_for(sample, attachment_id)
    if found is None:
        abort(404)
    return attachments.send(found, download=request.args.get("download") == "1")
