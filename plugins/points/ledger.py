"""The points ledger: double-entry, append-only, never negative (R25), lots spent oldest first (R27).

Every change of a balance goes through ``_transfer``, which

* changes the resident's balance with an UPDATE at once (a debit only ``WHERE balance >=
  amount``, backed by a CHECK constraint);
* changes the system account's balance (ISSUED, STORE, EXPIRED, ...) when the transaction
  commits (``settle``): every transfer of a community touches the same system row, and on
  PostgreSQL its row lock is held until the commit, so the shorter that tail, the more
  redemptions and payments can run side by side (issue 8). The system rows are updated in
  id order, after every resident row, so concurrent transfers lock rows in the same order;
* inserts one immutable transfer and its two entries (−amount, +amount).

Credits to a resident create an earning lot; debits consume lots oldest first, recorded in
``points_lot_use`` so a reversal can give back exactly what was taken. The functions here never
commit: the service that calls them owns the transaction.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import bindparam, event, func, insert, select, update
from sqlalchemy.orm.util import identity_key

from core.extensions import db
from core.models import utcnow
from core.db import insert_if_free, insert_row
from plugins.points.models import (PointsAccount, PointsCounter, PointsEntry, PointsItem, PointsLot, PointsLotUse,
                                   PointsRule, PointsTransfer)


class InsufficientPoints(Exception):
    """The resident's balance is smaller than the debit (nothing was changed by this call)."""


def dialect():
    return db.session.get_bind().dialect.name


def insert_ignore(model, **values) -> int:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL); returns the number of rows added."""
    # RETURNING tells reliably whether a row went in (rowcount is -1 with some drivers).
    return len(db.session.execute(insert_if_free(model.__table__, dialect()), values).all())


# ── accounts ─────────────────────────────────────────────────────────────────────────────
def find_account(community_id, user_id) -> PointsAccount | None:
    return db.session.execute(
        select(PointsAccount).where(PointsAccount.community_id == community_id,
                                    PointsAccount.key == f"user:{user_id}")).scalar_one_or_none()


def balance_of(community_id, user_id) -> int:
    value = db.session.execute(
        select(PointsAccount.balance).where(PointsAccount.community_id == community_id,
                                            PointsAccount.key == f"user:{user_id}")).scalar_one_or_none()
    return value or 0


def resident_account(community_id, user_id) -> PointsAccount:
    account = find_account(community_id, user_id)
    if account is None:
        insert_ignore(PointsAccount, community_id=community_id, key=f"user:{user_id}", kind="resident",
                      user_id=user_id, balance=0, created_at=utcnow())
        account = find_account(community_id, user_id)
    return account


def system_account(community_id, kind) -> PointsAccount:
    q = select(PointsAccount).where(PointsAccount.community_id == community_id, PointsAccount.key == kind)
    account = db.session.execute(q).scalar_one_or_none()
    if account is None:
        insert_ignore(PointsAccount, community_id=community_id, key=kind, kind=kind, user_id=None, balance=0,
                      created_at=utcnow())
        account = db.session.execute(q).scalar_one()
    return account


def lock_account(account_id):
    """Take the resident's row lock before reading their lots (FOR UPDATE on PostgreSQL; on SQLite
    the first write of a transaction takes the database's write lock)."""
    if dialect() == "postgresql":
        db.session.execute(select(PointsAccount.id).where(PointsAccount.id == account_id).with_for_update())
    else:
        db.session.execute(update(PointsAccount).where(PointsAccount.id == account_id)
                           .values(balance=PointsAccount.balance)
                           .execution_options(synchronize_session=False))


def _forget_balance(account_id):
    obj = db.session.identity_map.get(identity_key(PointsAccount, account_id))
    if obj is not None:
        db.session.expire(obj, ["balance"])


