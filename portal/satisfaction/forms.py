"""Forms of the satisfaction pages. The per-problem "action taken" texts are fields named action-<visit id>,
one per problem of the month; the service checks them (only the month's problems, length)."""
from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .services import MAX_REASON, MAX_TEXT

ACTION_PREFIX = "action-"


class VersionedForm(PortalForm):
    """The revision and version the page was rendered from (both empty before the first save)."""

    revision = HiddenField()
    version = HiddenField()


class MonthForm(VersionedForm):
    improvement_actions = TextAreaField(_l("Improvement actions"), validators=[Optional(), Length(max=MAX_TEXT)])


class CorrectForm(VersionedForm):
    reason = StringField(_l("Reason for the correction"), validators=[InputRequired(), Length(max=MAX_REASON)])


class DayForm(PortalForm):
    class Meta:
        csrf = False

    day = DateField(_l("Day"), validators=[Optional()])


def problem_actions(formdata) -> dict[str, str]:
    """{visit id: text} from the action-<id> fields of a POST."""
    return {key[len(ACTION_PREFIX):]: value for key, value in formdata.items()
            if key.startswith(ACTION_PREFIX) and key[len(ACTION_PREFIX):].isdigit()}
