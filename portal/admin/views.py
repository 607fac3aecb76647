"""Administration: users, company settings, audit trail."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..auth.access import role_required
from ..extensions import db
from ..models import Role, User
from ..web import render, see_other
from . import bp, services
from .forms import ROLE_LABELS, AuditFilterForm, NewUserForm, ResetPasswordForm, SettingsForm, UserForm

admin_only = role_required(Role.ADMIN)
PER_PAGE = 50


def _form_errors(form, error: services.AdminError) -> None:
    for field, message in error.errors.items():
        getattr(form, field).errors.append(message)


@bp.get("/users")
@admin_only
def users():
    """All users, searchable by name; the table alone for htmx."""
    q = (request.args.get("q") or "").strip()[:64]
    stmt = select(User).order_by(User.role, User.username)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like), func.lower(User.display_name).like(like)))
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render("admin/users.html", "admin/_users_table.html", page=page, q=q, role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    """Create a user with an initial password."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.data)
        except services.AdminError as error:
            _form_errors(form, error)
        else:
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return see_other(url_for("admin.users"))
    return render("admin/user_form.html", form=form, user=None, status=422 if form.is_submitted() else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int):
    """Edit a user; disabling ends their sessions at once."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if request.method == "GET":
        form.customer_code.data = user.customer.code if user.customer else ""
    if form.validate_on_submit():
        try:
            services.update_user(user, form.data, current_user)
        except services.AdminError as error:
            _form_errors(form, error)
        else:
            db.session.commit()
            flash(_("User %(name)s saved.", name=user.username), "success")
            return see_other(url_for("admin.users"))
    return render("admin/user_form.html", form=form, user=user, reset_form=ResetPasswordForm(),
                  status=422 if form.is_submitted() else 200)


@bp.post("/users/<int:user_id>/password")
@admin_only
def user_password(user_id: int):
    """Set a new password for a user; their sessions end."""
    user = db.get_or_404(User, user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data)
        except services.AdminError as error:
            _form_errors(form, error)
        else:
            db.session.commit()
            flash(_("The password of %(name)s has been reset.", name=user.username), "success")
            return see_other(url_for("admin.user_edit", user_id=user.id))
    edit_form = UserForm(obj=user)
    edit_form.customer_code.data = user.customer.code if user.customer else ""
    return render("admin/user_form.html", form=edit_form, user=user, reset_form=form, status=422)


@bp.route("/settings", methods=["GET", "POST"])
@admin_only
def settings():
    """Company letterhead, bank details, default contract terms, logo."""
    company = services.company_settings()
    form = SettingsForm(obj=company)
    if form.validate_on_submit():
        try:
            services.update_settings(company, form.data, logo=request.files.get("logo"),
                                     remove_logo=form.remove_logo.data, seal=request.files.get("seal"),
                                     remove_seal=form.remove_seal.data)
        except services.AdminError as error:
            _form_errors(form, error)
        else:
            db.session.commit()
            flash(_("Settings saved."), "success")
            return see_other(url_for("admin.settings"))
    return render("admin/settings.html", form=form, company_row=company,
                  status=422 if form.is_submitted() else 200)


@bp.get("/settings/seal")
@admin_only
def seal():
    """The uploaded company seal, for the settings page (it is printed on issued documents)."""
    from flask import abort, send_file

    from .. import uploads

    company = services.company_settings()
    path = uploads.path_of("company", company.seal_file) if company.seal_file else None
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, max_age=0)


@bp.get("/audit")
@admin_only
def audit():
    """The audit trail with filters and pages; the table alone for htmx."""
    form = AuditFilterForm(request.args)
    filters = form.data if form.validate() else {}
    page = db.paginate(services.audit_query(filters), page=request.args.get("page", 1, type=int),
                       per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("admin/audit.html", "admin/_audit_table.html", form=form, page=page, args=args,
                  actions=services.audit_actions(), status=200 if form.errors == {} else 422)


@bp.app_template_global()
def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))
