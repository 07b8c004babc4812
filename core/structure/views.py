"""Staff pages for the community structure and the household register, with import and export."""
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy import Integer, func, type_coerce
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional

from core import confirm, pickers, places
from core.db import transaction
from core.errors import ServiceError
from core.extensions import db
from core.forms import Form, apply_error
from core.inputs import whole_number
from core.models import Building, Grid, Household, HouseholdMember, ImportBatch, Unit
from core.permissions import can, require
from core.services import imports
from core.services import structure as svc
from core.sorting import natural_sorted

bp = Blueprint("structure", __name__, url_prefix="/structure")


class NameForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])


class HouseholdForm(Form):
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=False)
    room = StringField(_l("Room"), validators=[DataRequired(), Length(max=20)])
    floor_area = StringField(_l("Floor area (m²)"), validators=[DataRequired(), Length(max=20)])
    area_source = SelectField(_l("Area from"), choices=[("register", _l("Property register")),
                                                        ("survey", _l("Survey")), ("contract", _l("Purchase contract"))])
    developer_held = BooleanField(_l("Unsold or not yet handed over by the developer"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class MemberForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=20)])
    relation = SelectField(_l("Relation"), choices=[("owner", _l("Owner")), ("resident", _l("Resident")),
                                                    ("tenant", _l("Tenant"))])
    is_representative = BooleanField(_l("Household representative (户代表)"))


class ImportForm(Form):
    file = FileField(_l("File (.xlsx or .csv)"))


def _get(model, obj_id):
    obj = db.session.get(model, obj_id)
    community_id = obj.building.community_id if isinstance(obj, Unit) else getattr(obj, "community_id", None)
    if obj is None or community_id != g.community.id:
        abort(404)
    return obj


@bp.route("/")
@require("core.members.view")
def index():
    """The register: grids and their buildings, narrowed by ``?grid_id=`` / ``?building_id=``
    (core.places), with the households of the place chosen."""
    community = g.community
    place = places.place_from(community, request.args)
    grids, buildings = places.choices(community)
    grid_id = place.building.grid_id if place.building is not None else place.grid.id if place.grid else None
    shown_grids = [x for x in grids if grid_id in (None, x.id)]
    shown_buildings = [b for b in buildings if place.building in (None, b)]
    counts = dict(db.session.query(Unit.building_id, func.count(Household.id)).join(Household, Household.unit_id == Unit.id)
                  .filter(Household.community_id == community.id).group_by(Unit.building_id).all())
    # The sum of the stored hundredths, as a plain integer (not through the Centi type).
    totals_q = db.session.query(func.count(Household.id),
                                type_coerce(func.coalesce(func.sum(Household.floor_area), 0), Integer)).filter(
        Household.community_id == community.id)
    households = []
    if not place.anywhere:
        ids = places.household_ids(community, place)
        totals_q = totals_q.filter(Household.id.in_(ids)) if ids else totals_q.filter(False)
        households = sorted(Household.query.options(selectinload(Household.members),
                                                    selectinload(Household.unit).selectinload(Unit.building))
                            .filter(Household.id.in_(ids)).all() if ids else [], key=places.household_order)
    area = totals_q.one()
    totals = {"households": area[0], "area": (Decimal(int(area[1] or 0)) / 100).quantize(Decimal("0.01"))}
    form = NameForm()
    return render_template("structure/index.html", grids=shown_grids, buildings=shown_buildings, counts=counts,
                           totals=totals, form=form, can_manage=can("core.structure.manage"), place=place,
                           households=households, all_grids=grids, all_buildings=buildings)


