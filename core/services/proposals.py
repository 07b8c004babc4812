"""Proposals (议题): create, submit, second, comment, move through their stages."""
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from core.errors import Conflict, Forbidden, NotFound, ServiceError
from core.events import Event, emit
from core.extensions import db
from core.models import (CATEGORIES, SCOPES, Building, Grid, Proposal, ProposalComment,
                         ProposalSecond, ProposalTransition, utcnow)
from core.permissions import can, membership_of
from core.db import keep_loaded
from core.services import audit
from core.services.notifications import N_, notify

# Which stages follow which (议事 → 协调 → 表决 → 实施); withdrawn from any state before a decision.
TRANSITIONS = {
    "draft": ("open", "withdrawn"),
    "open": ("coordinating", "withdrawn", "rejected"),
    "coordinating": ("voting", "accepted", "rejected", "open", "withdrawn"),
    "voting": ("accepted", "rejected", "withdrawn"),
    "accepted": ("implementing",),
    "implementing": ("completed",),
    "rejected": (),
    "completed": (),
    "withdrawn": (),
}
# The events announced when a proposal reaches a state.
STATE_EVENTS = {"open": "proposal.submitted", "accepted": "proposal.accepted",
                "rejected": "proposal.rejected", "completed": "proposal.completed",
                "withdrawn": "proposal.withdrawn"}


# States in which a proposal takes no comments.
_NO_COMMENTS = ("draft", "withdrawn", "completed", "rejected")


def _url(proposal):
    try:
        return url_for("c.proposals.detail", community=proposal.community.slug, proposal_id=proposal.id)
    except RuntimeError:
        return None


def get(community, proposal_id) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.community_id != community.id:
        raise NotFound("not_found", _("No such proposal."))
    return proposal


def can_view(proposal, user) -> bool:
    """Drafts are seen by their author, whoever typed them in, and staff."""
    if proposal.state != "draft":
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return user.id in (proposal.author_id, proposal.submitted_by_id) or can(
        "core.proposals.manage", proposal.community, user=user)


def _validate(community, data):
    errors = {}
    title = (data.get("title") or "").strip()
    body = (data.get("body") or "").strip()
    category = data.get("category") or ""
    scope = data.get("scope") or "community"
    if not 4 <= len(title) <= 120:
        errors["title"] = _("Give a title of 4 to 120 characters.")
    if not 10 <= len(body) <= 20000:
        errors["body"] = _("Describe the proposal in 10 to 20,000 characters.")
    if category not in CATEGORIES:
        errors["category"] = _("Choose a category.")
    if scope not in SCOPES:
        errors["scope"] = _("Choose who the proposal concerns.")
    grid = building = None
    if scope == "grid":
        grid = db.session.get(Grid, _int(data.get("grid_id")) or 0)
        if grid is None or grid.community_id != community.id:
            errors["grid_id"] = _("Choose a grid of this community.")
    if scope == "building":
        building = db.session.get(Building, _int(data.get("building_id")) or 0)
        if building is None or building.community_id != community.id:
            errors["building_id"] = _("Choose a building of this community.")
    if errors:
        raise ServiceError("invalid_proposal", _("Please correct the marked fields."), fields=errors)
    return dict(title=title, body=body, category=category, scope=scope,
                grid_id=grid.id if grid else None, building_id=building.id if building else None)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def create(community, actor, data, *, submit=True, person_id=None, login=None, name=None, reason=None):
    """Create a proposal (as a draft, or submitted straight away for comment).

    A building head, grid worker or staff member may create it for a resident (assisted action,
    代办): the resident picked from the register (``person_id``) or by phone or user name
    (``login``), with ``reason``; it is then the resident's proposal, linked to their person on
    the register, and the helper is recorded as who typed it in. A typed ``name`` alone is
    refused (``core.services.assist.acting_for``)."""
    from core.services import assist

    membership = membership_of(actor, community)
    if membership is None and not actor.is_superadmin:
        raise Forbidden("not_member", _("Join this community first."))
    helped = assist.acting_for(community, actor, person_id=person_id, login=login, name=name, reason=reason,
                               refused=_("You may not submit proposals for other residents."))
    fields = _validate(community, data)
    author = helped or assist.own(community, actor)
    assisted = helped is not None
    proposal = Proposal(
        community_id=community.id, state="draft",
        author_id=author.user_id, author_person_id=author.person_id, author_name=author.name[:80],
        submitted_by_id=actor.id if assisted else None,
        assist_reason=reason.strip()[:200] if assisted else None,
        **fields,
    )
    db.session.add(proposal)
    db.session.flush()
    db.session.add(ProposalTransition(proposal_id=proposal.id, from_state=None, to_state="draft",
                                      actor_id=actor.id, reason=proposal.assist_reason))
    audit.record("proposal.created", community=community, obj=proposal, actor=actor,
                 on_behalf_of=author.user if assisted else None,
                 on_behalf_of_name=author.name if assisted else None,
                 after=dict(fields, person_id=author.person_id) if assisted else fields,
                 reason=proposal.assist_reason)
    if submit:
        _move(proposal, "open", actor, None)
    return proposal


