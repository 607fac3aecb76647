from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, Regexp

from ..models import Role

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "manager": _l("Sales manager"),
    "sales": _l("Salesperson"),
    "service": _l("After-sales service"),
    "customer": _l("Customer (portal)"),
}


class UserForm(PortalForm):
    username = StringField(_l("User name"), validators=[
        InputRequired(), Length(min=3, max=64),
        Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Use letters, digits, dot, dash or underscore."))])
    display_name = StringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    role = SelectField(_l("Role"), choices=[(r.value, ROLE_LABELS[r.value]) for r in Role])
    customer_code = StringField(_l("Customer code (portal users only)"), validators=[Optional(), Length(max=20)])
    locale = SelectField(_l("Language"), choices=[("zh", "中文"), ("en", "English")])
    active = BooleanField(_l("Active"), default=True)


class NewUserForm(UserForm):
    password = PasswordField(_l("Initial password"), validators=[InputRequired(), Length(max=128)],
                             render_kw={"autocomplete": "new-password"})


class ResetPasswordForm(PortalForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=128)],
                             render_kw={"autocomplete": "new-password"})


class SettingsForm(PortalForm):
    name_zh = StringField(_l("Company name (Chinese)"), validators=[InputRequired(), Length(max=200)])
    name_en = StringField(_l("Company name (English)"), validators=[Optional(), Length(max=200)])
    address_zh = StringField(_l("Address (Chinese)"), validators=[Optional(), Length(max=300)])
    address_en = StringField(_l("Address (English)"), validators=[Optional(), Length(max=300)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=60)])
    fax = StringField(_l("Fax"), validators=[Optional(), Length(max=60)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=200)])
    tax_id = StringField(_l("Tax ID (unified social credit code)"), validators=[Optional(), Length(max=40)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=200)])
    bank_account = StringField(_l("Bank account"), validators=[Optional(), Length(max=60)])
    bank_swift = StringField(_l("SWIFT code"), validators=[Optional(), Length(max=20)])
    contract_terms = TextAreaField(_l("Default contract terms"), validators=[Optional(), Length(max=20000)])
    contract_terms_en = TextAreaField(_l("Default contract terms (English)"), validators=[Optional(), Length(max=20000)])
    invoice_terms = TextAreaField(_l("Proforma invoice terms (English)"), validators=[Optional(), Length(max=20000)])
    logo = FileField(_l("Logo (PNG or JPEG, at most 2 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    seal = FileField(_l("Company seal (PNG with a transparent background, at most 2 MB)"))
    remove_seal = BooleanField(_l("Remove the seal"))
    visit_delay_days = IntegerField(_l("Follow-up visit after delivery (days)"), default=7,
                                    validators=[Optional(), NumberRange(min=1, max=90)])
    ticket_days_minor = IntegerField(_l("Minor complaint: due within (days)"), default=10,
                                     validators=[Optional(), NumberRange(min=1, max=90)])
    ticket_days_major = IntegerField(_l("Major complaint: due within (days)"), default=5,
                                     validators=[Optional(), NumberRange(min=1, max=90)])
    ticket_days_critical = IntegerField(_l("Critical complaint: due within (days)"), default=2,
                                        validators=[Optional(), NumberRange(min=1, max=90)])


class AuditFilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET filter

    user = StringField(_l("User"), validators=[Optional(), Length(max=64)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=40)])
    entity = StringField(_l("Record type"), validators=[Optional(), Length(max=40)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
