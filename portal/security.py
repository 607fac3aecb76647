"""Security headers on every response; input no database accepts is refused before any view runs."""
from datetime import datetime, timedelta, timezone

from flask import abort, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from flask_login import current_user
from werkzeug.routing import IntegerConverter

# Ids in URLs fit the database's integer (PostgreSQL INTEGER); a larger number is no record: 404.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` that matches only numbers a database integer column can hold."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def refuse_nul():
    """A NUL character is never part of real text and PostgreSQL refuses it in strings: 422 at once."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(422)

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def add_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # Pages of a signed-in user must not stay in a shared office PC's cache.
    if request.endpoint != "static" and current_user and current_user.is_authenticated:
        headers.setdefault("Cache-Control", "no-store")
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, whose idle expiry (PERMANENT_SESSION_LIFETIME) moves on with use, but
    re-signed at most once a minute when nothing in it changed, instead of on every response (serialising,
    compressing and signing it cost ~3 % of a list page). The idle limit is thereby exact to a minute."""

    refresh_after = timedelta(minutes=1)

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            data, signed_at = serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()),
                                               return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app, session) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or datetime.now(timezone.utc) - signed_at >= self.refresh_after
