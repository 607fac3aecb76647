"""User administration, company settings, and reading the audit trail."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, datacache, uploads
from ..auth import services as auth_services
from ..extensions import db
from ..models import AuditLog, CompanySettings, Customer, Role, User


class AdminError(ValueError):
    """A refused admin action: {field: message} for the form, or a general message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _customer_for(role: str, code: str | None) -> int | None:
    if role != Role.CUSTOMER.value:
        if code:
            raise AdminError({"customer_code": _("Only portal users belong to a customer.")})
        return None
    if not code:
        raise AdminError({"customer_code": _("A portal user needs the code of their customer.")})
    customer_id = db.session.scalar(select(Customer.id).where(Customer.code == code.strip().upper()))
    if customer_id is None:
        raise AdminError({"customer_code": _("No customer has the code %(code)s.", code=code)})
    return customer_id


def create_user(data: dict) -> User:
    """A new user; the password must pass the policy."""
    username = data["username"].strip().lower()
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise AdminError({"username": _("This user name is taken.")})
    user = User(
        username=username,
        display_name=data["display_name"].strip(),
        email=(data.get("email") or "").strip() or None,
        phone=(data.get("phone") or "").strip() or None,
        role=data["role"],
        customer_id=_customer_for(data["role"], data.get("customer_code")),
        locale=data.get("locale") or "zh",
        active=bool(data.get("active", True)),
    )
    try:
        auth_services.set_password(user, data["password"])
    except auth_services.AuthError as error:
        raise AdminError({"password": str(error)}) from None
    db.session.add(user)
    db.session.flush()
    audit.record("create", user, summary=f"{user.username} ({user.role})")
    return user


def update_user(user: User, data: dict, acting: User) -> dict:
    """Change a user; disabling them or changing their role ends their sessions at once."""
    values = {
        "display_name": data["display_name"].strip(),
        "email": (data.get("email") or "").strip() or None,
        "phone": (data.get("phone") or "").strip() or None,
        "role": data["role"],
        "customer_id": _customer_for(data["role"], data.get("customer_code")),
        "locale": data.get("locale") or "zh",
        "active": bool(data.get("active")),
    }
    if user.id == acting.id and (not values["active"] or values["role"] != user.role):
        raise AdminError({"role": _("You cannot disable yourself or change your own role.")})
    changes = audit.apply_changes(user, values)
    if "active" in changes or "role" in changes or "customer_id" in changes:
        auth_services.end_sessions(user)
    if changes:
        audit.record("update", user, changes=changes)
    return changes


def reset_password(user: User, password: str) -> None:
    """An administrator sets a new password; all the user's sessions end."""
    try:
        auth_services.set_password(user, password)
    except auth_services.AuthError as error:
        raise AdminError({"password": str(error)}) from None
    auth_services.end_sessions(user)
    audit.record("password_reset", user)


def company_settings() -> CompanySettings:
    """The single settings row, created on first use."""
    settings = db.session.get(CompanySettings, 1)
    if settings is None:
        settings = CompanySettings(id=1)
        db.session.add(settings)
        db.session.flush()
    return settings


@dataclass(frozen=True)
class Brand:
    """What every page's header shows of the company: its name and whether it has a logo."""

    name_zh: str
    name_en: str
    logo_file: str | None

    def name(self, locale: str = "zh") -> str:  # as CompanySettings.name
        if locale == "en" and self.name_en:
            return self.name_en
        return self.name_zh or self.name_en


_BRAND = select(CompanySettings.name_zh, CompanySettings.name_en, CompanySettings.logo_file).where(
    CompanySettings.id == 1)


def brand() -> Brand | None:
    """The header's company name and logo, kept per worker until the settings change (portal/datacache.py):
    every page shows them, and reading the settings row cost more than the cache's token check."""
    def read():
        row = db.session.connection().execute(_BRAND).first()
        return Brand(*row) if row else None

    return datacache.cached("brand", ("company_settings",), (), read)


LOGO_MAX_BYTES = 2 * 1024 * 1024


def update_settings(settings: CompanySettings, data: dict, logo=None, remove_logo: bool = False, seal=None,
                    remove_seal: bool = False) -> dict:
    """Save the settings; a logo or seal upload must be a real PNG or JPEG of at most 2 MB."""
    values = {k: (data.get(k) or "").strip() for k in (
        "name_zh", "name_en", "address_zh", "address_en", "phone", "fax", "email", "website",
        "tax_id", "bank_name", "bank_account", "bank_swift")}
    for name in ("contract_terms", "contract_terms_en", "invoice_terms"):
        values[name] = (data.get(name) or "").replace("\r\n", "\n").strip()
    for name in ("visit_delay_days", "ticket_days_minor", "ticket_days_major", "ticket_days_critical"):
        if data.get(name) is not None:
            values[name] = int(data[name])
    checked, errors = {}, {}
    for name, upload in (("logo", logo), ("seal", seal)):  # both checked before either is stored
        if upload is not None and upload.filename:
            try:
                checked[name] = uploads.check_image(upload, LOGO_MAX_BYTES)
            except uploads.UploadError as error:
                errors[name] = str(error)
    if errors:
        raise AdminError(errors)
    for name, remove in (("logo", remove_logo), ("seal", remove_seal)):
        if name in checked:
            content, extension = checked[name]
            values[f"{name}_file"] = uploads.store(content, "company", extension)
        elif remove:
            values[f"{name}_file"] = None
    changes = audit.apply_changes(settings, values)
    if changes:
        audit.record("update", settings, changes=changes)
    return changes


def _local_day_start(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone)


def audit_query(filters: dict):
    """The audit rows matching `filters` (user, action, entity, local date range), newest first."""
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if filters.get("user"):
        stmt = stmt.where(func.lower(AuditLog.username) == filters["user"].strip().lower())
    if filters.get("action"):
        stmt = stmt.where(AuditLog.action == filters["action"].strip())
    if filters.get("entity"):
        stmt = stmt.where(AuditLog.entity_type == filters["entity"].strip())
    if filters.get("date_from"):
        stmt = stmt.where(AuditLog.at >= _local_day_start(filters["date_from"]))
    if filters.get("date_to"):
        stmt = stmt.where(AuditLog.at < _local_day_start(filters["date_to"] + timedelta(days=1)))
    return stmt


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