# The statements of every transfer, built once (a redemption is one of the hottest writes).
_A, _L = PointsAccount.__table__, PointsLot.__table__
_MOVE = update(_A).where(_A.c.id == bindparam("acct")).values(balance=_A.c.balance + bindparam("delta"))
_MOVE_GUARDED = _MOVE.where(_A.c.balance >= bindparam("need"))
_INSERT_ENTRIES = insert(PointsEntry.__table__)
_INSERT_LOT_USES = insert(PointsLotUse.__table__)
_LOTS_LEFT = (select(_L.c.id, _L.c.remaining).where(_L.c.account_id == bindparam("acct"), _L.c.remaining > 0)
              .order_by(_L.c.earned_at, _L.c.id))
_TAKE_FROM_LOT = (update(_L).where(_L.c.id == bindparam("lot"), _L.c.remaining >= bindparam("take"))
                  .values(remaining=_L.c.remaining - bindparam("take")))
# The usual debit: the oldest lot with points left covers it all (one statement, not two).
_TAKE_FROM_OLDEST = (update(_L).where(
    _L.c.id == select(_L.c.id).where(_L.c.account_id == bindparam("acct"), _L.c.remaining > 0)
    .order_by(_L.c.earned_at, _L.c.id).limit(1).scalar_subquery(),
    _L.c.remaining >= bindparam("take")).values(remaining=_L.c.remaining - bindparam("take")).returning(_L.c.id))
_ACCOUNTS_BY_KEY = select(_A.c.id, _A.c.key, _A.c.user_id).where(
    _A.c.community_id == bindparam("c"), _A.c.key.in_(bindparam("keys", expanding=True)))


PENDING = "points_system_moves"  # session.info: system account id -> delta to apply at commit


def _defer_system_move(account_id, delta):
    pending = db.session.info.setdefault(PENDING, {})
    pending[account_id] = pending.get(account_id, 0) + delta


def settle(session=None):
    """Apply the system accounts' pending balance moves (done by the commit; ``check`` calls it
    so that it sees them inside an open transaction)."""
    session = session if session is not None else db.session
    pending = session.info.pop(PENDING, None)
    for account_id in sorted(pending or ()):
        if pending[account_id]:
            session.execute(_MOVE, {"acct": account_id, "delta": pending[account_id]})
            obj = session.identity_map.get(identity_key(PointsAccount, account_id))
            if obj is not None:
                session.expire(obj, ["balance"])


@event.listens_for(db.session, "before_commit")
def _settle_before_commit(session):
    settle(session)


@event.listens_for(db.session, "after_rollback")
def _forget_pending(session):
    session.info.pop(PENDING, None)


def _move_balance(account_id, delta, guard) -> bool:
    if guard and delta < 0:
        result = db.session.execute(_MOVE_GUARDED, {"acct": account_id, "delta": delta, "need": -delta})
    else:
        result = db.session.execute(_MOVE, {"acct": account_id, "delta": delta})
    _forget_balance(account_id)
    return result.rowcount == 1


# ── transfers ────────────────────────────────────────────────────────────────────────────
def _transfer(community_id, kind, source, destination, amount, *, ref=None, rule_id=None, details=None,
              reason=None, reverses_id=None, actor_id=None) -> PointsTransfer:
    if not isinstance(amount, int) or amount <= 0:
        raise ValueError("a transfer moves a positive whole number of points")
    if source.id == destination.id:
        raise ValueError("a transfer needs two accounts")
    # Residents' rows first, by id (they can refuse: then nothing else was changed), then the
    # system accounts' moves, which wait for the commit.
    sides = sorted([(source, -amount), (destination, amount)], key=lambda s: (s[0].user_id is None, s[0].id))
    for account, delta in sides:
        if account.user_id is None:
            _defer_system_move(account.id, delta)
        elif not _move_balance(account.id, delta, guard=True):
            raise InsufficientPoints()
    transfer = insert_row(PointsTransfer, community_id=community_id, kind=kind, source_id=source.id,
                          destination_id=destination.id, amount=amount, ref=ref, rule_id=rule_id,
                          details=details or {}, reason=reason, reverses_id=reverses_id, actor_id=actor_id,
                          created_at=utcnow())
    # Both entries in one executemany: nothing reads their ids back (no RETURNING, no second INSERT).
    db.session.execute(_INSERT_ENTRIES, [
        {"transfer_id": transfer.id, "account_id": source.id, "amount": -amount, "created_at": transfer.created_at},
        {"transfer_id": transfer.id, "account_id": destination.id, "amount": amount,
         "created_at": transfer.created_at},
    ])
    return transfer


