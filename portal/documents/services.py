"""Documents: what each one shows, drafts, issuing (number, one rendering, stored bytes), versions.

Issuing happens in the caller's transaction: the gap-free number, the stored file and the
IssuedDocument row belong together; the view commits once. Downloads read the stored bytes.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text, bindparam, select
from sqlalchemy.orm import selectinload

from .. import audit, numbering
from ..extensions import db
from ..i18n import local_today
from ..models import (CompanySettings, Customer, DocumentKind, IssuedDocument, Order, OrderState, Payment,
                      Shipment, ShipmentLine, User)
from ..orders import services as order_services
from . import render
from .amounts import english_words, in_words

K = DocumentKind
KIND_LABELS = {K.CONTRACT.value: _l("Sales contract"), K.PROFORMA.value: _l("Proforma invoice"),
               K.DELIVERY_NOTE.value: _l("Delivery note"), K.PACKING_LIST.value: _l("Packing list"),
               K.STATEMENT.value: _l("Statement of account")}
ORDER_KINDS = (K.CONTRACT.value, K.PROFORMA.value)
SHIPMENT_KINDS = (K.DELIVERY_NOTE.value, K.PACKING_LIST.value)
URL_NAMES = {"contract": K.CONTRACT.value, "proforma-invoice": K.PROFORMA.value,
             "delivery-note": K.DELIVERY_NOTE.value, "packing-list": K.PACKING_LIST.value}
SLUGS = {kind: slug for slug, kind in URL_NAMES.items()} | {K.STATEMENT.value: "statement"}
COPIES = (("白联 · 存根", "WHITE · FILE COPY"), ("红联 · 客户", "RED · CUSTOMER COPY"),
          ("黄联 · 回单", "YELLOW · RETURN RECEIPT"))
MAX_STATEMENT_DAYS = 3 * 366


class DocumentError(ValueError):
    """A document that cannot be made or issued: {field: message} for the form ('' for the page)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def document_locale(kind: str, customer: Customer) -> str:
    """Proforma invoices are English; the others English for export customers, else Chinese."""
    if kind == K.PROFORMA.value:
        return "en"
    return "en" if customer.country and customer.country.upper() != "CN" else "zh"


def is_export(order: Order) -> bool:
    return order.currency != "CNY" or document_locale(K.CONTRACT.value, order.customer) == "en"


def company() -> CompanySettings:
    """The letterhead; an unsaved empty one before the admin filled the settings in."""
    settings = db.session.get(CompanySettings, 1)
    if settings is None:  # every text column empty (not None), as a saved row would have them
        settings = CompanySettings(**{column.name: "" for column in CompanySettings.__table__.columns
                                      if isinstance(column.type, (String, Text)) and column.default is not None})
    return settings


def upload_urls(settings: CompanySettings) -> dict[str, Path]:
    """The uploaded images a document may load: the company's logo and seal, nothing else."""
    from .. import uploads

    allowed = {}
    for name in (settings.logo_file, settings.seal_file):
        if name:
            allowed[f"upload:company/{name}"] = uploads.path_of("company", name)
    return allowed


@dataclass
class Subject:
    """The record a document is made from."""

    kind: str
    subject_id: int
    customer: Customer
    order: Order | None = None
    shipment: Shipment | None = None
    start: date | None = None  # statements
    end: date | None = None


def order_subject(kind: str, order: Order) -> Subject:
    return Subject(kind, order.id, order.customer, order=order)


def shipment_subject(kind: str, shipment: Shipment) -> Subject:
    return Subject(kind, shipment.id, shipment.order.customer, order=shipment.order, shipment=shipment)


def statement_subject(customer: Customer, start: date, end: date) -> Subject:
    if start > end:
        raise DocumentError({"start": _("The start date must not be after the end date.")})
    if (end - start).days > MAX_STATEMENT_DAYS:
        raise DocumentError({"start": _("A statement covers at most three years.")})
    return Subject(K.STATEMENT.value, customer.id, customer, start=start, end=end)


