"""aftersales pages."""
from . import bp  # noqa: F401