def _new_lot(account, transfer, amount, expires_at):
    return insert_row(PointsLot, account_id=account.id, transfer_id=transfer.id, amount=amount, remaining=amount,
                      earned_at=transfer.created_at, expires_at=expires_at)


def _consume(account_id, amount, transfer_id, first_lot_id=None):
    """Take ``amount`` from the account's lots, oldest first (the caller holds the account's lock)."""
    if first_lot_id is None:
        lot_id = db.session.execute(_TAKE_FROM_OLDEST, {"acct": account_id, "take": amount}).scalar()
        if lot_id is not None:
            _forget_lot(lot_id)
            db.session.execute(_INSERT_LOT_USES, [{"lot_id": lot_id, "transfer_id": transfer_id, "amount": amount}])
            return
    lots = db.session.execute(_LOTS_LEFT, {"acct": account_id}).all()
    if first_lot_id is not None:
        lots.sort(key=lambda lot: 0 if lot.id == first_lot_id else 1)
    left = amount
    uses = []
    for lot_id, remaining in lots:
        if left == 0:
            break
        take = min(left, remaining)
        if db.session.execute(_TAKE_FROM_LOT, {"lot": lot_id, "take": take}).rowcount != 1:
            raise RuntimeError("earning lot changed under a held account lock")
        _forget_lot(lot_id)
        uses.append({"lot_id": lot_id, "transfer_id": transfer_id, "amount": take})
        left -= take
    if left:
        raise RuntimeError("lots do not cover the balance")
    db.session.execute(_INSERT_LOT_USES, uses)


def _forget_lot(lot_id):
    loaded = db.session.identity_map.get(identity_key(PointsLot, lot_id))
    if loaded is not None:
        db.session.expire(loaded, ["remaining"])


def _give_back(original_transfer_id, new_transfer_id):
    """Return to each lot what ``original_transfer_id`` took from it."""
    rows = db.session.execute(
        select(PointsLotUse.lot_id, func.sum(PointsLotUse.amount))
        .where(PointsLotUse.transfer_id == original_transfer_id).group_by(PointsLotUse.lot_id)).all()
    for lot_id, amount in rows:
        if not amount:
            continue
        db.session.execute(update(PointsLot).where(PointsLot.id == lot_id)
                           .values(remaining=PointsLot.remaining + amount)
                           .execution_options(synchronize_session=False))
        lot = db.session.identity_map.get(identity_key(PointsLot, lot_id))
        if lot is not None:
            db.session.expire(lot, ["remaining"])
        db.session.add(PointsLotUse(lot_id=lot_id, transfer_id=new_transfer_id, amount=-amount))
    db.session.flush()


# ── what services call ───────────────────────────────────────────────────────────────────
def credit(community_id, user_id, amount, *, kind="earn", source_kind="ISSUED", expires_at=None, **kw):
    """Pay ``amount`` points to a resident from a system account, as a new earning lot that
    expires at ``expires_at`` (None: never; the service decides by the community's rule)."""
    account = resident_account(community_id, user_id)
    source = system_account(community_id, source_kind)
    transfer = _transfer(community_id, kind, source, account, amount, **kw)
    _new_lot(account, transfer, amount, expires_at)
    return transfer


def debit(community_id, user_id, amount, *, kind="redeem", destination_kind="STORE", first_lot_id=None, **kw):
    """Take ``amount`` points from a resident (oldest lots first); InsufficientPoints if short."""
    # The resident's account and the destination in one query.
    key = f"user:{user_id}"
    found = {a.key: a for a in db.session.execute(_ACCOUNTS_BY_KEY, {"c": community_id,
                                                                     "keys": [key, destination_kind]})}
    account = found.get(key)
    if account is None:
        raise InsufficientPoints()
    destination = found.get(destination_kind) or system_account(community_id, destination_kind)
    transfer = _transfer(community_id, kind, account, destination, amount, **kw)
    _consume(account.id, amount, transfer.id, first_lot_id=first_lot_id)
    return transfer


