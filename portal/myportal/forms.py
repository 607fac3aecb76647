"""Forms of the customer portal."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from ..models import Evaluation

EVALUATION_CHOICES = [(Evaluation.APPROVED.value, _l("Approved: the sample is right")),
                      (Evaluation.CHANGES.value, _l("Changes needed")),
                      (Evaluation.REJECTED.value, _l("Rejected"))]


class EvaluationForm(FlaskForm):
    evaluation = RadioField(_l("Your evaluation"), choices=EVALUATION_CHOICES, validators=[InputRequired()])
    evaluation_comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])


class InviteForm(FlaskForm):
    display_name = StringField(_l("Buyer's name"), validators=[InputRequired(), Length(max=100)])
    username = StringField(_l("User name for signing in"), validators=[InputRequired(), Length(max=64)])
    email = StringField(_l("E-mail (optional)"), validators=[Optional(), Email(), Length(max=254)])


class AcceptForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=128)])
    confirm = PasswordField(_l("The same password again"), validators=[InputRequired(), Length(max=128)])
