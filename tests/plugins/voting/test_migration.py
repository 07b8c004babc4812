"""The migration to the three paper rules keeps old values readable: a community's setting and a
ballot in preparation that said "latest" now say "paper_wins"; a ballot already opened keeps the
rule frozen in its manifest; existing entries are not set aside. SQLite and PostgreSQL."""
import json
from datetime import datetime

import sqlalchemy as sa

from core import create_app
from core.extensions import alembic, db
from tests.core.test_migrations import fresh_database

BEFORE = "1795310000"  # notices and proxies, before the paper rules
T = datetime(2026, 11, 5, 3, 0)


def _insert(table, **values):
    cols = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    return db.session.execute(sa.text(f"INSERT INTO {table} ({cols}) VALUES ({params}) RETURNING id"), values).scalar()


def _ballot(community, state, rule):
    return _insert("voting_ballot", community_id=community, title=f"{state} {rule}", description="", method="majority",
                   rule="simple", unit="person", quorum="none", secret=False, scope="community", paper_rule=rule,
                   spoiled_participates=True, state=state, opens_at=T, closes_at=T, created_at=T, heads_total=0,
                   area_total=0, entries_count=0, voted_count=0, temporary=False,
                   manifest=json.dumps({"paper_rule": rule}) if state != "draft" else None)


def test_old_paper_rules_are_read_and_renamed_where_they_can_still_change(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_database(tmp_path, "voting_paper"),
                      "SECRET_KEY": "t"}, plugins=["voting"])
    with app.app_context():
        alembic.upgrade("default@head")
        alembic.upgrade(BEFORE)
        from core.services import structure

        old = structure.create_community("old", "老社区")
        kept = structure.create_community("kept", "另一社区")
        db.session.commit()
        for community, rule in ((old.id, "latest"), (kept.id, "refuse")):
            db.session.execute(sa.text("INSERT INTO community_setting (community_id, module, key, value) "
                                       "VALUES (:c, 'voting', 'paper_rule', :v)"), {"c": community, "v": f'"{rule}"'})
        draft = _ballot(old.id, "draft", "latest")
        opened = _ballot(old.id, "open", "latest")
        closed = _ballot(old.id, "closed", "latest")
        other = _ballot(old.id, "draft", "refuse")
        _insert("voting_entry", ballot_id=opened, seq=1, voter_tag="V1", heads=1, area=0, source="online", counted=True,
                at=T.isoformat(), prev_hash="0" * 64, hash="1" * 64, receipt="1" * 10, created_at=T)
        db.session.commit()
        alembic.upgrade()
        settings = dict(db.session.execute(sa.text(
            "SELECT community_id, CAST(value AS TEXT) FROM community_setting WHERE key = 'paper_rule'")).all())
        assert {k: json.loads(v) for k, v in settings.items()} == {old.id: "paper_wins", kept.id: "refuse"}
        rules = dict(db.session.execute(sa.text("SELECT id, paper_rule FROM voting_ballot")).all())
        assert rules == {draft: "paper_wins", opened: "latest", closed: "latest", other: "refuse"}
        assert db.session.execute(sa.text("SELECT set_aside FROM voting_entry")).scalar() in (False, 0)
        # The setting reads as a value the settings form offers.
        from core.services import settings as settings_svc

        assert settings_svc.get(db.session.get(type(old), old.id), "voting", "paper_rule") == "paper_wins"
        db.session.commit()
        alembic.downgrade(BEFORE)
        assert dict(db.session.execute(sa.text("SELECT id, paper_rule FROM voting_ballot")).all())[draft] == "latest"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
