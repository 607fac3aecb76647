"""Who may open which view: login by default, roles per view, customers kept in /my/."""
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user

from ..extensions import login_manager
from ..models import STAFF_ROLES, Role


def public(view):
    """Mark a view as open without login (login page, health check, logo)."""
    view.is_public = True
    return view


def role_required(*roles):
    """Only users with one of `roles` may open the view; others get 404, anonymous users the login page."""
    allowed = frozenset(getattr(r, "value", r) for r in roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(404)
            return view(*args, **kwargs)

        wrapped.roles = allowed
        return wrapped

    return decorator


staff_required = role_required(*STAFF_ROLES)
ALL_ROLES = tuple(Role)


def enforce_login():
    """Before every request: anything not marked public needs a login and a declared role list.

    A view that forgot its role_required is refused rather than left open.
    """
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not getattr(view, "roles", None):
        current_app.logger.error("view %s declares no roles; refused", request.endpoint)
        abort(404)
    return None
