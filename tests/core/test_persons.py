"""People on the register (R5): one person whatever entries and account point to them; merge,
split, different people, possible duplicates; identity documents kept only as a keyed hash;
the import links rows by document, never by name; the migration; `linli init`'s key."""
import html
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import (AuditEntry, Household, HouseholdMember, ImportBatch, Membership, Person, PersonDistinct,
                         User)
from core.services import accounts, imports, persons
from tests.conftest import PASSWORD

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(first17):
    """A resident ID number with its GB 11643 check character."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


ID_A = resident_id("11010519491231002")
ID_B = resident_id("44030419800101123")


def page(r):
    return html.unescape(r.get_data(as_text=True))


def room(world, name, area="80.00"):
    h = Household(community_id=world.community.id, unit_id=world.unit.id, room=name, floor_area=Decimal(area))
    db.session.add(h)
    db.session.flush()
    return h


def entry(household, name, phone=None, relation="owner", person=None, **kw):
    m = HouseholdMember(household_id=household.id, name=name, phone=phone, relation=relation,
                        person_id=person.id if person else None, **kw)
    db.session.add(m)
    db.session.flush()
    return m


def member_of(world, user):
    return Membership.query.filter_by(user_id=user.id, community_id=world.community.id).one()


def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# ── who is one person ────────────────────────────────────────────────────────────────────
def test_every_entry_has_a_person_and_same_names_are_never_merged(world):
    a, b = room(world, "501"), room(world, "502")
    one, two = entry(a, "王伟"), entry(b, "王伟")  # no phone, no account: two owners of one common name
    db.session.commit()
    assert one.person_id and two.person_id and one.person_id != two.person_id
    # An entry with an account is that account's person.
    assert {m.person_id for m in HouseholdMember.query.filter_by(user_id=world.resident.id)} == \
        {persons.of_user(world.community, world.resident.id).id}


def test_verifying_an_account_through_one_entry_makes_every_entry_of_the_person_the_accounts(world):
    a, b = room(world, "501"), room(world, "502")
    first = entry(a, "张三", phone="13911112222")
    second = entry(b, "张三", phone="13911112222")
    db.session.commit()
    persons.merge(world.community, first.person, second.person, world.staff)  # staff checked: one owner
    user = accounts.create_user("13911112222", PASSWORD, "张三")  # signed up with the phone on the register
    m = Membership(user_id=user.id, community_id=world.community.id)
    db.session.add(m)
    db.session.commit()
    accounts.verify_resident(m, b, "owner", world.staff, reason="核对房产证")  # through the second flat
    db.session.expire_all()
    person = persons.of_user(world.community, user.id)
    assert sorted(e.household_id for e in person.members) == sorted([a.id, b.id])
    assert {e.user_id for e in person.members} == {user.id}
    # Verified again through a third household: still one person, now with three entries.
    c = room(world, "503")
    db.session.commit()
    accounts.verify_resident(m, c, "resident", world.staff, reason="搬入")
    db.session.expire_all()
    assert Person.query.filter_by(user_id=user.id).count() == 1 and len(persons.of_user(world.community,
                                                                                       user.id).members) == 3
    # Ending the verification leaves the person, without the account.
    accounts.unverify(member_of(world, user), world.staff, "搬走")
    db.session.expire_all()
    assert persons.of_user(world.community, user.id) is None
    assert db.session.get(Person, person.id) is not None and len(db.session.get(Person, person.id).members) == 3


def test_verifying_an_account_that_has_a_person_joins_the_entrys_person_to_it(world):
    a = room(world, "501")
    loose = entry(a, "居民甲", phone="13800000000")
    db.session.commit()
    world.resident.phone = "13800000000"
    db.session.commit()
    before = persons.of_user(world.community, world.resident.id)
    accounts.verify_resident(member_of(world, world.resident), a, "owner", world.staff, reason="第二套房")
    db.session.expire_all()
    assert db.session.get(HouseholdMember, loose.id).person_id == before.id
    assert Person.query.filter_by(community_id=world.community.id, user_id=world.resident.id).count() == 1


def test_possible_duplicates_until_staff_say_they_are_different_people(world):
    a, b, c = room(world, "501"), room(world, "502"), room(world, "503")
    one, two = entry(a, "王伟"), entry(b, "王 伟", phone="13900000001")  # spaces do not tell people apart
    entry(c, "李娜")
    db.session.commit()
    [group] = persons.possible_duplicates(world.community)
    assert group["ids"] == sorted([one.person_id, two.person_id]) and not group["same_phone"]
    persons.mark_distinct(world.community, [one.person, two.person], world.staff)
    assert persons.possible_duplicates(world.community) == []
    assert AuditEntry.query.filter_by(action="person.distinct").count() == 1
    # A third 王伟 is a new question: only the pairs with the newcomer are open.
    third = entry(c, "王伟")
    db.session.commit()
    [group] = persons.possible_duplicates(world.community)
    assert third.person_id in group["ids"] and len(group["pairs"]) == 2
    # Narrowed to the owners of some units (an owners' ballot's scope).
    assert persons.possible_duplicates(world.community, households={a.id}, owners_only=True) == []


def test_two_accounts_or_two_documents_tell_people_apart(world):
    a, b = room(world, "501"), room(world, "502")
    one, two = entry(a, "王伟"), entry(b, "王伟")
    db.session.commit()
    persons.set_identity(world.community, one.person, world.staff, "resident_id", ID_A)
    assert len(persons.possible_duplicates(world.community)) == 1  # one document only: still possible
    persons.set_identity(world.community, two.person, world.staff, "resident_id", ID_B)
    assert persons.possible_duplicates(world.community) == []
    before = (HouseholdMember.query.filter_by(id=two.id).one().person_id, Person.query.count())
    with pytest.raises(Exception) as err:
        persons.merge(world.community, one.person, two.person, world.staff)
    assert err.value.code == "two_documents"
    assert (HouseholdMember.query.filter_by(id=two.id).one().person_id, Person.query.count()) == before


def test_merge_and_split_are_explicit_and_audited(world):
    a, b = room(world, "501"), room(world, "502")
    one, two = entry(a, "赵老伯"), entry(b, "赵老伯")
    db.session.commit()
    persons.set_identity(world.community, two.person, world.staff, "resident_id", ID_A)
    kept = persons.merge(world.community, one.person, two.person, world.staff, reason="身份证核对")
    assert sorted(m.id for m in kept.members) == sorted([one.id, two.id]) and kept.id_last4 == ID_A[-4:]
    assert Person.query.filter_by(community_id=world.community.id).count() == 1 + 4  # 4 verified residents
    assert AuditEntry.query.filter_by(action="person.merged").one().reason == "身份证核对"
    # Split the second flat off again: a person of its own, no document, and not a duplicate.
    new = persons.split(world.community, db.session.get(HouseholdMember, two.id), world.staff)
    assert [m.id for m in new.members] == [two.id] and new.id_hash is None
    assert persons.possible_duplicates(world.community) == []
    with pytest.raises(Exception) as err:
        persons.split(world.community, db.session.get(HouseholdMember, two.id), world.staff)
    assert err.value.code == "already_alone"


def test_the_entry_an_account_was_verified_through_stays_with_it(world):
    first = HouseholdMember.query.filter_by(user_id=world.resident.id).one()
    other = entry(room(world, "501"), "居民甲", person=first.person)
    db.session.commit()
    with pytest.raises(Exception) as err:
        persons.split(world.community, db.session.get(HouseholdMember, first.id), world.staff)
    assert err.value.code == "verified_entry"
    new = persons.split(world.community, db.session.get(HouseholdMember, other.id), world.staff)
    assert new.user_id is None and db.session.get(HouseholdMember, other.id).user_id is None


def test_two_accounts_are_two_people(world):
    with pytest.raises(Exception) as err:
        persons.merge(world.community, persons.of_user(world.community, world.resident.id),
                      persons.of_user(world.community, world.resident2.id), world.staff)
    assert err.value.code == "two_accounts"


def test_one_account_one_person_and_one_document_one_person_by_the_database(world):
    p = Person(community_id=world.community.id, user_id=world.resident.id)
    db.session.add(p)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    digest = persons.document_hash(world.community, "resident_id", ID_A)
    db.session.add_all([Person(community_id=world.community.id, id_type="resident_id", id_hash=digest, id_last4="0000"),
                        Person(community_id=world.community.id, id_type="resident_id", id_hash=digest, id_last4="0000")])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# ── identity documents ───────────────────────────────────────────────────────────────────
def test_a_document_is_kept_only_as_a_keyed_hash_and_its_last_four(world, app):
    p = persons.of_user(world.community, world.resident.id)
    persons.set_identity(world.community, p, world.staff, "resident_id", ID_A.lower())
    row = db.session.execute(text("SELECT * FROM person WHERE id = :i"), {"i": p.id}).mappings().one()
    assert ID_A not in json.dumps({k: str(v) for k, v in row.items()})
    assert row["id_last4"] == ID_A[-4:] and row["id_type"] == "resident_id" and len(row["id_hash"]) == 64
    audit = AuditEntry.query.filter_by(action="person.identity_set").one()
    assert ID_A not in json.dumps(audit.after) and row["id_hash"] not in json.dumps(audit.after)
    # Keyed with its own key, not the session secret: rotating SECRET_KEY keeps it; another key does not.
    app.config["SECRET_KEY"] = "rotated"
    assert persons.document_hash(world.community, "resident_id", ID_A) == row["id_hash"]
    assert persons.document_hash(world.other, "resident_id", ID_A) != row["id_hash"]  # bound to the community
    app.config["IDENTITY_HASH_KEY"] = "another"
    assert persons.document_hash(world.community, "resident_id", ID_A) != row["id_hash"]


def test_bad_or_taken_documents_are_refused_and_nothing_is_saved(world, app):
    p = persons.of_user(world.community, world.resident.id)
    q = persons.of_user(world.community, world.resident2.id)
    persons.set_identity(world.community, p, world.staff, "resident_id", ID_A)
    for id_type, number, code in (("resident_id", ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1"), "invalid_id_number"),
                                  ("resident_id", "1234", "invalid_id_number"), ("nonsense", ID_B, "invalid_id_type"),
                                  ("resident_id", ID_A, "document_in_use")):
        with pytest.raises(Exception) as err:
            persons.set_identity(world.community, q, world.staff, id_type, number)
        assert err.value.code == code
        db.session.expire_all()
        assert db.session.get(Person, q.id).id_hash is None
    app.config["IDENTITY_HASH_KEY"] = None
    with pytest.raises(Exception) as err:
        persons.set_identity(world.community, q, world.staff, "passport", "E12345678")
    assert err.value.code == "identity_key_missing" and err.value.status == 503
    db.session.expire_all()
    assert db.session.get(Person, q.id).id_hash is None
    assert AuditEntry.query.filter_by(action="person.identity_set").count() == 1


def test_personal_data_copy_shows_the_document_masked_and_erasure_removes_it(world):
    from core.services import personal_data

    p = persons.of_user(world.community, world.resident.id)
    persons.set_identity(world.community, p, world.staff, "resident_id", ID_A)
    [section] = personal_data.export(world.resident)["communities"]
    assert section["register_person"] == [{"number": p.id, "identity_document": {"type": "resident_id",
                                                                                  "last4": ID_A[-4:]},
                                           "birth_date": None}]
    assert ID_A not in json.dumps(section)
    summary = personal_data.erase(world.resident, world.staff, "书面申请")
    assert summary["core"]["identity_documents"] == 1
    db.session.expire_all()
    p = db.session.get(Person, p.id)
    assert p.id_hash is None and p.id_last4 is None and len(p.members) == 1  # still one entry, one head


# ── pages ────────────────────────────────────────────────────────────────────────────────
def test_staff_record_a_document_on_the_person_page_which_says_why(world, login):
    p = persons.of_user(world.community, world.resident.id)
    c = en(login(world.staff))
    text = page(c.get(f"/c/test/structure/people/{p.id}"))
    assert "Giving it is voluntary" in text and "The number is not stored" in text
    r = c.post(f"/c/test/structure/people/{p.id}", data={"form": "identity", "id-id_type": "resident_id",
                                                        "id-id_number": ID_A[:-1] + "Z"})
    assert "This is not a valid number" in page(r)
    assert db.session.get(Person, p.id).id_hash is None
    r = c.post(f"/c/test/structure/people/{p.id}", data={"form": "identity", "id-id_type": "resident_id",
                                                        "id-id_number": ID_A}, follow_redirects=True)
    text = page(r)
    assert ID_A[-4:] in text and ID_A[:10] not in text
    # The household page leads to the person.
    assert f"/c/test/structure/people/{p.id}" in page(c.get(f"/c/test/structure/households/{world.households[0].id}"))
    for user in (world.resident, world.grid_worker, world.building_head):
        assert login(user).get(f"/c/test/structure/people/{p.id}").status_code == 403
        assert login(user).get("/c/test/structure/people/duplicates").status_code == 403
    assert c.get(f"/c/test/structure/people/{p.id + 1000}").status_code == 404


def test_staff_resolve_possible_duplicates_on_their_page(world, login):
    a, b, c_ = room(world, "501"), room(world, "502"), room(world, "503")
    one, two = entry(a, "王伟"), entry(b, "王伟")
    x, y = entry(a, "张伟", phone="13900000009"), entry(c_, "张伟", phone="13900000009")
    db.session.commit()
    c = en(login(world.staff))
    text = page(c.get("/c/test/structure/people/duplicates"))
    assert "王伟" in text and "张伟" in text and "Same phone number" in text
    r = c.post("/c/test/structure/people/duplicates", data={"action": "distinct",
                                                            "person_id": [one.person_id, two.person_id]},
               follow_redirects=True)
    assert "they are different people" in page(r) and "王伟" not in page(r).split("<h1")[1]
    r = c.post("/c/test/structure/people/duplicates", data={"action": "merge",
                                                            "person_id": [x.person_id, y.person_id]},
               follow_redirects=True)
    assert "No possible duplicates" in page(r)
    db.session.expire_all()
    assert db.session.get(HouseholdMember, x.id).person_id == db.session.get(HouseholdMember, y.id).person_id
    # Someone else's community's people are not touched.
    other = Person(community_id=world.other.id)
    db.session.add(other)
    db.session.commit()
    assert c.post("/c/test/structure/people/duplicates", data={"action": "merge",
                                                               "person_id": [one.person_id, other.id]}).status_code == 400


def test_merge_and_split_on_the_person_page(world, login):
    a, b = room(world, "501"), room(world, "502")
    one, two = entry(a, "赵老伯"), entry(b, "赵老伯")
    db.session.commit()
    c = en(login(world.staff))
    text = page(c.get(f"/c/test/structure/people/{one.person_id}"))
    assert "502" in text  # the other 赵老伯 is offered
    r = c.post(f"/c/test/structure/people/{one.person_id}", data={"form": "merge", "merge-other_id": two.person_id},
               follow_redirects=True)
    assert "Merged" in page(r)
    db.session.expire_all()
    assert db.session.get(HouseholdMember, two.id).person_id == one.person_id
    r = c.post(f"/c/test/structure/people/{one.person_id}", data={"form": "split", "member_id": two.id},
               follow_redirects=True)
    assert "a person of its own" in page(r)
    db.session.expire_all()
    assert db.session.get(HouseholdMember, two.id).person_id != one.person_id


# ── API ──────────────────────────────────────────────────────────────────────────────────
def test_persons_api(world, api):
    a, b = room(world, "501"), room(world, "502")
    one, two = entry(a, "王伟"), entry(b, "王伟")
    db.session.commit()
    staff = api(world.staff)
    base = "/api/v1/c/test/persons"
    r = staff.get(f"{base}/duplicates")
    assert r.status_code == 200 and r.get_json()["items"][0]["name"] == "王伟"
    r = staff.put(f"{base}/{one.person_id}/identity", json={"id_type": "resident_id", "id_number": ID_A})
    assert r.status_code == 200 and r.get_json()["identity_document"] == {"type": "resident_id", "last4": ID_A[-4:]}
    assert ID_A not in r.get_data(as_text=True)
    r = staff.put(f"{base}/{two.person_id}/identity", json={"id_type": "resident_id", "id_number": ID_A})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "document_in_use"
    r = staff.put(f"{base}/{two.person_id}/identity", json={"id_type": "resident_id", "id_number": "123"})
    assert r.status_code == 400 and "id_number" in r.get_json()["error"]["fields"]
    two_was = two.person_id  # read before the merge: afterwards the entry is the kept person's
    r = staff.post(f"{base}/{one.person_id}/merge", json={"other_id": two_was, "reason": "核对"})
    assert r.status_code == 200 and len(r.get_json()["entries"]) == 2
    assert staff.get(f"{base}/{two_was}").status_code == 404
    r = staff.post(f"{base}/{one.person_id}/split", json={"member_id": two.id})
    assert r.status_code == 201 and [e["id"] for e in r.get_json()["entries"]] == [two.id]
    new_id = r.get_json()["id"]
    r = staff.post(f"{base}/distinct", json={"person_ids": [one.person_id, new_id]})
    assert r.status_code == 200 and r.get_json()["pairs"] == []  # the split recorded it already
    assert staff.post(f"{base}/distinct", json={"person_ids": "x"}).status_code == 400
    assert staff.post(f"{base}/{one.person_id}/merge", json={"other_id": "2"}).status_code == 400
    assert staff.post(f"{base}/{one.person_id}/merge", json={"other_id": 99999}).status_code == 400
    assert api(world.resident).get(f"{base}/duplicates").status_code == 403
    assert api(world.outsider).get(f"/api/v1/c/other/persons/{one.person_id}").status_code == 404
    households = staff.get("/api/v1/c/test/households").get_json()["items"]
    assert all("person_id" in m for h in households for m in h["members"])


# ── import ───────────────────────────────────────────────────────────────────────────────
HEAD = ["网格", "楼栋", "单元", "房号", "面积", "姓名", "关系", "证件类型", "证件号码"]


def csv(rows):
    return ("\r\n".join(",".join(r) for r in [HEAD] + rows) + "\r\n").encode("utf-8")


def test_import_makes_one_person_of_rows_with_one_document_and_never_merges_by_name(world, login):
    persons.set_identity(world.community, persons.of_user(world.community, world.resident2.id), world.staff,
                         "resident_id", ID_B)
    rows = [["第一网格", "1号楼", "1单元", "601", "90", "赵大", "业主", "身份证", ID_A],
            ["第一网格", "1号楼", "1单元", "602", "70.5", "赵大", "业主", "居民身份证", ID_A.lower()],
            ["第一网格", "1号楼", "1单元", "603", "60", "王伟", "业主", "", ""],
            ["第一网格", "1号楼", "1单元", "604", "60", "王伟", "业主", "", ""],
            ["第一网格", "1号楼", "1单元", "605", "60", "钱二", "业主", "身份证", ID_B],  # 居民乙's document
            ["第一网格", "1号楼", "1单元", "606", "60", "孙三", "业主", "身份证", ID_A[:-1] + "Z"],
            ["第一网格", "1号楼", "1单元", "607", "60", "周四", "业主", "身份证", ID_A]]  # 赵大's, another name
    c = en(login(world.staff))
    from werkzeug.datastructures import FileStorage

    r = c.post("/c/test/structure/import", data={"file": FileStorage(io.BytesIO(csv(rows)), "户籍.csv")},
               content_type="multipart/form-data")
    text = page(r)
    assert "someone else on the register (居民乙)" in text
    assert "not a valid number" in text and "another name on line 2" in text
    assert "Someone named 王伟 is already on the register" in text  # the second 王伟, proposed, not merged
    batch = ImportBatch.query.one()
    stored = json.dumps(batch.rows, ensure_ascii=False)
    assert ID_A not in stored and ID_A.lower() not in stored and ID_B not in stored and ID_A[:-1] not in stored
    r = c.post("/c/test/structure/import", data={"token": batch.token, "accept_partial": "1"}, follow_redirects=True)
    assert "Imported" in page(r)
    zhao = HouseholdMember.query.filter_by(name="赵大").all()
    assert len(zhao) == 2 and len({m.person_id for m in zhao}) == 1 and zhao[0].person.id_last4 == ID_A[-4:]
    wang = HouseholdMember.query.filter_by(name="王伟").all()
    assert len(wang) == 2 and len({m.person_id for m in wang}) == 2
    assert not HouseholdMember.query.filter(HouseholdMember.name.in_(["钱二", "孙三", "周四"])).count()
    # Importing the same rows again adds nobody and no second person.
    count = Person.query.count()
    imports.import_rows(world.community, world.staff, [r["values"] for r in imports.check_rows(
        world.community, imports.read_table("again.csv", csv(rows[:4])))], filename="again.csv")
    assert Person.query.count() == count


def test_the_import_links_a_known_entry_to_its_document(world):
    a = room(world, "601")
    known = entry(a, "赵大")
    db.session.commit()
    rows = imports.check_rows(world.community, imports.read_table("a.csv", csv([
        ["第一网格", "1号楼", "1单元", "601", "80", "赵大", "业主", "身份证", ID_A],
        ["第一网格", "1号楼", "1单元", "602", "80", "赵大", "业主", "身份证", ID_A]])))
    assert not any(r["errors"] for r in rows)
    imports.import_rows(world.community, world.staff, [r["values"] for r in rows], filename="a.csv")
    db.session.expire_all()
    person = db.session.get(HouseholdMember, known.id).person
    assert person.id_last4 == ID_A[-4:] and len(person.members) == 2


def test_an_import_without_the_key_is_refused(world, app):
    app.config["IDENTITY_HASH_KEY"] = ""
    with pytest.raises(Exception) as err:
        imports.check_rows(world.community, imports.read_table("a.csv", csv([
            ["第一网格", "1号楼", "1单元", "601", "80", "赵大", "业主", "身份证", ID_A]])))
    assert err.value.code == "identity_key_missing"


# ── migration and command line ───────────────────────────────────────────────────────────
def test_the_migration_makes_one_person_per_account_and_one_per_other_entry(tmp_path):
    from core import create_app
    from core.extensions import alembic
    from tests.core.test_migrations import fresh_database

    url = fresh_database(tmp_path, "persons")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "m", "TESTING": True}, plugins=[])
    with app.app_context():
        alembic.upgrade("1795346000")
        with db.engine.begin() as conn:
            now = "2026-12-01 00:00:00"
            conn.execute(text("INSERT INTO community (id, slug, name, default_locale, seconds_threshold, created_at, "
                              "config_version) VALUES (1, 'c', 'C', 'zh_Hans', 5, :n, 0), "
                              "(2, 'd', 'D', 'zh_Hans', 5, :n, 0)"), {"n": now})
            conn.execute(text("INSERT INTO \"user\" (id, username, display_name, password_hash, large_text, "
                              "is_superadmin, is_active_account, session_version, created_at) VALUES "
                              "(1, 'u', 'U', 'x', false, false, true, 1, :n)"), {"n": now})
            conn.execute(text("INSERT INTO grid (id, community_id, name) VALUES (1, 1, 'g'), (2, 2, 'g')"))
            conn.execute(text("INSERT INTO building (id, community_id, grid_id, name) VALUES (1, 1, 1, 'b'), "
                              "(2, 2, 2, 'b')"))
            conn.execute(text("INSERT INTO unit (id, building_id, name) VALUES (1, 1, 'u'), (2, 2, 'u')"))
            conn.execute(text("INSERT INTO household (id, community_id, unit_id, room, floor_area, area_source, "
                              "developer_held) VALUES (1, 1, 1, '101', 100, 'register', false), "
                              "(2, 1, 1, '102', 100, 'register', false), (3, 2, 2, '101', 100, 'register', false)"))
            conn.execute(text("INSERT INTO household_member (id, household_id, name, phone, relation, "
                              "is_representative, user_id) VALUES "
                              "(1, 1, '王伟', NULL, 'owner', true, NULL), (2, 2, '王伟', NULL, 'owner', true, NULL), "
                              "(3, 1, '张三', '139', 'owner', false, 1), (4, 2, '张三', '139', 'owner', false, 1), "
                              "(5, 3, '张三', '139', 'owner', true, 1), (6, 1, '赵大', '138', 'resident', false, NULL), "
                              "(7, 2, '赵大', '138', 'resident', false, NULL)"))
        alembic.upgrade()
        with db.engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT id, person_id FROM household_member")).all())
            people = {pid: (cid, uid) for pid, cid, uid in conn.execute(text(
                "SELECT id, community_id, user_id FROM person"))}
        db.engine.dispose()
    assert rows[3] == rows[4] and people[rows[3]] == (1, 1)  # one account, one person in a community
    assert rows[5] != rows[3] and people[rows[5]] == (2, 1)  # and another one in another community
    assert len({rows[1], rows[2], rows[6], rows[7], rows[3]}) == 5  # same names (and phones) stay apart
    assert len(people) == 6


def test_init_writes_an_identity_key_of_its_own_and_keeps_it(tmp_path):
    linli = Path(sys.executable).parent / "linli"
    env = {k: v for k, v in os.environ.items() if k not in ("LINLI_DATABASE_URL", "FLASK_APP")}
    env.update(LINLI_INSTANCE_PATH=str(tmp_path), LINLI_LANG="en", LINLI_PLUGINS="none")

    def config():
        ns = {}
        exec((tmp_path / "config.py").read_text(), ns)  # nosec B102: the file the test just wrote
        return ns

    # An instance from before identity documents: the key is added once, the secret kept.
    (tmp_path / "config.py").write_text("SECRET_KEY = 'old-secret'\n")
    r = subprocess.run([str(linli), "init"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    first = config()
    assert first["SECRET_KEY"] == "old-secret" and len(first["IDENTITY_HASH_KEY"]) == 64
    subprocess.run([str(linli), "init"], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert config()["IDENTITY_HASH_KEY"] == first["IDENTITY_HASH_KEY"]
    # A new instance gets both, different.
    (tmp_path / "config.py").unlink()
    subprocess.run([str(linli), "init"], env=env, capture_output=True, text=True, timeout=120, check=True)
    fresh = config()
    assert fresh["IDENTITY_HASH_KEY"] != fresh["SECRET_KEY"] and fresh["IDENTITY_HASH_KEY"] != first["IDENTITY_HASH_KEY"]


def test_the_environment_sets_the_key(monkeypatch):
    from core.config import from_env

    assert from_env({"LINLI_IDENTITY_HASH_KEY": "k" * 64})["IDENTITY_HASH_KEY"] == "k" * 64


def test_residents_duplicates_command(world, runner):
    entry(room(world, "501"), "王伟")
    entry(room(world, "502"), "王伟")
    db.session.commit()
    r = runner.invoke(args=["residents", "duplicates", "--community", "test"])
    assert r.exit_code == 1 and "王伟" in r.output and "1 possible duplicate" in r.output
    [group] = persons.possible_duplicates(world.community)
    persons.mark_distinct(world.community, group["persons"], world.staff)
    r = runner.invoke(args=["residents", "duplicates", "--community", "test"])
    assert r.exit_code == 0 and "0 possible duplicates" in r.output
