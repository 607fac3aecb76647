"""Sign in and out, own password, language."""
from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit
from ..extensions import db, limiter
from ..web import apply_errors, render, safe_next, see_other
from . import bp, services
from .access import ALL_ROLES, public, role_required
from .forms import LanguageForm, LoginForm, PasswordForm


def _failed(response) -> bool:
    return response.status_code == 422


def _account_key() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], deduct_when=_failed,
               key_func=_account_key)
@public
def login():
    """The sign-in form; after repeated failures the limiter answers 429."""
    if current_user.is_authenticated:
        return redirect(services.landing_url(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            services.start_session(user)
            db.session.commit()
            default = services.landing_url(user)
            target = safe_next(form.next.data, default)
            if user.is_customer and not target.startswith(url_for("myportal.index")):
                target = default
            return see_other(target)
        current_app.logger.warning("login failed for %r from %s", form.username.data, request.remote_addr)
        audit.record("login_failed", summary=(form.username.data or "")[:64])
        db.session.commit()  # keep the record although the response is an error
        form.password.errors.append(_("Wrong user name or password, or the account is disabled."))
    return render("auth/login.html", form=form, language_form=LanguageForm(locale=_lang()),
                  status=422 if form.is_submitted() else 200)


def _lang() -> str:
    from flask_babel import get_locale
    return str(get_locale())


@bp.post("/logout")
@role_required(*ALL_ROLES)
def logout():
    """Sign out (POST with CSRF, so no page can log a user out behind their back)."""
    services.end_session()
    db.session.commit()
    flash(_("You have signed out."), "info")
    return see_other(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@role_required(*ALL_ROLES)
def password():
    """Change one's own password; other logins of the account end."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user._get_current_object(), form.current.data, form.new.data)
        except services.AuthError as error:
            form.new.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Your password has been changed. Your other sessions have been signed out."), "success")
            return see_other(services.landing_url(current_user))
    return render("auth/password.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/account/language", methods=["GET", "POST"])
@public
def language():
    """Choose Chinese or English; before sign-in too (kept in the session)."""
    form = LanguageForm(locale=_lang(), next=request.args.get("next", ""))
    if form.validate_on_submit():
        services.set_language(form.locale.data)
        db.session.commit()
        default = services.landing_url(current_user) if current_user.is_authenticated else url_for("auth.login")
        return see_other(safe_next(form.next.data, default))
    return render("auth/language.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    """A buyer's one-time invitation: choose a password, then sign in. Invalid, used, revoked or expired
    links all answer the same 404 page."""
    from ..myportal import services as portal
    from ..myportal.forms import AcceptForm

    invitation = portal.open_invitation(token)
    if invitation is None:
        return render("auth/invitation.html", invitation=None, form=None, status=404)
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            user = portal.accept(token, form.password.data, form.confirm.data)
        except portal.PortalError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        else:
            db.session.commit()
            flash(_("Your account %(username)s is ready. Sign in with your new password.", username=user.username),
                  "success")
            return see_other(url_for("auth.login"))
    return render("auth/invitation.html", invitation=invitation, form=form,
                  status=422 if form.is_submitted() else 200)
