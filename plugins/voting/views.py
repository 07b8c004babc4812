"""Voting pages: the ballots open to me, a ballot (vote, results, chart), paper ballots, prints."""
import json

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from core import confirm, dates, pickers, places
from core.db import transaction
from core.errors import ServiceError
from core.extensions import db
from core.forms import apply_error
from core.i18n import fmt_number as format_number
from core.inputs import whole_number
from core.models import Building, Grid, Household, Membership, Person, Proposal, Unit, User, utcnow
from core.permissions import can, require
from core.sorting import natural_sorted
from core.urls import safe_next
from plugins.voting import elections, labels, services
from plugins.voting import residents_meeting
from plugins.voting.electorate import voters as electorate_voters
from plugins.voting.forms import BallotForm, EditBallotForm, PaperForm, ProxyForm, SettingsForm
from plugins.voting.models import Ballot, Entry, PaperScan, Proxy, Voter

bp = Blueprint("voting", __name__, url_prefix="/voting", static_folder="static")


@bp.app_template_global("voting_labels")
def _labels():
    return labels


@bp.app_template_global("voter_name")
def _voter_name(voter):
    return services.voter_name(voter)


@bp.app_template_global("voting_not_consenting")
def _not_consenting(ballot, names=True):
    """Who did not consent on a unanimity ballot (R7): units for everyone who sees the result,
    names for those who keep the roll (grid workers and staff), never on the printed notice."""
    return services.not_consenting(ballot, names=names and can("voting.paper.enter"))


@bp.app_template_global("voting_status")
def _status(ballot):
    """The ballot's state as shown: ``closing`` once its time is up, until it is counted."""
    return services.status(ballot)


@bp.app_template_global("voting_challenge_until")
def _challenge_until(ballot):
    return services.challenge_until(ballot)


@bp.app_template_global("voting_interested")
def _interested(ballot):
    return services.interested_added(ballot) if ballot.rule == "unanimous" else None


def can_see_results(ballot):
    return ballot.state == "closed" and ballot.result is not None


def chart(ballot):
    """Bars for the result chart (inline SVG, drawn by the template): label, value, width."""
    result = ballot.result or {}
    counts = result.get("counts") or []
    if ballot.method in ("irv", "schulze") and result.get("rounds"):
        last = result["rounds"][-1]["counts"]
        counts = [{"option": int(k), "heads": v} for k, v in last.items()]
    top = max([c["heads"] for c in counts] + [1])
    bars = []
    for c in counts:
        bars.append({"label": services.option_label(ballot, c["option"]), "value": c["heads"],
                     "area": c.get("area"), "width": round(c["heads"] * 400 / top),
                     "winner": c["option"] == result.get("winner")})
    return bars


def _choice_from_form(ballot, form):
    if ballot.method == "majority":
        return form.get("choice")
    if ballot.method == "approval":
        return form.getlist("choice")
    if ballot.method == elections.METHOD:  # no mark is a blank ballot only when the voter says so
        marks = form.getlist("choice")
        if not marks and form.get("blank") != "1":
            msg = _("Mark the candidates you vote for, or tick that you cast a blank ballot.")
            raise ServiceError("invalid_choice", msg, fields={"choice": msg})
        return marks
    ranks = {o.position: form.get(f"rank-{o.position}") for o in ballot.options}
    return services.parse_ranks(ballot, ranks)


@bp.route("/")
def index():
    community = g.community
    mine = services.open_for(community, current_user)
    q = services.ballots_query(community)
    if not can("voting.ballots.manage"):  # an election's nominations are public (R14)
        q = q.filter((Ballot.state != "draft") | Ballot.notice_published_at.isnot(None)
                     | (Ballot.method == elections.METHOD))
    ballots = q.order_by(Ballot.state.desc(), Ballot.closes_at.desc()).limit(200).all()
    open_ballots = [b for b in ballots if b.state == "open"]
    drafts = [b for b in ballots if b.state == "draft"]
    closed = [b for b in ballots if b.state in ("closed", "cancelled")]
    return render_template("voting/index.html", mine=mine, left=sum(1 for *_x, voted in mine if not voted),
                           open_ballots=open_ballots, drafts=drafts, closed=closed,
                           can_manage=can("voting.ballots.manage"))


