"""Language and time zone selection."""
from flask import has_request_context, session
from flask_login import current_user

from .models import LOCALES

HTML_LANG = {"zh": "zh-CN", "en": "en"}


def select_locale() -> str:
    """The user's stored choice; before login, the choice made on the login page; else Chinese."""
    if not has_request_context():
        return "zh"  # commands and jobs
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("lang")
    return chosen if chosen in LOCALES else "zh"


def local_zone():
    """The site's time zone (Asia/Shanghai unless PORTAL_TIMEZONE says otherwise)."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today():
    """Today's date where the factory is, whatever the server's clock zone."""
    from datetime import datetime

    return datetime.now(local_zone()).date()