def check(subject: Subject) -> None:
    """The record must be complete enough for its document."""
    order = subject.order
    if order is not None and order.state == OrderState.CANCELLED.value:
        raise DocumentError({"": _("The order is cancelled.")})
    if subject.kind in ORDER_KINDS and not order.items:
        raise DocumentError({"": _("Add the items before making this document.")})
    if subject.kind in SHIPMENT_KINDS and not subject.shipment.lines:
        raise DocumentError({"": _("The shipment has no lines.")})


# What each document shows

def _money_rows(order: Order):
    return [{"item": item, "amount": item.amount} for item in order.items]


def _statement(subject: Subject) -> dict:
    """Per currency: opening balance, orders and payments of the period with a running balance, ageing."""
    orders = db.session.scalars(
        select(Order).where(Order.customer_id == subject.customer.id,
                            Order.state.in_(order_services.SIGNED_STATES + (OrderState.CLOSED.value,)),
                            Order.contract_date <= subject.end)
        .options(selectinload(Order.items), selectinload(Order.payments), selectinload(Order.shipments))
        .order_by(Order.contract_date, Order.id)).all()
    sections: dict[str, dict] = {}
    for order in orders:
        section = sections.setdefault(order.currency, {"currency": order.currency, "opening": Decimal("0.00"),
                                                      "entries": [], "ageing": None})
        if order.contract_date < subject.start:
            section["opening"] += order.total
        else:
            section["entries"].append({"on": order.contract_date, "order": order, "debit": order.total,
                                       "credit": None, "ref": order.contract_no or order.number})
        for payment in order.payments:
            if payment.received_on < subject.start:
                section["opening"] -= payment.amount
            elif payment.received_on <= subject.end:
                section["entries"].append({"on": payment.received_on, "order": order, "debit": None,
                                           "credit": payment.amount, "payment": payment,
                                           "ref": payment.reference or ""})
        split = order_services.ageing(order, subject.end)
        if any(split.values()):
            ageing = section["ageing"] or {name: Decimal("0.00") for name in order_services.BUCKETS}
            for name, value in split.items():
                ageing[name] += value
            section["ageing"] = ageing
    for section in sections.values():
        balance = section["opening"]
        section["entries"].sort(key=lambda e: (e["on"], e["credit"] is not None))
        for entry in section["entries"]:
            balance += (entry["debit"] or 0) - (entry["credit"] or 0)
            entry["balance"] = balance
        section["debits"] = sum((e["debit"] or 0 for e in section["entries"]), Decimal("0.00"))
        section["credits"] = sum((e["credit"] or 0 for e in section["entries"]), Decimal("0.00"))
        section["closing"] = balance
        section["words"] = in_words(balance, section["currency"])
    return {"sections": list(sections.values()), "buckets": order_services.BUCKETS}


def context(subject: Subject, *, number: str | None, version: int, draft: bool, issued_on: date,
            options: dict) -> dict:
    settings = company()
    lang = document_locale(subject.kind, subject.customer)
    ctx = {
        "kind": subject.kind, "lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en",
        "t": (lambda zh, en: zh) if lang == "zh" else (lambda zh, en: en),
        "seller": settings, "buyer": subject.customer, "order": subject.order, "shipment": subject.shipment,
        "number": number, "version": version, "draft": draft, "issued_on": issued_on, "options": options,
        "logo_url": f"upload:company/{settings.logo_file}" if settings.logo_file else None,
        "seal_url": f"upload:company/{settings.seal_file}" if settings.seal_file and not draft else None,
        "in_words": in_words, "english_words": english_words,
    }
    order = subject.order
    if subject.kind in ORDER_KINDS:
        ctx["rows"] = _money_rows(order)
        ctx["total"] = order.total
        ctx["deposit"] = order_services.deposit_due(order)
        terms = settings.invoice_terms if subject.kind == K.PROFORMA.value else (
            settings.contract_terms_en if lang == "en" else settings.contract_terms)
        ctx["terms"] = [line.strip() for line in (terms or DEFAULT_TERMS[subject.kind][lang]).splitlines()
                        if line.strip()]
    elif subject.kind in SHIPMENT_KINDS:
        lines = subject.shipment.lines
        ctx["lines"] = lines
        ctx["copies"] = COPIES if options.get("copies") == 3 else (None,)
        ctx["sum"] = {name: sum((getattr(line, name) or 0 for line in lines), Decimal("0"))
                      for name in ("quantity", "cartons", "net_weight_kg", "gross_weight_kg", "volume_cbm")}
    else:
        ctx.update(_statement(subject), start=subject.start, end=subject.end)
    return ctx


