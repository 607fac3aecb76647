from flask_babel import lazy_gettext as _l
from ..forms import PortalForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import EqualTo, InputRequired, Length


class LoginForm(PortalForm):
    username = StringField(_l("User name"), validators=[InputRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class PasswordForm(PortalForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=128)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=128)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[InputRequired(), EqualTo("new", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class LanguageForm(PortalForm):
    locale = RadioField(_l("Language"), choices=[("zh", "中文"), ("en", "English")],
                        validators=[InputRequired()])
    next = HiddenField()
