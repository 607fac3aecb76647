"""Language and time zone selection."""
from flask import has_request_context, session
from flask.globals import _cv_app
from flask_babel import Domain
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

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


class RequestDomain(Domain):
    """Flask-Babel's message domain, but the catalog is found once per request and locale.

    Flask-Babel looks the catalog up again on every gettext call (three context-local lookups and a locale
    identifier built for its cache key), about a hundred times a page. The catalog found is kept beside
    Flask-Babel's own per-request state, with the locale it belongs to: `force_locale` and `refresh` put
    another locale object there, so the next call looks up the catalog again.
    """

    def get_translations(self):
        app_ctx = _cv_app.get(None)
        state = getattr(app_ctx.g, "_flask_babel", None) if app_ctx is not None else None
        if state is not None:
            cached = getattr(state, "portal_translations", None)
            if cached is not None and cached[0] is getattr(state, "babel_locale", None):
                return cached[1]
        translations = super().get_translations()
        state = getattr(app_ctx.g, "_flask_babel", None) if app_ctx is not None else None
        locale = getattr(state, "babel_locale", None)
        if locale is not None:
            state.portal_translations = (locale, translations)
        return translations


def install(app, babel) -> None:
    """Use RequestDomain for Python's gettext and lazy strings and for the templates' `_`/`gettext`."""
    domain = RequestDomain(domain=app.extensions["babel"].default_domain)
    babel.domain_instance = domain
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
    )

    @pass_context
    def gettext(context, string, **variables):
        """Jinja's newstyle gettext in one call: its `_` resolved `gettext`, which called the translation
        function, each through Context.call (~20 us of ~25 a string, ~60 strings a page)."""
        translated = domain.get_translations().ugettext(string)
        if context.eval_ctx.autoescape:
            translated = Markup(translated)
        return translated % variables  # always a format string, as Jinja's own

    app.jinja_env.globals.update(gettext=gettext, _=gettext)


# The numeric patterns the templates use, written out: Babel parses and applies a pattern in Python for each
# value (~70 us a date, 25 of them a list page). Digits and order do not depend on the locale for these.
_NUMERIC = {
    "yyyy-MM-dd": "{0.year:04d}-{0.month:02d}-{0.day:02d}",
    "yyyy-MM-dd HH:mm": "{0.year:04d}-{0.month:02d}-{0.day:02d} {0.hour:02d}:{0.minute:02d}",
}


def _to_local(value):
    """Flask-Babel's to_user_timezone: naive means UTC, shown in the site's zone."""
    from flask_babel import get_timezone
    from pytz import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(get_timezone())  # pytz's fromutc gives the right offset: normalize() had nothing to do


def date_filter(value, fmt="yyyy-MM-dd"):
    """`|date`: the local date; as flask_babel.format_date, faster for the numeric pattern."""
    from datetime import date, datetime

    from flask_babel import format_date

    if not value:
        return ""
    if fmt != "yyyy-MM-dd" or not isinstance(value, date):
        return format_date(value, fmt)
    if isinstance(value, datetime):
        value = _to_local(value)
    return _NUMERIC[fmt].format(value)


def datetime_filter(value, fmt="yyyy-MM-dd HH:mm"):
    """`|datetime`: the local time; as flask_babel.format_datetime, faster for the numeric patterns."""
    from datetime import datetime

    from flask_babel import format_datetime

    if not value:
        return ""
    pattern = _NUMERIC.get(fmt)
    if pattern is None or not isinstance(value, datetime):
        return format_datetime(value, fmt)
    return pattern.format(_to_local(value))


_translated: dict = {}


def translated(labels: dict) -> dict:
    """A module's constant {value: lazy label} with every label translated into the current language, made once
    per worker and language: a list page looks a label up for each row, and a lazy string is translated anew
    every time it is shown (~10 us)."""
    from flask_babel import get_locale

    key = (id(labels), str(get_locale()))
    found = _translated.get(key)
    if found is None or found[0] is not labels:
        found = _translated[key] = (labels, {value: str(label) for value, label in labels.items()})
    return found[1]
