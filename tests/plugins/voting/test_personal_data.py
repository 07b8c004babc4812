"""Voting's personal data: the copy lists the person's roll entries; erasure keeps every roll
entry's weight and every counted ballot, with the name replaced by the anonymous id."""
import pytest
from sqlalchemy import func

from core.extensions import db
from core.services import personal_data

pytestmark = pytest.mark.plugins("voting")


def test_roll_entries_exported_then_anonymised(world, voting_proposal):
    from plugins.voting.models import Entry, Voter

    [section] = personal_data.export(world.resident)["communities"]
    entries = section["modules"]["voting"]["electorate_entries"]
    assert entries and {e["name_on_roll"] for e in entries} == {"居民甲"}
    assert "居民乙" not in str(section["modules"])  # another voter on the same roll
    weights = db.session.query(func.count(Voter.id), func.sum(Voter.heads), func.sum(Voter.area)).one()
    counted = Entry.query.count()
    summary = personal_data.erase(world.resident, world.staff, "书面申请")
    assert summary["modules"]["voting"]["roll_entries"] == len(entries)
    label = summary["anonymous_id"]
    assert {v.name for v in Voter.query.filter_by(user_id=world.resident.id)} == {label}
    assert Voter.query.filter_by(name="居民乙").count() == len(entries)  # others untouched
    assert db.session.query(func.count(Voter.id), func.sum(Voter.heads), func.sum(Voter.area)).one() == weights
    assert Entry.query.count() == counted
    assert personal_data.erase(world.resident, world.staff, "again")["changed"] == 0
