from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import AssistMixin, Form
from core.models import CATEGORIES, SCOPES


class ProposalForm(AssistMixin, Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("What should change, and why?"), validators=[DataRequired(), Length(max=20000)],
                         description=_l("Simple formatting works: a blank line starts a new paragraph, a line "
                                        "starting with “- ” is a list item, and **two stars** around words "
                                        "make them bold."))
    category = SelectField(_l("Category"), choices=list(CATEGORIES.items()))
    scope = SelectField(_l("Who it concerns"), choices=list(SCOPES.items()))
    grid_id = SelectField(_l("Grid"), coerce=int, validate_choice=False)
    building_id = SelectField(_l("Building"), coerce=int, validate_choice=False)


class CommentForm(AssistMixin, Form):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(max=5000)])


class SecondForm(AssistMixin, Form):
    pass


class TransitionForm(Form):
    new_state = SelectField(_l("Move to"), validate_choice=False)
    reason = StringField(_l("Reason (shown in the history)"), validators=[Optional(), Length(max=500)])
