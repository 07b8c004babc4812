"""Reading and checking a file of households and residents (``core.services.imports``): the
headings offices use, each row's problems with its line number, the people it names. Reads only."""
import re
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _

from core import spreadsheets
from core.errors import ServiceError
from core.extensions import db
from core.inputs import text_message, text_problem
from core.models import Building, Grid, Household, HouseholdMember, Person, Unit
from core.phones import mobile_number, phone_problem
from core.services import persons
from core.services.structure import parse_area

BATCH_LIFETIME = timedelta(days=2)  # how long a preview can be confirmed
HEADER_SEARCH = 10  # offices often put a title row or two above the column headings
# Accepted column headings (Simplified, Traditional, English, and common office variants). The
# first one of each is what the export writes. Headings are compared without spaces, case or a
# trailing unit in brackets, so "面积（㎡）" and "Floor area (m²)" work too.
HEADINGS = {
    "grid": ("网格", "網格", "所属网格", "所屬網格", "grid"),
    "building": ("楼栋", "樓棟", "楼号", "樓號", "楼栋号", "樓棟號", "building"),
    "unit": ("单元", "單元", "单元号", "單元號", "unit"),
    "room": ("房号", "房號", "门牌号", "門牌號", "房间号", "房間號", "室", "room"),
    "floor_area": ("面积", "面積", "建筑面积", "建築面積", "专有面积", "專有面積", "房屋面积", "房屋面積",
                   "floorarea", "floor_area", "area"),
    "area_source": ("面积来源", "面積來源", "areasource", "area_source"),
    "developer_held": ("开发商未售", "開發商未售", "developerheld", "developer_held"),
    "name": ("姓名", "居民姓名", "业主姓名", "業主姓名", "name"),
    "phone": ("电话", "電話", "手机", "手機", "手机号", "手機號", "联系电话", "聯繫電話", "聯絡電話", "phone"),
    "relation": ("关系", "關係", "身份", "relation"),
    "representative": ("户代表", "戶代表", "representative"),
    # Optional: an identity document, the strongest key that two rows are one person (R5). The
    # number is checked, then kept only as a keyed hash and its last four characters.
    "id_type": ("证件类型", "證件類型", "idtype", "id_type"),
    "id_number": ("证件号码", "證件號碼", "身份证号", "身份證號", "身份证号码", "身份證號碼", "公民身份号码",
                  "公民身份號碼", "idnumber", "id_number"),
    # Optional: the date of birth, or only the year (who is 18 or over at a residents' meeting, R12).
    "birth_date": ("出生日期", "出生年月日", "出生年月", "出生年份", "生日", "birthdate", "birth_date", "dateofbirth",
                   "born"),
}
REQUIRED = ("grid", "building", "unit", "room", "floor_area")
RELATION_WORDS = {
    "owner": ("业主", "業主", "owner", "产权人", "產權人"),
    "resident": ("居民", "住户", "住戶", "家属", "家屬", "resident", ""),
    "tenant": ("租户", "租戶", "tenant"),
}
SOURCE_WORDS = {
    "register": ("登记", "登記", "不动产登记", "不動產登記", "register"),
    "survey": ("实测", "實測", "survey"),
    "contract": ("合同", "contract"),
}
ID_TYPE_WORDS = {
    "resident_id": ("居民身份证", "居民身份證", "身份证", "身份證", "resident_id", "residentidentitycard", ""),
    "hk_macao": ("港澳居民居住证", "港澳居民居住證", "hk_macao"),
    "taiwan": ("台湾居民居住证", "台灣居民居住證", "臺灣居民居住證", "taiwan"),
    "foreign_permanent": ("外国人永久居留身份证", "外國人永久居留身份證", "foreign_permanent"),
    "passport": ("护照", "護照", "passport"),
}
YES = ("是", "yes", "y", "1", "√", "✓", "true", "x")
NO = ("否", "no", "n", "0", "false", "")
_UNIT_SUFFIX = re.compile(r"[(（\[【].*[)）\]】]$")


