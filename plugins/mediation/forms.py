"""Forms of the mediation pages (phone-first: few fields per form, large inputs)."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_babel import lazy_pgettext
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, IntegerField, SelectField, StringField, TelField, TextAreaField,
                     TimeField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.forms import Form
from plugins.mediation.models import (AGREEMENT_FORMS, CATEGORIES, COMMITTEE_ROLES, CONSENTS, DOCUMENT_KINDS,
                                      FOLLOWUP_RESULTS, OUTCOMES, PARTY_ROLES, PI_CONSENT_METHODS, SEXES,
                                      SIGN_METHODS, URGENCIES)

WEEKDAYS = [(0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")), (4, _l("Friday")),
            (5, _l("Saturday")), (6, _l("Sunday"))]


def choices(labels, only=None):
    return [(k, v) for k, v in labels.items() if only is None or k in only]


class CaseForm(Form):
    source = SelectField(_l("How the case came in"))
    source_detail = StringField(_l("Referring body (police station, court, department)"),
                                validators=[Optional(), Length(max=200)])
    category = SelectField(_l("Kind of dispute"), choices=choices(CATEGORIES))
    description = TextAreaField(_l("What happened (short)"), validators=[DataRequired(), Length(min=2, max=5000)])
    grid_id = SelectField(_l("Grid"), coerce=int)
    building_id = SelectField(_l("Building"), coerce=int)
    location = StringField(_l("Where exactly (e.g. unit and floor)"), validators=[Optional(), Length(max=200)])
    urgency = SelectField(_l("Urgency"), choices=choices(URGENCIES))
    applicant_name = StringField(_l("Applicant's name"), validators=[Optional(), Length(max=80)])
    applicant_phone = TelField(_l("Applicant's phone"), validators=[Optional(), Length(max=20)])
    applicant_login = StringField(_l("Applicant's account (phone or user name), if registered"),
                                  validators=[Optional(), Length(max=40)])
    respondent_name = StringField(_l("Respondent's name"), validators=[Optional(), Length(max=80)])
    respondent_phone = TelField(_l("Respondent's phone"), validators=[Optional(), Length(max=20)])
    respondent_login = StringField(_l("Respondent's account (phone or user name), if registered"),
                                   validators=[Optional(), Length(max=40)])
    respondent_refuses = BooleanField(_l("The respondent has clearly refused mediation"))
    violence_risk = BooleanField(_l("Risk of violence or a criminal case (report to the police)"))
    rights_notified = BooleanField(_l("The parties were told their rights and duties in mediation"))
    voluntary_statement = BooleanField(_l("The applicant states they apply voluntarily"))
    private_hearing = BooleanField(_l("Hold the mediation in private"), default=True)


class PartyForm(Form):
    role = SelectField(lazy_pgettext("party", "Role"), choices=choices(PARTY_ROLES))
    name = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=20)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    login = StringField(_l("Account (phone or user name), if registered"), validators=[Optional(), Length(max=40)])
    consent = SelectField(_l("Consent to mediation"), choices=choices(CONSENTS))


class SessionForm(Form):
    held_on = DateField(_l("Date"), validators=[DataRequired()])
    held_at = TimeField(_l("Time"), validators=[Optional()])
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=200)])
    attendees = StringField(_l("Who attended"), validators=[DataRequired(), Length(max=500)])
    public = BooleanField(_l("Held in public"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20000)])


class AgreementForm(Form):
    form = SelectField(_l("Form"), choices=choices(AGREEMENT_FORMS))
    facts = TextAreaField(_l("Facts, points in dispute and responsibilities"),
                          validators=[DataRequired(), Length(max=20000)])
    terms = TextAreaField(_l("What was agreed"), validators=[DataRequired(), Length(max=20000)])
    ob1_party = SelectField(_l("Who performs (1)"), coerce=int)
    ob1_text = StringField(_l("What (1)"), validators=[Optional(), Length(max=500)])
    ob1_due = DateField(_l("By when (1)"), validators=[Optional()])
    ob2_party = SelectField(_l("Who performs (2)"), coerce=int)
    ob2_text = StringField(_l("What (2)"), validators=[Optional(), Length(max=500)])
    ob2_due = DateField(_l("By when (2)"), validators=[Optional()])


class SignForm(Form):
    who = SelectField(_l("Signature of"))
    method = SelectField(_l("How"), choices=choices(SIGN_METHODS))


class FollowupForm(Form):
    result = SelectField(_l("What the visit found"), choices=choices(FOLLOWUP_RESULTS))
    findings = TextAreaField(_l("Findings (performance, satisfaction, any lawsuit, signs of escalation)"),
                             validators=[DataRequired(), Length(max=5000)])


class ReasonForm(Form):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class ReferForm(Form):
    referred_to = StringField(_l("Referred to"), validators=[DataRequired(), Length(max=200)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class CloseForm(Form):
    outcome = SelectField(_l("Outcome"), choices=choices(OUTCOMES, ("resolved", "not_resolved", "withdrawn")))
    reason = StringField(_l("Reason (for not resolved or withdrawn: the other legal options the parties were told of)"),
                         validators=[Optional(), Length(max=500)])


class AssignForm(Form):
    login = SelectField(_l("Mediator"))


class DocumentForm(Form):
    kind = SelectField(_l("Kind of document"), choices=choices(DOCUMENT_KINDS))
    file = FileField(_l("Photo or scan (JPG, PNG or PDF, up to 10 MB)"))


class TaskForm(Form):
    note = StringField(_l("What was done"), validators=[DataRequired(), Length(max=500)])


class HolidayForm(Form):
    day = DateField(_l("First day"), validators=[DataRequired()])
    until = DateField(_l("Last day (for several days)"), validators=[Optional()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])


class SlotForm(Form):
    login = SelectField(_l("Mediator on duty"))
    weekday = SelectField(_l("Day of the week"), choices=WEEKDAYS, coerce=int)
    start_time = TimeField(lazy_pgettext("time", "From"), validators=[DataRequired()])
    end_time = TimeField(lazy_pgettext("time", "To"), validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=120)])
    title = StringField(_l("Name of the duty hours"), validators=[DataRequired(), Length(max=80)])
    capacity = IntegerField(_l("Visits per date"), default=4, validators=[NumberRange(min=1, max=50)])


class CommitteeMemberForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    login = StringField(_l("Account (phone or user name), if registered"), validators=[Optional(), Length(max=40)])
    sex = SelectField(_l("Sex"), choices=choices(SEXES))
    role = SelectField(_l("Role on the committee"), choices=choices(COMMITTEE_ROLES), default="member")
    term_start = DateField(_l("Term starts"), validators=[DataRequired()])


class PiConsentForm(Form):
    method = SelectField(_l("How consent was given"), choices=choices(PI_CONSENT_METHODS), default="form")
    on = DateField(_l("Date of consent"), validators=[Optional()])


class ExtensionForm(Form):
    until = DateField(_l("Extend the time limit to"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    on = DateField(_l("Date the parties consented"), validators=[Optional()])


class ConfirmationForm(Form):
    on = DateField(_l("Date they agreed"), validators=[Optional()])


class VisitForm(Form):
    due_on = DateField(_l("Date of the visit"), validators=[DataRequired()])
    obligation_id = SelectField(_l("About"), coerce=int, validate_choice=False)


class VisitDateForm(Form):
    due_on = DateField(_l("New date"), validators=[DataRequired()])
