"""Proposal pages: list, new, detail (comments, seconds, history, plugin panels), transitions."""
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from core.db import transaction
from core.errors import ServiceError
from core.extensions import db
from core.forms import apply_error, fill_assist_choices
from core.models import (CATEGORIES, SCOPES, STATES, Proposal, ProposalComment,
                         ProposalTransition, utcnow)
from core.permissions import can, membership_of
from core.proposals.forms import CommentForm, ProposalForm, SecondForm, TransitionForm
from core.services import proposals as svc

bp = Blueprint("proposals", __name__, url_prefix="/proposals")


@bp.route("/")
def index():
    community = g.community
    args = request.args
    state = args.get("state") if args.get("state") in STATES else None
    category = args.get("category") if args.get("category") in CATEGORIES else None
    scope = args.get("scope") if args.get("scope") in SCOPES else None
    q = (args.get("q") or "").strip()[:100]
    query = svc.search(community, user=current_user, state=state, category=category, scope=scope, q=q or None)
    page = CappedPage(query.options(joinedload(Proposal.grid), joinedload(Proposal.building)), query,
                      per_page=current_app.config["PER_PAGE"], max_per_page=50)
    return render_template("proposals/index.html", page=page, state=state, category=category, scope=scope, q=q,
                           STATES=STATES, CATEGORIES=CATEGORIES, SCOPES=SCOPES)