def _normalise_heading(text):
    t = re.sub(r"\s+", "", str(text or "")).lower()
    return _UNIT_SUFFIX.sub("", t) or t


_HEADING_INDEX = {_normalise_heading(n): key for key, names in HEADINGS.items() for n in names}


def _heading_key(text):
    return _HEADING_INDEX.get(_normalise_heading(text))


def read_table(filename: str, data: bytes):
    """Rows of a .xlsx or .csv file as lists of strings, within the configured limits
    (``core.spreadsheets.read_table``: sizes, rows and columns are checked before and while reading)."""
    return spreadsheets.read_table(filename, data)


def _find_header(table):
    """(index, keys) of the heading row: the first of the top rows that names every required column."""
    best = None
    for i, row in enumerate(table[:HEADER_SEARCH + 1]):
        if not any(row):
            continue
        keys = [_heading_key(h) for h in row]
        if all(k in keys for k in REQUIRED):
            return i, keys
        if best is None or sum(k is not None for k in keys) > sum(k is not None for k in best[1]):
            best = (i, keys)
    missing = [k for k in REQUIRED if best is None or k not in best[1]]
    names = ", ".join(HEADINGS[k][0] for k in missing)
    raise ServiceError("missing_columns", _("The first row must name the columns; missing: %(names)s.", names=names),
                       fields={"file": _("Missing columns: %(names)s.", names=names)})


def _word(value, words):
    v = value.lower()
    return next((k for k, ws in words.items() if v in (w.lower() for w in ws)), None)


