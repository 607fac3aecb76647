from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models import CURRENCIES

STATE_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Awaiting approval"), "approved": _l("Approved"),
    "in_progress": _l("In progress"), "finished": _l("Finished"), "sent": _l("Sent"),
    "received": _l("Received"), "evaluated": _l("Evaluated"), "converted": _l("Converted"),
    "closed": _l("Closed"),
}
TERMS_LABELS = {"paid": _l("Paid by the customer"), "collect": _l("Collect (charged on delivery)"),
                "waived": _l("Waived (free)")}
EVALUATION_LABELS = {"approved": _l("Sample approved"), "changes_needed": _l("Changes needed"),
                     "rejected": _l("Sample rejected")}


def _choices(labels, blank=None):
    choices = [(key, label) for key, label in labels.items()]
    return [("", blank)] + choices if blank is not None else choices


class SampleForm(PortalForm):
    customer_code = StringField(_l("Customer code"), validators=[InputRequired(), Length(max=200)])
    title = StringField(_l("Sample name"), validators=[InputRequired(), Length(max=200)])
    requirement = TextAreaField(_l("Customer's requirement"), validators=[InputRequired(), Length(max=10000)])
    product_id = SelectField(_l("Product"), coerce=str, validators=[Optional()])
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=300)])
    quantity = IntegerField(_l("Quantity for the customer"), default=1,
                            validators=[InputRequired(), NumberRange(min=1, max=1_000_000)])
    retained_quantity = IntegerField(_l("Retained samples (留样)"), default=1,
                                     validators=[InputRequired(), NumberRange(min=1, max=1_000_000)])
    sample_fee = DecimalField(_l("Sample fee"), places=2, validators=[Optional(), NumberRange(min=0)])
    sample_fee_terms = SelectField(_l("Sample fee terms"), choices=_choices(TERMS_LABELS), default="waived")
    courier_fee = DecimalField(_l("Courier fee"), places=2, validators=[Optional(), NumberRange(min=0)])
    courier_fee_terms = SelectField(_l("Courier fee terms"), choices=_choices(TERMS_LABELS), default="paid")
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="CNY")
    due_date = DateField(_l("Due date"), validators=[Optional()])
    version = HiddenField()


class FilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    state = SelectField(_l("State"), choices=_choices(STATE_LABELS, blank=_l("All states")), validators=[Optional()])
    customer = StringField(_l("Customer code"), validators=[Optional(), Length(max=40)])
    owner = SelectField(_l("Salesperson"), choices=[], validators=[Optional()])  # choices set by the view
    overdue = BooleanField(_l("Overdue only"))


class BoardForm(PortalForm):
    class Meta:
        csrf = False

    owner = SelectField(_l("Salesperson"), choices=[], validators=[Optional()])


class ActionForm(PortalForm):
    """An action without values (submit, approve, start, convert): only the CSRF token."""


class RejectForm(PortalForm):
    rejection_reason = TextAreaField(_l("Reason for sending it back"), validators=[InputRequired(), Length(max=500)])


class FinishForm(PortalForm):
    inspection_note = TextAreaField(_l("Inspection note"), validators=[InputRequired(), Length(max=5000)])


class SendForm(PortalForm):
    courier_company = StringField(_l("Courier company"), validators=[InputRequired(), Length(max=60)])
    tracking_no = StringField(_l("Tracking number"), validators=[InputRequired(), Length(max=60)])
    expected_arrival = DateField(_l("Expected arrival"), validators=[Optional()])


class ReceiveForm(PortalForm):
    received_on = DateField(_l("Received on"), validators=[InputRequired()])


class EvaluateForm(PortalForm):
    evaluation = RadioField(_l("The customer's evaluation"), choices=_choices(EVALUATION_LABELS),
                            validators=[InputRequired()])
    evaluation_comment = TextAreaField(_l("What the customer said"), validators=[Optional(), Length(max=5000)])


class CloseForm(PortalForm):
    close_reason = TextAreaField(_l("Reason for closing"), validators=[InputRequired(), Length(max=500)])


ACTION_FORMS = {"reject": RejectForm, "finish": FinishForm, "send": SendForm, "receive": ReceiveForm,
                "evaluate": EvaluateForm, "close": CloseForm}


def action_form(name: str, **kwargs) -> PortalForm:
    return ACTION_FORMS.get(name, ActionForm)(**kwargs)


class PhotoForm(PortalForm):
    file = FileField(_l("Photo or PDF"))
    customer_visible = BooleanField(_l("Show to the customer in the portal"))
