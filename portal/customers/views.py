"""Customer archive pages: list and search, record, contacts, contact log, edit, Excel."""
import io

from flask import abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..auth.access import role_required, staff_required
from ..extensions import db
from ..i18n import local_today, translated
from ..models import Contact, ContactLog, Customer, Order, Quote, Role, SampleRequest, User
from ..web import apply_errors, is_htmx, render, safe_next, see_other
from . import bp, excel, services
from .access import can_edit, can_reassign, customer_scope_key, get_customer_or_404, get_editable_customer_or_404
from .forms import (GRADE_LABELS, LOG_KIND_LABELS, SOURCE_LABELS, STATUS_LABELS, ContactForm, CustomerForm,
                    FilterForm, LogForm, ReassignForm)

PER_PAGE = 25
LOG_SHOWN = 30


def _owner_choices(blank):
    return [("", blank)] + [(str(u.id), u.display_name) for u in services.salespeople()]


def _add_rule_errors(form) -> None:
    """After WTForms refused the form, add the archive's own checks too, so every problem shows at once."""
    try:
        services.clean(form.data)
    except services.CustomerError as error:
        apply_errors(form, {f: m for f, m in error.errors.items() if not getattr(form, f).errors})


# What customers/_list.html shows: the shown columns (a customer has ~30) and the salesperson's name, as plain
# rows (building fifty Customer objects cost more than the page's statements).
LIST_COLUMNS = (Customer.id, Customer.code, Customer.name, Customer.name_en, Customer.grade, Customer.status,
                Customer.country, Customer.phone, Customer.updated_at, User.display_name.label("owner_name"))


@bp.app_template_global()
def customer_labels():
    return {"grade": translated(GRADE_LABELS), "status": translated(STATUS_LABELS),
            "source": translated(SOURCE_LABELS), "log": translated(LOG_KIND_LABELS)}


@bp.get("/")
@staff_required
def index():
    """The archive: active search, filters, sortable columns, pages; the rows alone for htmx."""
    form = FilterForm(request.args)
    form.owner.choices = _owner_choices(_("All salespeople"))
    filters = form.data if form.validate() else {}
    page = services.list_page(current_user, filters, request.args.get("page", 1, type=int), PER_PAGE,
                              columns=LIST_COLUMNS)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("customers/index.html", "customers/_list.html", form=form, page=page, args=args,
                  sort=filters.get("sort") or "code")


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MANAGER, Role.SALES)
def new():
    """A new customer: salespeople create their own; managers choose the salesperson."""
    form = CustomerForm()
    form.owner_id.choices = _owner_choices(_("Not assigned"))
    if form.validate_on_submit():
        try:
            customer = services.create_customer(form.data, current_user)
        except services.CustomerError as error:
            db.session.rollback()  # the customer number goes back at once
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            flash(_("Customer %(code)s created.", code=customer.code), "success")
            return see_other(url_for("customers.detail", customer_id=customer.id))
    elif form.is_submitted():
        _add_rule_errors(form)
    return render("customers/form.html", form=form, customer=None, status=422 if form.is_submitted() else 200)


# The record page's statements, built once per worker and run with the customer's id (building and keying a
# statement costs more than running it): the latest log entries as the columns _log.html shows, the contact and
# the author by joins (selectin loads were two more statements), each row with the length of the whole log
# (a window count is taken before the limit).
_LOG = (select(ContactLog.at, ContactLog.kind, ContactLog.summary, ContactLog.next_step, ContactLog.next_date,
               ContactLog.done, Contact.name.label("contact_name"), User.display_name.label("user_name"),
               func.count().over().label("total"))
        .outerjoin(Contact, Contact.id == ContactLog.contact_id).outerjoin(User, User.id == ContactLog.user_id)
        .where(ContactLog.customer_id == bindparam("customer_id"))
        .order_by(ContactLog.at.desc(), ContactLog.id.desc()).limit(LOG_SHOWN))
BUSINESS_SHOWN = 8
_business_statements: dict[tuple, dict] = {}  # customer_scope_key -> the three statements of _business


def _detail_context(customer: Customer, contact_form=None, editing=None, log_form=None):
    editable = can_edit(current_user, customer)
    log_form = log_form or LogForm(formdata=None)
    log_form.contact_id.choices = [("", "—")] + [(str(c.id), c.name) for c in customer.contacts]
    logs = db.session.execute(_LOG, {"customer_id": customer.id}).all()
    log_total = logs[0].total if logs else 0
    reassign_form = None
    if can_reassign(current_user):
        reassign_form = ReassignForm(formdata=None, owner_id=str(customer.owner_id or ""))
        reassign_form.owner_id.choices = _owner_choices("—")
    return {
        "customer": customer, "editable": editable, "contact_form": contact_form, "editing": editing,
        "log_form": log_form, "logs": logs, "log_total": log_total, "reassign_form": reassign_form,
        "history": audit.recent(customer),
        "business": _business(customer),
        "portal": _portal(customer),
    }