def _fill(form):
    community = g.community
    grids, buildings = places.choices(community)  # natural order: 2号楼 before 10号楼
    form.grid_id.choices = [(0, "—")] + [(x.id, x.name) for x in grids]
    form.building_id.choices = [(0, "—")] + [(x.id, x.name) for x in buildings]
    form.interested_buildings.choices = form.building_id.choices[1:]
    form.interested_households.choices = [
        (h.id, f"{b.name} {u.name} {h.room}") for h, u, b in natural_sorted(
            db.session.query(Household, Unit, Building).join(Unit, Household.unit_id == Unit.id)
            .join(Building, Unit.building_id == Building.id).filter(Household.community_id == community.id).all(),
            key=lambda r: (r[2].name, r[1].name, r[0].room))]


@bp.route("/new", methods=["GET", "POST"])
@login_required
@require("voting.ballots.manage")
def new():
    community = g.community
    proposal = None
    pid = whole_number(request.values.get("proposal_id"), "proposal_id")
    if pid:
        proposal = db.session.get(Proposal, pid)
        if proposal is None or proposal.community_id != community.id:
            abort(404)
    form = BallotForm()
    _fill(form)
    if request.method == "GET":  # the community's defaults, as a ballot set up by the platform gets them
        for key in ("unit", "rule", "quorum", "paper_rule"):
            getattr(form, key).data = services.setting(community, "default_" + key if key != "paper_rule" else key)
        if proposal is not None:
            form.title.data = proposal.title
    if form.validate_on_submit():
        data = {k: getattr(form, k).data for k in ("title", "description", "method", "options", "max_choices",
                                                   "unit", "matter_class", "rule", "quorum", "secret", "scope",
                                                   "grid_id", "building_id", "opens_at", "closes_at", "paper_rule",
                                                   "temporary", "interested_buildings", "interested_households")}
        for key in ("opens_at", "closes_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        data["seats"] = form.seats.data
        data["electorate_mode"] = form.electorate_mode.data
        try:
            with transaction():
                ballot = services.create(community, current_user, data, proposal=proposal,
                                         open_now=form.open_now.data)
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("The ballot is open.") if ballot.state == "open" else _("The ballot was saved."), "success")
            return redirect(url_for("c.voting.detail", ballot_id=ballot.id))
    return render_template("voting/form.html", form=form, proposal=proposal)


def _visible(ballot_id):
    """The ballot, or 404: a ballot in preparation exists only for who sets up ballots, until its
    notice is published; an election's nominations are public from the start (R14)."""
    ballot = services.get(g.community, ballot_id)
    if ballot.state == "draft" and ballot.notice_published_at is None and not can("voting.ballots.manage") \
            and not elections.is_election(ballot):
        abort(404)
    return ballot


@bp.route("/<int:ballot_id>")
def detail(ballot_id):
    ballot = _visible(ballot_id)
    # A vote refused with a question comes back with what was ticked still ticked (see vote).
    kept = session.pop("voting_chosen", None)
    chosen = MultiDict(kept["form"]) if kept and kept.get("ballot") == ballot.id else None
    voter = services.voter_for(ballot, current_user)
    mine = services.counted_entry(ballot, voter) if voter else None
    my_entries = []
    if voter is not None and not ballot.secret:
        my_entries = Entry.query.filter_by(ballot_id=ballot.id, voter_id=voter.id).order_by(Entry.seq).all()
    now = utcnow()
    note = services.roll_note(ballot, current_user)
    return render_template(
        "voting/detail.html", ballot=ballot, voter=voter, mine=mine, my_entries=my_entries,
        roll_note=services.roll_note_text(ballot, note) if note else None,
        roll_size=services.roll_size(ballot), added=_added(ballot),
        can_vote=voter is not None and ballot.state == "open" and ballot.opens_at <= now < ballot.closes_at,
        results=can_see_results(ballot), bars=chart(ballot) if can_see_results(ballot) else [],
        can_manage=can("voting.ballots.manage"), can_paper=can("voting.paper.enter"),
        held=services.proxies_held(ballot, current_user), proxy_units=services.PROXY_UNITS,
        notice_minimum=services.notice_minimum(g.community, ballot), chosen=chosen, meeting=residents_meeting,
        option_label=lambda pos: services.option_label(ballot, pos))


