"""Print centre batches: many documents in one PDF, in the request for a few, else in a worker thread.

The job row (state, progress, cancel flag, result file) is the only shared state, so any server
process can show progress and cancel; the thread that runs the job lives in the process that
created it. A job whose heartbeat stops (the process ended) is shown as failed.
"""
from __future__ import annotations

import io
import logging
import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import audit
from ..database import write_transaction
from ..extensions import db
from ..models import Order, PrintJob, Shipment, User
from ..models.base import utcnow
from . import render, services

log = logging.getLogger(__name__)

SYNC_LIMIT = 5  # up to this many documents are made in the request itself
MAX_BATCH = 500
FLUSH_EVERY = 50  # drafts (as HTML) collected before they are rendered and written out
STALE_AFTER = timedelta(minutes=3)
KEEP_RESULTS = timedelta(days=2)


class Cancelled(Exception):
    pass


def load_subject(kind: str, subject_id: int) -> services.Subject | None:
    if kind in services.ORDER_KINDS:
        order = db.session.scalar(select(Order).where(Order.id == subject_id)
                                  .options(selectinload(Order.items), selectinload(Order.customer)))
        return services.order_subject(kind, order) if order else None
    shipment = db.session.scalar(select(Shipment).where(Shipment.id == subject_id)
                                 .options(selectinload(Shipment.lines), selectinload(Shipment.order)))
    return services.shipment_subject(kind, shipment) if shipment else None


def _join(chunks: list[bytes]) -> bytes:
    if len(chunks) == 1:
        return chunks[0]
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for chunk in chunks:
        writer.append(PdfReader(io.BytesIO(chunk)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build(kind: str, ids: list[int], user: User, issue: bool, *, issue_one=None, progress=None,
          cancelled=None) -> bytes:
    """One PDF of the documents of `ids`, in that order: the stored file of the current issued version,
    else (with `issue`) a newly issued one, else a watermarked draft. Records that cannot make the
    document (no items, cancelled) are left out."""
    chunks: list[bytes] = []
    pending = []

    def flush():
        if pending:
            chunks.extend(render.pdfs_of_drafts(pending))
            pending.clear()

    for position, subject_id in enumerate(ids, start=1):
        if cancelled and cancelled():
            raise Cancelled
        subject = load_subject(kind, subject_id)
        if subject is not None:
            try:
                services.check(subject)
            except services.DocumentError:
                subject = None
        if subject is not None:
            document = services.current_version(kind, subject_id)
            if document is None and issue:
                document = (issue_one or (lambda s: services.issue(s, user)))(subject)
            if document is not None:
                flush()
                chunks.append(services.stored_bytes(document))
            else:
                pending.append(services.render_html(subject, number=None, draft=True))
                if len(pending) >= FLUSH_EVERY:
                    flush()
        if progress:
            progress(position)
    flush()
    if not chunks:
        raise services.DocumentError({"": _("None of the chosen records can make this document.")})
    return _join(chunks)


def batches_dir() -> Path:
    path = services.documents_dir() / "batches"
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_job(kind: str, ids: list[int], issue: bool, user: User) -> PrintJob:
    _forget_old_results()
    job = PrintJob(user_id=user.id, kind=kind, params={"ids": ids, "issue": issue}, total=len(ids))
    db.session.add(job)
    db.session.flush()
    audit.record("create", job, summary=f"{services.kind_label(kind)} × {len(ids)}")
    return job


def _forget_old_results() -> None:
    cutoff = utcnow() - KEEP_RESULTS
    for job in db.session.scalars(select(PrintJob).where(PrintJob.created_at < cutoff,
                                                         PrintJob.result_file.is_not(None))):
        (batches_dir() / job.result_file).unlink(missing_ok=True)
        job.result_file = None


def start(job_id: int) -> threading.Thread:
    app = current_app._get_current_object()
    thread = threading.Thread(target=run, args=(app, job_id), name=f"print-job-{job_id}", daemon=True)
    thread.start()
    return thread


def _set(job_id: int, **values) -> None:
    with write_transaction():
        db.session.execute(update(PrintJob).where(PrintJob.id == job_id).values(**values))
        db.session.commit()


def run(app, job_id: int) -> None:
    """The worker: one transaction per issued document and per progress step, so others see progress."""
    with app.app_context():
        try:
            job = db.session.get(PrintJob, job_id)
            kind, ids, issue, user = job.kind, list(job.params["ids"]), bool(job.params.get("issue")), job.user
            db.session.commit()
            _set(job_id, state="running", heartbeat_at=utcnow())

            def progress(done):
                _set(job_id, done=done, heartbeat_at=utcnow())

            def cancelled():
                flag = db.session.scalar(select(PrintJob.cancel_requested).where(PrintJob.id == job_id))
                db.session.commit()
                return bool(flag)

            def issue_one(subject):
                db.session.commit()  # end the read transaction: issuing takes the write lock first
                with write_transaction():
                    document = services.issue(subject, user)
                    db.session.commit()
                return document

            started = time.perf_counter()
            pdf = build(kind, ids, user, issue, issue_one=issue_one, progress=progress, cancelled=cancelled)
            db.session.commit()
            name = f"{job_id}-{secrets.token_hex(8)}.pdf"
            (batches_dir() / name).write_bytes(pdf)
            _set(job_id, state="done", result_file=name, finished_at=utcnow(), done=len(ids))
            log.info("print job %s: %s documents in %.1f s", job_id, len(ids), time.perf_counter() - started)
        except Cancelled:
            db.session.rollback()
            _set(job_id, state="cancelled", finished_at=utcnow())
        except services.DocumentError as error:
            db.session.rollback()
            _set(job_id, state="failed", error=str(error)[:500], finished_at=utcnow())
        except render.RenderTimeout:
            db.session.rollback()
            _set(job_id, state="failed", error="timeout", finished_at=utcnow())
        except Exception:  # noqa: BLE001 - the job must end in a state the page can show
            log.exception("print job %s failed", job_id)
            db.session.rollback()
            _set(job_id, state="failed", error="error", finished_at=utcnow())
        finally:
            db.session.remove()


def is_stale(job: PrintJob) -> bool:
    """Running or queued, but the worker has not reported for a while: its process has gone."""
    if job.state not in ("queued", "running"):
        return False
    last = job.heartbeat_at or job.created_at
    return utcnow() - last > STALE_AFTER


def cancel(job: PrintJob) -> bool:
    if job.state not in ("queued", "running"):
        return False
    job.cancel_requested = True
    audit.record("update", job, summary="cancel")
    return True
