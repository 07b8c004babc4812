"""Forms of the meetings pages (the services validate again; these give per-field errors)."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_babel import lazy_pgettext
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.forms import Form
from plugins.meetings.models import DECISION_RULES, QUORUM_RULES

TIMES = [(f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}") for h in range(6, 23) for m in (0, 15, 30, 45)]
DURATIONS = [(30, _l("30 minutes")), (60, _l("1 hour")), (90, _l("1½ hours")), (120, _l("2 hours")),
             (180, _l("3 hours")), (240, _l("4 hours"))]


class BodyForm(Form):
    name = StringField(lazy_pgettext("thing", "Name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("For example 四方联席会议 or 物业联席会."))
    description = TextAreaField(_l("Purpose"), validators=[Optional(), Length(max=5000)])
    orgs = TextAreaField(_l("Member organisations, one per line, in chair-rotation order"),
                         validators=[Optional(), Length(max=5000)])
    quorum_rule = SelectField(_l("Quorum"), choices=list(QUORUM_RULES.items()))
    quorum_number = IntegerField(_l("Delegates needed (for a fixed number)"),
                                 validators=[Optional(), NumberRange(min=1, max=1000)])
    decision_rule = SelectField(_l("Decisions need, when hands are counted"), choices=list(DECISION_RULES.items()),
                                default="majority",
                                description=_l("Abstentions are not counted as votes cast."))
    topic_deadline_days = IntegerField(_l("Topics due this many days before a meeting"), default=3,
                                       validators=[Optional(), NumberRange(min=0, max=60)])


class MeetingForm(Form):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=160)],
                        description=_l("Leave empty to use the body's name."))
    date = DateField(_l("Date"), validators=[DataRequired()])
    time = SelectField(_l("Time (Beijing time)"), choices=TIMES, default="19:00")
    duration = SelectField(_l("Duration"), choices=DURATIONS, coerce=int, default=120)
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    online_url = StringField(_l("Online meeting link"), validators=[Optional(), Length(max=300)])
    chair_org_id = SelectField(_l("Chair (轮值主席)"), coerce=int, validate_choice=False)
    chair_reason = StringField(_l("Reason, if the chair is not the one whose turn it is"),
                               validators=[Optional(), Length(max=300)])


class MinutesForm(Form):
    minutes = TextAreaField(_l("Minutes (纪要)"), validators=[Optional(), Length(max=50000)],
                            description=_l("Time, place, attendees, topics, discussion, decisions. A blank line "
                                           "starts a new paragraph, a line starting with “- ” is a list item, "
                                           "**two stars** around words make them bold."))