def update_draft(proposal, actor, data):
    """Edit a proposal while it is a draft (its author or whoever typed it in)."""
    if proposal.state != "draft":
        raise Conflict("not_draft", _("Only drafts can be edited."))
    if actor.id not in (proposal.author_id, proposal.submitted_by_id):
        raise Forbidden("forbidden", _("Only the author can edit this draft."))
    fields = _validate(proposal.community, data)
    before = {k: getattr(proposal, k) for k in fields}
    now = utcnow()
    # Written only while still a draft: a submission in another tab must not be edited afterwards.
    edited = db.session.execute(update(Proposal).where(Proposal.id == proposal.id, Proposal.state == "draft")
                                .values(updated_at=now, **fields).execution_options(synchronize_session=False))
    if edited.rowcount != 1:
        raise Conflict("not_draft", _("Only drafts can be edited."))
    for k, v in dict(fields, updated_at=now).items():
        set_committed_value(proposal, k, v)
    audit.record("proposal.edited", community=proposal.community, obj=proposal, actor=actor,
                 before=before, after=fields)
    return proposal


def transition(proposal, new_state, actor, reason=None):
    """Move a proposal to ``new_state`` (a person's act: staff with a reason, or the author who
    submits their draft or withdraws it before a decision). A move the platform makes itself (a
    ballot opened or closed, a meeting's resolution) is ``follow``."""
    if new_state not in TRANSITIONS.get(proposal.state, ()):
        raise Conflict("invalid_transition",
                       _("A proposal that is %(state)s cannot be moved to %(new)s.",
                         state=proposal.state_label, new=_state_label(new_state)))
    is_author = actor is not None and actor.id in (proposal.author_id, proposal.submitted_by_id)
    author_move = is_author and (
        (proposal.state == "draft" and new_state in ("open", "withdrawn"))
        or (new_state == "withdrawn" and proposal.state == "open"))
    if not author_move:
        if actor is None or not can("core.proposals.manage", proposal.community, user=actor):
            raise Forbidden("forbidden", _("Only community staff can move proposals on."))
        if not (reason or "").strip():
            raise ServiceError("reason_required", _("Give a reason for this step."),
                               fields={"reason": _("Give a reason for this step.")})
    follow(proposal, new_state, actor, reason)
    return proposal


def follow(proposal, new_state, actor, reason):
    """Move a proposal as something else dictates (its ballot opened or closed), in the caller's
    transaction: the caller commits, so both change together or neither does. Checked against
    the stages and the modules' vetoes like every move; who may cause it is the caller's check."""
    if new_state not in TRANSITIONS.get(proposal.state, ()):
        raise Conflict("invalid_transition",
                       _("A proposal that is %(state)s cannot be moved to %(new)s.",
                         state=proposal.state_label, new=_state_label(new_state)))
    registry = current_app.extensions["linli.plugins"]
    veto = registry.hooks_for(proposal.community).proposal_transition_blocked(
        proposal=proposal, new_state=new_state, actor=actor)
    if veto:
        raise Conflict("transition_blocked", veto)
    _move(proposal, new_state, actor, (reason or "").strip() or None)
    return proposal


def _state_label(state):
    from core.models import STATES

    return STATES.get(state, state)


