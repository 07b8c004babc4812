"""Form helpers shared by core and plugin views."""
from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional


def apply_error(form, err):
    """Put a ServiceError's per-field messages on the form and flash its summary."""
    for name, message in (err.fields or {}).items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None:
            field.errors = list(field.errors) + [message]
    flash(str(err.message), "error")


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class AssistMixin:
    """Fields for an assisted action (staff or a building head acting for a resident)."""

    on_behalf_of = StringField(_l("For resident (phone or user name)"), validators=[Optional(), Length(max=40)])
    on_behalf_of_name = StringField(_l("…or their name, if they have no account"), validators=[Optional(), Length(max=80)])
    assist_reason = StringField(_l("Why you are acting for them"), validators=[Optional(), Length(max=200)])
