from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ..models import CURRENCIES

ACTIVE_LABELS = {"1": _l("Active products"), "0": _l("Inactive products")}


class ProductForm(PortalForm):
    code = StringField(_l("Product code"), validators=[InputRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=200)])
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=300)])
    unit = StringField(_l("Unit"), default="pcs", validators=[InputRequired(), Length(max=20)])
    default_price = StringField(_l("Default price"), validators=[Optional(), Length(max=30)])  # checked by the service
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="CNY")
    active = BooleanField(_l("Active (offered in quotations)"), default=True)


class FilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    active = SelectField(_l("Status"), choices=[("", _l("All"))] + list(ACTIVE_LABELS.items()),
                         validators=[Optional()])