def _move(proposal, new_state, actor, reason):
    """Change state with a conditional UPDATE so two staff clicking at once move it only once."""
    old_state = proposal.state
    now = utcnow()
    result = db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id, Proposal.state == old_state)
        .values(state=new_state, updated_at=now).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("stale_state", _("Someone else has just moved this proposal; reload the page."))
    # What the UPDATE wrote, without a second write of the row at the next flush.
    set_committed_value(proposal, "state", new_state)
    set_committed_value(proposal, "updated_at", now)
    actor_id = actor.id if actor is not None else None
    db.session.add(ProposalTransition(proposal_id=proposal.id, from_state=old_state, to_state=new_state,
                                      actor_id=actor_id, reason=reason))
    audit.record("proposal.transition", community=proposal.community, obj=proposal, actor=actor,
                 before={"state": old_state}, after={"state": new_state}, reason=reason)
    community = proposal.community
    registry = current_app.extensions["linli.plugins"]
    registry.hooks_for(community).on_proposal_transition(
        proposal=proposal, old_state=old_state, new_state=new_state, actor=actor, reason=reason)
    concerned = tuple(u for u in (proposal.author_id,) if u)
    emit(community, Event("proposal.transitioned", community.id, actor_id, concerned,
                          f"proposal:{proposal.id}:{old_state}:{new_state}",
                          {"proposal_id": proposal.id, "from": old_state, "to": new_state}))
    if new_state in STATE_EVENTS:
        emit(community, Event(STATE_EVENTS[new_state], community.id, actor_id, concerned,
                              f"proposal:{proposal.id}:{new_state}", {"proposal_id": proposal.id}))
    if proposal.author_id and proposal.author_id != actor_id:
        notify(proposal.author_id, community, "proposal.transition",
               N_("Your proposal “%(title)s” is now: %(state)s."),
               {"title": proposal.title, "state": new_state, "proposal_id": proposal.id}, url=_url(proposal))


def second(proposal, actor, *, person_id=None, login=None, name=None, reason=None):
    """Second (附议) an open proposal; each person once. Enough seconds move it to coordination.

    A building head, grid worker or staff member may second for a resident (代办), picked from the
    register (``person_id``, with or without an account) or by phone or user name (``login``),
    with ``reason``: the second is the resident's (their person and account), the helper is
    recorded beside it, and the helper's own second is still theirs to give. A second is unique
    per person and per account, so a person is counted once however it arrives. A resident
    without an account counts by being on the register (staff entered them); one with an account
    needs their membership verified.

    A second that arrives after the proposal has moved on is refused and nothing is saved, even
    when the proposal was still open as the request read it (issue 16 §10)."""
    from core.services import assist

    community = proposal.community
    helped = assist.acting_for(community, actor, person_id=person_id, login=login, name=name, reason=reason)
    resident = helped or assist.own(community, actor)
    if resident.user is not None:
        membership = membership_of(resident.user, community)
        if membership is None or not membership.is_verified:
            raise Forbidden("not_verified", _("Only verified residents can second proposals."))
    if proposal.state != "open":
        raise Conflict("not_open", _("Only proposals open for comment can be seconded."))
    if (resident.user_id and proposal.author_id == resident.user_id) or (
            resident.person_id and proposal.author_person_id == resident.person_id):
        raise Conflict("own_proposal", _("You cannot second your own proposal.") if helped is None else
                       _("%(name)s cannot second their own proposal.", name=resident.name))
    # The unique constraints, not this code, guarantee one second per person under races;
    # a refusal rolls back the whole request (the entry point's transaction).
    db.session.add(ProposalSecond(proposal_id=proposal.id, user_id=resident.user_id, person_id=resident.person_id,
                                  acted_by_id=actor.id if helped else None))
    try:
        db.session.flush()
    except IntegrityError:  # the message is lazy: read once the request has rolled back
        raise Conflict("already_seconded", _l("You have already seconded this proposal.") if helped is None else
                       _l("%(name)s has already seconded this proposal.", name=resident.name))
    # The state checked above may be stale (another second may have moved it on since): counting
    # only while the row is open decides acceptance and the move under one lock (the row's on
    # PostgreSQL, the writer lock on SQLite), so the move happens at exactly the threshold.
    count = db.session.execute(update(Proposal).where(Proposal.id == proposal.id, Proposal.state == "open")
                               .values(seconds_count=Proposal.seconds_count + 1)
                               .returning(Proposal.seconds_count)
                               .execution_options(synchronize_session=False)).scalar_one_or_none()
    if count is None:
        raise Conflict("not_open", _("This proposal is no longer collecting seconds; reload the page."))
    set_committed_value(proposal, "seconds_count", count)
    set_committed_value(proposal, "state", "open")
    audit.record("proposal.seconded", community=community, obj=proposal, actor=actor,
                 on_behalf_of=resident.user if helped else None,
                 on_behalf_of_name=resident.name if helped else None,
                 after={"person_id": resident.person_id} if helped else None, reason=reason if helped else None)
    concerned = (resident.user_id,) if resident.user_id else ()
    who = f"{resident.user_id}" if resident.user_id else f"p{resident.person_id}"
    emit(community, Event("proposal.seconded", community.id, actor.id, concerned,
                          f"proposal:{proposal.id}:second:{who}", {"proposal_id": proposal.id}))
    if proposal.author_id:
        notify(proposal.author_id, community, "proposal.seconded",
               N_("%(name)s seconded your proposal “%(title)s”."),
               {"name": resident.name, "title": proposal.title}, url=_url(proposal))
    if count >= community.seconds_threshold:
        _move(proposal, "coordinating", None,
              _("%(count)d residents seconded it.", count=proposal.seconds_count))
    keep_loaded()  # the proposal is up to date: its answer needs no second read
    return proposal


