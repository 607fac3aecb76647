"""Document URLs: previews and issued PDFs, issuing, the print centre with its background jobs."""
from datetime import date

from flask import abort, flash, make_response, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.access import role_required, staff_required
from ..customers.access import get_customer_or_404
from ..errors import error_page
from ..extensions import db
from ..i18n import local_today
from ..models import Order, PrintJob, Role, Shipment
from ..orders.access import get_order_or_404, visible_orders
from ..web import render, safe_next, see_other
from . import batch, bp, checks, render as pdf, services
from .access import ISSUERS, PRINTERS, get_document_or_404, get_job_or_404, get_shipment_or_404, visible_shipments
from .forms import PRINT_KINDS, IssueForm, PrintFilterForm, PrintForm, StatementForm, StatementQueryForm

K = services.K
EVERYONE = tuple(Role)


@bp.app_template_global()
def order_documents(order):
    """For templates/documents/_order_documents.html on the order page."""
    return services.order_documents(order)


@bp.app_template_global()
def document_kind_label(kind: str) -> str:
    return services.kind_label(kind)


@bp.app_template_global()
def document_slug(kind: str) -> str:
    return services.SLUGS[kind]


@bp.app_template_global()
def document_problems():
    """Start-up warnings (HarfBuzz-Subset, CJK font) for the admin settings page."""
    from flask import current_app

    return checks.problems(current_app)


def _pdf_response(data: bytes, filename: str, *, draft: bool):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if draft:
        response.headers["Cache-Control"] = "no-store"
    return response


def _stored_response(document):
    """The issued file as stored, with its sha256 as ETag. A missing file is not found; one that no longer matches
    its sha256 (damaged on disk, a partial restore) is an error page naming it, never the damaged bytes."""
    path = services.stored_path(document)
    if not path.is_file():
        abort(404)
    try:
        services.stored_bytes(document)  # read once more by send_file: PDFs of a few hundred KB, in the page cache
    except services.DocumentError as error:
        return _problem(error, 500)
    return send_file(path, mimetype="application/pdf", download_name=f"{document.number}-v{document.version}.pdf",
                     conditional=True, etag=document.sha256, max_age=0)


def _problem(error: Exception, status: int):
    if isinstance(error, pdf.RenderTimeout):
        return error_page(503, _("The document took too long to render and was stopped. Try again later; "
                                 "if it happens again, tell the administrator."))
    return error_page(status, " ".join(error.errors.values()))


def _preview_or_current(subject: services.Subject, options: dict | None = None):
    """The current issued version (stored bytes) unless ?draft=1, else a watermarked draft."""
    if request.args.get("draft") != "1" and subject.kind != K.STATEMENT.value:
        current = services.current_version(subject.kind, subject.subject_id)
        if current is not None:
            return _stored_response(current)
    try:
        rendered = services.draft(subject, options)
    except (services.DocumentError, pdf.RenderTimeout) as error:
        return _problem(error, 422)
    return _pdf_response(rendered.pdf, f"{services.SLUGS[subject.kind]}-draft.pdf", draft=True)


@bp.get("/orders/<int:order_id>/contract.pdf", defaults={"slug": "contract"})
@bp.get("/orders/<int:order_id>/proforma-invoice.pdf", defaults={"slug": "proforma-invoice"})
@staff_required
def order_pdf(order_id: int, slug: str):
    """The contract or proforma invoice: the issued version, or a draft preview."""
    return _preview_or_current(services.order_subject(services.URL_NAMES[slug], get_order_or_404(order_id, current_user)))


@bp.get("/shipments/<int:shipment_id>/delivery-note.pdf", defaults={"slug": "delivery-note"})
@bp.get("/shipments/<int:shipment_id>/packing-list.pdf", defaults={"slug": "packing-list"})
@staff_required
def shipment_pdf(shipment_id: int, slug: str):
    """A shipment's delivery note (?copies=3 for the three-copy draft) or packing list."""
    shipment = get_shipment_or_404(shipment_id, current_user)
    options = {"copies": 3} if request.args.get("copies") == "3" else {}
    return _preview_or_current(services.shipment_subject(services.URL_NAMES[slug], shipment), options)


def _period(form) -> tuple[date, date]:
    today = local_today()
    return form.start.data or today.replace(month=1, day=1), form.end.data or today


@bp.get("/customers/<int:customer_id>/statement.pdf")
@staff_required
def statement_pdf(customer_id: int):
    """A draft statement for ?start=&end= (default: this year up to today)."""
    customer = get_customer_or_404(customer_id, current_user)
    form = StatementQueryForm(request.args)
    if not form.validate():
        return error_page(422, _("Give the dates as YYYY-MM-DD."))
    try:
        subject = services.statement_subject(customer, *_period(form))
    except services.DocumentError as error:
        return _problem(error, 422)
    return _preview_or_current(subject)


