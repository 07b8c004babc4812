"""The pages of elections (R14): nominations, supporters, consent and the published candidates on
the ballot page. The routes join the voting blueprint; the rules are in plugins/voting/elections.py."""
from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.db import transaction
from core.errors import ServiceError
from core.forms import apply_error
from core.permissions import can, require
from plugins.voting import elections, services
from plugins.voting.views import _visible, bp


@bp.app_template_global("election_context")
def election_context(ballot):
    """What the ballot page shows of an election: the nominations with their tallies, the ones I
    support, whether I am a nominee, who staff may nominate, and the result by candidate."""
    from core.services import persons

    me = persons.of_user(ballot.community, current_user.id) if current_user.is_authenticated else None
    manage = can("voting.ballots.manage")
    context = {"nominations": elections.nominations(ballot), "mine": elections.supported_by(ballot, current_user),
               "me": me.id if me is not None else None, "manage": manage, "paper": can("voting.paper.enter"),
               "open": ballot.state == "draft" and ballot.candidates_published_at is None,
               "residents": elections.residents_committee(ballot),
               "voters": elections.NOMINATION_VOTERS, "households": elections.NOMINATION_HOUSEHOLDS}
    if manage and context["open"]:
        taken = {n.person_id for n, _t in context["nominations"]}
        context["eligible"] = [e for e in elections.eligible_candidates(ballot) if e[0] not in taken]
    if ballot.state == "closed" and ballot.result:
        context["result"] = elections.results(ballot)
    return context


def _back(ballot):
    return redirect(url_for("c.voting.detail", ballot_id=ballot.id) + "#nominations")


@bp.route("/<int:ballot_id>/nominations", methods=["POST"])
@login_required
@require("voting.ballots.manage")
def nominate(ballot_id):
    """Nominate a person on the register (staff enter a nomination form)."""
    ballot = services.get(g.community, ballot_id)
    try:
        with transaction():
            n = elections.nominate(ballot, current_user, request.form.get("person_id"))
        flash(_("%(name)s is nominated.", name=n.name), "success")
    except ServiceError as err:
        apply_error(None, err)
    return _back(ballot)


@bp.route("/<int:ballot_id>/nominations/<int:nomination_id>/support", methods=["POST"])
@login_required
def support(ballot_id, nomination_id):
    """Support a nomination: myself, or (grid worker, staff) for who signed a nomination form."""
    ballot = _visible(ballot_id)
    try:
        n = elections.nomination_by_id(ballot, nomination_id)
        with transaction():
            elections.support(ballot, current_user, n, request.form.get("person_id") or None)
        flash(_("The support for %(name)s is recorded.", name=n.name), "success")
    except ServiceError as err:
        apply_error(None, err)
    return _back(ballot)


@bp.route("/<int:ballot_id>/nominations/<int:nomination_id>/consent", methods=["POST"])
@login_required
def consent(ballot_id, nomination_id):
    """The candidate agrees to stand (or staff record their signed consent)."""
    ballot = _visible(ballot_id)
    try:
        n = elections.nomination_by_id(ballot, nomination_id)
        with transaction():
            elections.consent(ballot, current_user, n)
        flash(_("%(name)s stands as a candidate.", name=n.name), "success")
    except ServiceError as err:
        apply_error(None, err)
    return _back(ballot)


@bp.route("/<int:ballot_id>/candidates", methods=["POST"])
@login_required
@require("voting.ballots.manage")
def publish_candidates(ballot_id):
    """Publish the candidates; nominations close."""
    ballot = services.get(g.community, ballot_id)
    try:
        with transaction():
            elections.publish_candidates(ballot, current_user)
        flash(_("The candidates are published."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return _back(ballot)