def has_seconded(proposal, user) -> bool:
    """Whether ``user`` has seconded ``proposal``, themselves or through someone acting for
    their person on the register."""
    if not getattr(user, "is_authenticated", False):
        return False
    from core.services import persons

    person = persons.of_user(proposal.community_id, user.id)
    who = ProposalSecond.user_id == user.id
    if person is not None:
        who = db.or_(who, ProposalSecond.person_id == person.id)
    return db.session.query(ProposalSecond.query.filter(ProposalSecond.proposal_id == proposal.id, who)
                            .exists()).scalar()


def comment(proposal, actor, body, *, person_id=None, login=None, name=None, reason=None):
    """Comment on a proposal during deliberation; a building head, grid worker or staff member
    may write down a resident's comment for them (代办, as for ``second``): it is the resident's,
    linked to their person on the register, with the helper and the reason in the audit log."""
    from core.services import assist

    community = proposal.community
    body = (body or "").strip()
    if not 1 <= len(body) <= 5000:
        raise ServiceError("invalid_comment", _("Write a comment of up to 5,000 characters."),
                           fields={"body": _("Write a comment of up to 5,000 characters.")})
    if proposal.state in _NO_COMMENTS:
        raise Conflict("closed", _("This proposal no longer takes comments."))
    helped = assist.acting_for(community, actor, person_id=person_id, login=login, name=name, reason=reason)
    author = helped or assist.own(community, actor)
    if helped is None and membership_of(actor, community) is None and not actor.is_superadmin:
        raise Forbidden("not_member", _("Join this community first."))
    c = ProposalComment(proposal_id=proposal.id, author_id=author.user_id, author_person_id=author.person_id,
                        author_name=author.name[:80], acted_by_id=actor.id if helped else None, body=body)
    db.session.add(c)
    # Counted only while the row still takes comments: the state checked above may be stale.
    counted = db.session.execute(update(Proposal).where(Proposal.id == proposal.id,
                                                        Proposal.state.notin_(_NO_COMMENTS))
                                 .values(comments_count=Proposal.comments_count + 1)
                                 .execution_options(synchronize_session=False))
    if counted.rowcount != 1:
        raise Conflict("closed", _("This proposal no longer takes comments."))
    db.session.flush()
    audit.record("proposal.commented", community=community, obj=c, actor=actor,
                 on_behalf_of=author.user if helped else None, on_behalf_of_name=author.name if helped else None,
                 after={"person_id": author.person_id} if helped else None, reason=reason if helped else None)
    emit(community, Event("proposal.commented", community.id, actor.id,
                          (author.user_id,) if author.user_id else (), f"comment:{c.id}", {"proposal_id": proposal.id}))
    if proposal.author_id and proposal.author_id != author.user_id:
        notify(proposal.author_id, community, "proposal.comment",
               N_("%(name)s commented on your proposal “%(title)s”."),
               {"name": author.name, "title": proposal.title}, url=_url(proposal))
    db.session.refresh(proposal, ["comments_count"])
    return c


def search(community, *, user=None, state=None, category=None, scope=None, q=None):
    """The filtered query behind the list page and the API (drafts only for who may see them)."""
    query = Proposal.query.filter(Proposal.community_id == community.id)
    if state:
        query = query.filter(Proposal.state == state)
    if category:
        query = query.filter(Proposal.category == category)
    if scope:
        query = query.filter(Proposal.scope == scope)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.filter(db.or_(Proposal.title.ilike(like, escape="\\"), Proposal.body.ilike(like, escape="\\")))
    if not (user is not None and can("core.proposals.manage", community, user=user)):
        uid = user.id if getattr(user, "is_authenticated", False) else -1
        query = query.filter(db.or_(Proposal.state != "draft", Proposal.author_id == uid,
                                    Proposal.submitted_by_id == uid))
    return query.order_by(Proposal.updated_at.desc(), Proposal.id.desc())
