"""Form helpers shared by core and plugin views."""
from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from core.inputs import normalise_newlines, text_message, text_problem


class Form(FlaskForm):
    """The base of every form of the core and the modules (tests/security/test_input.py checks that
    each one is): its text fields hold text by the rules of core.inputs. A text area keeps line
    breaks (CRLF normalised to LF before its validators count the length); every other text field
    (names, titles, phone numbers, logins, hidden fields) takes one line. A refused field gets a
    translated message naming it, and the form does not validate, so nothing is saved."""

    def validate(self, extra_validators=None):
        for field in self:
            if isinstance(field, TextAreaField) and isinstance(field.data, str):
                field.data = normalise_newlines(field.data)
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field, StringField) and isinstance(field.data, str):
                problem = text_problem(field.data, multiline=isinstance(field, TextAreaField))
                if problem:
                    field.errors = list(field.errors) + [text_message(field.label.text, problem)]
                    valid = False
        return valid


def apply_error(form, err):
    """Put a ServiceError's per-field messages on the form and flash its summary."""
    for name, message in (err.fields or {}).items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None:
            field.errors = list(field.errors) + [message]
    flash(str(err.message), "error")


class ReasonForm(Form):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class AssistMixin:
    """Fields for an assisted action (staff or a building head acting for a resident)."""

    on_behalf_of = StringField(_l("For resident (phone or user name)"), validators=[Optional(), Length(max=40)])
    on_behalf_of_name = StringField(_l("…or their name, if they have no account"), validators=[Optional(), Length(max=80)])
    assist_reason = StringField(_l("Why you are acting for them"), validators=[Optional(), Length(max=200)])