def check_rows(community, table):
    """Check every row; returns a list of dicts {line, values, errors, notes} (line as in the file).

    ``values`` holds the normalised row: only the optional columns the file has are set, so that
    importing a file without, say, an area-source column leaves that detail of known rooms alone."""
    if not table or not any(any(r) for r in table):
        raise ServiceError("empty_file", _("The file is empty."), fields={"file": _("The file is empty.")})
    start, header = _find_header(table)
    seen_cols = set()
    for key in header:
        if key is not None and key in seen_cols:
            raise ServiceError("duplicate_column", _("The column %(name)s appears twice.", name=HEADINGS[key][0]),
                               fields={"file": _("The column %(name)s appears twice.", name=HEADINGS[key][0])})
        seen_cols.add(key)
    max_rows = spreadsheets.limit("LINLI_IMPORT_MAX_ROWS")
    if sum(1 for r in table[start + 1:] if any(r)) > max_rows:
        raise spreadsheets.too_many_rows(max_rows)

    db_buildings = {b.name: b for b in Building.query.filter_by(community_id=community.id)}
    grid_names = {g.id: g.name for g in Grid.query.filter_by(community_id=community.id)}
    db_households = {
        (b, u, room): (area, source, dev)
        for b, u, room, area, source, dev in db.session.query(
            Building.name, Unit.name, Household.room, Household.floor_area, Household.area_source,
            Household.developer_held)
        .join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
        .filter(Household.community_id == community.id)
    }
    register = _register_people(community)
    documents = {}  # id hash -> (name key, line) of the rows of this file
    results, seen_people, rooms, building_grid, representatives = [], set(), {}, {}, set()
    for line, raw in enumerate(table[start + 1:], start=start + 2):
        if not any(raw):
            continue
        values = {key: raw[i] for i, key in enumerate(header) if key and i < len(raw)}
        errors, notes = [], []
        for key in REQUIRED:
            if not values.get(key):
                errors.append(_("%(column)s is empty.", column=HEADINGS[key][0]))
        for key, limit in (("grid", 80), ("building", 80), ("unit", 40), ("room", 20), ("name", 80)):
            if len(values.get(key, "")) > limit:
                errors.append(_("%(column)s is longer than %(n)d characters.", column=HEADINGS[key][0], n=limit))
        for key, value in values.items():  # the rules of every text input (core.inputs): one line, no controls
            problem = text_problem(value) if isinstance(value, str) else None
            if problem:
                errors.append(text_message(HEADINGS[key][0], problem))
        if values.get("floor_area"):
            try:
                values["floor_area"] = str(parse_area(values["floor_area"]))
            except ServiceError as err:
                errors.append(_("Floor area “%(value)s”: %(problem)s", value=values["floor_area"],
                                problem=err.fields.get("floor_area", err.message)))
        if "relation" in values:
            relation = _word(values["relation"], RELATION_WORDS)
            if relation is None:
                errors.append(_("Relation “%(value)s” is not owner, resident or tenant.", value=values["relation"]))
            values["relation"] = relation or "resident"
        if values.get("area_source"):
            source = _word(values["area_source"], SOURCE_WORDS)
            if source is None:
                errors.append(_("Area source “%(value)s” is not register, survey or contract.",
                                value=values["area_source"]))
            values["area_source"] = source or "register"
        else:
            values.pop("area_source", None)
        for key in ("developer_held", "representative"):
            if key in values:
                flag = values[key].lower()
                if flag not in YES and flag not in NO:
                    errors.append(_("%(column)s should be 是 or empty, not “%(value)s”.", column=HEADINGS[key][0],
                                    value=values[key]))
                values[key] = flag in YES
        phone = values.get("phone", "").strip()
        if phone:
            values["phone"] = mobile_number(phone) or phone
            if mobile_number(phone) is None:
                errors.append(phone_problem(phone))
        if not values.get("name") and (phone or values.get("representative") or values.get("id_number")):
            errors.append(_("%(column)s is empty.", column=HEADINGS["name"][0]))
        _check_document(community, values, errors)
        _check_birth_date(community, values, errors)

        building, grid = values.get("building"), values.get("grid")
        if building and grid:
            known = db_buildings.get(building)
            known_grid = grid_names.get(known.grid_id) if known else building_grid.get(building)
            if known_grid and known_grid != grid:
                errors.append(_("Building %(b)s belongs to grid %(g)s, not %(other)s.", b=building, g=known_grid,
                                other=grid))
            elif not errors:
                building_grid.setdefault(building, grid)
        key = (building, values.get("unit"), values.get("room"))
        if not errors:
            facts = (values["floor_area"], values.get("area_source"), values.get("developer_held"))
            first = rooms.get(key)
            if first is None:
                rooms[key] = facts
            elif first[0] != facts[0]:
                errors.append(_("Room %(room)s has two different areas in this file.", room=values["room"]))
            elif first[1:] != facts[1:] and None not in first[1:] + facts[1:]:
                errors.append(_("Room %(room)s has different area sources or developer marks in this file.",
                                room=values["room"]))
        if not errors and values.get("name"):
            person = key + (values["name"], values.get("phone", ""))
            if person in seen_people:
                errors.append(_("This person is listed twice for the same room."))
            elif values.get("representative") and key in representatives:
                errors.append(_("Room %(room)s has more than one household representative in this file.",
                                room=values["room"]))
            else:
                seen_people.add(person)
                if values.get("representative"):
                    representatives.add(key)
        if not errors and values.get("name"):
            _check_person(values, key, line, register, documents, errors, notes)
        if not errors and key in db_households:
            old_area = db_households[key][0]
            if old_area != Decimal(values["floor_area"]):
                notes.append(_("Floor area changes from %(old)s to %(new)s m².", old=old_area,
                               new=values["floor_area"]))
        results.append({"line": line, "values": values, "errors": errors, "notes": notes})
    return results


