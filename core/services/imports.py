"""Import and export of households and residents (.xlsx or .csv), the way community offices keep them.

A file is first previewed: every row is checked and every problem reported with its line number.
Nothing is written until the user confirms, and a file with errors is imported only if the user
explicitly chooses to import just the good rows."""
import csv
import io
import secrets
from decimal import Decimal

from flask_babel import gettext as _

from core.errors import Conflict, NotFound, ServiceError
from core.extensions import db
from core.models import (Building, Grid, Household, HouseholdMember, ImportBatch, Unit, utcnow)
from core.services import audit
from core.services.structure import parse_area

MAX_ROWS = 50000
# Accepted column headings (Simplified, Traditional, English, and common office variants).
HEADINGS = {
    "grid": ("网格", "網格", "grid"),
    "building": ("楼栋", "樓棟", "楼号", "樓號", "building"),
    "unit": ("单元", "單元", "unit"),
    "room": ("房号", "房號", "门牌号", "room"),
    "floor_area": ("面积", "面積", "建筑面积", "建築面積", "面积(㎡)", "面积（㎡）", "floor area", "area"),
    "area_source": ("面积来源", "面積來源", "area source"),
    "developer_held": ("开发商未售", "開發商未售", "developer held"),
    "name": ("姓名", "name"),
    "phone": ("电话", "電話", "手机", "手機", "联系电话", "聯繫電話", "phone"),
    "relation": ("关系", "關係", "身份", "relation"),
    "representative": ("户代表", "戶代表", "representative"),
}
REQUIRED = ("grid", "building", "unit", "room", "floor_area")
RELATION_WORDS = {
    "owner": ("业主", "業主", "owner", "产权人", "產權人"),
    "resident": ("居民", "住户", "住戶", "家属", "家屬", "resident", ""),
    "tenant": ("租户", "租戶", "tenant"),
}
SOURCE_WORDS = {
    "register": ("登记", "登記", "不动产登记", "不動產登記", "register", ""),
    "survey": ("实测", "實測", "survey"),
    "contract": ("合同", "contract"),
}
YES = ("是", "yes", "y", "1", "√", "true", "x")


def _heading_key(text):
    t = str(text or "").strip().lower()
    for key, names in HEADINGS.items():
        if t in (n.lower() for n in names):
            return key
    return None


