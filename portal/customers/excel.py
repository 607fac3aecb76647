"""Excel export and all-or-nothing import of the customer archive (openpyxl)."""
from __future__ import annotations

import io
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select

from .. import audit, numbering
from ..extensions import db
from ..i18n import local_zone
from ..models import CURRENCIES, AuditLog, Customer, Role, User
from ..models.base import utcnow
from . import services
from .access import visible_customers
from .forms import GRADE_LABELS, SOURCE_LABELS, STATUS_LABELS

IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 10_000
UNZIPPED_MAX_BYTES = 100 * 1024 * 1024  # zip bombs: refuse what would expand beyond this
RATIO_MAX = 200

# (field, header); the header is shown in the user's language and accepted in both.
COLUMNS = [
    ("code", _l("Code")),
    ("name", _l("Company name")),
    ("name_en", _l("English name")),
    ("credit_code", _l("Unified social credit code")),
    ("company_no", _l("Company number (foreign)")),
    ("legal_rep", _l("Legal representative")),
    ("address", _l("Address")),
    ("province", _l("Province")),
    ("city", _l("City")),
    ("country", _l("Country code")),
    ("port", _l("Port")),
    ("phone", _l("Phone")),
    ("email", _l("E-mail")),
    ("website", _l("Website")),
    ("industry", _l("Industry")),
    ("grade", _l("Grade")),
    ("source", _l("Source")),
    ("status", _l("Status")),
    ("credit_limit", _l("Credit limit")),
    ("currency", _l("Currency")),
    ("payment_terms", _l("Payment terms")),
    ("owner", _l("Salesperson")),
    ("notes", _l("Notes")),
    ("created_at", _l("Created")),
    ("updated_at", _l("Updated")),
]
IMPORT_FIELDS = [f for f, _h in COLUMNS if f not in ("code", "created_at", "updated_at")]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ImportError_(ValueError):
    """The file as a whole is refused (not an .xlsx, too large, too many rows, no header)."""


def _cell(ws, value):
    """A cell that never runs as a formula: text starting like one is stored as quoted text."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _local(moment: datetime | None):
    return moment.astimezone(local_zone()).replace(tzinfo=None) if moment else None


def export(user: User, stmt) -> bytes:
    """The rows of `stmt` (already scoped and filtered) as an .xlsx, headers in the user's language."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Customers"))
    bold = Font(bold=True)
    header = []
    for _field, label in COLUMNS:
        cell = WriteOnlyCell(ws, value=str(label))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    owners = dict(db.session.execute(select(User.id, User.username)).all())
    for customer in db.session.scalars(stmt.execution_options(yield_per=500)):
        row = []
        for name, _label in COLUMNS:
            if name == "owner":
                value = owners.get(customer.owner_id)
            elif name in ("created_at", "updated_at"):
                value = _local(getattr(customer, name))
            else:
                value = getattr(customer, name)
            cell = _cell(ws, value)
            if name in ("created_at", "updated_at"):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif name == "credit_limit":
                cell.number_format = "#,##0.00"
            row.append(cell)
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def template() -> bytes:
    """An empty import sheet with the headers, an example row and a sheet of allowed values."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("Customers")
    ws.append([str(label) for f, label in COLUMNS if f in IMPORT_FIELDS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(["宁波示例贸易有限公司", "Ningbo Example Trading Co., Ltd.", None, None, "王五", "浙江省宁波市北仑区", "浙江", "宁波", "CN", "Ningbo", "0574-88880000",
               "buyer@example.com", None, "五金", "B", "exhibition", "prospect", 100000, "CNY",
               "30%定金，发货前付清", None, None])
    help_sheet = wb.create_sheet(_("Allowed values"))
    help_sheet.append([_("Column"), _("Allowed values")])
    help_sheet.append([str(_l("Grade")), ", ".join(f"{k} ({v})" for k, v in GRADE_LABELS.items())])
    help_sheet.append([str(_l("Status")), ", ".join(f"{k} ({v})" for k, v in STATUS_LABELS.items())])
    help_sheet.append([str(_l("Source")), ", ".join(f"{k} ({v})" for k, v in SOURCE_LABELS.items())])
    help_sheet.append([str(_l("Currency")), ", ".join(CURRENCIES)])
    help_sheet.append([str(_l("Salesperson")), _("User name of the salesperson; empty for your own customers.")])
    help_sheet.append([str(_l("Unified social credit code")), _("18 characters with a check character; or leave empty and give the company number.")])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _headers() -> dict[str, str]:
    """Header text (either language, case-insensitive) -> field."""
    mapping = {}
    for locale in ("zh", "en"):
        with force_locale(locale):
            for name, label in COLUMNS:
                mapping[str(label).strip().lower()] = name
    return mapping


def check_xlsx(data: bytes) -> None:
    """Refuse anything that is not a plausible, safely sized .xlsx before openpyxl opens it."""
    if len(data) > IMPORT_MAX_BYTES:
        raise ImportError_(_("The file is larger than %(mb)s MB.", mb=IMPORT_MAX_BYTES // 1048576))
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportError_(_("This is not an Excel .xlsx file. Save it as an Excel workbook (.xlsx) and try again."))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise ImportError_(_("This is not an Excel .xlsx file. Save it as an Excel workbook (.xlsx) and try again."))
        total = sum(info.file_size for info in archive.infolist())
        packed = sum(info.compress_size for info in archive.infolist()) or 1
        if total > UNZIPPED_MAX_BYTES or total / packed > RATIO_MAX:
            raise ImportError_(_("The file expands to an unreasonable size and was refused."))


def _text(value) -> str:
    """A cell as text: whole numbers without ".0" (phones, codes typed as numbers), dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _choice_names() -> dict[str, dict[str, str]]:
    """Labels of grades, statuses and sources in both languages -> their codes, so either is accepted."""
    names: dict[str, dict[str, str]] = {"grade": {}, "status": {}, "source": {}}
    for locale in ("zh", "en"):
        with force_locale(locale):
            for key, labels in (("grade", GRADE_LABELS), ("status", STATUS_LABELS), ("source", SOURCE_LABELS)):
                for code, label in labels.items():
                    names[key][str(label).strip().lower()] = code
                    names[key][code.lower()] = code
    return names


