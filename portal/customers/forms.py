from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from ..models import CURRENCIES

GRADE_LABELS = {"A": _l("A – key customer"), "B": _l("B – important"), "C": _l("C – ordinary"), "D": _l("D – minor")}
STATUS_LABELS = {"prospect": _l("Prospect"), "active": _l("Active"), "dormant": _l("Dormant"),
                 "blacklisted": _l("Blacklisted")}
SOURCE_LABELS = {"exhibition": _l("Exhibition"), "b2b": _l("B2B platform"), "referral": _l("Referral"),
                 "cold_visit": _l("Cold visit"), "phone": _l("Phone inquiry"), "website": _l("Website"),
                 "other": _l("Other")}
LOG_KIND_LABELS = {"visit": _l("Visit"), "call": _l("Phone call"), "email": _l("E-mail"), "wechat": _l("WeChat"),
                   "exhibition": _l("Exhibition")}


def _choices(labels, blank=None):
    choices = [(key, label) for key, label in labels.items()]
    return [("", blank)] + choices if blank is not None else choices


class CustomerForm(PortalForm):
    name = StringField(_l("Company name"), validators=[InputRequired(), Length(max=200)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=30)])
    company_no = StringField(_l("Company number (foreign)"), validators=[Optional(), Length(max=40)])
    legal_rep = StringField(_l("Legal representative"), validators=[Optional(), Length(max=60)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    province = StringField(_l("Province"), validators=[Optional(), Length(max=40)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=60)])
    country = StringField(_l("Country code"), default="CN", validators=[Optional(), Length(max=2)])
    port = StringField(_l("Port"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=200)])
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=60)])
    grade = SelectField(_l("Grade"), choices=_choices(GRADE_LABELS), default="C")
    source = SelectField(_l("Source"), choices=_choices(SOURCE_LABELS, blank="—"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS), default="prospect")
    credit_limit = DecimalField(_l("Credit limit"), places=2, validators=[Optional(), NumberRange(min=0)])
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="CNY")
    payment_terms = StringField(_l("Payment terms"), validators=[Optional(), Length(max=200)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=200)])
    bank_account = StringField(_l("Bank account"), validators=[Optional(), Length(max=60)])
    owner_id = SelectField(_l("Salesperson"), coerce=str, validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])
    version = HiddenField()


class FilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    grade = SelectField(_l("Grade"), choices=_choices(GRADE_LABELS, blank=_l("All grades")), validators=[Optional()])
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS, blank=_l("All statuses")), validators=[Optional()])
    source = SelectField(_l("Source"), choices=_choices(SOURCE_LABELS, blank=_l("All sources")), validators=[Optional()])
    country = StringField(_l("Country code"), validators=[Optional(), Length(max=2)])
    owner = SelectField(_l("Salesperson"), coerce=str, validators=[Optional()])
    sort = HiddenField()


class ContactForm(PortalForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=60)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    mobile = StringField(_l("Mobile"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    wechat = StringField(_l("WeChat"), validators=[Optional(), Length(max=60)])
    is_primary = BooleanField(_l("Primary contact"))


class LogForm(PortalForm):
    kind = SelectField(_l("Contact by"), choices=_choices(LOG_KIND_LABELS))
    contact_id = SelectField(_l("With"), coerce=str, validators=[Optional()])
    summary = TextAreaField(_l("What was discussed"), validators=[InputRequired(), Length(max=5000)])
    next_step = StringField(_l("Next step"), validators=[Optional(), Length(max=300)])
    next_date = DateField(_l("Next step by"), validators=[Optional()])


class ReassignForm(PortalForm):
    owner_id = SelectField(_l("Salesperson"), coerce=str, validators=[InputRequired()])


