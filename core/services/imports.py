"""Import and export of households and residents (.xlsx or .csv), the way community offices keep them.

A file is first previewed: every row is checked and every problem reported with its line number.
Nothing is written until the user confirms, and a file with errors is imported only if the user
explicitly chooses to import just the good rows. Importing the same file again adds nothing twice:
grids, buildings, units and rooms are matched by name, people by household, name and phone.

Who is the same person across rooms is never guessed from a name (R5): rows with the same identity
document are one person (``core.services.persons``); a new row with the name of someone already
on the register is reported in the preview and becomes a person of its own, for staff to merge
under Possible duplicates if it is the same person."""
import secrets
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import spreadsheets
from core.errors import Conflict, NotFound, ServiceError
from core.extensions import db
from core.models import (Building, Grid, Household, HouseholdMember, ImportBatch, Person, Unit, utcnow)
from core.services import audit, persons
from core.services.import_check import (  # noqa: F401  (imports.read_table, imports.check_rows)
    BATCH_LIFETIME, HEADINGS, RELATION_WORDS, SOURCE_WORDS, check_rows, read_table)
from core.sorting import natural_sorted

def _birth_date(community, member, v):
    """Give the row's person its date of birth from the sheet (``_check_birth_date``); True if an
    existing person's date changed. A new entry gets its person here rather than at the flush."""
    if not v.get("birth_date"):
        return False
    if member.person is None:
        member.person = Person(community_id=community.id)
        db.session.add(member.person)
    born, year_only = date.fromisoformat(v["birth_date"]), bool(v.get("birth_year_only"))
    person = member.person
    if (person.birth_date, bool(person.birth_year_only)) == (born, year_only):
        return False
    person.birth_date, person.birth_year_only = born, year_only
    return person.id is not None


def preview(community, actor, filename, data):
    """Check a file and keep it for confirmation; returns (batch, rows). Nothing is imported yet."""
    rows = check_rows(community, read_table(filename, data))
    if not rows:
        raise ServiceError("empty_file", _("The file has no data rows."), fields={"file": _("The file has no data rows.")})
    bad = [r for r in rows if r["errors"]]
    # Previews nobody confirmed (and finished imports) are not kept for long: they hold people's data.
    ImportBatch.query.filter(ImportBatch.community_id == community.id,
                             ImportBatch.created_at < utcnow() - BATCH_LIFETIME).delete(synchronize_session=False)
    batch = ImportBatch(token=secrets.token_urlsafe(16), community_id=community.id,
                        user_id=getattr(actor, "id", None), filename=(filename or "")[:200],
                        rows={"good": [r["values"] for r in rows if not r["errors"]], "bad": bad,
                              "notes": [r for r in rows if r["notes"] and not r["errors"]]},
                        error_count=len(bad))
    db.session.add(batch)
    return batch, rows


def batch_rows(batch):
    """(good row values, bad rows with their errors, good rows with notes) of a previewed batch."""
    if isinstance(batch.rows, dict):
        return batch.rows.get("good", []), batch.rows.get("bad", []), batch.rows.get("notes", [])
    return batch.rows or [], [], []


def apply(community, actor, token, *, accept_partial=False, progress=None):
    """Import a previewed batch in one transaction; returns counts.

    A batch with errors is refused unless ``accept_partial`` says to import only the good rows."""
    batch = ImportBatch.query.filter_by(token=token or "", community_id=community.id).first()
    if batch is None or batch.created_at < utcnow() - BATCH_LIFETIME:
        raise NotFound("not_found", _("This import is unknown or expired; upload the file again."))
    if batch.applied_at is not None:
        raise Conflict("already_imported", _("This file was already imported."))
    if batch.error_count and not accept_partial:
        raise ServiceError("has_errors", _("The file has %(n)d rows with errors. Fix them, or confirm that only the good rows are imported.", n=batch.error_count))
    good = batch_rows(batch)[0]
    if not good:
        raise ServiceError("nothing_to_import", _("No row of this file can be imported."))
    # Claim the batch first, so that a second click (or a second worker) imports nothing.
    claimed = db.session.execute(update(ImportBatch).where(ImportBatch.id == batch.id, ImportBatch.applied_at.is_(None))
                                 .values(applied_at=utcnow()))
    if claimed.rowcount != 1:
        raise Conflict("already_imported", _("This file was already imported."))
    return import_rows(community, actor, good, filename=batch.filename, skipped=batch.error_count,
                       batch_id=batch.id, progress=progress)