@bp.get("/issued/<int:document_id>.pdf")
@role_required(*EVERYONE)
def issued(document_id: int):
    """An issued document, byte for byte as it was issued. Portal users: their company's current ones."""
    return _stored_response(get_document_or_404(document_id, current_user))


# Issuing

def _issue_page(subject: services.Subject, form, back: str, status: int = 200, page_error: str | None = None):
    history = services.versions(subject.kind, subject.subject_id) if subject.kind != K.STATEMENT.value else []
    return render("documents/issue.html", subject=subject, form=form, back=back, history=history,
                  current=next((d for d in history if d.current), None), page_error=page_error,
                  kind_label=services.kind_label(subject.kind), status=status)


def _issue(subject: services.Subject, form, back: str, options: dict | None = None):
    if request.method == "POST" and form.validate_on_submit():
        try:
            document = services.issue(subject, current_user, form.reason.data or "", options)
        except services.DocumentError as error:
            page_error = error.errors.get("")
            if "reason" in error.errors:
                form.reason.errors = list(form.reason.errors) + [error.errors["reason"]]
            for key in ("start", "end"):
                if key in error.errors and hasattr(form, key):
                    getattr(form, key).errors = list(getattr(form, key).errors) + [error.errors[key]]
            return _issue_page(subject, form, back, 422, page_error)
        except pdf.RenderTimeout as error:
            db.session.rollback()
            return _problem(error, 503)
        db.session.commit()
        flash(_("%(kind)s %(number)s issued.", kind=services.kind_label(subject.kind), number=document.number)
              + (" " + _("Version %(n)d.", n=document.version) if document.version > 1 else ""), "success")
        return see_other(back)
    return _issue_page(subject, form, back, 422 if form.is_submitted() else 200)


@bp.route("/orders/<int:order_id>/contract/issue", methods=["GET", "POST"], defaults={"slug": "contract"})
@bp.route("/orders/<int:order_id>/proforma-invoice/issue", methods=["GET", "POST"],
          defaults={"slug": "proforma-invoice"})
@role_required(*ISSUERS)
def order_issue(order_id: int, slug: str):
    """Issue the contract or proforma invoice (a new version needs a reason)."""
    order = get_order_or_404(order_id, current_user)
    back = safe_next(request.values.get("next"), url_for("orders.detail", order_id=order.id))
    return _issue(services.order_subject(services.URL_NAMES[slug], order), IssueForm(), back)


@bp.route("/shipments/<int:shipment_id>/delivery-note/issue", methods=["GET", "POST"],
          defaults={"slug": "delivery-note"})
@bp.route("/shipments/<int:shipment_id>/packing-list/issue", methods=["GET", "POST"],
          defaults={"slug": "packing-list"})
@role_required(*ISSUERS)
def shipment_issue(shipment_id: int, slug: str):
    """Issue a shipment's delivery note (one or three copies) or packing list."""
    shipment = get_shipment_or_404(shipment_id, current_user)
    kind = services.URL_NAMES[slug]
    back = safe_next(request.values.get("next"), url_for("orders.detail", order_id=shipment.order_id))
    form = IssueForm()
    options = {"copies": 3 if form.copies.data else 1} if kind == K.DELIVERY_NOTE.value else None
    return _issue(services.shipment_subject(kind, shipment), form, back, options)


class StatementIssueForm(IssueForm, StatementForm):
    pass


@bp.route("/customers/<int:customer_id>/statement/issue", methods=["GET", "POST"])
@role_required(*ISSUERS)
def statement_issue(customer_id: int):
    """Issue a numbered statement of account for a period."""
    customer = get_customer_or_404(customer_id, current_user)
    form = StatementIssueForm(formdata=request.form if request.method == "POST" else request.args)
    back = safe_next(request.values.get("next"), url_for("customers.detail", customer_id=customer.id))
    start, end = _period(form)
    if request.method == "GET":
        form.start.data, form.end.data = start, end
    try:
        subject = services.statement_subject(customer, start, end)
    except services.DocumentError as error:
        form.start.errors = list(form.start.errors) + [error.errors["start"]]
        subject = services.Subject(K.STATEMENT.value, customer.id, customer, start=start, end=end)
        return _issue_page(subject, form, back, 422)
    return _issue(subject, form, back)


# Print centre

def _candidates(kind: str, date_from: date | None, date_to: date | None):
    """The records of the period that can make `kind`, newest first, at most MAX_BATCH."""
    if kind in services.SHIPMENT_KINDS:
        stmt = visible_shipments(current_user).options(selectinload(Shipment.order).selectinload(Order.customer))
        column, key = Shipment.ship_date, Shipment.id
    else:
        stmt = visible_orders(current_user).options(selectinload(Order.customer)).where(Order.state != "cancelled")
        column, key = Order.contract_date, Order.id
    if date_from:
        stmt = stmt.where(column >= date_from)
    if date_to:
        stmt = stmt.where(column <= date_to)
    records = db.session.scalars(stmt.order_by(column.desc(), key.desc()).limit(batch.MAX_BATCH + 1)).all()
    return records[:batch.MAX_BATCH], len(records) > batch.MAX_BATCH


