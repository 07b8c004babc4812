"""Upgrading an existing database keeps every row. On SQLite a batch migration copies a table and
drops the old one: with foreign keys on, that DROP deleted every row referring to the table (ON
DELETE CASCADE). The voting migration 1795310000 rebuilds ``voting_ballot``: a ballot's options
must survive it."""
from datetime import datetime

import sqlalchemy as sa

from core import create_app
from core.extensions import alembic, db
from tests.core.test_migrations import fresh_database

FIRST_VOTING = "1795303624"
T = datetime(2026, 1, 5, 3, 0)


def test_upgrading_a_database_with_ballots_keeps_their_options(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "IDENTITY_HASH_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": fresh_database(tmp_path, "keeps_rows")}, plugins=["voting"])
    with app.app_context():
        alembic.upgrade("default@head")
        alembic.upgrade(FIRST_VOTING)
        from core.services import structure

        community = structure.create_community("old", "老社区")
        db.session.commit()
        ballot = db.session.execute(sa.text(
            "INSERT INTO voting_ballot (community_id, title, description, method, rule, unit, quorum, secret, scope,"
            " paper_rule, spoiled_participates, state, opens_at, closes_at, created_at, heads_total, area_total,"
            " entries_count, voted_count) VALUES (:c, '更换门禁', '', 'majority', 'simple', 'person', 'none', false,"
            " 'community', 'refuse', false, 'closed', :t, :t, :t, 0, 0, 0, 0) RETURNING id"),
            {"c": community.id, "t": T}).scalar()
        for position, label in enumerate(("同意", "反对", "弃权")):
            db.session.execute(sa.text("INSERT INTO voting_option (ballot_id, position, label) VALUES (:b, :p, :l)"),
                               {"b": ballot, "p": position, "l": label})
        db.session.commit()
        db.session.remove()
        alembic.upgrade()
        options = db.session.execute(sa.text("SELECT label FROM voting_option WHERE ballot_id = :b ORDER BY position"),
                                     {"b": ballot}).scalars().all()
        assert options == ["同意", "反对", "弃权"]
        db.session.remove()
        db.engine.dispose()
