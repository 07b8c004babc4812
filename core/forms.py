"""Form helpers shared by core and plugin views."""
from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from core.inputs import normalise_newlines, text_message, text_problem


def _person_key(value):
    """A picked person's id; 0 (nobody) when empty; -1 for a malformed value, which the service
    refuses with its own words (never taken as "nobody", which would record the helper's own act)."""
    if value in (None, ""):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


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
    """Fields for an assisted action (代办: a building head, grid worker or staff member acting for
    a resident): the resident picked from the register (``person_id``, filled by
    ``fill_assist_choices``) or an account holder by phone or user name, and why. A typed name is
    not a way to pick anyone: ``on_behalf_of_name`` is read only to refuse it
    (core.services.assist.acting_for), never shown."""

    person_id = SelectField(_l("Resident (from the register)"), coerce=_person_key, validate_choice=False,
                            choices=[])
    on_behalf_of = StringField(_l("…or an account holder's phone number or user name"),
                               validators=[Optional(), Length(max=40)])
    on_behalf_of_name = StringField(validators=[Optional(), Length(max=80)])
    assist_reason = StringField(_l("Why you are acting for them"), validators=[Optional(), Length(max=200)])

    def assisted(self):
        """The keys of the resident named, as the services take them."""
        return {"person_id": self.person_id.data, "login": self.on_behalf_of.data,
                "name": self.on_behalf_of_name.data, "reason": self.assist_reason.data}


def fill_assist_choices(form, community, actor):
    """The register people ``actor`` may act for, by building (core.services.assist.people_in_reach)."""
    from flask_babel import gettext as _

    from core.services.assist import people_in_reach

    form.person_id.choices = {"": [(0, _("— nobody: I act for myself —"))]}
    form.person_id.choices.update(people_in_reach(community, actor))
