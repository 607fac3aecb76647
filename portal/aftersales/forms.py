from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .services import (CATEGORY_LABELS, CHANNEL_LABELS, CURRENCIES, DEPARTMENT_LABELS, RESOLUTION_LABELS,
                       SEVERITY_LABELS, STATE_LABELS)


def _choices(labels, blank=None):
    return ([("", blank)] if blank is not None else []) + list(labels.items())


class TicketForm(PortalForm):
    customer_code = StringField(_l("Customer code"), validators=[InputRequired(), Length(max=20)])
    order_number = StringField(_l("Order number"), validators=[Optional(), Length(max=30)])
    channel = SelectField(_l("Received by"), choices=_choices(CHANNEL_LABELS))
    category = SelectField(_l("Category"), choices=_choices(CATEGORY_LABELS))
    contact_name = StringField(_l("Who complained"), validators=[Optional(), Length(max=100)])
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Complaint details"), validators=[InputRequired(), Length(max=10000)])
    file = FileField(_l("Photo or document (PNG, JPEG, PDF)"))


class ActionForm(PortalForm):
    """Every field a step may ask for; each step's form shows its own (rendered with the step's prefix)."""

    severity = SelectField(_l("Severity"), choices=_choices(SEVERITY_LABELS, "—"), validators=[Optional()])
    department = SelectField(_l("Department"), choices=_choices(DEPARTMENT_LABELS, "—"), validators=[Optional()])
    assignee_id = SelectField(_l("Person responsible"), coerce=str, validators=[Optional()])
    cause = TextAreaField(_l("Cause"), validators=[Optional(), Length(max=10000)])
    solution = TextAreaField(_l("Solution"), validators=[Optional(), Length(max=10000)])
    resolution = SelectField(_l("Resolution"), choices=_choices(RESOLUTION_LABELS, "—"), validators=[Optional()])
    cost_amount = StringField(_l("Cost to the factory"), validators=[Optional(), Length(max=20)])
    claim_amount = StringField(_l("Amount refunded or credited (returns and claims)"),
                               validators=[Optional(), Length(max=20)])
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=5000)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=10000)])
    preventive_action = TextAreaField(_l("Preventive action"), validators=[Optional(), Length(max=10000)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])
    customer_visible = BooleanField(_l("Show to the customer"))
    version = HiddenField()


class NoteForm(PortalForm):
    note = TextAreaField(_l("Note"), validators=[InputRequired(), Length(max=5000)])
    customer_visible = BooleanField(_l("Show to the customer"))


class FileForm(PortalForm):
    file = FileField(_l("File (PNG, JPEG, PDF)"))
    file_visible = BooleanField(_l("Show to the customer"))  # not "customer_visible": the note form has that id


class FilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Customer"), validators=[Optional(), Length(max=100)])
    state = SelectField(_l("Status"), choices=[("", _l("All statuses")), ("open", _l("All open"))]
                        + list(STATE_LABELS.items()), validators=[Optional()])
    severity = SelectField(_l("Severity"), choices=_choices(SEVERITY_LABELS, _l("All severities")),
                           validators=[Optional()])
    department = SelectField(_l("Department"), choices=_choices(DEPARTMENT_LABELS, _l("All departments")),
                             validators=[Optional()])
    month = StringField(_l("Received in (YYYY-MM)"), validators=[Optional(), Length(max=7)])
    overdue = BooleanField(_l("Overdue only"))


class ServiceRecordForm(PortalForm):
    served_on = DateField(_l("Served on"), validators=[InputRequired()])
    fault = TextAreaField(_l("Fault"), validators=[InputRequired(), Length(max=10000)])
    handling = TextAreaField(_l("How it was handled"), validators=[InputRequired(), Length(max=10000)])
    parts = StringField(_l("Parts used"), validators=[Optional(), Length(max=500)])
    hours = StringField(_l("Hours spent"), validators=[Optional(), Length(max=10)])
    technician = StringField(_l("Technician"), validators=[Optional(), Length(max=100)])
    version = HiddenField()  # the record's version when the form was read (edits only)
