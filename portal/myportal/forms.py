"""Forms of the customer portal."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..models import Evaluation

EVALUATION_CHOICES = [(Evaluation.APPROVED.value, _l("Approved: the sample is right")),
                      (Evaluation.CHANGES.value, _l("Changes needed")),
                      (Evaluation.REJECTED.value, _l("Rejected"))]


class EvaluationForm(FlaskForm):
    evaluation = RadioField(_l("Your evaluation"), choices=EVALUATION_CHOICES, validators=[InputRequired()])
    evaluation_comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])
