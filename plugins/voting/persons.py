"""Two people on the register are one (core hook ``on_persons_merged``, R5): what voting keyed by
the merged-away person becomes the kept person's, one row per person.

* **Nominations** (候选人提名): the other's nomination is the kept person's. Both nominated for one
  election: one nomination stays — the one already standing (published), else the earliest —
  with the other's consent if it had none and the other's supports; both standing on one
  published ballot cannot become one candidate, so the merge is refused.
* **Nomination supports** (联名推荐) and **convening supports** (提议召集居民会议): both supported one
  nomination or request: the earliest support stays (with the household it counted for, and for
  a request the households and groups of both), the later one is removed, so each counts one
  person. A request still collecting is recounted under its row lock; one past its threshold
  keeps the count it reached (it was true then), as the core keeps a proposal's seconds.
* **Proxies** (委托书) held by the other on a ballot not yet closed are held by the kept person, so
  the limit per proxy person counts one person. A closed ballot's file, and every published roll,
  stay as they were.

A split (``persons.split``) moves nothing: the original person keeps every row."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from core.errors import Conflict
from core.extensions import db
from core.hookspecs import hookimpl
from plugins.voting.models import Ballot, ConveningRequest, ConveningSupport, Nomination, NominationSupport, Proxy

_N, _S, _C, _R, _P = (Nomination.__table__, NominationSupport.__table__, ConveningSupport.__table__,
                      ConveningRequest.__table__, Proxy.__table__)


@hookimpl
def on_persons_merged(community, keep_id, other_id, actor):
    removed = {}
    moved = {_N.name: _merge_nominations(keep_id, other_id, removed)}
    moved[_S.name] = _merge_rows(_S, "nomination_id", keep_id, other_id, removed, _keep_household)
    moved[_C.name] = _merge_convening(keep_id, other_id, removed)
    moved[_P.name] = _merge_proxies(community, keep_id, other_id)
    return {"module": "voting", "moved": moved, "removed": removed}


def _first(rows):
    """The earliest of ``rows`` (created_at, then id)."""
    return min(rows, key=lambda r: (r.created_at, r.id))


def _merge_rows(table, group, keep_id, other_id, removed, combine=None, where=()):
    """Point ``table``'s rows of ``other_id`` at ``keep_id``; where both have a row of one
    ``group`` (unique per person), keep the earliest (``combine(kept, dropped)`` carries over
    what it must) and delete the other. Returns the rows moved."""
    rows = db.session.execute(select(table).where(table.c.person_id.in_((keep_id, other_id)), *where)).all()
    by_group = {}
    for r in rows:
        by_group.setdefault(getattr(r, group), []).append(r)
    gone = []
    for pair in by_group.values():
        if len(pair) > 1:
            kept = _first(pair)
            dropped = [r for r in pair if r.id != kept.id]
            if combine is not None:
                combine(table, kept, dropped)
            gone += [r.id for r in dropped]
    if gone:
        db.session.execute(delete(table).where(table.c.id.in_(gone)))
        removed[table.name] = removed.get(table.name, 0) + len(gone)
    return db.session.execute(update(table).where(table.c.person_id == other_id, *where)
                              .values(person_id=keep_id)).rowcount


def _keep_household(table, kept, dropped):
    """A support counts for the household its supporter represented: keep one if either did."""
    household = next((r.household_id for r in dropped if r.household_id), None)
    if kept.household_id is None and household is not None:
        db.session.execute(update(table).where(table.c.id == kept.id).values(household_id=household))


def _merge_nominations(keep_id, other_id, removed):
    rows = db.session.execute(select(_N).where(_N.c.person_id.in_((keep_id, other_id)))).all()
    by_ballot = {}
    for r in rows:
        by_ballot.setdefault(r.ballot_id, []).append(r)
    for ballot_id, pair in by_ballot.items():
        if len(pair) < 2:
            continue
        if all(r.position is not None for r in pair):
            raise Conflict("two_candidates", _(
                "Both are candidates on the published list of one election, so they cannot be merged into one "
                "person while it runs."))
        kept = min(pair, key=lambda r: (r.position is None, r.created_at, r.id))
        dropped = next(r for r in pair if r.id != kept.id)
        if kept.consented_at is None and dropped.consented_at is not None:
            db.session.execute(update(_N).where(_N.c.id == kept.id).values(
                consented_at=dropped.consented_at, consent_recorded_by_id=dropped.consent_recorded_by_id))
        # The dropped nomination's supporters now support the kept one, once each.
        supports = db.session.execute(select(_S).where(_S.c.nomination_id.in_((kept.id, dropped.id)))).all()
        by_person, gone = {}, []
        for s in supports:
            by_person.setdefault(s.person_id, []).append(s)
        for same in by_person.values():
            if len(same) > 1:
                first = _first(same)
                _keep_household(_S, first, [s for s in same if s.id != first.id])
                gone += [s.id for s in same if s.id != first.id]
        if gone:
            db.session.execute(delete(_S).where(_S.c.id.in_(gone)))
            removed[_S.name] = removed.get(_S.name, 0) + len(gone)
        db.session.execute(update(_S).where(_S.c.nomination_id == dropped.id).values(nomination_id=kept.id))
        db.session.execute(delete(_N).where(_N.c.id == dropped.id))
        removed[_N.name] = removed.get(_N.name, 0) + 1
    return db.session.execute(update(_N).where(_N.c.person_id == other_id).values(person_id=keep_id)).rowcount


def _union_places(table, kept, dropped):
    """One person's support counts for the households and groups of all their entries."""
    households = sorted(set(kept.households or []).union(*(r.households or [] for r in dropped)))
    grids = sorted(set(kept.grids or []).union(*(r.grids or [] for r in dropped)))
    db.session.execute(update(table).where(table.c.id == kept.id).values(households=households, grids=grids))