def _added(ballot):
    """The roll entries of the chain: voters added after the roll was fixed, with the reason."""
    if ballot.state == "draft":
        return []
    return (Entry.query.filter(Entry.ballot_id == ballot.id, Entry.source == "roll")
            .order_by(Entry.seq).all())


def _ballot_data(form, keys):
    data = {k: getattr(form, k).data for k in keys}
    for key in ("opens_at", "closes_at"):
        if data.get(key) is not None:
            data[key] = data[key].isoformat()
    return data


@bp.route("/<int:ballot_id>/edit", methods=["GET", "POST"])
@login_required
@require("voting.ballots.manage")
def edit(ballot_id):
    """Change a ballot in preparation; refused once its notice is published (R8)."""
    ballot = services.get(g.community, ballot_id)
    if ballot.state != "draft":
        abort(404)
    try:
        services.check_editable(ballot)
    except ServiceError as err:
        apply_error(None, err)
        return redirect(url_for("c.voting.detail", ballot_id=ballot.id))
    form = EditBallotForm(obj=ballot)
    _fill(form)
    if request.method == "GET":
        form.options.data = "\n".join(o.label for o in ballot.options) if ballot.method != "majority" else ""
        form.matter_class.data = ballot.matter_class or ""
        form.grid_id.data = ballot.grid_id or 0
        form.building_id.data = ballot.building_id or 0
        form.interested_buildings.data = (ballot.interested or {}).get("buildings", [])
        form.interested_households.data = (ballot.interested or {}).get("households", [])
        form.opens_at.data = dates.local(ballot.opens_at, g.community).replace(tzinfo=None)
        form.closes_at.data = dates.local(ballot.closes_at, g.community).replace(tzinfo=None)
    if form.validate_on_submit():
        keys = ("title", "description", "method", "options", "max_choices", "unit", "matter_class", "rule",
                "quorum", "secret", "opens_at", "closes_at", "paper_rule", "temporary", "interested_buildings",
                "interested_households")
        if ballot.proposal is None:
            keys += ("scope", "grid_id", "building_id")
        try:
            with transaction():
                services.update_ballot(ballot, current_user, _ballot_data(form, keys + ("seats", "electorate_mode")))
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("The ballot was saved."), "success")
            return redirect(url_for("c.voting.detail", ballot_id=ballot.id))
    return render_template("voting/form.html", form=form, proposal=ballot.proposal, ballot=ballot)


@bp.route("/<int:ballot_id>/notice", methods=["POST"])
@login_required
@require("voting.ballots.manage")
def notice(ballot_id):
    """Publish the notice (公告) with the full agenda; the residents' committee is told."""
    ballot = services.get(g.community, ballot_id)
    try:
        temporary = bool(request.form.get("temporary")) if "temporary_shown" in request.form else None
        with transaction():
            services.publish_notice(ballot, current_user, temporary=temporary)
    except ServiceError as err:
        apply_error(None, err)
    else:
        flash(_("The notice is published. Voting may open on %(date)s at the earliest.",
                date=dates.format_local(services.earliest_opening(g.community, ballot.notice_published_at,
                                                                  ballot.notice_days or 0), g.community)),
              "success")
    return redirect(url_for("c.voting.detail", ballot_id=ballot.id))


@bp.route("/<int:ballot_id>/print/call")
def print_call(ballot_id):
    """The ballot's notice (公告) with the full agenda, for the notice board."""
    ballot = _visible(ballot_id)
    if ballot.state == "draft" and ballot.notice_published_at is None:
        abort(404)  # staff print it once it is published
    return render_template("voting/print_call.html", ballot=ballot, now=utcnow(),
                           option_label=lambda pos: services.option_label(ballot, pos))