def read_table(filename: str, data: bytes):
    """Rows of a .xlsx or .csv file as lists of strings (CSV in UTF-8 or GBK, as Excel saves it)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise ServiceError("unreadable_file", _("This .xlsx file cannot be read. Save it again from Excel and retry."),
                               fields={"file": _("Unreadable file.")})
        ws = wb.worksheets[0]
        rows = []
        for row in ws.iter_rows(values_only=True):
            rows.append(["" if v is None else (format(v, "f") if isinstance(v, (float, Decimal)) else str(v))
                         for v in row])
            if len(rows) > MAX_ROWS + 1:
                break
        wb.close()
        return rows
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ServiceError("unreadable_file", _("The CSV file is neither UTF-8 nor GBK."),
                               fields={"file": _("Unreadable file.")})
        return [row for row in csv.reader(io.StringIO(text))][: MAX_ROWS + 1]
    raise ServiceError("bad_file_type", _("Upload an .xlsx or .csv file."), fields={"file": _("Upload an .xlsx or .csv file.")})


def _float_text(value):
    # openpyxl gives 89.5 as "89.5000000..." via format(…, "f"); trim trailing zeros.
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


def check_rows(community, table):
    """Check every row; returns a list of dicts {line, values, errors}."""
    if not table:
        raise ServiceError("empty_file", _("The file is empty."), fields={"file": _("The file is empty.")})
    header = [_heading_key(h) for h in table[0]]
    missing = [k for k in REQUIRED if k not in header]
    if missing:
        names = ", ".join(HEADINGS[k][0] for k in missing)
        raise ServiceError("missing_columns", _("The first row must name the columns; missing: %(names)s.", names=names),
                           fields={"file": _("Missing columns: %(names)s.", names=names)})
    if len(table) - 1 > MAX_ROWS:
        raise ServiceError("too_many_rows", _("At most %(n)d rows per file.", n=MAX_ROWS))
    existing_buildings = {b.name: b for b in Building.query.filter_by(community_id=community.id)}
    grids = {g.id: g.name for g in Grid.query.filter_by(community_id=community.id)}
    results, seen_people, household_area, building_grid = [], set(), {}, {}
    for line, raw in enumerate(table[1:], start=2):
        if not any(str(c).strip() for c in raw):
            continue
        values = {}
        for i, key in enumerate(header):
            if key and i < len(raw):
                values[key] = str(raw[i]).strip()
        errors = []
        for key in REQUIRED:
            if not values.get(key):
                errors.append(_("%(column)s is empty.", column=HEADINGS[key][0]))
        for key, limit in (("grid", 80), ("building", 80), ("unit", 40), ("room", 20), ("name", 80)):
            if len(values.get(key, "")) > limit:
                errors.append(_("%(column)s is longer than %(n)d characters.", column=HEADINGS[key][0], n=limit))
        if values.get("floor_area"):
            try:
                values["floor_area"] = str(parse_area(_float_text(values["floor_area"])))
            except ServiceError as err:
                errors.append(str(err.fields.get("floor_area", err.message)))
        rel = values.get("relation", "").lower()
        relation = next((k for k, words in RELATION_WORDS.items() if rel in [w.lower() for w in words]), None)
        if relation is None:
            errors.append(_("Relation “%(value)s” is not owner, resident or tenant.", value=values.get("relation")))
        values["relation"] = relation or "resident"
        src = values.get("area_source", "").lower()
        source = next((k for k, words in SOURCE_WORDS.items() if src in [w.lower() for w in words]), None)
        if source is None:
            errors.append(_("Area source “%(value)s” is not register, survey or contract.", value=values.get("area_source")))
        values["area_source"] = source or "register"
        values["representative"] = values.get("representative", "").lower() in YES
        values["developer_held"] = values.get("developer_held", "").lower() in YES
        phone = values.get("phone", "")
        if phone and not all(ch.isdigit() or ch in "+-" for ch in phone):
            errors.append(_("Phone “%(value)s” should be digits only.", value=phone))
        key = (values.get("building"), values.get("unit"), values.get("room"))
        if values.get("building"):
            b = existing_buildings.get(values["building"])
            known_grid = grids.get(b.grid_id) if b else building_grid.get(values["building"])
            if known_grid and values.get("grid") and known_grid != values["grid"]:
                errors.append(_("Building %(b)s belongs to grid %(g)s, not %(other)s.", b=values["building"],
                                g=known_grid, other=values["grid"]))
            building_grid.setdefault(values["building"], values.get("grid"))
        if not errors:
            if key in household_area and household_area[key] != values["floor_area"]:
                errors.append(_("Room %(room)s has two different areas in this file.", room=values["room"]))
            household_area.setdefault(key, values["floor_area"])
            if values.get("name"):
                person = key + (values["name"], values.get("phone", ""))
                if person in seen_people:
                    errors.append(_("This person is listed twice for the same room."))
                seen_people.add(person)
        results.append({"line": line, "values": values, "errors": errors})
    return results


def preview(community, actor, filename, data):
    """Check a file and keep its good rows for confirmation; returns (batch, rows)."""
    rows = check_rows(community, read_table(filename, data))
    if not rows:
        raise ServiceError("empty_file", _("The file has no data rows."), fields={"file": _("The file has no data rows.")})
    batch = ImportBatch(token=secrets.token_urlsafe(16), community_id=community.id,
                        user_id=getattr(actor, "id", None), filename=(filename or "")[:200],
                        rows=[r["values"] for r in rows if not r["errors"]],
                        error_count=sum(1 for r in rows if r["errors"]))
    db.session.add(batch)
    db.session.commit()
    return batch, rows


def apply(community, actor, token, *, accept_partial=False, progress=None):
    """Import a previewed batch in one transaction; returns counts.

    A batch with errors is refused unless ``accept_partial`` says to import only the good rows."""
    batch = ImportBatch.query.filter_by(token=token, community_id=community.id).first()
    if batch is None:
        raise NotFound("not_found", _("This import is unknown or expired; upload the file again."))
    if batch.applied_at is not None:
        raise Conflict("already_imported", _("This file was already imported."))
    if batch.error_count and not accept_partial:
        raise ServiceError("has_errors", _("The file has %(n)d rows with errors. Fix them, or confirm that only the good rows are imported.", n=batch.error_count))
    grids = {g.name: g for g in Grid.query.filter_by(community_id=community.id)}
    buildings = {b.name: b for b in Building.query.filter_by(community_id=community.id)}
    units, households = {}, {}
    counts = {"households": 0, "members": 0, "updated": 0}
    for i, v in enumerate(batch.rows):
        grid = grids.get(v["grid"])
        if grid is None:
            grid = grids[v["grid"]] = Grid(community_id=community.id, name=v["grid"])
            db.session.add(grid)
            db.session.flush()
        building = buildings.get(v["building"])
        if building is None:
            building = buildings[v["building"]] = Building(community_id=community.id, grid_id=grid.id, name=v["building"])
            db.session.add(building)
            db.session.flush()
        ukey = (building.id, v["unit"])
        unit = units.get(ukey) or Unit.query.filter_by(building_id=building.id, name=v["unit"]).first()
        if unit is None:
            unit = Unit(building_id=building.id, name=v["unit"])
            db.session.add(unit)
            db.session.flush()
        units[ukey] = unit
        hkey = (unit.id, v["room"])
        household = households.get(hkey) or Household.query.filter_by(unit_id=unit.id, room=v["room"]).first()
        area = Decimal(v["floor_area"])
        if household is None:
            household = Household(community_id=community.id, unit_id=unit.id, room=v["room"], floor_area=area,
                                  area_source=v["area_source"], developer_held=v["developer_held"])
            db.session.add(household)
            db.session.flush()
            counts["households"] += 1
        elif hkey not in households and household.floor_area != area:
            household.floor_area = area
            counts["updated"] += 1
        households[hkey] = household
        if v.get("name"):
            exists = HouseholdMember.query.filter_by(household_id=household.id, name=v["name"],
                                                     phone=v.get("phone") or None).first()
            if exists is None:
                if v["representative"]:
                    HouseholdMember.query.filter_by(household_id=household.id).update({"is_representative": False})
                db.session.add(HouseholdMember(household_id=household.id, name=v["name"], phone=v.get("phone") or None,
                                               relation=v["relation"], is_representative=v["representative"]))
                counts["members"] += 1
        if progress:
            progress(i + 1)
    batch.applied_at = utcnow()
    audit.record("residents.imported", community=community, actor=actor, object_type="import_batch",
                 object_id=str(batch.id), after={"file": batch.filename, **counts,
                                                 "skipped_rows": batch.error_count})
    db.session.commit()
    return counts


def export_xlsx(community) -> bytes:
    """The households and their register as .xlsx, with the same columns the import reads."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(_("Households"))
    keys = ("grid", "building", "unit", "room", "floor_area", "area_source", "developer_held", "name", "phone",
            "relation", "representative")
    ws.append([HEADINGS[k][0] for k in keys])
    rows = (db.session.query(Household, Unit, Building, Grid)
            .join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
            .join(Grid, Building.grid_id == Grid.id).filter(Household.community_id == community.id)
            .order_by(Grid.name, Building.name, Unit.name, Household.room).all())
    members = {}
    for m in HouseholdMember.query.join(Household).filter(Household.community_id == community.id).order_by(HouseholdMember.id):
        members.setdefault(m.household_id, []).append(m)
    src = {k: v[0] for k, v in SOURCE_WORDS.items()}
    rel = {k: v[0] for k, v in RELATION_WORDS.items()}
    for h, u, b, g in rows:
        base = [g.name, b.name, u.name, h.room, str(h.floor_area), src[h.area_source], "是" if h.developer_held else ""]
        people = members.get(h.id) or [None]
        for m in people:
            if m is None:
                ws.append(base + ["", "", "", ""])
            else:
                ws.append(base + [m.name, m.phone or "", rel[m.relation], "是" if m.is_representative else ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
