from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..models import CURRENCIES, INCOTERMS


class HeaderForm(PortalForm):
    """The quotation's header; currency, Incoterm and dates are checked again by the service."""

    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="CNY")
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    incoterm = SelectField(_l("Incoterm"), choices=[("", "—")] + [(i, i) for i in INCOTERMS],
                           validators=[Optional()])
    port = StringField(_l("Port"), validators=[Optional(), Length(max=60)])
    terms = TextAreaField(_l("Terms"), validators=[Optional(), Length(max=5000)])
    notes = TextAreaField(_l("Internal notes"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()


class NewQuoteForm(HeaderForm):
    customer_code = StringField(_l("Customer"), validators=[Length(max=60)])


class ItemForm(PortalForm):
    """A line: a product from the catalogue or free text; numbers are checked by the service (exact Decimal)."""

    product_id = SelectField(_l("Product"), coerce=str, validators=[Optional()], validate_choice=False)
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=300)])
    quantity = StringField(_l("Quantity"), validators=[Optional(), Length(max=30)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=20)])
    unit_price = StringField(_l("Unit price"), validators=[Optional(), Length(max=30)])
    version = HiddenField()


class ActionForm(PortalForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    version = HiddenField()


class VersionForm(PortalForm):
    """A button-only POST (remove a line): CSRF and the version the page was read at."""

    version = HiddenField()


class FilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    state = SelectField(_l("Status"), validators=[Optional()])
    owner = SelectField(_l("Salesperson"), coerce=str, validators=[Optional()])
    expiring = BooleanField(_l("Expiring within 7 days"))
