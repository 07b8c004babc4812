"""Two people on the register are one (core hook ``on_persons_merged``, R5): the merged-away
person's volunteer sign-ups (``points_signup.person_id``) become the kept person's, one place per
person and activity.

Both signed up for one activity: one sign-up stays — the one with volunteer hours recorded
(R23), else the earliest — and the other is removed, giving its place back (``signups_count``).
Hours recorded on both are a record each and are never deleted: the later sign-up stays without
the person link (as the foreign key's SET NULL would leave it), so staff can see and correct it.
Accounts, balances and the ledger are keyed by account, not by person, and do not move. A split
(``persons.split``) moves nothing: the original person keeps every sign-up."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from core.extensions import db
from core.hookspecs import hookimpl
from plugins.points.models import PointsActivity, PointsRecord, PointsSignup

_S, _A = PointsSignup.__table__, PointsActivity.__table__


@hookimpl
def on_persons_merged(community, keep_id, other_id, actor):
    rows = db.session.execute(
        select(_S.c.id, _S.c.activity_id, _S.c.created_at, PointsRecord.id.label("record_id"))
        .outerjoin(PointsRecord, PointsRecord.signup_id == _S.c.id)
        .where(_S.c.person_id.in_((keep_id, other_id)))).all()
    by_activity = {}
    for r in rows:
        by_activity.setdefault(r.activity_id, []).append(r)
    removed, unlinked = [], []
    for pair in by_activity.values():
        if len(pair) < 2:
            continue
        kept = min(pair, key=lambda r: (r.record_id is None, r.created_at, r.id))
        for r in pair:
            if r.id != kept.id:
                (unlinked if r.record_id is not None else removed).append(r)
    if unlinked:
        db.session.execute(update(_S).where(_S.c.id.in_([r.id for r in unlinked])).values(person_id=None))
    if removed:
        db.session.execute(delete(_S).where(_S.c.id.in_([r.id for r in removed])))
        for r in removed:  # the place it held is free again
            db.session.execute(update(_A).where(_A.c.id == r.activity_id, _A.c.signups_count > 0)
                               .values(signups_count=_A.c.signups_count - 1))
    moved = db.session.execute(update(_S).where(_S.c.person_id == other_id).values(person_id=keep_id)).rowcount
    for obj in list(db.session.identity_map.values()):  # what the statements above changed
        if isinstance(obj, (PointsSignup, PointsActivity)):
            db.session.expire(obj)
    return {"module": "points", "moved": {_S.name: moved},
            "removed": {_S.name: len(removed)} if removed else {}}
