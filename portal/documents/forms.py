from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from .services import KIND_LABELS, ORDER_KINDS, SHIPMENT_KINDS

PRINT_KINDS = SHIPMENT_KINDS + ORDER_KINDS


class IssueForm(PortalForm):
    reason = TextAreaField(_l("Reason for the new version"), validators=[Optional(), Length(max=500)])
    copies = BooleanField(_l("Three copies (white, red, yellow)"), default=True)


class StatementForm(PortalForm):
    """The period of a statement, read from the query string (preview) or the issue form."""

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])


class StatementQueryForm(StatementForm):
    class Meta:
        csrf = False


class PrintFilterForm(PortalForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Document"), choices=[(k, KIND_LABELS[k]) for k in PRINT_KINDS], default=PRINT_KINDS[0])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


class PrintForm(PortalForm):
    kind = SelectField(_l("Document"), choices=[(k, KIND_LABELS[k]) for k in PRINT_KINDS])
    issue = BooleanField(_l("Issue the documents not issued yet (otherwise they print as drafts)"))
