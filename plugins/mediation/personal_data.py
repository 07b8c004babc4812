"""Personal data hooks of the mediation module (PIPL Art. 45 copy, Art. 47 erasure).

Rule: case files are legal records (人民调解法; R22). For an erasure request:

* a closed case the person is a party to is anonymised at once exactly as the retention purge
  does (``services.anonymise_case``: parties, free text, sessions, agreements, documents go; the
  case row stays for the statistics);
* in a case still open, the person's party record keeps its role and consent state, with the name
  replaced by the anonymous id and no phone or address (the mediators still see that this party
  exists);
* cases they reported or worked on as mediator keep their statistics; their name anywhere in the
  case text is replaced by the core.

The copy contains the person's own party records and the case numbers, categories and states of
their cases, never another party's details."""
from core.hookspecs import hookimpl


def _iso(value):
    return value.isoformat() if value is not None else None


@hookimpl
def personal_data_export(user, community):
    from plugins.mediation.models import MediationCase, MediationParty

    parties = (MediationParty.query.join(MediationCase, MediationCase.id == MediationParty.case_id)
               .add_columns(MediationCase.number, MediationCase.category, MediationCase.status)
               .filter(MediationCase.community_id == community.id, MediationParty.user_id == user.id)
               .order_by(MediationParty.id).all())
    reported = (MediationCase.query.filter_by(community_id=community.id, reported_by_id=user.id)
                .order_by(MediationCase.id).all())
    if not (parties or reported):
        return None
    return {
        "module": "mediation",
        "cases_as_party": [{"case": number, "category": category, "status": status, "role": p.role, "name": p.name,
                            "phone": p.phone, "address": p.address, "consent": p.consent}
                           for p, number, category, status in parties],
        "cases_reported": [{"case": c.number, "category": c.category, "status": c.status,
                            "reported_at": _iso(c.created_at) if hasattr(c, "created_at") else None}
                           for c in reported],
    }


@hookimpl
def personal_data_erase(user, community, actor):
    from sqlalchemy import event

    from core.extensions import db
    from core.services.personal_data import anonymous_label
    from plugins.mediation.models import MediationCase, MediationParty
    from plugins.mediation.services import anonymise_case

    label = anonymous_label(user)
    cases = (MediationCase.query.join(MediationParty, MediationParty.case_id == MediationCase.id)
             .filter(MediationCase.community_id == community.id, MediationParty.user_id == user.id)
             .distinct().order_by(MediationCase.id).all())
    closed, parties, files = 0, 0, []
    for case in cases:
        if case.status == "closed":
            _counts, case_files = anonymise_case(case, community, actor)
            files += case_files
            closed += 1
            continue
        for p in case.parties:
            if p.user_id == user.id and (p.name != label or p.phone is not None or p.address is not None):
                p.name, p.phone, p.address = label, None, None
                parties += 1
    if files:  # the files go once the erasure is committed (a failed commit keeps them with their rows)
        event.listen(db.session(), "after_commit", lambda s: [f.unlink(missing_ok=True) for f in files], once=True)
    return {"module": "mediation", "closed_cases_anonymised": closed, "parties": parties}
