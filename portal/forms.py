"""The base of every form: text without control characters and dates a business could mean, for every field.

WTForms checks each field's own validators; what no text field and no date field should ever accept is checked
here once, so a new form cannot forget it. A refused value re-renders the form (422) with the message beside it.
"""
import math
import unicodedata
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import support
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf import i18n as flask_wtf_i18n
from markupsafe import Markup, escape
from wtforms.i18n import messages_path
from wtforms import DateField, StringField

# Line breaks and tabs are text; every other control character (NUL, escape, form feed, ...) is not.
ALLOWED_CONTROLS = "\t\n\r"
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def date_range_error(value: date):
    """The message for a date no form accepts (before FIRST_DAY or after LAST_DAY), else None: for the forms
    (PortalForm.validate) and the services that parse dates themselves (visits, samples)."""
    if FIRST_DAY <= value <= LAST_DAY:
        return None
    return _l("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY.year, last=LAST_DAY.year)


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS for ch in value)


def _not_a_number(value) -> bool:
    if isinstance(value, Decimal):
        return not value.is_finite()
    return isinstance(value, float) and not math.isfinite(value)


@lru_cache(maxsize=None)
def _wtforms_catalog(locale: str):
    """WTForms' own messages in `locale`, read once per worker (Flask-WTF reads the file again in every request)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class PortalForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            translations = super().get_translations(form)
            if translations is not flask_wtf_i18n.translations or not has_request_context():
                return translations  # i18n switched off, or no request: Flask-WTF's own answer
            return _wtforms_catalog(str(get_locale()))

    def validate(self, extra_validators=None) -> bool:
        # "NaN", "sNaN" and "Infinity" parse as Decimal; NumberRange then fails on them (sNaN raises): no number.
        not_numbers = [field for field in self if _not_a_number(field.data)]
        for field in not_numbers:
            field.data = None
        valid = super().validate(extra_validators)
        for field in not_numbers:
            field.errors = [_l("Enter a number.")]
            valid = False
        for field in self:
            message = None
            if isinstance(field, StringField) and isinstance(field.data, str) and has_control_characters(field.data):
                message = _l("Remove the control characters from this text.")
            elif isinstance(field, DateField) and isinstance(field.data, date):
                message = date_range_error(field.data)
            if message is not None:
                field.errors = [*field.errors, message]
                valid = False
        return valid


def render_field(f, hint=None, class_="") -> Markup:
    """One form field as templates/_macros.html's `field` shows it: label, control, hint, errors beside it.

    Python rather than a Jinja macro: the order page shows twenty fields, and a macro call with its body cost
    about twice the widget it renders. The markup, whitespace included, is the macro's as it was
    (tests/test_request_costs.py compares every field of every form against it)."""
    invalid = len(f.errors) > 0
    attrs = {"aria-invalid": "true", "aria-describedby": f"{f.id}-error"} if invalid else {}
    out = ['\n  \n  <div class="field ', escape(class_), " ", "has-error" if invalid else "", " field-",
           escape(f.type.lower()), '">\n    ']
    if f.type == "BooleanField":
        out += ['\n      <label class="check">', escape(f(**attrs)), " ", escape(f.label.text), "</label>\n    "]
    elif f.type == "RadioField":
        out += ["\n      <fieldset><legend>", escape(f.label.text), "</legend>\n        "]
        for option in f:
            out += ['<label class="check">', escape(option()), " ", escape(option.label.text), "</label>"]
        out.append("\n      </fieldset>\n    ")
    else:
        out += ["\n      ", escape(f.label()), "\n      ", escape(f(**attrs)), "\n    "]
    out.append("\n    ")
    if hint:
        out += ['<small class="hint">', escape(hint), "</small>"]
    out.append("\n    ")
    if invalid:
        out += ['<ul class="errors" id="', escape(f.id), '-error">']
        out += [f"<li>{escape(e)}</li>" for e in f.errors]
        out.append("</ul>")
    out.append("\n  </div>\n")
    return Markup("".join(out))
