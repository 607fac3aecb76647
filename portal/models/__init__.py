"""All models, importable from one place (and seen by Alembic)."""
from .audit import AuditLog
from .customers import Customer
from .sequences import Sequence
from .settings import CompanySettings
from .users import LOCALES, STAFF_ROLES, Role, User, UserSession

__all__ = [
    "AuditLog", "CompanySettings", "Customer", "LOCALES", "Role", "STAFF_ROLES", "Sequence",
    "User", "UserSession",
]