def render_html(subject: Subject, *, number: str | None, version: int = 1, draft: bool, options: dict | None = None,
                issued_on: date | None = None) -> tuple[str, dict[str, Path]]:
    """The document's HTML and the uploads it may load (what WeasyPrint needs, and nothing of the database)."""
    options = options or {}
    ctx = context(subject, number=number, version=version, draft=draft, issued_on=issued_on or local_today(),
                  options=options)
    return render_template(f"documents/{subject.kind}.html", **ctx), upload_urls(ctx["seller"])


def render_pdf(subject: Subject, *, number: str | None, version: int = 1, draft: bool, options: dict | None = None,
               issued_on: date | None = None):
    """The laid-out document (not yet written), so batches can join several into one PDF."""
    html, uploads = render_html(subject, number=number, version=version, draft=draft, options=options,
                                issued_on=issued_on)
    return render.render_document(html, uploads)


def draft(subject: Subject, options: dict | None = None) -> render.Rendered:
    """A watermarked preview with the number the document has (or will keep) if already issued."""
    check(subject)
    previous = current_version(subject.kind, subject.subject_id) if subject.kind != K.STATEMENT.value else None
    number = previous.number if previous else (
        subject.order.contract_no if subject.kind == K.CONTRACT.value else None)
    return render.write_pdf([render_pdf(subject, number=number, version=(previous.version + 1 if previous else 1),
                                        draft=True, options=options)])


# Issued documents

def current_version(kind: str, subject_id: int) -> IssuedDocument | None:
    return db.session.scalar(select(IssuedDocument).where(
        IssuedDocument.kind == kind, IssuedDocument.subject_id == subject_id, IssuedDocument.current.is_(True)))


def versions(kind: str, subject_id: int) -> list[IssuedDocument]:
    return db.session.scalars(select(IssuedDocument).where(
        IssuedDocument.kind == kind, IssuedDocument.subject_id == subject_id)
        .order_by(IssuedDocument.version.desc())).all()


def documents_dir() -> Path:
    return Path(current_app.instance_path) / "documents"


def stored_path(document: IssuedDocument) -> Path:
    return documents_dir() / document.file_name


def stored_bytes(document: IssuedDocument) -> bytes:
    """The issued file as stored, checked against the sha256 taken when it was issued: a batch joins the files
    (pypdf), and a missing or damaged one must be named, not end the request with an error."""
    try:
        data = stored_path(document).read_bytes()
    except OSError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != document.sha256:
        raise DocumentError({"": _("The stored file of %(number)s is missing or damaged: restore the documents "
                                   "folder from the backup.", number=document.number)})
    return data


def _lock(subject: Subject) -> None:
    """Serialise issuing for one record (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already does)."""
    model, key = {K.CONTRACT.value: (Order, subject.subject_id), K.PROFORMA.value: (Order, subject.subject_id),
                  K.STATEMENT.value: (Customer, subject.subject_id)}.get(subject.kind, (Shipment, subject.subject_id))
    db.session.execute(select(model.id).where(model.id == key).with_for_update())