@bp.route("/<int:ballot_id>/vote", methods=["POST"])
@login_required
def vote(ballot_id):
    ballot = _visible(ballot_id)
    try:
        with transaction():
            receipt = services.cast(ballot, current_user, _choice_from_form(ballot, request.form)).receipt
    except ServiceError as err:
        apply_error(None, err)
        session["voting_chosen"] = {"ballot": ballot.id, "form": {
            k: v for k, v in request.form.lists() if k == "choice" or k.startswith("rank-")}}
    else:
        flash(_("Your vote is recorded. Your receipt code is %(receipt)s.", receipt=receipt), "success")
    return redirect(safe_next(request.form.get("next"), url_for("c.voting.detail", ballot_id=ballot.id)))


@bp.route("/<int:ballot_id>/open", methods=["POST"])
@login_required
@require("voting.ballots.manage")
def open_(ballot_id):
    ballot = services.get(g.community, ballot_id)
    try:
        with transaction():
            services.open_ballot(ballot, current_user,
                                 confirm_duplicates=request.form.get("confirm_duplicates") == "1")
        flash(_("The ballot is open."), "success")
    except ServiceError as err:
        if err.code == "possible_duplicates":  # staff resolve them first, or confirm (R5)
            return render_template("voting/open_confirm.html", ballot=ballot, message=err.message,
                                   groups=services.duplicates_in_scope(ballot))
        if err.code == "ages_unknown":  # a residents' meeting: staff record dates of birth, or confirm (R12)
            return render_template("voting/open_confirm.html", ballot=ballot, message=err.message, groups=[],
                                   unknown_ages=residents_meeting.ages_unknown(ballot))
        apply_error(None, err)
    return redirect(url_for("c.voting.detail", ballot_id=ballot.id))


@bp.route("/<int:ballot_id>/representatives", methods=["POST"])
@login_required
@require("voting.ballots.manage")
def representatives(ballot_id):
    """The representatives of the residents' groups of a residents' meeting in preparation (R12)."""
    ballot = services.get(g.community, ballot_id)
    groups = {str(grid.id): request.form.getlist(f"group-{grid.id}")
              for grid, _people, _chosen in residents_meeting.groups_in_scope(ballot)}
    try:
        with transaction():
            residents_meeting.set_representatives(ballot, current_user, groups)
        flash(_("Saved."), "success")
    except ServiceError as err:
        apply_error(None, err)
        for message in err.fields.values():
            flash(message, "error")
    return redirect(url_for("c.voting.detail", ballot_id=ballot.id, _anchor="residents-meeting"))