def _merge_convening(keep_id, other_id, removed):
    active = (_C.c.withdrawn_at.is_(None),)
    touched = {r for (r,) in db.session.execute(select(_C.c.request_id).where(
        _C.c.person_id.in_((keep_id, other_id)), *active).group_by(_C.c.request_id)
        .having(db.func.count() > 1))}
    moved = _merge_rows(_C, "request_id", keep_id, other_id, removed, _union_places, active)
    moved += db.session.execute(update(_C).where(_C.c.person_id == other_id).values(person_id=keep_id)).rowcount
    for request_id in sorted(touched):
        _recount_convening(request_id)
    return moved


def _recount_convening(request_id):
    """Recount a request still collecting, under its row lock (as convening._recount does). The
    merge can only lower its progress, so it never reaches the threshold here."""
    from plugins.voting.convening import progress_of

    base = db.session.execute(update(_R).where(_R.c.id == request_id, _R.c.state == "collecting")
                              .values(supporters=_R.c.supporters).returning(_R.c.base)).scalar_one_or_none()
    if base is None:  # past its threshold: the count it reached stands
        return
    rows = db.session.execute(select(_C.c.households, _C.c.grids).where(
        _C.c.request_id == request_id, _C.c.withdrawn_at.is_(None))).mappings().all()
    db.session.execute(update(_R).where(_R.c.id == request_id).values(
        supporters=len(rows), progress=progress_of(base, rows)))
    req = db.session.identity_map.get(db.session.identity_key(ConveningRequest, request_id))
    if req is not None:
        db.session.expire(req)


def _merge_proxies(community, keep_id, other_id):
    running = select(Ballot.id).where(Ballot.community_id == community.id, Ballot.state.in_(("draft", "open")))
    return db.session.execute(update(_P).where(_P.c.holder_key == f"person:{other_id}",
                                               _P.c.ballot_id.in_(running))
                              .values(holder_key=f"person:{keep_id}")).rowcount
