from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from .services import CHANNEL_LABELS, REASON_LABELS, STAFF_CHANNELS

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
RATINGS = [(str(n), str(n)) for n in range(1, 6)]
CATEGORY_CHOICES = [("quality", _l("Quality")), ("delivery", _l("Delivery")), ("packaging", _l("Packaging")),
                    ("service", _l("Service")), ("other", _l("Other"))]
TAB_LABELS = {"due": _l("All due"), "today": _l("Due today"), "overdue": _l("Overdue"),
              "upcoming": _l("Upcoming"), "done": _l("Done"), "cancelled": _l("Cancelled"), "all": _l("All")}


class FilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search

    tab = HiddenField()
    q = StringField(_l("Customer"), validators=[Optional(), Length(max=100)])
    month = StringField(_l("Month made (YYYY-MM)"), validators=[
        Optional(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Enter a month as YYYY-MM."))])
    reason = SelectField(_l("Reason"), choices=[("", _l("All reasons"))] + list(REASON_LABELS.items()),
                         validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=[("", _l("All channels"))] + list(CHANNEL_LABELS.items()),
                          validators=[Optional()])
    problems = BooleanField(_l("Problems only"))


class VisitForm(PortalForm):
    customer_code = StringField(_l("Customer code"), validators=[InputRequired(), Length(max=40)])
    order_number = StringField(_l("Order or contract number (optional)"), validators=[Optional(), Length(max=40)])
    due_on = DateField(_l("Due on"), validators=[InputRequired()])
    assigned_to_id = SelectField(_l("Assigned to"), choices=[], validators=[Optional()])  # set by the view
    notes = TextAreaField(_l("Internal notes"), validators=[Optional(), Length(max=5000)])


class AnswerForm(PortalForm):
    channel = SelectField(_l("Channel"), choices=[(c, CHANNEL_LABELS[c]) for c in STAFF_CHANNELS], default="phone")
    answered_by = StringField(_l("Who answered"), validators=[InputRequired(), Length(max=100)])
    quality_ok = RadioField(_l("Is the product quality all right?"), choices=YES_NO, validators=[InputRequired()])
    quality_note = TextAreaField(_l("About the quality"), validators=[Optional(), Length(max=5000)])
    service_timely = RadioField(_l("Was the service timely?"), choices=YES_NO, validators=[InputRequired()])
    service_note = TextAreaField(_l("About the service"), validators=[Optional(), Length(max=5000)])
    sales_rating = RadioField(_l("Rating of the salesperson (1–5)"), choices=RATINGS, validators=[InputRequired()])
    suggestions = TextAreaField(_l("Other needs or suggestions"), validators=[Optional(), Length(max=5000)])
    score = RadioField(_l("Overall satisfaction (1–5)"), choices=RATINGS, validators=[InputRequired()])
    notes = TextAreaField(_l("Internal notes"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()


class RescheduleForm(PortalForm):
    due_on = DateField(_l("New date"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=500)])
    version = HiddenField()


class AssignForm(PortalForm):
    assigned_to_id = SelectField(_l("Assigned to"), choices=[], validators=[Optional()])  # set by the view
    version = HiddenField()


class CancelForm(PortalForm):
    cancel_reason = TextAreaField(_l("Reason for cancelling"), validators=[InputRequired(), Length(max=500)])
    version = HiddenField()


class NoteForm(PortalForm):
    note = TextAreaField(_l("Internal note"), validators=[InputRequired(), Length(max=5000)])


class TicketForm(PortalForm):
    category = SelectField(_l("Category"), choices=CATEGORY_CHOICES)
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
