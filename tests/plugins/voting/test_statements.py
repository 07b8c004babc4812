"""How many SQL statements a vote costs (a vote is the hottest write: docs/performance.md). The
figures are those of the code before the storage moved to plugins/voting/store.py (issue 21): a
change that adds a statement to a vote fails here."""
import pytest
from sqlalchemy import event

from core.db import transaction
from core.extensions import db
from plugins.voting import services
from plugins.voting.models import Ballot

pytestmark = pytest.mark.plugins("voting")


class Counter:
    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)


def counted(fn):
    engine = db.engine
    counter = Counter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.statements


def _vote(ballot, user, choice):
    with transaction():
        services.cast(ballot, user, choice)


def test_a_vote_costs_no_more_statements_than_before(world, voting_proposal):
    b = Ballot.query.filter_by(proposal_id=voting_proposal.id).one()
    db.session.commit()
    first = counted(lambda: _vote(b, world.resident, "yes"))
    db.session.expire_all()
    b = db.session.get(Ballot, b.id)
    changed = counted(lambda: _vote(b, world.resident, "no"))
    dialect = db.engine.dialect.name
    # A first vote and a changed vote, with the statements the session needs to load what it reads.
    limits = {"sqlite": (FIRST_SQLITE, CHANGED_SQLITE), "postgresql": (FIRST_PG, CHANGED_PG)}[dialect]
    assert len(first) <= limits[0] and len(changed) <= limits[1], (first, changed)


# Measured before the move (content_version's mark included).
FIRST_SQLITE, CHANGED_SQLITE, FIRST_PG, CHANGED_PG = 11, 10, 9, 9