@dataclass
class ImportResult:
    rows: list[dict] = field(default_factory=list)  # cleaned values of good rows
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row number, column, reason)
    total: int = 0

    @property
    def ok(self) -> bool:
        return self.total > 0 and not self.errors


def parse(data: bytes, user: User) -> ImportResult:
    """Read and check every row; the result lists every bad row with its reason."""
    check_xlsx(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure means "not a usable workbook"
        raise ImportError_(_("The workbook could not be read. Save it again as .xlsx and try again.")) from None
    ws = wb.worksheets[0]
    if (ws.max_row or 0) > IMPORT_MAX_ROWS + 1:
        wb.close()
        raise ImportError_(_("The file has more than %(n)d rows; split it into smaller files.", n=IMPORT_MAX_ROWS))
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    known = _headers()
    columns = [known.get(str(h).strip().lower()) if h is not None else None for h in (header or [])]
    result = ImportResult()
    if "name" not in columns:
        wb.close()
        raise ImportError_(_("The first row must hold the column headers of the template (at least the company name)."))
    context = _Context(user)
    for number, values in enumerate(rows, start=2):
        if number > IMPORT_MAX_ROWS + 1:
            wb.close()
            raise ImportError_(_("The file has more than %(n)d rows; split it into smaller files.", n=IMPORT_MAX_ROWS))
        record = {col: val for col, val in zip(columns, values) if col in IMPORT_FIELDS}
        if all(v in (None, "") for v in record.values()):
            continue
        result.total += 1
        context.check(number, record, result)
    wb.close()
    return result


class _Context:
    """What row checks need to know, loaded once: existing keys, salespeople, what the user may see."""

    def __init__(self, user: User):
        self.user = user
        existing = db.session.execute(select(Customer.id, Customer.code, Customer.name_key, Customer.credit_code)).all()
        visible = set(db.session.scalars(visible_customers(user).with_only_columns(Customer.id)))
        self.by_key = {r.name_key: r for r in existing if r.name_key}
        self.by_credit = {r.credit_code: r for r in existing if r.credit_code}
        self.visible = visible
        self.owners = {u.username.lower(): u for u in db.session.scalars(
            select(User).where(User.role.in_((Role.SALES.value, Role.MANAGER.value)), User.active.is_(True)))}
        self.owners_by_name = {u.display_name.strip().lower(): u for u in self.owners.values()}
        self.choices = _choice_names()
        self.seen_keys: dict[str, int] = {}
        self.seen_credit: dict[str, int] = {}

    def _existing(self, row) -> str:
        if row.id in self.visible:
            return _("already in the archive as %(code)s", code=row.code)
        return _("already in the archive (belongs to another salesperson)")

    def check(self, number: int, record: dict, result: ImportResult) -> None:
        data = {k: (v if k == "credit_limit" else _text(v)) for k, v in record.items()}
        for key, default in (("grade", "C"), ("status", "prospect"), ("currency", "CNY"), ("source", "")):
            text = (data.get(key) or default).strip()
            data[key] = self.choices.get(key, {}).get(text.lower(), text)
        data["grade"] = data["grade"].upper()
        data["currency"] = data["currency"].upper()
        errors_before = len(result.errors)
        try:
            values = services.clean(data)
        except services.CustomerError as error:
            for column, message in error.errors.items():
                result.errors.append((number, column, message))
            return
        if values["name_key"] in self.seen_keys:
            result.errors.append((number, "name", _("same company as row %(row)d", row=self.seen_keys[values["name_key"]])))
        elif values["name_key"] in self.by_key:
            result.errors.append((number, "name", self._existing(self.by_key[values["name_key"]])))
        credit = values.get("credit_code")
        if credit:
            if credit in self.seen_credit:
                result.errors.append((number, "credit_code", _("same credit code as row %(row)d", row=self.seen_credit[credit])))
            elif credit in self.by_credit:
                result.errors.append((number, "credit_code", self._existing(self.by_credit[credit])))
        owner_text = str(record.get("owner") or "").strip().lower()
        owner = None
        if owner_text:
            owner = self.owners.get(owner_text) or self.owners_by_name.get(owner_text)
            if owner is None:
                result.errors.append((number, "owner", _("unknown salesperson %(name)s", name=record.get("owner"))))
            elif self.user.role == Role.SALES.value and owner.id != self.user.id:
                result.errors.append((number, "owner", _("you can only import your own customers")))
        if self.user.role == Role.SALES.value:
            owner = self.user
        self.seen_keys.setdefault(values["name_key"], number)
        if credit:
            self.seen_credit.setdefault(credit, number)
        if len(result.errors) == errors_before:
            values["owner_id"] = owner.id if owner else None
            result.rows.append(values)


def store_upload(data: bytes, user: User) -> str:
    """Keep the checked file for the confirmation step; the token is bound to the user."""
    token = secrets.token_hex(16)
    _upload_path(user, token).write_bytes(data)
    return token


def load_upload(token: str, user: User) -> bytes | None:
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        return None
    path = _upload_path(user, token)
    return path.read_bytes() if path.is_file() else None


def discard_upload(token: str, user: User) -> None:
    if re.fullmatch(r"[0-9a-f]{32}", token or ""):
        _upload_path(user, token).unlink(missing_ok=True)


def _upload_path(user: User, token: str) -> Path:
    folder = Path(current_app.instance_path) / "uploads" / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{user.id}-{token}.xlsx"


def commit_import(result: ImportResult, user: User, filename: str) -> list[Customer]:
    """Insert every row of a clean result in the current transaction (all or nothing)."""
    if not result.ok:
        raise ValueError("only a result without errors can be imported")
    values = numbering.reserve("customer", len(result.rows))
    customers = [Customer(code=numbering.format_value("customer", value), **row)
                 for value, row in zip(values, result.rows)]
    db.session.add_all(customers)
    db.session.flush()
    entry = audit.record("import", summary=f"{len(customers)} customers from {filename[:200]}")
    entry.at = utcnow()
    db.session.add_all([AuditLog(user_id=user.id, username=user.username, action="create", entity_type="Customer",
                                 entity_id=c.id, summary=f"{c.code} {c.name} (import)", ip=entry.ip, at=entry.at)
                        for c in customers])
    db.session.flush()
    return customers