@bp.route("/add/<kind>", methods=["POST"])
@require("core.structure.manage")
def add(kind):
    if kind not in ("grid", "building", "unit"):
        abort(404)
    form = NameForm()
    parent = None
    if kind == "building":
        parent = db.session.get(Grid, whole_number(request.form.get("parent_id"), "parent_id", default=0))
    elif kind == "unit":
        parent = db.session.get(Building, whole_number(request.form.get("parent_id"), "parent_id", default=0))
    back = (url_for("c.structure.building", building_id=parent.id)
            if kind == "unit" and parent is not None and parent.community_id == g.community.id
            else url_for("c.structure.index"))
    if not form.validate_on_submit():
        flash(_("Enter a name of up to %(n)d characters.", n=40 if kind == "unit" else 80), "error")
        return redirect(back)
    try:
        with transaction():
            if kind == "grid":
                svc.add_grid(g.community, form.name.data, current_user)
            elif kind == "building":
                svc.add_building(g.community, parent, form.name.data, current_user)
            else:
                svc.add_unit(g.community, parent, form.name.data, current_user)
            flash(_("Saved."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(back)


@bp.route("/<kind>/<int:obj_id>/rename", methods=["POST"])
@require("core.structure.manage")
def rename(kind, obj_id):
    model = {"grid": Grid, "building": Building, "unit": Unit}.get(kind) or abort(404)
    obj = _get(model, obj_id)
    form = NameForm()
    index = url_for("c.structure.index")
    back = {Grid: lambda: index, Building: lambda: url_for("c.structure.building", building_id=obj.id),
            Unit: lambda: url_for("c.structure.building", building_id=obj.building_id)}[model]()
    try:
        with transaction():
            if request.form.get("action") == "delete":
                up = url_for("c.structure.building", building_id=obj.building_id) if model is Unit else index
                if not confirm.confirmed():  # deleting cannot be undone: ask first
                    return confirm.ask(confirm.Confirmation(
                        title=_("Delete %(name)s?", name=obj.name), action=url_for("c.structure.rename", kind=kind,
                                                                                    obj_id=obj.id),
                        button=_("Delete"), back_url=back, back_label=obj.name, cancel_label=_("Keep it"),
                        lines=[_("%(name)s is deleted from the community's structure. Only an empty grid, building or "
                                 "unit can be deleted; one still used (for example as the scope of a proposal) stays.",
                                 name=obj.name)]))
                svc.delete_empty(g.community, obj, current_user)
                flash(_("Deleted."), "success")
                return redirect(up)
            if not form.validate_on_submit():
                flash(_("Enter a name of up to %(n)d characters.", n=40 if model is Unit else 80), "error")
                return redirect(back)
            svc.rename(g.community, obj, form.name.data, current_user)
            flash(_("Saved."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(back)


@bp.route("/buildings/<int:building_id>")
@require("core.members.view")
def building(building_id):
    b = _get(Building, building_id)
    units = natural_sorted(Unit.query.filter_by(building_id=b.id).all(), key=lambda u: u.name)
    households = natural_sorted(Household.query.options(selectinload(Household.members))
                                .filter(Household.unit_id.in_([u.id for u in units]) if units else False).all(),
                                key=lambda h: h.room)
    by_unit = {}
    for h in households:
        by_unit.setdefault(h.unit_id, []).append(h)
    return render_template("structure/building.html", building=b, units=units, by_unit=by_unit, form=NameForm(),
                           can_manage=can("core.structure.manage"))


@bp.route("/households/new", methods=["GET", "POST"])
@bp.route("/households/<int:household_id>", methods=["GET", "POST"])
@require("core.members.view")
def household(household_id=None):
    h = _get(Household, household_id) if household_id else None
    form = HouseholdForm(obj=h, prefix="h")
    if h is None and request.method == "GET" and request.args.get("unit"):
        form.unit_id.data = whole_number(request.args.get("unit"), "unit")
    pickers.offer(form.unit_id, places.unit_choices(g.community))
    member_form = MemberForm(prefix="m")
    if request.method == "POST":
        if not can("core.structure.manage"):
            abort(403)
        which = request.form.get("form")
        try:
            with transaction():
                if which == "household" and form.validate_on_submit():
                    h = svc.save_household(g.community, current_user, unit=db.session.get(Unit, form.unit_id.data or 0),
                                           room=form.room.data, floor_area=form.floor_area.data,
                                           area_source=form.area_source.data, developer_held=form.developer_held.data,
                                           note=form.note.data, household=h)
                    flash(_("Saved."), "success")
                    return redirect(url_for("c.structure.household", household_id=h.id))
                if which == "member" and h is not None and member_form.validate_on_submit():
                    svc.add_household_member(g.community, h, current_user, name=member_form.name.data,
                                             phone=member_form.phone.data, relation=member_form.relation.data,
                                             is_representative=member_form.is_representative.data)
                    flash(_("Saved."), "success")
                    return redirect(url_for("c.structure.household", household_id=h.id))
                if which in ("remove", "representative") and h is not None:
                    member_id = whole_number(request.form.get("member_id"), "member_id", default=0)
                    member = db.session.get(HouseholdMember, member_id)
                    if member is None or member.household_id != h.id:
                        abort(404)
                    if which == "remove" and not confirm.confirmed():  # deleting an entry: ask first
                        lines = [_("%(name)s's entry (name, phone number, relation) is deleted from the register of "
                                   "%(household)s.", name=member.name, household=h.label)]
                        if member.user_id:
                            lines.append(_("Their account stays, but is no longer verified for this household: they "
                                           "cannot vote for it until staff verify them again."))
                        return confirm.ask(confirm.Confirmation(
                            title=_("Remove %(name)s from the register?", name=member.name),
                            action=url_for("c.structure.household", household_id=h.id), button=_("Remove"),
                            back_url=url_for("c.structure.household", household_id=h.id), back_label=h.label,
                            cancel_label=_("Keep them"), lines=lines))
                    if which == "remove":
                        svc.remove_household_member(g.community, member, current_user)
                    else:
                        svc.set_representative(g.community, member, current_user)
                    flash(_("Saved."), "success")
                    return redirect(url_for("c.structure.household", household_id=h.id))
        except ServiceError as err:
            apply_error(form if which == "household" else member_form, err)
    from core.services.persons import birth_label

    return render_template("structure/household.html", household=h, form=form, member_form=member_form,
                           can_manage=can("core.structure.manage"), birth_label=birth_label)


@bp.route("/import", methods=["GET", "POST"])
@require("core.structure.manage")
def import_file():
    form = ImportForm()
    batch = None
    if request.method == "POST" and request.form.get("token"):
        try:
            with transaction():
                counts = imports.apply(g.community, current_user, request.form["token"],
                                       accept_partial=request.form.get("accept_partial") == "1")
        except ServiceError as err:
            apply_error(None, err)
            batch = ImportBatch.query.filter_by(token=request.form["token"], community_id=g.community.id,
                                                applied_at=None).first()
        else:
            flash(_("Imported: %(h)d new households, %(m)d new people, %(u)d records updated.",
                    h=counts["households"], m=counts["members"], u=counts["updated"]), "success")
            return redirect(url_for("c.structure.index"))
    elif form.validate_on_submit():
        upload = form.file.data
        if not upload or not upload.filename:
            form.file.errors = [_("Choose a file.")]
        else:
            try:
                with transaction():
                    batch, _rows = imports.preview(g.community, current_user, upload.filename, upload.read())
            except ServiceError as err:
                apply_error(form, err)
    good, bad, notes = imports.batch_rows(batch) if batch is not None else ([], [], [])
    return render_template("structure/import.html", form=form, batch=batch, good=good, bad=bad, notes=notes)


@bp.route("/export.xlsx")
@require("core.members.view")
def export():
    data = imports.export_xlsx(g.community)
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={g.community.slug}-households.xlsx"})


from core.structure import persons  # noqa: E402,F401  (the people pages register on bp)
