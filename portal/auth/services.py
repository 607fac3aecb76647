"""Passwords, login sessions, language: the rules of signing in."""
from __future__ import annotations

import gzip
import hashlib
import logging
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, flash, has_request_context, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, delete, func, select

from .. import audit
from ..extensions import db
from ..models import LOCALES, User, UserSession
from ..models.base import utcnow
from ..web import is_htmx

log = logging.getLogger(__name__)


class AuthError(ValueError):
    """A refused auth action; the message is for the user."""


# Passwords

def _hasher() -> PasswordHasher:
    return PasswordHasher(**current_app.config["PASSWORD_HASH_PARAMS"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    """Check `password`; upgrade the stored hash when the cost settings have changed."""
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common-passwords.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def password_problems(password: str, username: str = "") -> list[str]:
    """Reasons why `password` may not be used (empty when it is acceptable)."""
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(_("The password must have at least %(n)d characters.", n=minimum))
    if len(password) > 128:
        problems.append(_("The password may have at most 128 characters."))
    lowered = password.lower()
    if lowered in _common_passwords():
        problems.append(_("This password is too common; choose another."))
    if username and username.lower() in lowered:
        problems.append(_("The password may not contain the user name."))
    if password and len(set(password)) < 3:
        problems.append(_("The password is too simple."))
    return problems


def set_password(user: User, password: str) -> None:
    """Set a new password after the policy check; AuthError lists what is wrong."""
    problems = password_problems(password, user.username)
    if problems:
        raise AuthError(" ".join(problems))
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


# Sessions

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Costs the same whether or not the user exists."""
    name = (username or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.username) == name)) if name else None
    if user is None:
        _hasher().hash(password or "-")  # same work as a real check, so timing does not reveal users
        return None
    if not verify_password(user, password or ""):
        return None
    if not user.active:
        return None
    return user


def start_session(user: User) -> None:
    """Log `user` in with a fresh session: the old session's contents and CSRF token are dropped."""
    lang = session.get("lang")
    session.clear()
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(
        user_id=user.id,
        token_hash=_token_hash(token),
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:200],
    ))
    user.session_token = token
    user.last_login_at = utcnow()
    session.permanent = True
    login_user(user)
    # The user's language also in the session: the "busy, try again" page is in it when the database cannot
    # even load the user.
    lang = user.locale if user.locale in LOCALES else lang
    if lang in LOCALES:
        session["lang"] = lang
    audit.record("login", user, user=user)


def end_session() -> None:
    """Log out: the server forgets this session, so a copied cookie is worthless too."""
    if current_user.is_authenticated and current_user.session_token:
        db.session.execute(delete(UserSession).where(
            UserSession.token_hash == _token_hash(current_user.session_token)))
        audit.record("logout", current_user._get_current_object())
    logout_user()
    session.clear()


def end_sessions(user: User, keep_current: bool = False) -> int:
    """End `user`'s logins (all, or all but the current one); returns how many ended."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_current and has_request_context() and current_user.is_authenticated \
            and current_user.id == user.id and current_user.session_token:
        stmt = stmt.where(UserSession.token_hash != _token_hash(current_user.session_token))
    return db.session.execute(stmt).rowcount or 0


@lru_cache(maxsize=1)
def _user_by_token():
    """The loader's statement, built once: it runs on every request, and building it cost more than running it."""
    return (select(User).join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_hash == bindparam("token_hash"), UserSession.created_at > bindparam("oldest"),
                   User.active.is_(True)))


def load_user(token: str) -> User | None:
    """Flask-Login's loader: the active user whose session row matches the cookie's token."""
    if not token:
        return None
    oldest = utcnow() - current_app.config["SESSION_ABSOLUTE_LIFETIME"]
    user = db.session.scalar(_user_by_token(), {"token_hash": _token_hash(token), "oldest": oldest})
    if user is not None:
        user.session_token = token
    return user


def unauthorized():
    """Not logged in: htmx requests are told to load the login page; others are redirected."""
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    login_url = url_for("auth.login", next=target) if target and target != "/" else url_for("auth.login")
    if is_htmx():
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    flash(_("Please sign in to continue."), "info")
    return redirect(login_url)


# Account actions

def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password; every other login of the user ends."""
    if not verify_password(user, current):
        raise AuthError(_("The current password is not correct."))
    if current == new:
        raise AuthError(_("The new password must differ from the current one."))
    set_password(user, new)
    ended = end_sessions(user, keep_current=True)
    audit.record("password_changed", user, summary=f"other sessions ended: {ended}")


def set_language(locale: str) -> None:
    """Remember the language: on the user when signed in, in the session before."""
    if locale not in LOCALES:
        raise AuthError(_("Unknown language."))
    session["lang"] = locale
    if current_user.is_authenticated and current_user.locale != locale:
        user = current_user._get_current_object()
        changes = audit.apply_changes(user, {"locale": locale})
        audit.record("update", user, changes=changes, summary="language")


def landing_url(user: User) -> str:
    return url_for("myportal.index") if user.is_customer else url_for("home.index")


