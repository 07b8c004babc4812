"""Pages of requests to convene a residents' meeting (提议召集居民会议): the list, a request with its
progress, starting one, supporting and withdrawing (also for a resident, 代办), the committee's
answer. The rules are in plugins/voting/convening.py."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.db import transaction
from core.errors import ServiceError
from core.forms import AssistMixin, Form, apply_error
from core.models import utcnow
from core.permissions import can, require
from plugins.voting import convening
from plugins.voting.models import Ballot, ConveningRequest
from plugins.voting.views import bp


class ConveningForm(Form):
    subject = StringField(_l("What the meeting should decide"), validators=[DataRequired(), Length(max=120)])
    reason = TextAreaField(_l("Why a residents' meeting is needed"), validators=[DataRequired(), Length(max=5000)])
    base = RadioField(_l("Whose support counts"), choices=[], validators=[DataRequired()])


class ConveningAssistForm(AssistMixin, Form):
    pass


class ConveningAnswerForm(Form):
    ballot_id = IntegerField(_l("…or the number of a ballot already set up for this meeting"),
                             validators=[Optional()])
    reply = TextAreaField(_l("The committee's reply, with its reasons"), validators=[Optional(), Length(max=5000)])


@bp.route("/convening")
def convening_index():
    """Every request of the community: overdue first, then those collecting or waiting, then answered."""
    now = utcnow()
    reqs = convening.requests_query(g.community).order_by(ConveningRequest.id.desc()).limit(200).all()
    overdue = [r for r in reqs if convening.is_overdue(r, now)]
    waiting = [r for r in reqs if r.state in ("collecting", "reached") and r not in overdue]
    answered = [r for r in reqs if r.state in convening.ANSWERS]
    return render_template("voting/convening_index.html", overdue=overdue, waiting=waiting, answered=answered,
                           summaries={r.id: convening.summary(r, now) for r in reqs}, labels=convening)


@bp.route("/convening/new", methods=["GET", "POST"])
@login_required
def convening_new():
    community = g.community
    form = ConveningForm()
    form.base.choices = [(b, convening.BASE_LABELS[b]) for b in convening.THRESHOLDS]
    if form.validate_on_submit():
        try:
            with transaction():
                req = convening.start(community, current_user,
                                      {k: getattr(form, k).data for k in ("subject", "reason", "base")})
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("Your request is started, with your support. Ask your neighbours to support it."), "success")
            return redirect(url_for("c.voting.convening_detail", request_id=req.id))
    return render_template("voting/convening_new.html", form=form, labels=convening)


def _assist_form(req):
    from core.forms import fill_assist_choices

    if req.state != "collecting" or not can("voting.convening.assist"):
        return None
    form = ConveningAssistForm()
    fill_assist_choices(form, g.community, current_user)
    return form


@bp.route("/convening/<int:request_id>")
def convening_detail(request_id):
    req = convening.get(g.community, request_id)
    person = convening.person_of(g.community, current_user)
    staff = can("voting.ballots.manage")
    return render_template(
        "voting/convening_detail.html", req=req, s=convening.summary(req), labels=convening,
        mine=convening.support_of(req, person), on_register=person is not None and bool(person.members),
        last_day=convening.last_day(req), staff=staff, assist_form=_assist_form(req),
        supports=convening.active_supports(req) if staff else [])


@bp.route("/convening/<int:request_id>/support", methods=["POST"])
@login_required
def convening_support(request_id):
    """Support a request (the action's ``withdraw`` button takes the support back), for oneself or,
    with the assist fields, for a resident."""
    req = convening.get(g.community, request_id)
    form = ConveningAssistForm()
    keys = form.assisted()
    withdraw = request.form.get("action") == "withdraw"
    try:
        with transaction():
            (convening.withdraw if withdraw else convening.support)(req, current_user, **keys)
    except ServiceError as err:
        apply_error(None, err)
    else:
        for_other = bool(keys["person_id"] or keys["login"])
        if withdraw:
            flash(_("The resident's support is withdrawn.") if for_other else _("Your support is withdrawn."),
                  "success")
        else:
            flash(_("The support was recorded for the resident.") if for_other else _("Your support is recorded."),
                  "success")
    return redirect(url_for("c.voting.convening_detail", request_id=req.id))


@bp.route("/convening/<int:request_id>/answer", methods=["GET", "POST"])
@login_required
@require("voting.ballots.manage")
def convening_answer(request_id):
    """The committee's answer: set up the residents' meeting's ballot, link one, or reply with reasons."""
    req = convening.get(g.community, request_id)
    if req.state != "reached":
        abort(404)
    form = ConveningAnswerForm()
    if form.validate_on_submit():
        action = request.form.get("action")
        try:
            with transaction():
                convening.answer(req, current_user, create_ballot=action == "ballot",
                                 ballot_id=form.ballot_id.data if action == "link" else None,
                                 reply=form.reply.data if action == "reply" else None)
        except ServiceError as err:
            apply_error(form, err)
        else:
            if req.ballot_id:
                flash(_("The meeting's ballot is set up from the request: complete it, publish its notice and "
                        "open it."), "success")
                return redirect(url_for("c.voting.detail", ballot_id=req.ballot_id))
            flash(_("The committee's reply is published."), "success")
            return redirect(url_for("c.voting.convening_detail", request_id=req.id))
    ballots = (Ballot.query.filter(Ballot.community_id == g.community.id, Ballot.state.in_(("draft", "open")))
               .order_by(Ballot.id.desc()).limit(50).all())
    return render_template("voting/convening_answer.html", req=req, form=form, s=convening.summary(req),
                           last_day=convening.last_day(req), ballots=ballots, labels=convening)