def _portal(customer: Customer) -> dict | None:
    """Portal users and invitations of the customer, for managers and admins (who invite and disable)."""
    from ..models.base import utcnow
    from .. import mail
    from ..myportal import services as portal
    from ..myportal.forms import InviteForm

    if current_user.role not in portal.MANAGERS:
        return None
    return {"users": portal.portal_users(customer), "invitations": portal.invitations(customer), "now": utcnow(),
            "form": InviteForm(formdata=None, prefix="invite"), "hours": portal.INVITE_HOURS}


def _business(customer: Customer) -> dict:
    """The customer's latest samples, quotations and orders, each through its own scoped query, as the columns
    the page shows (entities of ~40 columns cost more to build than the page's rendering of them). The
    statements are built once per scope (customers.access.customer_scope_key: all that the scope depends on)."""
    key = customer_scope_key(current_user)
    statements = _business_statements.get(key)
    if statements is None:
        from ..orders.access import visible_orders
        from ..quotes.access import visible_quotes
        from ..samples.access import visible_samples

        def latest(stmt, model, *columns):
            return (stmt.with_only_columns(model.id, model.number, model.state, *columns)
                    .where(model.customer_id == bindparam("customer_id"))
                    .order_by(model.created_at.desc(), model.id.desc()).limit(BUSINESS_SHOWN))

        statements = _business_statements[key] = {
            "samples": latest(visible_samples(current_user), SampleRequest, SampleRequest.title,
                              SampleRequest.created_at),
            "quotes": latest(visible_quotes(current_user), Quote, Quote.currency, Quote.created_at),
            "orders": latest(visible_orders(current_user), Order, Order.contract_no, Order.currency,
                             Order.amount_total, Order.created_at)}
    return {name: db.session.execute(stmt, {"customer_id": customer.id}).all() for name, stmt in statements.items()}


@bp.get("/<int:customer_id>")
@staff_required
def detail(customer_id: int):
    """The record: overview, contacts, contact log, history."""
    customer = get_customer_or_404(customer_id, current_user)
    return render("customers/detail.html", **_detail_context(customer))


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(customer_id: int):
    """Edit the record; a save over someone else's newer save is refused and says what changed."""
    customer = get_editable_customer_or_404(customer_id, current_user)
    form = CustomerForm(obj=customer)
    form.owner_id.choices = _owner_choices(_("Not assigned"))
    if request.method == "GET":
        form.version.data = customer.version
        form.owner_id.data = str(customer.owner_id or "")
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            services.update_customer(customer, form.data, current_user, form.version.data or None)
            db.session.commit()
        except StaleDataError:
            # Read at the same version as a save another worker committed while this one waited for the row.
            db.session.rollback()
            apply_errors(form, services.stale(customer, int(form.version.data)).errors)
            status = 409
        except services.CustomerError as error:
            apply_errors(form, error.errors)
            status = 409 if isinstance(error, services.ConflictError) else 422
        else:
            flash(_("Customer %(code)s saved.", code=customer.code), "success")
            return see_other(url_for("customers.detail", customer_id=customer.id))
    elif form.is_submitted():
        _add_rule_errors(form)
    return render("customers/form.html", form=form, customer=customer, status=status)


@bp.post("/<int:customer_id>/reassign")
@staff_required
def reassign(customer_id: int):
    """A manager gives the customer to another salesperson."""
    customer = get_customer_or_404(customer_id, current_user)
    if not can_reassign(current_user):
        abort(404)
    form = ReassignForm()
    form.owner_id.choices = _owner_choices("—")
    if form.validate_on_submit():
        try:
            services.reassign(customer, form.owner_id.data, current_user)
        except services.CustomerError as error:
            flash(str(error), "error")
            return render("customers/detail.html", **_detail_context(customer), status=422)
        db.session.commit()
        flash(_("Customer %(code)s reassigned.", code=customer.code), "success")
        return see_other(url_for("customers.detail", customer_id=customer.id))
    return render("customers/detail.html", **_detail_context(customer), status=422)


# Contacts: one component; htmx swaps the section, without JavaScript the whole page is shown.

def _contacts_response(customer, contact_form=None, editing=None, status=200):
    return render("customers/detail.html", "customers/_contacts.html", status=status,
                  **_detail_context(customer, contact_form=contact_form, editing=editing))


def _contact_or_404(customer: Customer, contact_id: int) -> Contact:
    contact = db.session.scalar(select(Contact).where(Contact.id == contact_id, Contact.customer_id == customer.id))
    if contact is None:
        abort(404)
    return contact


