"""Staff pages for the people on the register: one person's entries, account and identity
document; merging, splitting, and the possible duplicates (core.services.persons)."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from core.db import transaction
from core.errors import ServiceError
from core.extensions import db
from core.forms import Form, apply_error
from core.identity import ID_TYPES, type_label
from core.inputs import whole_number
from core.models import HouseholdMember, Person
from core.permissions import require
from core.services import persons as svc
from core.structure.views import bp
from core.urls import safe_next


class IdentityForm(Form):
    id_type = SelectField(_l("Identity document"), choices=[("", "—")] + list(ID_TYPES.items()))
    id_number = StringField(_l("Document number"), validators=[Optional(), Length(max=40)])


class BirthDateForm(Form):
    birth_date = StringField(_l("Date of birth"), validators=[Optional(), Length(max=20)])


class MergeForm(Form):
    other_id = SelectField(_l("The same person as"), coerce=int, default=0)
    other_number = StringField(_l("…or the register number of that person"), validators=[Optional(), Length(max=12)])


def _person(person_id):
    person = db.session.get(Person, person_id)
    if person is None or person.community_id != g.community.id:
        abort(404)
    return person


def _number(text):
    """A register number as staff type it: "12", "No. 12", "#12"."""
    digits = "".join(ch for ch in str(text or "") if ch.isdigit())
    return int(digits) if digits and len(digits) <= 9 else None


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
@require("core.structure.manage")
def person(person_id):
    p = _person(person_id)
    identity_form, merge_form = IdentityForm(prefix="id"), MergeForm(prefix="merge")
    birth_form = BirthDateForm(prefix="birth")
    if request.method == "GET":
        birth_form.birth_date.data = svc.birth_label(p)
    others = svc.same_name(g.community, p)
    merge_form.other_id.choices = [(0, "—")] + [
        (o.id, f"{o.label} · " + "、".join(m.household.label for m in o.members)) for o in others]
    if request.method == "POST":
        which = request.form.get("form")
        try:
            with transaction():
                if which == "identity" and identity_form.validate_on_submit():
                    svc.set_identity(g.community, p, current_user, identity_form.id_type.data,
                                     identity_form.id_number.data)
                    flash(_("Saved."), "success")
                    return redirect(url_for("c.structure.person", person_id=p.id))
                if which == "birth" and birth_form.validate_on_submit():
                    svc.set_birth_date(g.community, p, current_user, birth_form.birth_date.data)
                    flash(_("Saved."), "success")
                    return redirect(url_for("c.structure.person", person_id=p.id))
                if which == "merge" and merge_form.validate_on_submit():
                    other_id = merge_form.other_id.data or _number(merge_form.other_number.data)
                    other = db.session.get(Person, other_id) if other_id else None
                    if other is None or other.community_id != g.community.id:
                        merge_form.other_number.errors = [_("Choose the other person, or give their register number.")]
                        raise ServiceError("invalid_person", _("Choose the other person, or give their register number."))
                    kept = svc.merge(g.community, p, other, current_user)
                    flash(_("Merged: one person with every entry of both."), "success")
                    return redirect(url_for("c.structure.person", person_id=kept.id))
                if which == "split":
                    member = db.session.get(HouseholdMember, whole_number(request.form.get("member_id"), "member_id",
                                                                          default=0))
                    if member is None or member.person_id != p.id:
                        abort(404)
                    new = svc.split(g.community, member, current_user)
                    flash(_("The entry is now a person of its own."), "success")
                    return redirect(url_for("c.structure.person", person_id=new.id))
        except ServiceError as err:
            apply_error({"identity": identity_form, "birth": birth_form}.get(which, merge_form), err)
            p = _person(person_id)
    return render_template("structure/person.html", person=p, identity_form=identity_form,
                           merge_form=merge_form, birth_form=birth_form, birth_label=svc.birth_label(p), has_others=bool(others), id_type_label=type_label)


@bp.route("/people/duplicates", methods=["GET", "POST"])
@require("core.structure.manage")
def duplicates():
    """People of the same name whom nothing tells apart: staff say whether they are one person."""
    if request.method == "POST":
        form = Form()
        ids = [whole_number(v, "person_id") for v in request.form.getlist("person_id")]
        people = [db.session.get(Person, i) for i in ids]
        if not form.validate_on_submit() or any(p is None or p.community_id != g.community.id for p in people):
            abort(400)
        try:
            with transaction():
                if request.form.get("action") not in ("merge", "distinct"):
                    raise ServiceError("choose_action", _("Say whether they are one person or different people."))
                if request.form.get("action") == "merge":
                    if len(people) < 2:
                        raise ServiceError("choose_two", _("Choose at least two people."))
                    svc.merge_all(g.community, people, current_user)
                    flash(_("Merged: one person with every entry of both."), "success")
                else:
                    if len(people) < 2:
                        raise ServiceError("choose_two", _("Choose at least two people."))
                    svc.mark_distinct(g.community, people, current_user)
                    flash(_("Recorded: they are different people."), "success")
        except ServiceError as err:
            apply_error(None, err)
        back = _back()
        return redirect(url_for("c.structure.duplicates", next=back) if back else url_for("c.structure.duplicates"))
    return render_template("structure/duplicates.html", groups=svc.possible_duplicates(g.community),
                           form=Form(), back=_back())


def _back():
    """The page to go back to after resolving (an owners' ballot about to open), if any."""
    return safe_next(request.args["next"]) if request.args.get("next") else None


@bp.route("/people/birth-dates")
@require("core.structure.manage")
def birth_dates_unknown():
    """The people on the register whose age is not known today (no date of birth, or only the
    year in which they turn 18): not among the residents aged 18 or over until staff record it."""
    return render_template("structure/birth_dates.html", people=svc.birth_date_unknown(g.community),
                           birth_label=svc.birth_label)
