from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models import INCOTERMS

PAYMENT_KIND_LABELS = {"deposit": _l("Deposit"), "balance": _l("Balance"), "other": _l("Other")}
METHODS = [("", "—"), ("T/T", "T/T"), ("L/C", "L/C"), ("cash", _l("Cash")), ("bank_acceptance", _l("Bank acceptance bill")),
           ("cheque", _l("Cheque")), ("other", _l("Other"))]


class HeaderForm(PortalForm):
    customer_code = StringField(_l("Customer code"), validators=[Optional(), Length(max=20)])
    customer_po = StringField(_l("Customer's order number (PO)"), validators=[Optional(), Length(max=60)])
    currency = SelectField(_l("Currency"), choices=[("CNY", "CNY"), ("USD", "USD"), ("EUR", "EUR")])
    incoterm = SelectField(_l("Incoterm"), choices=[("", "—")] + [(t, t) for t in INCOTERMS], validators=[Optional()])
    port_of_loading = StringField(_l("Port of loading"), validators=[Optional(), Length(max=60)])
    port_of_destination = StringField(_l("Port of destination"), validators=[Optional(), Length(max=60)])
    deposit_percent = DecimalField(_l("Deposit (%)"), places=2, default=30,
                                   validators=[Optional(), NumberRange(min=0, max=100)])
    balance_days = IntegerField(_l("Balance due after (days)"), default=0,
                                validators=[Optional(), NumberRange(min=0, max=365)])
    balance_basis = SelectField(_l("counted from"), choices=[("shipment", _l("the shipment date")),
                                                             ("bl", _l("the B/L date"))])
    payment_terms = StringField(_l("Payment terms (wording for documents)"), validators=[Optional(), Length(max=300)])
    promised_date = DateField(_l("Promised delivery date"), validators=[Optional()])
    terms = TextAreaField(_l("Additional contract terms"), validators=[Optional(), Length(max=20000)])
    notes = TextAreaField(_l("Internal notes"), validators=[Optional(), Length(max=20000)])
    version = HiddenField()


class ItemForm(PortalForm):
    product_id = SelectField(_l("Product"), coerce=str, validators=[Optional()])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=300)])
    quantity = DecimalField(_l("Quantity"), places=3, validators=[InputRequired(), NumberRange(min=0)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=20)])
    unit_price = DecimalField(_l("Unit price"), places=4, validators=[Optional(), NumberRange(min=0)])


class ActionForm(PortalForm):
    contract_date = DateField(_l("Contract date"), validators=[Optional()])
    exchange_rate = StringField(_l("Exchange rate"), validators=[Optional(), Length(max=20)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class ProgressForm(PortalForm):
    progress = IntegerField(_l("Progress (%)"), validators=[InputRequired(), NumberRange(min=0, max=100)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
    customer_visible = BooleanField(_l("Show to the customer"), default=True)


class PaymentForm(PortalForm):
    kind = SelectField(_l("Kind"), choices=list(PAYMENT_KIND_LABELS.items()))
    amount = DecimalField(_l("Amount"), places=2, validators=[InputRequired()])
    received_on = DateField(_l("Received on"), validators=[InputRequired()])
    method = SelectField(_l("Method"), choices=METHODS, validators=[Optional()])
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=100)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class PlanForm(PortalForm):
    packaging = TextAreaField(_l("Packaging requirements"), validators=[Optional(), Length(max=5000)])
    marking = TextAreaField(_l("Marking requirements (shipping marks)"), validators=[Optional(), Length(max=5000)])
    required_date = DateField(_l("Required by"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class InspectionForm(PortalForm):
    inspected_on = DateField(_l("Inspection date"), validators=[InputRequired()])
    inspector = StringField(_l("Inspector"), validators=[InputRequired(), Length(max=60)])
    result = RadioField(_l("Result"), choices=[("pass", _l("Pass")), ("fail", _l("Fail"))], validators=[InputRequired()])
    defects = TextAreaField(_l("Defects"), validators=[Optional(), Length(max=5000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    photo = FileField(_l("Photo or report (PNG, JPEG, PDF)"))


class ShipmentForm(PortalForm):
    ship_date = DateField(_l("Ship date"), validators=[InputRequired()])
    carrier = StringField(_l("Carrier or forwarder"), validators=[Optional(), Length(max=100)])
    booking_no = StringField(_l("Booking number"), validators=[Optional(), Length(max=60)])
    container_no = StringField(_l("Container number"), validators=[Optional(), Length(max=60)])
    bl_no = StringField(_l("B/L number"), validators=[Optional(), Length(max=60)])
    bl_date = DateField(_l("B/L date"), validators=[Optional()])
    tracking_no = StringField(_l("Tracking number"), validators=[Optional(), Length(max=60)])
    arrival_date = DateField(_l("Expected arrival"), validators=[Optional()])
    receiver_name = StringField(_l("Receiver"), validators=[Optional(), Length(max=100)])
    receiver_address = StringField(_l("Delivery address"), validators=[Optional(), Length(max=300)])
    receiver_phone = StringField(_l("Receiver's phone"), validators=[Optional(), Length(max=40)])
    shipping_marks = TextAreaField(_l("Shipping marks"), validators=[Optional(), Length(max=2000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class DeliveredForm(PortalForm):
    delivered_on = DateField(_l("Delivered on"), validators=[InputRequired()])


class ChangeForm(PortalForm):
    what = TextAreaField(_l("What should change"), validators=[InputRequired(), Length(max=5000)])
    why = TextAreaField(_l("Why"), validators=[InputRequired(), Length(max=5000)])


class DecisionForm(PortalForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class DunningForm(PortalForm):
    noted_on = DateField(_l("Date"), validators=[InputRequired()])
    contact = StringField(_l("Contact"), validators=[Optional(), Length(max=100)])
    note = TextAreaField(_l("What was said"), validators=[InputRequired(), Length(max=2000)])
    promised_on = DateField(_l("Promised payment date"), validators=[Optional()])
    promised_amount = DecimalField(_l("Promised amount"), places=2, validators=[Optional(), NumberRange(min=0)])


class FileForm(PortalForm):
    file = FileField(_l("File (PNG, JPEG, PDF)"))
    customer_visible = BooleanField(_l("Show to the customer"))


class FilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    state = SelectField(_l("Status"), validators=[Optional()])
    open = BooleanField(_l("Open only"))
    late = BooleanField(_l("Late only"))
    owner = SelectField(_l("Salesperson"), coerce=str, validators=[Optional()])
    sort = HiddenField()


class TargetsForm(PortalForm):
    """The CSRF token of the targets grid (its amounts are read as t_<user>_<month> by the view)."""