def issue(subject: Subject, user: User, reason: str = "", options: dict | None = None) -> IssuedDocument:
    """Issue the document: its number (kept by later versions), one rendering, the stored file, the row."""
    check(subject)
    reason = (reason or "").strip()
    options = dict(options or {})
    if subject.kind == K.STATEMENT.value:
        options.update(start=subject.start.isoformat(), end=subject.end.isoformat())
    _lock(subject)
    previous = None if subject.kind == K.STATEMENT.value else current_version(subject.kind, subject.subject_id)
    if previous is not None and not reason:
        raise DocumentError({"reason": _("Say why a new version is issued (it replaces %(number)s).",
                                         number=previous.number)})
    if len(reason) > 500:
        raise DocumentError({"reason": _("At most 500 characters.")})
    today = local_today()
    if previous is not None:
        number = previous.number
    elif subject.kind == K.CONTRACT.value and subject.order.contract_no:
        number = subject.order.contract_no
    else:
        number = numbering.next_number(subject.kind, today.year)
        if subject.kind == K.CONTRACT.value:
            subject.order.contract_no = number
    version = previous.version + 1 if previous else 1
    rendered = render.write_pdf([render_pdf(subject, number=number, version=version, draft=False, options=options,
                                            issued_on=today)])
    name = f"{today.year}/{number}-v{version}-{secrets.token_hex(4)}.pdf"
    path = documents_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rendered.pdf)
    document = IssuedDocument(
        kind=subject.kind, number=number, version=version, subject_id=subject.subject_id,
        customer_id=subject.customer.id, order_id=getattr(subject.order, "id", None),
        shipment_id=getattr(subject.shipment, "id", None), locale=document_locale(subject.kind, subject.customer),
        options=options or None, file_name=name, sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        size=len(rendered.pdf), pages=rendered.pages, current=True, reason=reason or None,
        issued_by_id=user.id if user else None)
    if previous is not None:
        previous.current = False
    db.session.add(document)
    try:
        db.session.flush()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    audit.record("issue", document, summary=f"{kind_label(subject.kind)} {number} v{version}"
                 + (f": {reason}" if reason else ""), parent=subject.order or subject.customer, user=user)
    return document


_OF_ORDER = (select(IssuedDocument).where(IssuedDocument.order_id == bindparam("order_id"))
             .order_by(IssuedDocument.version.desc()))


def order_documents(order: Order) -> dict:
    """Everything the order page lists: per kind (and per shipment) the versions, newest first. One query,
    built once."""
    rows = db.session.scalars(_OF_ORDER, {"order_id": order.id}).all()
    by_subject: dict[tuple[str, int], list[IssuedDocument]] = {}
    for row in rows:
        by_subject.setdefault((row.kind, row.subject_id), []).append(row)
    kinds = [K.CONTRACT.value] + ([K.PROFORMA.value] if is_export(order) else [])
    return {
        "order": [(kind, by_subject.get((kind, order.id), [])) for kind in kinds],
        "shipments": [(shipment, [(kind, by_subject.get((kind, shipment.id), [])) for kind in SHIPMENT_KINDS])
                      for shipment in order.shipments],
    }


def shipment_lines_loaded(shipment_id: int):
    return (select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id)
            .options(selectinload(ShipmentLine.order_item)))


DEFAULT_TERMS = {
    K.CONTRACT.value: {
        "zh": "包装：出口标准纸箱包装，适合长途运输；因包装不当造成的损失由卖方承担。\n"
              "质量：按双方确认的样品及规格生产；买方应在收货后15日内提出书面质量异议，逾期视为验收合格。\n"
              "违约责任：任何一方违约，应赔偿对方因此遭受的直接损失。\n"
              "争议解决：因本合同引起的争议，双方协商解决；协商不成的，提交卖方所在地人民法院诉讼解决。\n"
              "本合同一式两份，双方各执一份，经双方签字盖章后生效；传真件、扫描件与原件具有同等效力。",
        "en": "Packing: standard export cartons suitable for long-distance transport; loss caused by improper "
              "packing is borne by the Seller.\n"
              "Quality: as per the samples and specifications confirmed by both parties; quality claims must be "
              "made in writing within 15 days after arrival of the goods.\n"
              "Force majeure: neither party is liable for delay or non-performance caused by force majeure.\n"
              "Disputes: disputes arising from this contract are settled by negotiation; failing that, by "
              "arbitration at the China International Economic and Trade Arbitration Commission (CIETAC).\n"
              "This contract is made in two originals, one for each party, and takes effect when signed by both.",
    },
    K.PROFORMA.value: {
        "en": "This proforma invoice is valid for 30 days.\n"
              "Bank charges outside the Seller's country are for the Buyer's account.\n"
              "Please quote the invoice number with your payment.",
    },
}
DEFAULT_TERMS[K.PROFORMA.value]["zh"] = DEFAULT_TERMS[K.PROFORMA.value]["en"]
