"""The start page, the health check, the company logo."""
from flask import abort, redirect, send_file, url_for
from flask_login import current_user

from ..auth.access import ALL_ROLES, public, role_required
from ..extensions import db
from ..models import CompanySettings
from ..uploads import path_of
from ..web import render
from . import bp, services


@bp.get("/")
@role_required(*ALL_ROLES)
def index():
    """Staff see their day; customers are sent to their portal."""
    if current_user.is_customer:
        return redirect(url_for("myportal.index"))
    return render("home/index.html", day=services.my_day(current_user))


@bp.get("/healthz")
@public
def healthz():
    """Liveness for the proxy and monitoring: no login, no database write."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/company/logo")
@public
def logo():
    """The company logo from the settings (shown on the login page too)."""
    settings = db.session.get(CompanySettings, 1)
    if settings is None or not settings.logo_file:
        abort(404)
    path = path_of("company", settings.logo_file)
    if not path.is_file():
        abort(404)
    return send_file(path, max_age=3600)
