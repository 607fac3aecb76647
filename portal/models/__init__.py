"""All models, importable from one place (and seen by Alembic)."""
from .audit import AuditLog
from .customers import CURRENCIES, Contact, ContactLog, Customer, CustomerStatus, Grade, LogKind, Source
from .sequences import Sequence
from .settings import CompanySettings
from .users import LOCALES, STAFF_ROLES, Role, User, UserSession

__all__ = [
    "AuditLog", "CURRENCIES", "CompanySettings", "Contact", "ContactLog", "Customer", "CustomerStatus",
    "Grade", "LOCALES", "LogKind", "Source", "Role", "STAFF_ROLES", "Sequence",
    "User", "UserSession",
]
