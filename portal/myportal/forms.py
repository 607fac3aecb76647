"""Forms of the customer portal."""
from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from ..models import Evaluation

EVALUATION_CHOICES = [(Evaluation.APPROVED.value, _l("Approved: the sample is right")),
                      (Evaluation.CHANGES.value, _l("Changes needed")),
                      (Evaluation.REJECTED.value, _l("Rejected"))]


class EvaluationForm(PortalForm):
    evaluation = RadioField(_l("Your evaluation"), choices=EVALUATION_CHOICES, validators=[InputRequired()])
    evaluation_comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])


class InviteForm(PortalForm):
    display_name = StringField(_l("Buyer's name"), validators=[InputRequired(), Length(max=100)])
    username = StringField(_l("User name for signing in"), validators=[InputRequired(), Length(max=64)])
    email = StringField(_l("E-mail (optional)"), validators=[Optional(), Email(), Length(max=254)])


class AcceptForm(PortalForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=128)])
    confirm = PasswordField(_l("The same password again"), validators=[InputRequired(), Length(max=128)])


ACCEPT = "image/png,image/jpeg,application/pdf"


class TicketForm(PortalForm):
    """Report a problem; the order's choices are the buyer's own orders (set by the view), the items of the
    chosen order are read from the request (item=<id>, qty_<id>) and checked by aftersales.create_ticket."""

    order_id = SelectField(_l("Order"), choices=[], validators=[Optional()])
    category = SelectField(_l("What is the problem about?"), choices=[], validators=[InputRequired()])
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Describe the problem"), validators=[InputRequired(), Length(max=10000)])
    contact_name = StringField(_l("Contact person"), validators=[InputRequired(), Length(max=100)])
    photos = MultipleFileField(_l("Photos or PDF files"), render_kw={"accept": ACCEPT})


class ConfirmForm(PortalForm):
    note = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()


class ReopenForm(PortalForm):
    reason = TextAreaField(_l("What is still wrong?"), validators=[InputRequired(), Length(max=2000)])
    version = HiddenField()


class FilesForm(PortalForm):
    photos = MultipleFileField(_l("Add photos or PDF files"), render_kw={"accept": ACCEPT})


YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
RATINGS = [(n, str(n)) for n in range(1, 6)]


class SurveyForm(PortalForm):
    """The four questions of a follow-up visit (回访) and the overall score, answered by the buyer."""

    answered_by = StringField(_l("Your name"), validators=[Optional(), Length(max=100)])  # default: the buyer
    quality_ok = RadioField(_l("Is the quality of the products all right?"), choices=YES_NO,
                            validators=[InputRequired()])
    quality_note = TextAreaField(_l("About the quality (optional)"), validators=[Optional(), Length(max=5000)])
    service_timely = RadioField(_l("Was our service timely?"), choices=YES_NO, validators=[InputRequired()])
    service_note = TextAreaField(_l("About our service (optional)"), validators=[Optional(), Length(max=5000)])
    sales_rating = RadioField(_l("How do you rate your salesperson? (1 poor – 5 excellent)"), choices=RATINGS,
                              coerce=int, validators=[InputRequired()])
    suggestions = TextAreaField(_l("Any other needs or suggestions?"), validators=[Optional(), Length(max=5000)])
    score = RadioField(_l("Overall, how satisfied are you? (1 not at all – 5 very)"), choices=RATINGS, coerce=int,
                       validators=[InputRequired()])

    def answers(self) -> dict:
        """The answers as record_answers takes them (yes/no as booleans)."""
        return {"answered_by": self.answered_by.data, "quality_ok": self.quality_ok.data == "yes",
                "quality_note": self.quality_note.data, "service_timely": self.service_timely.data == "yes",
                "service_note": self.service_note.data, "sales_rating": self.sales_rating.data,
                "suggestions": self.suggestions.data, "score": self.score.data}