def _check_document(community, values, errors):
    """Check the row's identity document and replace the number by its hash and last four
    characters: the number itself is never kept, not even in a preview (PIPL Art. 6)."""
    number, kind = values.pop("id_number", ""), values.pop("id_type", None)
    if not number and not kind:
        return
    id_type = _word(kind or "", ID_TYPE_WORDS)
    if id_type is None:
        errors.append(_("Identity document type “%(value)s” is not one of: %(types)s.", value=kind,
                        types="、".join(w[0] for w in ID_TYPE_WORDS.values())))
        return
    try:
        id_type, digest, last4 = persons.checked_document(community, id_type, number)
    except ServiceError as err:
        if err.code == "identity_key_missing":
            raise
        errors.append(_("Identity document ending in %(last4)s: %(problem)s", last4=str(number)[-4:],
                        problem=err.fields.get("id_number") or err.fields.get("id_type") or err.message))
        return
    if digest is not None:
        values.update(id_type=id_type, id_hash=digest, id_last4=last4)


def _check_birth_date(community, values, errors):
    """The row's date of birth as text the batch keeps (1990-05-01) and whether only the year is
    known; an empty cell leaves the register's date alone."""
    text = values.pop("birth_date", "")
    if not text:
        return
    try:
        born, year_only = persons.parse_birth_date(text, community=community)
    except ServiceError as err:
        errors.append(_("Date of birth “%(value)s”: %(problem)s", value=text,
                        problem=err.fields.get("birth_date", err.message)))
        return
    values.update(birth_date=born.isoformat(), birth_year_only=year_only)


def _register_people(community):
    """What the preview compares rows with: the people on the register by name key and by
    document, and each existing entry's person, by (building, unit, room, name, phone)."""
    people = {p.id: p for p in Person.query.filter_by(community_id=community.id)}
    by_name, entries = {}, {}
    for m, b, u, r in (db.session.query(HouseholdMember, Building.name, Unit.name, Household.room)
                       .join(Household, HouseholdMember.household_id == Household.id)
                       .join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
                       .filter(Household.community_id == community.id)):
        by_name.setdefault(persons.name_key(m.name), []).append((m.person_id, f"{b} {u} {r}"))
        entries[(b, u, r, m.name, m.phone or "")] = m.person_id
    return {"people": people, "by_name": by_name, "entries": entries,
            "documents": {p.id_hash: p for p in people.values() if p.id_hash}}


def _check_person(values, key, line, register, documents, errors, notes):
    """Who the row's person is: by identity document (the same person as the register's or an
    earlier row's with that document, if the name agrees), else the existing entry of the room;
    a new entry with someone's name is reported, never merged by name (R5)."""
    name = persons.name_key(values["name"])
    existing = register["entries"].get(key + (values["name"], values.get("phone", "")))
    digest = values.get("id_hash")
    if digest:
        first = documents.setdefault(digest, (name, line))
        if first[0] != name:
            errors.append(_("The same identity document is given for another name on line %(line)d.", line=first[1]))
            return
        known = register["documents"].get(digest)
        if known is not None and name not in {persons.name_key(n) for n in known.names}:
            errors.append(_("This identity document is recorded for someone else on the register (%(name)s); "
                            "check the number.", name=known.label))
        elif existing is not None and known is not None and known.id != existing:
            errors.append(_("This identity document is recorded for another person of this name on the register: "
                            "merge the two under Possible duplicates first, then import again."))
        elif existing is not None and register["people"][existing].id_hash not in (None, digest):
            errors.append(_("A different identity document is recorded for this person on the register."))
        elif known is not None and existing is None:
            notes.append(_("The same person as %(name)s on the register (identity document ending in %(last4)s).",
                           name=known.label, last4=values["id_last4"]))
        return
    if existing is None:
        here = " ".join(key)
        elsewhere = [label for _pid, label in register["by_name"].get(name, []) if label != here]
        register["by_name"].setdefault(name, []).append((None, here))  # later rows of the file see it
        if elsewhere:
            notes.append(_("Someone named %(name)s is already on the register (%(where)s). This row becomes a person "
                           "of its own: if it is the same person, merge them under Possible duplicates.",
                           name=values["name"], where="、".join(sorted(set(elsewhere))[:3])))
