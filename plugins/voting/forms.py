"""Forms of the voting pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import Form
from plugins.voting.labels import ELECTORATE_MODE_LABELS, RESIDENTS_MEETING_LABEL
from plugins.voting.labels import (MATTER_LABELS, METHOD_LABELS, PAPER_RULE_CHOICES, QUORUM_LABELS, RULE_LABELS,
                                   SCOPE_LABELS, UNANIMOUS_LABEL, UNIT_LABELS)


class BallotForm(Form):
    title = StringField(_l("Question or title"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Explanation for voters"), validators=[Optional(), Length(max=5000)])
    method = SelectField(_l("Voting method"), choices=list(METHOD_LABELS.items()), default="majority")
    options = TextAreaField(_l("Options, one per line (not for yes/no/abstain)"), validators=[Optional()])
    max_choices = IntegerField(_l("Approval: most options a voter may choose (empty: any number)"),
                               validators=[Optional()])
    seats = IntegerField(_l("Election: seats to fill (residents' committee 5 to 9)"), validators=[Optional()])
    unit = SelectField(_l("Who votes"), choices=list(UNIT_LABELS.items()), default="person")
    matter_class = SelectField(_l("Owners' ballots: matter class (fixed once voting opens)"),
                               choices=[("", "—")] + list(MATTER_LABELS.items()), default="")
    rule = SelectField(_l("Majority rule"), choices=list(RULE_LABELS.items()) + [("unanimous", UNANIMOUS_LABEL)]
                       + [("residents_meeting", RESIDENTS_MEETING_LABEL)], default="simple")
    quorum = SelectField(_l("Quorum"), choices=list(QUORUM_LABELS.items()), default="none")
    electorate_mode = SelectField(_l("Residents' meeting: who makes it up"),
                                  choices=[("", "—")] + list(ELECTORATE_MODE_LABELS.items()), default="")
    # Rule "unanimous": who else must consent besides the owners of the building (Civil Code Art. 279).
    # Tick boxes, not a multiple select: a phone has no Ctrl key, and in large text a select cuts
    # its rooms off.
    interested_buildings = SelectMultipleField(_l("Every interested owner: also the owners of these buildings"),
                                               coerce=int, validate_choice=False,
                                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    interested_households = SelectMultipleField(_l("…and of these units"), coerce=int, validate_choice=False,
                                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    secret = BooleanField(_l("Secret ballot (results only after closing; owners' ballots are always named)"))
    scope = SelectField(_l("Who the ballot concerns"), choices=list(SCOPE_LABELS.items()), default="community")
    grid_id = SelectField(_l("Grid"), coerce=int, default=0)
    building_id = SelectField(_l("Building"), coerce=int, default=0)
    opens_at = DateTimeLocalField(_l("Opens (empty: now)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    paper_rule = SelectField(_l("A voter with both an online vote and a paper ballot"), choices=PAPER_RULE_CHOICES,
                             default="refuse")
    temporary = BooleanField(_l("Owners' ballots: temporary meeting (shorter notice where local rules allow)"))
    open_now = BooleanField(_l("Publish the electorate and open the ballot now"), default=True)


class EditBallotForm(BallotForm):
    """Changing a ballot in preparation (before its notice is published)."""

    open_now = None


class PaperForm(Form):
    voter_id = SelectField(_l("Voter (from the published electorate)"), coerce=int, validators=[DataRequired()])
    witness = StringField(_l("Witness"), validators=[
        DataRequired(_l("Name the witness who saw the paper ballot signed.")), Length(max=80)])
    spoiled = BooleanField(_l("The sheet is spoiled (unclear or invalid)"))
    note = StringField(_l("Note (required for a correction, or over an online vote: why)"),
                       validators=[Optional(), Length(max=300)])
    confirm_online = IntegerField(validators=[Optional()])  # the online vote seen (its number in the log)
    photo = FileField(_l("Photo of the signed sheet (optional)"))
    proxy_id = SelectField(_l("Cast by the voter's proxy (委托代理人)"), coerce=int, default=0)


class ProxyForm(Form):
    voter_id = SelectField(_l("Voter who gives the proxy (from the published electorate)"), coerce=int,
                           validators=[DataRequired()])
    proxy_user_id = SelectField(_l("Proxy: a verified member of the community"), coerce=int, default=0)
    proxy_name = StringField(_l("…or the name of a proxy without an account (votes on paper)"),
                             validators=[Optional(), Length(max=80)])
    proxy_person_id = SelectField(_l("Which of the people of that name on the register"), coerce=int, default=0,
                                  validate_choice=False)
    proxy_not_on_register = BooleanField(_l("The proxy is not on this community's register"))
    instructions = TextAreaField(_l("Voting instructions written in the authorisation (optional)"),
                                 validators=[Optional(), Length(max=2000)])
    witness = StringField(_l("Witness or the person who took the signed authorisation"), validators=[
        DataRequired(_l("Name the witness or the person who took the signed authorisation.")), Length(max=80)])
    scan = FileField(_l("Scan or photo of the signed authorisation (optional)"))


class SettingsForm(Form):
    auto_open = BooleanField(_l("Open a ballot by itself when a proposal reaches the voting stage"))
    default_unit = SelectField(_l("Who votes on proposals"), choices=list(UNIT_LABELS.items()))
    default_rule = SelectField(_l("Majority rule"), choices=list(RULE_LABELS.items()))
    default_quorum = SelectField(_l("Quorum"), choices=list(QUORUM_LABELS.items()))
    default_days = IntegerField(_l("Days a ballot stays open"), validators=[DataRequired()])
    paper_rule = SelectField(_l("A voter with both an online vote and a paper ballot"), choices=PAPER_RULE_CHOICES)
    spoiled_participates = BooleanField(_l("Spoiled paper ballots count as taking part "
                                           "(turnout under Article 278 of the Civil Code)"))
    notice_days = IntegerField(_l("Owners' ballots: days of notice before voting opens"), validators=[Optional()])
    notice_days_temporary = IntegerField(_l("Owners' ballots, temporary meeting: days of notice"),
                                         validators=[Optional()])
    notice_days_other = IntegerField(_l("Other ballots: days of notice (0: none needed)"), validators=[Optional()])
    window_min_days = IntegerField(_l("Owners' ballots: fewest days open"), validators=[Optional()])
    window_max_days = IntegerField(_l("Owners' ballots: most days open"), validators=[Optional()])
    window_min_days_other = IntegerField(_l("Other ballots: fewest days open (0: any)"), validators=[Optional()])
    window_max_days_other = IntegerField(_l("Other ballots: most days open"), validators=[Optional()])
    proxy_limit = IntegerField(_l("Most voters one person may hold a proxy for on a ballot"),
                               validators=[Optional()])
    owners_committee_min_seats = IntegerField(_l("Owners' committee elections: fewest seats"), validators=[Optional()])
    owners_committee_max_seats = IntegerField(_l("Owners' committee elections: most seats"), validators=[Optional()])
    owners_committee_odd_seats = BooleanField(_l("Owners' committee elections: an odd number of seats"))
    convening_answer_days = IntegerField(_l("Days the committee has to answer a request for a residents' meeting "
                                            "that has enough support"), validators=[Optional()])

    INT_BOUNDS = {"notice_days": (0, 90), "notice_days_temporary": (0, 90), "notice_days_other": (0, 90),
                  "window_min_days": (0, 365), "window_max_days": (1, 365), "window_min_days_other": (0, 365),
                  "window_max_days_other": (1, 365), "proxy_limit": (1, 50),
                  "owners_committee_min_seats": (1, 99), "owners_committee_max_seats": (1, 99),
                  "convening_answer_days": (1, 90)}
