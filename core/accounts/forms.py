from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from core.forms import Form


class LoginForm(Form):
    login = StringField(_l("Phone number or user name"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    remember = BooleanField(_l("Stay logged in on this device"))


class RegisterForm(Form):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=80)])
    login = StringField(_l("Phone number or user name"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password (at least 8 characters)"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(_l("Password again"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
    unit_id = SelectField(_l("Your building and unit"), coerce=int, validate_choice=False)
    room = StringField(_l("Room number"), validators=[Length(max=20)])
    address = StringField(_l("Or, if your building is not listed: where you live"), validators=[Length(max=200)])
    consent = BooleanField(_l("I have read the privacy notice and agree that my data is handled as it says."))


class ResetCodeForm(Form):
    login = StringField(_l("Phone number or user name"), validators=[DataRequired(), Length(max=40)])
    code = StringField(_l("Reset code (from community staff)"), validators=[DataRequired(), Length(max=40)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))])


class PasswordForm(Form):
    old_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))])


class PreferencesForm(Form):
    locale = SelectField(_l("Language"), choices=[("zh_Hans", "简体中文"), ("zh_Hant", "繁體中文"), ("en", "English")])
    large_text = BooleanField(_l("Large text"))


class TokenForm(Form):
    name = StringField(_l("What the token is for"), validators=[DataRequired(), Length(max=80)])


class VerifyForm(Form):
    household_id = SelectField(_l("Household"), coerce=int, validate_choice=False)
    relation = SelectField(_l("Relation to the household"),
                           choices=[("owner", _l("Owner")), ("resident", _l("Resident")), ("tenant", _l("Tenant"))])
    reason = StringField(_l("Note (how you checked)"), validators=[Length(max=500)])


class RolesForm(Form):
    building_id = SelectField(_l("Building (for a building head)"), coerce=int, validate_choice=False)
    grid_id = SelectField(_l("Grid (for a grid worker)"), coerce=int, validate_choice=False)
