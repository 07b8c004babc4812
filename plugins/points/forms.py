from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_babel import lazy_pgettext
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields import DateField, DateTimeLocalField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.forms import Form
from plugins.points.models import ITEM_KINDS


class ActivityForm(Form):
    title = StringField(lazy_pgettext("activity", "What"), validators=[DataRequired(), Length(max=120)])
    location = StringField(_l("Where"), validators=[DataRequired(), Length(max=200)])
    starts_at = DateTimeLocalField(_l("Starts"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M")
    ends_at = DateTimeLocalField(_l("Ends"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M")
    places = IntegerField(_l("Places"), validators=[Optional(), NumberRange(min=1)],
                          description=_l("Leave empty for no limit."))
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=5000)])


class HoursForm(Form):
    user_id = SelectField(_l("Volunteer"), coerce=int, validate_choice=False)
    hours = StringField(_l("Hours served"), validators=[DataRequired(), Length(max=10)],
                        description=_l("For example 1.5 for an hour and a half."))
    service_date = DateField(_l("Date of service"), validators=[Optional()])
    content = StringField(_l("What they did"), validators=[DataRequired(), Length(max=500)])
    evaluation = StringField(_l("Evaluation"), validators=[Optional(), Length(max=500)])


class ClaimForm(Form):
    hours = StringField(_l("Hours served"), validators=[DataRequired(), Length(max=10)],
                        description=_l("For example 1.5 for an hour and a half."))
    content = StringField(_l("What you did"), validators=[DataRequired(), Length(max=500)])


class ItemForm(Form):
    name = StringField(lazy_pgettext("thing", "Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=list(ITEM_KINDS.items()))
    price = IntegerField(_l("Price in points"), validators=[DataRequired(), NumberRange(min=1)])
    stock = IntegerField(_l("Stock"), validators=[Optional(), NumberRange(min=0)])
    stock_change = IntegerField(_l("Add to stock"), validators=[Optional()],
                                description=_l("A negative number writes units off."))
    per_resident_limit = IntegerField(_l("Most one resident may redeem"), validators=[Optional(), NumberRange(min=1)],
                                      description=_l("Leave empty for no limit."))
    low_stock = IntegerField(_l("Stock alert at or below"), validators=[Optional(), NumberRange(min=0)])
    available_from = DateTimeLocalField(_l("Available from"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    available_until = DateTimeLocalField(_l("Available until"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    picture = FileField(_l("Picture (JPEG, PNG or WebP, at most 2 MB)"))


class AdjustForm(Form):
    amount = IntegerField(_l("Points (+ to add, − to take away)"), validators=[DataRequired()])
    reason = StringField(_l("Reason (required, kept in the audit log)"), validators=[DataRequired(), Length(max=500)])


class RedeemForm(Form):
    quantity = IntegerField(_l("Quantity"), default=1, validators=[DataRequired(), NumberRange(min=1, max=99)])


class CounterRedeemForm(Form):
    resident = StringField(_l("Resident (phone or user name)"), validators=[DataRequired(), Length(max=40)])
    item_id = SelectField(_l("Item"), coerce=int, validate_choice=False)
    quantity = IntegerField(_l("Quantity"), default=1, validators=[DataRequired(), NumberRange(min=1, max=99)])
    reason = StringField(_l("Why you are acting for them"), validators=[DataRequired(), Length(max=200)])


class HandoverForm(Form):
    code = StringField(_l("Pickup code"), validators=[DataRequired(), Length(max=20)])


class HoursRuleForm(Form):
    points_per_hour = IntegerField(_l("Points per verified hour"), validators=[DataRequired(), NumberRange(1, 100)])
    max_hours_per_activity = IntegerField(_l("Most hours credited per activity"),
                                          validators=[DataRequired(), NumberRange(1, 24)])
    expiry_months = IntegerField(_l("Points expire after (months, 0 = never)"),
                                 validators=[Optional(), NumberRange(0, 120)])
    max_balance = IntegerField(_l("Flag accounts holding more than (points, 0 = no limit)"),
                               validators=[Optional(), NumberRange(0, 10_000_000)])


class ConsentForm(Form):
    share = BooleanField(_l("Others may see my name and hours as a volunteer"))


class VolunteerIdentityForm(Form):
    """The identity document a certificate carries; given by the volunteer for that purpose."""
    id_type = SelectField(_l("Identity document"), choices=[])
    id_number = StringField(_l("Document number"), validators=[Optional(), Length(max=40)])
    volunteer_number = StringField(_l("Volunteer number (national volunteer system, if you have one)"),
                                   validators=[Optional(), Length(max=40)])


class CertificateIssuerForm(Form):
    head = StringField(_l("Responsible person"), validators=[Optional(), Length(max=80)])
    contact = TelField(_l("Contact (telephone)"), validators=[Optional(), Length(max=80)])