def reverse(original: PointsTransfer, *, kind="reversal", expires_at=None, **kw) -> PointsTransfer:
    """A transfer in the opposite direction; each transfer is reversed at most once (UNIQUE)."""
    source, destination = original.destination, original.source
    if destination.user_id is not None:  # the original took from a resident: give it back
        transfer = _transfer(original.community_id, kind, source, destination, original.amount,
                             reverses_id=original.id, **kw)
        if original.kind == "expire":  # expired lots would only expire again: a fresh lot
            _new_lot(destination, transfer, original.amount, expires_at)
        else:
            _give_back(original.id, transfer.id)
        return transfer
    # the original paid a resident: take it back, from the lot it created first
    transfer = _transfer(original.community_id, kind, source, destination, original.amount,
                         reverses_id=original.id, **kw)
    lot_id = db.session.execute(select(PointsLot.id).where(PointsLot.transfer_id == original.id)).scalar()
    _consume(source.id, original.amount, transfer.id, first_lot_id=lot_id)
    return transfer


def expire_lot(lot_id, now=None) -> PointsTransfer | None:
    """Expire what is left of one lot (safe to repeat: a lot with nothing left is skipped)."""
    now = now or utcnow()
    account_id = db.session.execute(select(PointsLot.account_id).where(PointsLot.id == lot_id)).scalar_one()
    lock_account(account_id)
    lot = db.session.execute(select(PointsLot).where(PointsLot.id == lot_id)
                             .execution_options(populate_existing=True)).scalar_one()
    if lot.remaining <= 0 or lot.expires_at is None or lot.expires_at > now:
        return None
    account = db.session.get(PointsAccount, account_id)
    destination = system_account(account.community_id, "EXPIRED")
    amount = lot.remaining
    transfer = _transfer(account.community_id, "expire", account, destination, amount,
                         details={"lot_id": lot.id, "earned_at": lot.earned_at.isoformat()})
    _consume(account.id, amount, transfer.id, first_lot_id=lot.id)
    # _consume took from this lot first; it had exactly ``amount`` left, so nothing else moved.
    return transfer


def due_lots(now=None, community_id=None):
    now = now or utcnow()
    q = select(PointsLot.id).where(PointsLot.remaining > 0, PointsLot.expires_at.isnot(None),
                                   PointsLot.expires_at <= now)
    if community_id is not None:
        q = q.join(PointsAccount, PointsAccount.id == PointsLot.account_id).where(
            PointsAccount.community_id == community_id)
    return db.session.execute(q.order_by(PointsLot.expires_at, PointsLot.id)).scalars().all()


# ── counters (limits and caps) ───────────────────────────────────────────────────────────
def _counter(community_id, key):
    q = select(PointsCounter.used).where(PointsCounter.community_id == community_id, PointsCounter.key == key)
    used = db.session.execute(q).scalar_one_or_none()
    if used is None:
        insert_ignore(PointsCounter, community_id=community_id, key=key, used=0)
        used = db.session.execute(q).scalar_one()
    return used


def bump(community_id, key, amount, limit) -> bool:
    """Add ``amount`` to a counter only if it stays within ``limit`` (one conditional UPDATE)."""
    _counter(community_id, key)
    stmt = update(PointsCounter).where(PointsCounter.community_id == community_id, PointsCounter.key == key)
    if limit is not None:
        stmt = stmt.where(PointsCounter.used + amount <= limit)
    return db.session.execute(stmt.values(used=PointsCounter.used + amount)
                              .execution_options(synchronize_session=False)).rowcount == 1