class CappedPage:
    """A page of a list whose total is counted exactly only up to ``COUNT_CAP`` rows.

    An exact count reads every matching row (or index entry): in a community with 100,000
    proposals that costs more than the page itself and grows with the community. Beyond the cap
    the list says "more than 1,000 proposals" and the pager offers the next page as long as there
    is one (fetched as one extra row), which is what a reader paging through needs; the exact
    numbers are in the statistics and the API. The work per page is then bounded whatever the
    community's size."""

    COUNT_CAP = 1000

    def __init__(self, query, count_query, per_page, max_per_page):
        args = request.args
        try:
            self.page = max(1, int(args.get("page", 1)))
            self.per_page = max(1, min(int(args.get("per_page", per_page)), max_per_page))
        except (TypeError, ValueError):
            self.page, self.per_page = 1, per_page
        rows = query.limit(self.per_page + 1).offset((self.page - 1) * self.per_page).all()
        self.items = rows[:self.per_page]
        self.has_next = len(rows) > self.per_page
        capped = count_query.order_by(None).with_entities(Proposal.id).limit(self.COUNT_CAP + 1).subquery()
        n = db.session.execute(db.select(db.func.count()).select_from(capped)).scalar()
        self.capped = n > self.COUNT_CAP
        self.total = self.COUNT_CAP if self.capped else n
        self.pages = None if self.capped else max(1, -(-n // self.per_page))
        self.has_prev = self.page > 1
        self.prev_num = self.page - 1
        self.next_num = self.page + 1


def _fill_choices(form):
    from core import pickers
    from core.places import choices  # grids and buildings in natural order: 2号楼 before 10号楼

    grids, buildings = choices(g.community)
    form.grid_id.choices = [(0, "—")] + [(x.id, x.name) for x in grids]
    pickers.offer(form.building_id, [(0, "—")] + [(x.id, x.name) for x in buildings])


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    community = g.community
    if membership_of(current_user, community) is None and not current_user.is_superadmin:
        flash(_("Join this community to submit proposals."), "info")
        return redirect(url_for("c.community.register"))
    form = ProposalForm()
    _fill_choices(form)
    can_assist = can("core.proposals.assist")
    if can_assist:
        fill_assist_choices(form, community, current_user)
    if form.validate_on_submit():
        try:
            with transaction():
                proposal = svc.create(
                    community, current_user,
                    {"title": form.title.data, "body": form.body.data, "category": form.category.data,
                     "scope": form.scope.data, "grid_id": form.grid_id.data, "building_id": form.building_id.data},
                    submit=request.form.get("action") != "draft", **form.assisted())
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("Your proposal was saved.") if proposal.state == "draft"
                  else _("Your proposal is open for comment."), "success")
            return redirect(url_for("c.proposals.detail", proposal_id=proposal.id))
    return render_template("proposals/form.html", form=form, proposal=None, can_assist=can_assist)


@bp.route("/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id):
    proposal = svc.get(g.community, proposal_id)
    if proposal.state != "draft" or current_user.id not in (proposal.author_id, proposal.submitted_by_id):
        abort(403)
    form = ProposalForm(obj=proposal)
    _fill_choices(form)
    if request.method == "GET":
        form.grid_id.data = proposal.grid_id or 0
        form.building_id.data = proposal.building_id or 0
    if form.validate_on_submit():
        try:
            with transaction():
                svc.update_draft(proposal, current_user, {
                    "title": form.title.data, "body": form.body.data, "category": form.category.data,
                    "scope": form.scope.data, "grid_id": form.grid_id.data, "building_id": form.building_id.data})
                if request.form.get("action") == "submit":
                    svc.transition(proposal, "open", current_user)
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("c.proposals.detail", proposal_id=proposal.id))
    return render_template("proposals/form.html", form=form, proposal=proposal, can_assist=False)


@bp.route("/<int:proposal_id>")
def detail(proposal_id):
    community = g.community
    proposal = (Proposal.query.options(joinedload(Proposal.author), joinedload(Proposal.submitted_by),
                                       joinedload(Proposal.grid), joinedload(Proposal.building))
                .filter_by(id=proposal_id, community_id=community.id).first())
    if proposal is None or not svc.can_view(proposal, current_user):
        abort(404)
    comments = ProposalComment.query.filter_by(proposal_id=proposal.id).order_by(ProposalComment.id).all()
    history = (ProposalTransition.query.options(joinedload(ProposalTransition.actor))
               .filter_by(proposal_id=proposal.id).order_by(ProposalTransition.id).all())
    seconded = svc.has_seconded(proposal, current_user)
    panels = []
    for group in g.hooks.proposal_panels(proposal=proposal, user=current_user):
        panels.extend(group or ())
    panels.sort(key=lambda p: p.order)
    # The forms are only shown to someone logged in; building one makes a CSRF token, which would
    # also keep a visitor's page out of the page cache (core/pagecache.py).
    transition_form = comment_form = second_form = None
    if current_user.is_authenticated:
        transition_form = TransitionForm()
        transition_form.new_state.choices = [(s, STATES[s]) for s in svc.TRANSITIONS[proposal.state]]
        comment_form, second_form = CommentForm(), SecondForm()
        if can("core.proposals.assist"):
            fill_assist_choices(second_form, community, current_user)
            comment_form.person_id.choices = second_form.person_id.choices
    membership = membership_of(current_user, community)
    return render_template(
        "proposals/detail.html", proposal=proposal, comments=comments, history=history, panels=panels,
        seconded=seconded, membership=membership, comment_form=comment_form, second_form=second_form,
        transition_form=transition_form, can_manage=can("core.proposals.manage"),
        can_assist=can("core.proposals.assist"), STATES=STATES)


@bp.route("/<int:proposal_id>/second", methods=["POST"])
@login_required
def second(proposal_id):
    proposal = svc.get(g.community, proposal_id)
    form = SecondForm()
    if form.validate_on_submit():
        try:
            with transaction():
                assisted = form.assisted()
                svc.second(proposal, current_user, **assisted)
                flash(_("The second was recorded for the resident.") if assisted["person_id"] or assisted["login"]
                      else _("Thank you for seconding."), "success")
        except ServiceError as err:
            apply_error(None, err)
    return redirect(url_for("c.proposals.detail", proposal_id=proposal.id))


@bp.route("/<int:proposal_id>/comment", methods=["POST"])
@login_required
def comment(proposal_id):
    proposal = svc.get(g.community, proposal_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            with transaction():
                svc.comment(proposal, current_user, form.body.data, **form.assisted())
                flash(_("Your comment was posted."), "success")
        except ServiceError as err:
            apply_error(None, err)
    else:
        flash(_("Write a comment of up to 5,000 characters."), "error")
    return redirect(url_for("c.proposals.detail", proposal_id=proposal.id) + "#comments")


@bp.route("/<int:proposal_id>/transition", methods=["POST"])
@login_required
def transition(proposal_id):
    proposal = svc.get(g.community, proposal_id)
    form = TransitionForm()
    if form.validate_on_submit():
        try:
            with transaction():
                svc.transition(proposal, form.new_state.data, current_user, form.reason.data)
                flash(_("The proposal is now: %(state)s.", state=STATES[proposal.state]), "success")
        except ServiceError as err:
            apply_error(None, err)
    return redirect(url_for("c.proposals.detail", proposal_id=proposal.id))


@bp.route("/<int:proposal_id>/print")
def print_notice(proposal_id):
    """A printable notice (公示) of the proposal and its history."""
    proposal = svc.get(g.community, proposal_id)
    if not svc.can_view(proposal, current_user):
        abort(404)
    history = ProposalTransition.query.filter_by(proposal_id=proposal.id).order_by(ProposalTransition.id).all()
    return render_template("proposals/print.html", proposal=proposal, history=history, STATES=STATES,
                           now=utcnow())
