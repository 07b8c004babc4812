"""Personal data hooks of the mediation module (PIPL Art. 45 copy, Art. 47 erasure).

Rule: case files are legal records (人民调解法; R22) kept for the retention period, and they are
also the other parties' records. For an erasure request, in every case the person is a party to,
open or closed, their own party record keeps its role and consent state, with the name replaced
by the anonymous id and no phone or address (the mediators still see that this party exists).
The rest of the case file — the other parties, the description, session notes, the agreement —
is not touched: it is the other parties' record too, written by the mediators, and it goes with
the whole case at the end of the retention period (``linli mediation purge``). Staff can edit a
specific record if the person asks.

Found by key (core/services/personal_data.py): ``mediation_party`` rows linked to the account
(``user_id``): name, phone, address; ``mediation_committee_member.name`` where the person is on the
committee (``user_id``). Cases they reported or worked on as mediator keep their statistics.

The copy contains the person's own party records and the case numbers, categories and states of
their cases, never another party's details."""
from core.dates import iso
from core.hookspecs import hookimpl


def _day(value):
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
                            "phone": p.phone, "address": p.address, "consent": p.consent,
                            "consent_at": iso(p.consent_at),
                            "personal_data_consent_on": _day(p.pi_consent_on),
                            "asked_to_stop_at": iso(p.stop_requested_at),
                            "asked_for_private_hearing_at": iso(p.private_requested_at)}
                           for p, number, category, status in parties],
        "cases_reported": [{"case": c.number, "category": c.category, "status": c.status,
                            "reported_at": iso(c.opened_at)}
                           for c in reported],
    }


@hookimpl
def personal_data_erase(user, community, actor):
    from core.services.personal_data import anonymous_label
    from plugins.mediation.models import MediationCase, MediationCommitteeMember, MediationParty

    label = anonymous_label(user)
    cases = _ids(MediationCase.query.with_entities(MediationCase.id).filter_by(community_id=community.id))
    parties = 0
    if cases:
        parties = MediationParty.query.filter(
            MediationParty.case_id.in_(cases), MediationParty.user_id == user.id,
            (MediationParty.name != label) | MediationParty.phone.isnot(None) | MediationParty.address.isnot(None),
        ).update({"name": label, "phone": None, "address": None}, synchronize_session=False)
    committee = MediationCommitteeMember.query.filter(
        MediationCommitteeMember.community_id == community.id, MediationCommitteeMember.user_id == user.id,
        MediationCommitteeMember.name != label).update({"name": label}, synchronize_session=False)
    return {"module": "mediation", "parties": parties, "committee": committee}


def _ids(query):
    return [i for (i,) in query]