def grant_within(community_id, key, wanted, limit) -> int:
    """Add up to ``wanted`` to a counter without passing ``limit``; returns what was granted."""
    for _attempt in range(20):
        used = _counter(community_id, key)
        grant = min(wanted, limit - used)
        if grant <= 0:
            return 0
        result = db.session.execute(
            update(PointsCounter).where(PointsCounter.community_id == community_id, PointsCounter.key == key,
                                        PointsCounter.used == used)
            .values(used=used + grant).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            return grant
    return 0


def release(community_id, key, amount):
    db.session.execute(update(PointsCounter).where(PointsCounter.community_id == community_id,
                                                   PointsCounter.key == key, PointsCounter.used >= amount)
                       .values(used=PointsCounter.used - amount).execution_options(synchronize_session=False))


# ── the store's stock and the earning rules: hot statements of the services ──────────────
_I, _R = PointsItem.__table__, PointsRule.__table__
_TAKE_STOCK = (update(_I).where(_I.c.id == bindparam("item"), _I.c.stock >= bindparam("n"), _I.c.withdrawn_at.is_(None))
               .values(stock=_I.c.stock - bindparam("n")))
# Every event of every module asks it, inside the emitter's transaction.
_ACTIVE_RULE = select(_R.c.id, _R.c.points, _R.c.daily_cap, _R.c.monthly_cap).where(
    _R.c.community_id == bindparam("c"), _R.c.event_name == bindparam("e"), _R.c.active.is_(True))


def take_stock(item_id, quantity) -> bool:
    """Take ``quantity`` off an item's stock if it has that many and is not withdrawn (one
    conditional UPDATE: concurrent redemptions never oversell); False if it has not."""
    if db.session.execute(_TAKE_STOCK, {"item": item_id, "n": quantity}).rowcount != 1:
        return False
    loaded = db.session.identity_map.get(identity_key(PointsItem, item_id))
    if loaded is not None:
        db.session.expire(loaded, ["stock"])
    return True


def active_rule(community_id, event_name):
    """(id, points, daily_cap, monthly_cap) of the community's active earning rule for the event, or None."""
    return db.session.execute(_ACTIVE_RULE, {"c": community_id, "e": event_name}).first()


# ── invariants (tests, `linli points check`) ─────────────────────────────────────────────
def check(community_id=None) -> list[str]:
    """Problems with the ledger's invariants; an empty list means all is well."""
    settle()
    problems = []
    tq = select(PointsEntry.transfer_id, func.sum(PointsEntry.amount), func.count()).group_by(PointsEntry.transfer_id)
    aq = select(PointsAccount)
    if community_id is not None:
        tq = tq.join(PointsTransfer, PointsTransfer.id == PointsEntry.transfer_id).where(
            PointsTransfer.community_id == community_id)
        aq = aq.where(PointsAccount.community_id == community_id)
    for tid, total, n in db.session.execute(tq):
        if total != 0 or n != 2:
            problems.append(f"transfer {tid}: {n} entries summing to {total}")
    sums = dict(db.session.execute(select(PointsEntry.account_id, func.sum(PointsEntry.amount))
                                   .group_by(PointsEntry.account_id)).all())
    lots = dict(db.session.execute(select(PointsLot.account_id, func.sum(PointsLot.remaining))
                                   .group_by(PointsLot.account_id)).all())
    for account in db.session.execute(aq.execution_options(populate_existing=True)).scalars():
        if account.balance != (sums.get(account.id) or 0):
            problems.append(f"account {account.key}: balance {account.balance} != entries {sums.get(account.id)}")
        if account.user_id is not None:
            if account.balance < 0:
                problems.append(f"account {account.key}: negative balance {account.balance}")
            if (lots.get(account.id) or 0) != account.balance:
                problems.append(f"account {account.key}: lots {lots.get(account.id)} != balance {account.balance}")
    uses = dict(db.session.execute(select(PointsLotUse.lot_id, func.sum(PointsLotUse.amount))
                                   .group_by(PointsLotUse.lot_id)).all())
    for lot in db.session.execute(select(PointsLot).execution_options(populate_existing=True)).scalars():
        if lot.remaining != lot.amount - (uses.get(lot.id) or 0):
            problems.append(f"lot {lot.id}: remaining {lot.remaining} != amount − uses")
    return problems


def to_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