@bp.get("/<int:customer_id>/contacts")
@staff_required
def contacts(customer_id: int):
    """The contacts section, optionally with the add form (?edit=new) or one row in edit (?edit=<id>)."""
    customer = get_customer_or_404(customer_id, current_user)
    edit = request.args.get("edit")
    if not edit:
        return _contacts_response(customer)
    if not can_edit(current_user, customer):
        abort(404)
    if edit == "new":
        return _contacts_response(customer, ContactForm(formdata=None), "new")
    if not edit.isdigit():
        abort(404)
    contact = _contact_or_404(customer, int(edit))
    return _contacts_response(customer, ContactForm(formdata=None, obj=contact), contact.id)


@bp.post("/<int:customer_id>/contacts")
@staff_required
def contact_add(customer_id: int):
    """Add a contact."""
    customer = get_editable_customer_or_404(customer_id, current_user)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.add_contact(customer, form.data)
        except services.CustomerError as error:
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            return _contacts_done(customer, _("Contact added."))
    return _contacts_response(customer, form, "new", status=422)


@bp.post("/<int:customer_id>/contacts/<int:contact_id>")
@staff_required
def contact_update(customer_id: int, contact_id: int):
    """Save a contact."""
    customer = get_editable_customer_or_404(customer_id, current_user)
    contact = _contact_or_404(customer, contact_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.update_contact(contact, form.data)
        except services.CustomerError as error:
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            return _contacts_done(customer, _("Contact saved."))
    return _contacts_response(customer, form, contact.id, status=422)


@bp.post("/<int:customer_id>/contacts/<int:contact_id>/delete")
@staff_required
def contact_delete(customer_id: int, contact_id: int):
    """Remove a contact (its log entries stay, without the link)."""
    customer = get_editable_customer_or_404(customer_id, current_user)
    services.remove_contact(_contact_or_404(customer, contact_id))
    db.session.commit()
    db.session.refresh(customer)
    return _contacts_done(customer, _("Contact removed."))


def _contacts_done(customer, message):
    if is_htmx():
        return _contacts_response(customer)
    flash(message, "success")
    return see_other(url_for("customers.detail", customer_id=customer.id) + "#contacts")


# Contact log

@bp.post("/<int:customer_id>/log")
@staff_required
def log_add(customer_id: int):
    """Add an entry to the contact log (newest first)."""
    customer = get_editable_customer_or_404(customer_id, current_user)
    form = LogForm()
    form.contact_id.choices = [("", "—")] + [(str(c.id), c.name) for c in customer.contacts]
    if form.validate_on_submit():
        try:
            services.add_log(customer, form.data, current_user)
        except services.CustomerError as error:
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            if is_htmx():
                return render("customers/detail.html", "customers/_log.html", **_detail_context(customer))
            flash(_("Entry added to the contact log."), "success")
            return see_other(url_for("customers.detail", customer_id=customer.id) + "#log")
    return render("customers/detail.html", "customers/_log.html", status=422,
                  **_detail_context(customer, log_form=form))


@bp.post("/<int:customer_id>/log/<int:log_id>/done")
@staff_required
def log_done(customer_id: int, log_id: int):
    """Tick off a next step (from the record or from "my day")."""
    customer = get_editable_customer_or_404(customer_id, current_user)
    entry = db.session.scalar(select(ContactLog).where(ContactLog.id == log_id, ContactLog.customer_id == customer.id))
    if entry is None:
        abort(404)
    if not entry.done:
        services.complete_next_step(entry)
        db.session.commit()
    if is_htmx():
        return "", 200
    flash(_("Next step done."), "success")
    default = url_for("customers.detail", customer_id=customer.id) + "#log"
    return see_other(safe_next(request.form.get("next"), default))


# Excel

@bp.get("/export.xlsx")
@staff_required
def export():
    """Exactly the customers the current filter shows and the user may see, as .xlsx."""
    form = FilterForm(request.args)
    form.owner.choices = _owner_choices("")
    filters = form.data if form.validate() else {}
    content = excel.export(current_user, services.search(current_user, filters))
    audit.record("export", summary=f"customers: {request.query_string.decode()[:400]}")
    db.session.commit()
    stamp = local_today().isoformat()
    return send_file(io.BytesIO(content), as_attachment=True, download_name=f"customers-{stamp}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/import/template.xlsx")
@role_required(Role.ADMIN, Role.MANAGER, Role.SALES)
def import_template():
    """The empty import sheet with headers, an example and the allowed values."""
    return send_file(io.BytesIO(excel.template()), as_attachment=True, download_name="customer-import-template.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/import", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MANAGER, Role.SALES)
def import_page():
    """Step 1: upload; step 2: the preview lists every bad row, or offers to import all rows."""
    form = FlaskForm()
    if request.method == "GET":
        return render("customers/import.html", form=form, result=None)
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise excel.ImportError_(_("Choose an .xlsx file to upload."))
        data = upload.stream.read(excel.IMPORT_MAX_BYTES + 1)
        result = excel.parse(data, current_user)
    except excel.ImportError_ as error:
        return render("customers/import.html", form=form, result=None, file_error=str(error), status=422)
    token = excel.store_upload(data, current_user) if result.ok else None
    return render("customers/import.html", form=form, result=result, token=token, filename=upload.filename,
                  status=200 if result.ok else 422)


@bp.post("/import/confirm")
@role_required(Role.ADMIN, Role.MANAGER, Role.SALES)
def import_confirm():
    """Import the previewed file: every row in one transaction, or none."""
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    token = request.form.get("token", "")
    filename = (request.form.get("filename") or "upload.xlsx")[:200]
    data = excel.load_upload(token, current_user)
    if data is None:
        flash(_("The uploaded file has expired; upload it again."), "error")
        return see_other(url_for("customers.import_page"))
    result = excel.parse(data, current_user)  # checked again: the archive may have changed meanwhile
    if not result.ok:
        return render("customers/import.html", form=form, result=result, token=None, filename=filename, status=422)
    customers = excel.commit_import(result, current_user, filename)
    db.session.commit()
    excel.discard_upload(token, current_user)
    flash(_("%(n)d customers imported.", n=len(customers)), "success")
    return see_other(url_for("customers.index", sort="-updated"))


@bp.app_template_global()
def column_label(name: str) -> str:
    """The header of an import column (or a field name) in the user's language."""
    labels = dict(excel.COLUMNS)
    return str(labels.get(name, name or ""))


# Portal accounts of the customer (managers and admins)

@bp.post("/<int:customer_id>/portal/invite")
@role_required(Role.ADMIN, Role.MANAGER)
def portal_invite(customer_id: int):
    """Invite a buyer: a one-time link valid for 72 hours, shown once to copy (and e-mailed when SMTP is set)."""
    from .. import mail
    from ..myportal import services as portal
    from ..myportal.forms import InviteForm

    customer = get_customer_or_404(customer_id, current_user)
    form = InviteForm(prefix="invite")
    if form.validate_on_submit():
        try:
            invitation, token = portal.invite(customer, form.data, current_user)
        except portal.PortalError as error:
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            link = url_for("auth.accept_invitation", token=token, _external=True)
            flash(_("Invitation for %(name)s created. Send this link (it works once, for %(hours)d hours): %(link)s",
                    name=invitation.display_name, hours=portal.INVITE_HOURS, link=link), "success")
            if invitation.email and mail.configured():
                if portal.mail_invitation(invitation, link, current_user):
                    db.session.commit()
                    flash(_("The link was also e-mailed to %(email)s.", email=invitation.email), "success")
                else:
                    flash(_("The e-mail to %(email)s could not be sent; send the link yourself.",
                            email=invitation.email), "error")
            return see_other(url_for("customers.detail", customer_id=customer.id) + "#portal")
    context = _detail_context(customer)
    context["portal"]["form"] = form
    return render("customers/detail.html", status=422, **context)


@bp.post("/<int:customer_id>/portal/invitations/<int:invitation_id>/revoke")
@role_required(Role.ADMIN, Role.MANAGER)
def portal_revoke(customer_id: int, invitation_id: int):
    from ..models import PortalInvitation
    from ..myportal import services as portal

    customer = get_customer_or_404(customer_id, current_user)
    invitation = db.session.scalar(select(PortalInvitation).where(PortalInvitation.id == invitation_id,
                                                                  PortalInvitation.customer_id == customer.id))
    if invitation is None:
        abort(404)
    try:
        portal.revoke(invitation, current_user)
    except portal.PortalError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Invitation revoked."), "success")
    return see_other(url_for("customers.detail", customer_id=customer.id) + "#portal")


@bp.post("/<int:customer_id>/portal/users/<int:user_id>/<any(disable, enable):change>")
@role_required(Role.ADMIN, Role.MANAGER)
def portal_user(customer_id: int, user_id: int, change: str):
    """Disable a buyer (their sessions end at once) or enable them again."""
    from ..myportal import services as portal

    customer = get_customer_or_404(customer_id, current_user)
    user = db.session.scalar(select(User).where(User.id == user_id, User.customer_id == customer.id,
                                                User.role == Role.CUSTOMER.value))
    if user is None:
        abort(404)
    portal.set_active(user, change == "enable", current_user)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=user.display_name) if change == "enable"
          else _("%(name)s is disabled and signed out.", name=user.display_name), "success")
    return see_other(url_for("customers.detail", customer_id=customer.id) + "#portal")