@bp.route("/<int:ballot_id>/close", methods=["GET", "POST"])
@login_required
@require("voting.ballots.manage")
def close(ballot_id):
    """Closing early cannot be undone: a confirmation page (the turnout so far) first, without
    JavaScript; only a form sent from it (confirm=1) closes the ballot."""
    ballot = services.get(g.community, ballot_id)
    if not confirm.confirmed():
        if ballot.state != "open":
            return redirect(url_for("c.voting.detail", ballot_id=ballot.id))
        voted = Voter.query.filter(Voter.ballot_id == ballot.id, Voter.voted_at.isnot(None)).count()
        return confirm.ask(_ballot_confirmation(
            ballot, _("Close and count %(title)s now?", title=ballot.title), url_for("c.voting.close", ballot_id=ballot.id),
            _("Close and count now"), _("Keep it open"), _("Reason for closing now"),
            [_turnout(ballot, voted),
             _("Voting ends at once: nobody can vote any more, the votes are counted and the result is published. "
               "This cannot be undone.")]))
    try:
        with transaction():
            services.close(ballot, current_user, request.form.get("reason"))
        flash(_("The ballot is closed and counted."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.voting.detail", ballot_id=ballot.id))


@bp.route("/<int:ballot_id>/cancel", methods=["POST"])
@login_required
@require("voting.ballots.manage")
def cancel(ballot_id):
    """Cancelling cannot be undone: a confirmation page first (core/confirm.py)."""
    ballot = services.get(g.community, ballot_id)
    if not confirm.confirmed():
        if ballot.state not in ("draft", "open"):
            return redirect(url_for("c.voting.detail", ballot_id=ballot.id))
        voted = Voter.query.filter(Voter.ballot_id == ballot.id, Voter.voted_at.isnot(None)).count()
        return confirm.ask(_ballot_confirmation(
            ballot, _("Cancel %(title)s?", title=ballot.title), url_for("c.voting.cancel", ballot_id=ballot.id),
            _("Cancel the ballot"), _("Keep the ballot"), _("Reason for cancelling"),
            ([_turnout(ballot, voted)] if ballot.state == "open" else [])
            + [_("The ballot ends without a result: nobody can vote any more and the votes cast so far are not "
                 "counted. This cannot be undone.")]))
    try:
        with transaction():
            services.cancel(ballot, current_user, request.form.get("reason"))
        flash(_("The ballot was cancelled."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.voting.detail", ballot_id=ballot.id))


def _turnout(ballot, voted):
    return _("Voted so far: %(voted)s of %(roll)s on the roll.", voted=format_number(voted),
             roll=format_number(services.roll_size(ballot)))


def _ballot_confirmation(ballot, title, action, button, cancel_label, reason_label, lines):
    """The confirmation page of closing or cancelling ``ballot`` (core/confirm.py)."""
    return confirm.Confirmation(title=title, action=action, button=button,
                                back_url=url_for("c.voting.detail", ballot_id=ballot.id), back_label=ballot.title,
                                cancel_label=cancel_label, reason_label=reason_label, reason_required=True,
                                lines=lines)


def _voter_choices(ballot):
    """The roll as a picker's choices, in roll order (V1, V2 … V10): number, name, rooms."""
    voters = natural_sorted(Voter.query.filter_by(ballot_id=ballot.id).all(), key=lambda v: v.ref)
    return [(0, "—")] + [(v.id, f"{v.ref} · {services.voter_name(v)} · {v.units}") for v in voters]


@bp.route("/<int:ballot_id>/paper", methods=["GET", "POST"])
@login_required
@require("voting.paper.enter")
def paper(ballot_id):
    ballot = services.get(g.community, ballot_id)
    if ballot.state == "draft":
        abort(404)
    form = PaperForm()
    if request.method == "GET" and request.args.get("voter_id"):
        form.voter_id.data = whole_number(request.args.get("voter_id"), "voter_id")
    pickers.offer(form.voter_id, _voter_choices(ballot))
    active = services.proxies_of(ballot).filter(Proxy.revoked_at.is_(None)).all()
    form.proxy_id.choices = [(0, _("No: the voter in person"))] + [
        (p.id, f"{p.ref} · {p.name} → {services.voter_name(p.voter)}") for p in active]
    online = None  # the online vote of the chosen voter, shown before a paper ballot goes over it
    if request.method == "GET" and form.voter_id.data:
        chosen = db.session.get(Voter, form.voter_id.data)
        online = services.online_vote_of(ballot, chosen) if chosen is not None and chosen.ballot_id == ballot.id \
            else None
    if form.validate_on_submit():
        photo = None
        f = form.photo.data
        if f and getattr(f, "filename", ""):
            photo = (f.mimetype, f.read())
        try:
            with transaction():
                voter = services.voter_by_id(ballot, form.voter_id.data)
                correction = request.form.get("action") == "correct"
                proxy = services.proxy_by_id(ballot, form.proxy_id.data) if form.proxy_id.data else None
                entry = services.cast(
                    ballot, current_user, None if form.spoiled.data else _choice_from_form(ballot, request.form),
                    voter=voter, source="correction" if correction else "paper", witness=form.witness.data,
                    note=form.note.data, photo=photo, spoiled=form.spoiled.data, proxy=proxy,
                    confirm_online=form.confirm_online.data)
        except ServiceError as err:
            apply_error(form, err)
            online = (err.details or {}).get("online_vote")
        else:
            if entry.set_aside:
                flash(_("The paper ballot of %(name)s is kept in the log without counting: their online vote counts. "
                        "They are told. Receipt code: %(receipt)s.", name=voter.name or voter.units,
                        receipt=entry.receipt), "success")
            else:
                flash(_("The paper ballot of %(name)s is recorded. Receipt code: %(receipt)s.",
                        name=voter.name or voter.units, receipt=entry.receipt), "success")
            return redirect(url_for("c.voting.paper", ballot_id=ballot.id))
    recent = (Entry.query.filter(Entry.ballot_id == ballot.id, Entry.source.in_(("paper", "correction", "proxy")))
              .order_by(Entry.seq.desc()).limit(50).all())
    scanned = {eid for (eid,) in db.session.query(PaperScan.entry_id).filter(
        PaperScan.entry_id.in_([e.id for e in recent]))} if recent else set()
    return render_template("voting/paper.html", ballot=ballot, form=form, recent=recent, scanned=scanned,
                           online=online, chosen=request.form if request.method == "POST" else None,
                           option_label=lambda pos: services.option_label(ballot, pos))


@bp.route("/<int:ballot_id>/roll", methods=["GET", "POST"])
@login_required
@require("voting.ballots.manage")
def roll(ballot_id):
    """Residents the roll missed (registered or verified after it was fixed): staff add them to an
    open ballot's roll with a reason, published with the roll."""
    ballot = services.get(g.community, ballot_id)
    if ballot.state == "draft":
        abort(404)
    if request.method == "POST":
        try:
            with transaction():
                voter, _entry = services.add_to_roll(ballot, current_user, request.form.get("token"),
                                                     request.form.get("reason"))
        except ServiceError as err:
            apply_error(None, err)
        else:
            flash(_("%(name)s is on the roll as %(ref)s.", name=services.voter_name(voter), ref=voter.ref), "success")
            return redirect(url_for("c.voting.roll", ballot_id=ballot.id))
    return render_template("voting/roll.html", ballot=ballot, missed=services.missed_voters(ballot),
                           added=_added(ballot))


def _open_ballot_for_proxies(ballot_id):
    ballot = services.get(g.community, ballot_id)
    if ballot.state == "draft" or ballot.unit not in services.PROXY_UNITS:
        abort(404)
    return ballot


@bp.route("/<int:ballot_id>/proxies", methods=["GET", "POST"])
@login_required
@require("voting.paper.enter")
def proxies(ballot_id):
    """Written proxy authorisations (委托书): record, list, revoke (grid workers and staff)."""
    ballot = _open_ballot_for_proxies(ballot_id)
    form = ProxyForm()
    pickers.offer(form.voter_id, _voter_choices(ballot))
    members = (db.session.query(User).join(Membership, Membership.user_id == User.id)
               .filter(Membership.community_id == g.community.id, Membership.verified_at.isnot(None))
               .order_by(User.display_name).all())
    pickers.offer(form.proxy_user_id, [(0, "—")] + [(u.id, f"{u.display_name} ({u.username or u.id})")
                                                     for u in natural_sorted(members, key=lambda u: u.display_name)])
    form.proxy_person_id.choices = [(0, "—")]
    if form.proxy_person_id.data:  # chosen after a name that several people on the register have
        person = db.session.get(Person, form.proxy_person_id.data)
        if person is not None and person.community_id == g.community.id:
            form.proxy_person_id.choices.append((person.id, person.label))
    if form.validate_on_submit():
        scan = None
        f = form.scan.data
        if f and getattr(f, "filename", ""):
            scan = (f.mimetype, f.read())
        try:
            with transaction():
                proxy = services.record_proxy(ballot, current_user, {
                    "voter_id": form.voter_id.data, "proxy_user_id": form.proxy_user_id.data,
                    "proxy_name": form.proxy_name.data, "instructions": form.instructions.data,
                    "witness": form.witness.data, "proxy_person_id": form.proxy_person_id.data,
                    "proxy_not_on_register": form.proxy_not_on_register.data}, scan=scan)
        except ServiceError as err:
            if err.code == "proxy_ambiguous":  # the same name, several people: staff choose (R10)
                form.proxy_person_id.choices = [(0, "—")] + [
                    (c["person_id"], f"{c['name']} · {'、'.join(c['units'])}") for c in err.details["candidates"]]
            apply_error(form, err)
        else:
            flash(_("The proxy authorisation %(ref)s is recorded: %(proxy)s votes for %(name)s.", ref=proxy.ref,
                    proxy=proxy.name, name=services.voter_name(proxy.voter)), "success")
            return redirect(url_for("c.voting.proxies", ballot_id=ballot.id))
    rows = services.proxies_of(ballot).all()
    voted = {pid for (pid,) in db.session.query(Entry.proxy_id).filter(
        Entry.ballot_id == ballot.id, Entry.proxy_id.isnot(None)).distinct()}
    return render_template("voting/proxies.html", ballot=ballot, form=form, proxies=rows, voted=voted,
                           limit=services.proxy_limit(ballot))


@bp.route("/<int:ballot_id>/proxies/<int:proxy_id>/revoke", methods=["POST"])
@login_required
@require("voting.paper.enter")
def proxy_revoke(ballot_id, proxy_id):
    ballot = _open_ballot_for_proxies(ballot_id)
    try:
        proxy = services.proxy_by_id(ballot, proxy_id)
        if not confirm.confirmed():  # revoking cannot be undone: a confirmation page first
            back = url_for("c.voting.proxies", ballot_id=ballot.id)
            return confirm.ask(confirm.Confirmation(
                title=_("Revoke the proxy authorisation %(ref)s?", ref=proxy.ref),
                action=url_for("c.voting.proxy_revoke", ballot_id=ballot.id, proxy_id=proxy.id),
                button=_("Revoke"), back_url=back, back_label=ballot.title, cancel_label=_("Keep it"),
                reason_label=_("Reason for revoking"), reason_required=True,
                lines=[_("The proxy can no longer vote for the voter in this ballot. The voter may still vote in "
                         "person. This cannot be undone: a new authorisation would have to be recorded.")]))

        with transaction():
            services.revoke_proxy(ballot, current_user, proxy, request.form.get("reason"))
        flash(_("The proxy authorisation %(ref)s is revoked.", ref=proxy.ref), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.voting.proxies", ballot_id=ballot.id))


@bp.route("/<int:ballot_id>/proxies/<int:proxy_id>/scan")
@login_required
@require("voting.paper.enter")
def proxy_scan(ballot_id, proxy_id):
    ballot = _open_ballot_for_proxies(ballot_id)
    proxy = db.session.get(Proxy, proxy_id)
    if proxy is None or proxy.ballot_id != ballot.id or not proxy.scan_data:
        abort(404)
    return Response(proxy.scan_data, mimetype=proxy.scan_type, headers={"Cache-Control": "private, no-store"})


@bp.route("/<int:ballot_id>/proxy")
@login_required
def proxy_page(ballot_id):
    """The voters whose proxy I hold on this ballot, each with a ballot to cast for them."""
    ballot = _visible(ballot_id)
    held = services.proxies_held(ballot, current_user)
    counted = {}
    for p in held:
        counted[p.id] = services.counted_entry(ballot, p.voter)
    now = utcnow()
    return render_template("voting/proxy_vote.html", ballot=ballot, held=held, counted=counted,
                           can_vote=ballot.state == "open" and ballot.opens_at <= now < ballot.closes_at,
                           option_label=lambda pos: services.option_label(ballot, pos))


@bp.route("/<int:ballot_id>/proxy/<int:proxy_id>/vote", methods=["POST"])
@login_required
def proxy_vote(ballot_id, proxy_id):
    ballot = _visible(ballot_id)
    try:
        with transaction():
            proxy = services.proxy_by_id(ballot, proxy_id)
            entry = services.cast(ballot, current_user, _choice_from_form(ballot, request.form), source="proxy",
                                  proxy=proxy)
    except ServiceError as err:
        apply_error(None, err)
    else:
        flash(_("The vote of %(name)s is recorded. Receipt code: %(receipt)s.",
                name=services.voter_name(proxy.voter), receipt=entry.receipt), "success")
    return redirect(url_for("c.voting.proxy_page", ballot_id=ballot.id))


@bp.route("/<int:ballot_id>/scan/<int:entry_id>")
@login_required
@require("voting.paper.enter")
def scan(ballot_id, entry_id):
    ballot = services.get(g.community, ballot_id)
    entry = db.session.get(Entry, entry_id)
    s = services.scan_of(entry_id) if entry is not None and entry.ballot_id == ballot.id else None
    if s is None:
        abort(404)
    return Response(s.data, mimetype=s.content_type, headers={"Cache-Control": "private, no-store"})


@bp.route("/<int:ballot_id>/electorate")
@login_required
@require("voting.paper.enter")
def electorate(ballot_id):
    ballot = services.get(g.community, ballot_id)
    if ballot.state == "draft":  # the electorate is published when the ballot opens
        abort(404)
    status = "not_voted" if request.args.get("status") == "not_voted" else None
    place = places.place_from(g.community, request.args)
    grids, buildings = places.choices(g.community)
    return render_template("voting/electorate.html", ballot=ballot,
                           voters=electorate_voters(ballot, place, not_voted=status == "not_voted"),
                           status=status, place=place, grids=grids, buildings=buildings,
                           roll_size=services.roll_size(ballot),
                           added={e.voter_id: e for e in _added(ballot)}, can_manage=can("voting.ballots.manage"))


@bp.route("/<int:ballot_id>/receipts")
def receipts(ballot_id):
    ballot = services.get(g.community, ballot_id)
    if ballot.state != "closed":
        abort(404)
    code = (request.args.get("receipt") or "").strip().upper()[:64]
    found = None
    if code:
        found = Entry.query.filter(Entry.ballot_id == ballot.id, Entry.receipt == code).first()
    entries = services.entries_of(ballot).all()
    return render_template("voting/receipts.html", ballot=ballot, entries=entries, code=code, found=found)


@bp.route("/<int:ballot_id>/export.json")
def export(ballot_id):
    ballot = services.get(g.community, ballot_id)
    if ballot.state != "closed":
        abort(404)
    body = json.dumps(services.export(ballot), ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="ballot-{ballot.id}.json"'})


@bp.route("/<int:ballot_id>/print/ballots")
@login_required
@require("voting.paper.enter")
def print_ballots(ballot_id):
    """Pre-filled paper ballots, one A4 sheet per voter on the electorate."""
    ballot = services.get(g.community, ballot_id)
    if ballot.state == "draft":
        abort(404)
    q = Voter.query.filter_by(ballot_id=ballot.id)
    if request.args.get("status") == "not_voted":
        q = q.filter(Voter.voted_at.is_(None))
    return render_template("voting/print_ballots.html", ballot=ballot, voters=q.order_by(Voter.id).all(),
                           now=utcnow(), option_label=lambda pos: services.option_label(ballot, pos))


@bp.route("/<int:ballot_id>/print/notice")
def print_notice(ballot_id):
    """The results notice (公示) for the notice board."""
    ballot = services.get(g.community, ballot_id)
    if ballot.state != "closed":
        abort(404)
    return render_template("voting/print_notice.html", ballot=ballot, bars=chart(ballot), now=utcnow(),
                           option_label=lambda pos: services.option_label(ballot, pos))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@require("core.settings.manage")
def settings():
    """The community's voting settings (defaults for ballots opened on proposals)."""
    from core.services import settings as settings_svc

    community = g.community
    current = settings_svc.get_all(community, "voting")
    form = SettingsForm(data=current)
    if form.validate_on_submit():
        days = form.default_days.data or 0
        bad = False
        if not 1 <= days <= 90:
            form.default_days.errors = list(form.default_days.errors) + [_("Between 1 and 90 days.")]
            bad = True
        for key, (low, high) in SettingsForm.INT_BOUNDS.items():
            field = getattr(form, key)
            if field.data is None:
                field.data = current[key]  # left empty: unchanged
            if not low <= field.data <= high:
                field.errors = list(field.errors) + [_("Between %(low)d and %(high)d.", low=low, high=high)]
                bad = True
        for low_key, high_key in (("window_min_days", "window_max_days"),
                                  ("window_min_days_other", "window_max_days_other"),
                                  ("owners_committee_min_seats", "owners_committee_max_seats")):
            if not bad and getattr(form, low_key).data > getattr(form, high_key).data:
                getattr(form, high_key).errors = list(getattr(form, high_key).errors) + [
                    _("The most days must not be fewer than the fewest.")]
                bad = True
        if not bad:
            with transaction():
                for key in current:
                    value = getattr(form, key).data
                    if value != current[key]:
                        settings_svc.set(community, "voting", key, value, actor=current_user)
            flash(_("Saved."), "success")
            return redirect(url_for("c.voting.settings"))
    return render_template("voting/settings.html", form=form)