def _print_page(filters, form, status=200, chosen=None, page_error=None):
    kind = filters.kind.data if filters.kind.data in PRINT_KINDS else PRINT_KINDS[0]
    records, more = _candidates(kind, filters.date_from.data, filters.date_to.data)
    jobs = db.session.scalars(select(PrintJob).order_by(PrintJob.id.desc()).limit(10)).all()
    return render("documents/print.html", filters=filters, form=form, kind=kind, records=records, more=more,
                  chosen=chosen, jobs=jobs, page_error=page_error, status=status, is_stale=batch.is_stale)


@bp.route("/print", methods=["GET", "POST"])
@role_required(*PRINTERS)
def print_centre():
    """Pick documents, get one PDF: a few at once, more in a background job with progress."""
    filters = PrintFilterForm(request.args)
    filters.validate()
    form = PrintForm()
    if request.method == "GET":
        form.kind.data = filters.kind.data
        return _print_page(filters, form)
    ids = []
    for value in request.form.getlist("id")[:batch.MAX_BATCH + 1]:
        if value.isdigit():
            ids.append(int(value))
    if not form.validate_on_submit() or not ids or len(ids) > batch.MAX_BATCH:
        filters.kind.data = form.kind.data
        message = _("Pick at least one record.") if not ids else (
            _("At most %(n)d documents at a time.", n=batch.MAX_BATCH) if len(ids) > batch.MAX_BATCH else None)
        return _print_page(filters, form, 422, chosen=set(ids), page_error=message)
    kind = form.kind.data
    visible = visible_shipments(current_user) if kind in services.SHIPMENT_KINDS else visible_orders(current_user)
    model = Shipment if kind in services.SHIPMENT_KINDS else Order
    allowed = set(db.session.scalars(visible.with_only_columns(model.id).where(model.id.in_(ids))))
    ids = [i for i in dict.fromkeys(ids) if i in allowed]
    if not ids:
        abort(404)
    if len(ids) <= batch.SYNC_LIMIT:
        try:
            data = batch.build(kind, ids, current_user, form.issue.data)
        except services.DocumentError as error:
            db.session.rollback()
            return _print_page(filters, form, 422, chosen=set(ids), page_error=" ".join(error.errors.values()))
        except pdf.RenderTimeout as error:
            db.session.rollback()
            return _problem(error, 503)
        db.session.commit()
        return _pdf_response(data, f"{services.SLUGS[kind]}-{local_today().isoformat()}.pdf", draft=False)
    job = batch.create_job(kind, ids, form.issue.data, current_user)
    db.session.commit()
    batch.start(job.id)
    return see_other(url_for("documents.job", job_id=job.id))


@bp.get("/print/jobs/<int:job_id>")
@role_required(*PRINTERS)
def job(job_id: int):
    """A batch's progress; htmx polls the fragment every second while it runs."""
    return render("documents/job.html", "documents/_job.html", job=get_job_or_404(job_id), is_stale=batch.is_stale,
                  kind_label=services.kind_label)


@bp.post("/print/jobs/<int:job_id>/cancel")
@role_required(*PRINTERS)
def job_cancel(job_id: int):
    job = get_job_or_404(job_id)
    if batch.cancel(job):
        db.session.commit()
        flash(_("The batch will stop after the current document."), "success")
    return see_other(url_for("documents.job", job_id=job.id))


@bp.get("/print/jobs/<int:job_id>.pdf")
@role_required(*PRINTERS)
def job_pdf(job_id: int):
    job = get_job_or_404(job_id)
    if job.state != "done" or not job.result_file:
        abort(404)
    path = batch.batches_dir() / job.result_file
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"{services.SLUGS.get(job.kind, 'documents')}-{job.id}.pdf")


# The monthly customer-satisfaction form (built by portal/satisfaction)

@bp.get("/satisfaction/<ym>.pdf")
@role_required(Role.ADMIN, Role.MANAGER, Role.SERVICE)
def satisfaction_pdf(ym: str):
    """月客户满意度回访表 of a month (?revision=N): from its snapshot once submitted, else a watermarked draft."""
    from ..satisfaction import access as satisfaction_access, services as satisfaction_services

    year, month = satisfaction_access.month_or_404(ym)
    revision = satisfaction_access.revision_arg_or_404(year, month, request.args.get("revision"))
    try:
        rendered = satisfaction_services.render_pdf(year, month, revision,
                                                    lang="en" if current_user.locale == "en" else "zh")
    except pdf.RenderTimeout as error:
        return _problem(error, 503)
    return _pdf_response(rendered.pdf, f"satisfaction-{year}-{month:02d}.pdf", draft=True)
