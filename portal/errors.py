"""Error pages in the user's language, for full pages and htmx requests alike."""
import logging

from flask import current_app, g, make_response, render_template, request, session
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from . import database
from .extensions import db, login_manager
from .models import LOCALES
from .web import wants_fragment

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Reload the page and try again.")),
    404: (_l("Page not found"), _l("This page does not exist, or you may not see it.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way.")),
    413: (_l("File too large"), _l("The upload is larger than the limit of %(mb)s MB.")),
    422: (_l("Invalid input"), _l("Some values were not accepted. Correct them and try again.")),
    429: (_l("Too many attempts"), _l("Too many requests in a short time. Wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("The server could not complete the request. Nothing was saved. Try again; if it happens again, tell the administrator.")),
    503: (_l("Busy, try again"), _l("The database is busy or restarting. Nothing was saved. Wait a moment and try again.")),
}
SAVED_BUT_NOT_SHOWN = _l("Your change was saved, but the next page could not be shown: the database is busy or "
                         "restarting. Do not send the form again; open the page again in a moment.")


def error_page(code: int, detail=None, **context):
    """The error page, or for an htmx swap only its box (app.js shows its message; nothing is swapped)."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    if code == 413:
        message = message % {"mb": current_app.config["UPLOAD_MAX_BYTES"] // 1048576}
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    response = make_response(render_template(template, code=code, title=title, message=detail or message,
                                             **context), code)
    response.vary.add("HX-Request")
    return response


def _locale_without_database() -> str:
    """The language of the request, from what is already in memory: the signed-in user as loaded before the
    failure (no lazy load), else the session's choice (set at sign-in), else Chinese."""
    user = g.get("_login_user")
    locale = getattr(user, "__dict__", {}).get("locale") if user is not None else None
    if locale not in LOCALES:
        locale = session.get("lang")
    return locale if locale in LOCALES else "zh"


def database_unavailable_page():
    """503 rendered without the database (it is down, locked or our connection is broken): no user or company
    settings are loaded for the page, so rendering it cannot fail the same way again."""
    locale = _locale_without_database()
    saved = database.request_committed()  # the failure came after the commit: say so, or the user saves twice
    db.session.rollback()
    g._login_user = login_manager.anonymous_user()  # the layout and headers then ask nothing of the database
    with force_locale(locale):
        response = error_page(503, SAVED_BUT_NOT_SHOWN if saved else None, company=lambda: None, brand=lambda: None)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Retry-After"] = "5"
    return response


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        log.warning("CSRF refused: %s %s (%s)", request.method, request.path, error.description)
        return error_page(400, _l("The form has expired or was not sent from this site. Reload the page and try again."))

    @app.errorhandler(429)
    def too_many(error):
        log.warning("rate limit hit: %s %s from %s", request.method, request.path, request.remote_addr)
        if request.endpoint == "auth.login":
            return error_page(429, _l("Too many failed sign-in attempts. Wait 15 minutes and try again, or ask the administrator."))
        return error_page(429)

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        log.error("database error on %s %s: %s", request.method, request.path, error)
        return database_unavailable_page()

    @app.errorhandler(DataError)
    def value_refused_by_database(error):
        """A value the form checks let through but the database refuses (out of range, bad text): 422."""
        db.session.rollback()
        log.warning("database refused a value on %s %s: %s", request.method, request.path, error.orig)
        return error_page(422)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code in MESSAGES:
            return error_page(error.code)
        return error

    @app.errorhandler(Exception)
    def internal_error(error):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_page(500)
