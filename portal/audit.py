"""Writing the audit trail. Services call these inside their transaction; nothing commits here."""
from __future__ import annotations

import datetime as dt
import decimal
import enum

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, bindparam, or_, select

from .extensions import db
from .models import AuditLog


ACTION_LABELS = {
    "login": _l("signed in"), "logout": _l("signed out"), "login_failed": _l("failed sign-in"),
    "create": _l("created"), "update": _l("changed"), "delete": _l("deleted"), "import": _l("imported"),
    "export": _l("exported"), "reassign": _l("reassigned"), "password_changed": _l("changed password"),
    "password_reset": _l("password reset"), "attach": _l("attached a file"), "mail_sent": _l("e-mail sent"),
    "transition": _l("status change"),
    "issue": _l("issued"),
}
ENTITY_LABELS = {
    "User": _l("user"), "Customer": _l("customer"), "Contact": _l("contact"), "ContactLog": _l("contact log"),
    "CompanySettings": _l("company settings"), "Product": _l("product"), "SampleRequest": _l("sample request"),
    "Quote": _l("quotation"), "QuoteItem": _l("quotation line"), "Order": _l("order"), "OrderItem": _l("order line"),
    "Shipment": _l("shipment"), "Payment": _l("payment"), "Inspection": _l("inspection"),
    "ProductionPlan": _l("production plan"), "ChangeRequest": _l("change request"), "SalesTarget": _l("sales target"),
    "IssuedDocument": _l("issued document"), "PrintJob": _l("print job"), "DunningNote": _l("dunning note"),
    "Attachment": _l("file"), "PortalInvitation": _l("portal invitation"), "Ticket": _l("complaint"),
    "ServiceRecord": _l("service record"), "FollowUpVisit": _l("follow-up visit"),
    "SatisfactionMonth": _l("monthly satisfaction form"),
}


def action_label(action: str | None) -> str:
    return str(ACTION_LABELS.get(action, action or ""))


def entity_label(entity_type: str | None) -> str:
    return str(ENTITY_LABELS.get(entity_type, entity_type or ""))


def _jsonable(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def apply_changes(obj, values: dict, *, secret: tuple[str, ...] = ()) -> dict:
    """Set attributes on `obj` from `values`; return {field: [old, new]} for those that changed.

    Fields named in `secret` are recorded as changed without their values.
    """
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            setattr(obj, field, new)
            changes[field] = ["***", "***"] if field in secret else [_jsonable(old), _jsonable(new)]
    return changes


def record(action: str, entity=None, *, summary: str | None = None, changes: dict | None = None,
           user=None, parent=None) -> AuditLog:
    """Add one audit row for `action` on `entity` (part of `parent`) by `user` (default: the current user)."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    entry = AuditLog(
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None),
        action=action,
        entity_type=type(entity).__name__ if entity is not None else None,
        entity_id=getattr(entity, "id", None),
        parent_type=type(parent).__name__ if parent is not None else None,
        parent_id=getattr(parent, "id", None),
        summary=(summary or "")[:500] or None,
        changes={k: [_jsonable(v[0]), _jsonable(v[1])] for k, v in changes.items()} if changes else None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


# history(entity).limit(RECENT) built once, for the record pages: building it cost three times as much as running
# it (0.27 ms against 0.08).
RECENT = 50
_RECENT = (select(AuditLog)
           .where(or_(and_(AuditLog.entity_type == bindparam("kind"), AuditLog.entity_id == bindparam("key")),
                      and_(AuditLog.parent_type == bindparam("kind"), AuditLog.parent_id == bindparam("key"))))
           .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(RECENT))


def recent(entity) -> list[AuditLog]:
    """The newest RECENT rows of history(entity)."""
    return db.session.scalars(_RECENT, {"kind": type(entity).__name__, "key": entity.id}).all()


def history(entity):
    """A record's trail: its own rows and those of its parts, newest first."""
    kind, key = type(entity).__name__, entity.id
    return (select(AuditLog)
            .where(or_(and_(AuditLog.entity_type == kind, AuditLog.entity_id == key),
                       and_(AuditLog.parent_type == kind, AuditLog.parent_id == key)))
            .order_by(AuditLog.at.desc(), AuditLog.id.desc()))
