"""Merging two people on the register (R5) loses nothing: every table with a foreign key to
``person.id`` is handled by its owner's merge — the core's, or the module's ``on_persons_merged``
— and labelled for the audit log. A new table with a person key and no merge fails here."""
import pytest

from core.extensions import db
from core.models import HouseholdMember
from core.services import persons
from tests.conftest import INSTALLED
from tests.contract.test_plugin_contract import CORE_TABLES


def person_tables(owner):
    """Tables of ``owner`` (the core, or a plugin by its prefix) with a foreign key to person.id."""
    out = set()
    for table in db.metadata.sorted_tables:
        mine = table.name in CORE_TABLES if owner == "core" else table.name.startswith(f"{owner}_")
        if mine and table.name != "person" and any(fk.column.table.name == "person" for fk in table.foreign_keys):
            out.add(table.name)
    return out


def two_people(world):
    a, b = (HouseholdMember(household_id=h.id, name="钱阿姨", relation="owner") for h in world.households[:2])
    db.session.add_all([a, b])
    db.session.flush()
    return a.person, b.person


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.plugins(n)) for n in INSTALLED])
def test_every_plugin_table_with_a_person_key_is_merged(name, app, world):
    tables = person_tables(name)
    registry = app.extensions["linli.plugins"]
    keep, other = two_people(world)
    answers = registry.hooks_for_plugin(name).on_persons_merged(
        community=world.community, keep_id=keep.id, other_id=other.id, actor=world.staff)
    db.session.rollback()
    if not tables and not answers:
        return
    assert answers, f"{name}: {sorted(tables)} keep a person, but {name} does not implement on_persons_merged"
    [answer] = answers
    assert answer["module"] == name
    missing = tables - set(answer["moved"])
    assert not missing, f"{name}: on_persons_merged does not move the rows of {sorted(missing)}"
    for table in set(answer["moved"]) | set(answer.get("removed") or {}):
        assert table in registry.audit_fields, f"{name}: no AuditField label for {table}"


def test_every_core_table_with_a_person_key_is_merged(app, world):
    registry = app.extensions["linli.plugins"]
    keep, other = two_people(world)
    summary = persons._merge_into(keep, other, world.staff)
    db.session.rollback()
    missing = person_tables("core") - set(summary["moved"])
    assert not missing, f"persons._merge_into does not move the rows of {sorted(missing)}"
    for table in set(summary["moved"]) | set(summary["removed"]):
        assert table in registry.audit_fields, f"no AuditField label for {table}"