def import_rows(community, actor, rows, *, filename, skipped=0, batch_id=None, progress=None):
    """Write checked rows (``check_rows`` values) in one transaction; returns counts.

    Everything is matched by name (building names are unique in a community) and written in one
    flush at the end, so that a file of tens of thousands of rows imports in seconds."""
    grids = {g.name: g for g in Grid.query.filter_by(community_id=community.id)}
    buildings = {b.name: b for b in Building.query.filter_by(community_id=community.id)}
    units = {(b, u.name): u for u, b in db.session.query(Unit, Building.name)
             .join(Building, Unit.building_id == Building.id).filter(Building.community_id == community.id)}
    households = {(b, u, h.room): h for h, u, b in db.session.query(Household, Unit.name, Building.name)
                  .join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
                  .filter(Household.community_id == community.id)}
    members = {}
    for m, b, u, r in (db.session.query(HouseholdMember, Building.name, Unit.name, Household.room)
                       .join(Household, HouseholdMember.household_id == Household.id)
                       .join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
                       .filter(Household.community_id == community.id).order_by(HouseholdMember.id)):
        members.setdefault((b, u, r), []).append(m)
    counts = {"households": 0, "members": 0, "updated": 0}
    changed = []
    documents = {p.id_hash: p for p in Person.query.filter(Person.community_id == community.id,
                                                           Person.id_hash.isnot(None))}

    try:
        with db.session.no_autoflush:
            for i, v in enumerate(rows):
                grid = grids.get(v["grid"])
                if grid is None:
                    grid = grids[v["grid"]] = Grid(community_id=community.id, name=v["grid"])
                    db.session.add(grid)
                building = buildings.get(v["building"])
                if building is None:
                    building = buildings[v["building"]] = Building(community_id=community.id, grid=grid,
                                                                   name=v["building"])
                    db.session.add(building)
                ukey = (v["building"], v["unit"])
                unit = units.get(ukey)
                if unit is None:
                    unit = units[ukey] = Unit(building=building, name=v["unit"])
                    db.session.add(unit)
                hkey = ukey + (v["room"],)
                area = Decimal(v["floor_area"])
                household = households.get(hkey)
                if household is None:
                    household = households[hkey] = Household(
                        community_id=community.id, unit=unit, room=v["room"], floor_area=area,
                        area_source=v.get("area_source") or "register", developer_held=bool(v.get("developer_held")))
                    db.session.add(household)
                    counts["households"] += 1
                else:
                    new = {"floor_area": area, "area_source": v.get("area_source", household.area_source),
                           "developer_held": v.get("developer_held", household.developer_held)}
                    diff = {k: x for k, x in new.items() if getattr(household, k) != x}
                    if diff:
                        before = {k: getattr(household, k) for k in diff}
                        for k, x in diff.items():
                            setattr(household, k, x)
                        if household.id is not None:
                            audit.record("household.updated", community=community, obj=household, actor=actor,
                                         before=before, after=diff, reason=filename)
                            changed.append(household)
                if v.get("name"):
                    phone = v.get("phone") or None
                    people = members.setdefault(hkey, [])
                    person = next((m for m in people if m.name == v["name"] and (m.phone or None) == phone), None)
                    if person is None:  # the same person with a phone number added (or left out) this time
                        same = [m for m in people if m.name == v["name"] and (not m.phone or not phone)]
                        if len(same) == 1:
                            person = same[0]
                            if phone and not person.phone:
                                person.phone = phone
                                changed.append(person)
                    is_new = person is None
                    if is_new:
                        person = HouseholdMember(household=household, name=v["name"], phone=phone,
                                                 relation=v.get("relation", "resident"), is_representative=False)
                        db.session.add(person)
                        people.append(person)
                        counts["members"] += 1
                    if v.get("id_hash") and _by_document(community, person, v, documents) and not is_new:
                        changed.append(person)
                    elif "relation" in v and person.relation != v["relation"]:
                        person.relation = v["relation"]
                        changed.append(person)
                    if _birth_date(community, person, v) and not is_new:
                        changed.append(person)
                    if v.get("representative") and not person.is_representative:
                        for other in people:
                            other.is_representative = other is person
                        if not is_new:
                            changed.append(person)
                if progress:
                    progress(i + 1)
        counts["updated"] = len({id(x) for x in changed})
        audit.record("residents.imported", community=community, actor=actor, object_type="import_batch",
                     object_id=str(batch_id or ""), after={"file": filename, **counts, "skipped_rows": skipped})
        db.session.flush()
    except IntegrityError:  # the message is lazy: read once the request has rolled back
        raise Conflict("import_conflict", _l("The community's households changed while importing. Nothing was "
                                            "imported; check the file again."))
    return counts


def _by_document(community, member, v, documents):
    """The entry ``member`` of a row with an identity document is that document's person: a new
    entry joins the person (an owner of several rooms is one person); a known entry's person gets
    the document. True if an existing person changed. A register changed since the preview so
    that this no longer fits is refused (the import is rolled back)."""
    digest = v["id_hash"]
    owner = documents.get(digest)
    if member.id is None:  # new in this import
        if owner is None:
            owner = documents[digest] = Person(community_id=community.id, id_type=v["id_type"], id_hash=digest,
                                               id_last4=v["id_last4"])
            db.session.add(owner)
        member.person = owner
        member.user_id = owner.user_id
        return False
    current = member.person
    if owner is current:
        return False
    if owner is None and current.id_hash is None:
        current.id_type, current.id_hash, current.id_last4 = v["id_type"], digest, v["id_last4"]
        documents[digest] = current
        return True
    raise IntegrityError("identity document", None, Exception("changed since the preview"))


EXPORT_KEYS = ("grid", "building", "unit", "room", "floor_area", "area_source", "developer_held", "name", "phone",
               "relation", "representative", "birth_date")


def export_xlsx(community) -> bytes:
    """The households and their register as .xlsx, with the same columns the import reads. Names
    are written as text (never a formula) whatever they hold (``core.spreadsheets``)."""
    book = spreadsheets.Workbook()
    ws = book.create_sheet(_("Households"))
    ws.append([HEADINGS[k][0] for k in EXPORT_KEYS])
    rows = (db.session.query(Household, Unit, Building, Grid)
            .join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
            .join(Grid, Building.grid_id == Grid.id).filter(Household.community_id == community.id)
            .all())
    # Grids, buildings, units and rooms in the order people count them (core.sorting: 2号楼 before 10号楼).
    rows = natural_sorted(rows, key=lambda r: (r[3].name, r[2].name, r[1].name, r[0].room))
    members = {}
    for m in (HouseholdMember.query.options(selectinload(HouseholdMember.person)).join(Household)
              .filter(Household.community_id == community.id).order_by(HouseholdMember.id)):
        members.setdefault(m.household_id, []).append(m)
    src = {k: v[0] for k, v in SOURCE_WORDS.items()}
    rel = {k: v[0] for k, v in RELATION_WORDS.items()}
    for h, u, b, g in rows:
        base = [g.name, b.name, u.name, h.room, h.floor_area, src.get(h.area_source, ""),
                "是" if h.developer_held else ""]
        for m in members.get(h.id) or [None]:
            person = ["", "", "", "", ""] if m is None else [m.name, m.phone or "", rel.get(m.relation, ""),
                                                             "是" if m.is_representative else "",
                                                             persons.birth_label(m.person)]
            ws.append(base + person)
    return book.save()
