"""R22: the parties' separate consent to processing sensitive personal information (PIPL Art. 29)
before any session, and the erasure of closed cases' personal details after the retention period."""
from datetime import timedelta

import pytest

from core.errors import Conflict, Forbidden
from core.extensions import db
from tests.plugins.mediation.conftest import SECRET

pytestmark = pytest.mark.plugins("mediation")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _session(case, actor):
    from plugins.mediation import services as svc

    return svc.add_session(case, actor, {"held_on": svc.dates.today(case.community), "place": "调解室",
                                         "attendees": "双方", "notes": f"笔录{SECRET}"})


def test_no_session_before_every_party_consented(app, world):
    from plugins.mediation import services as svc

    case = svc.open_case(world.community, world.mediator, {
        "source": "committee", "category": "parking", "description": "车位", "rights_notified": True,
        "parties": [{"name": "甲", "consent": "agreed"}, {"login": "resident", "role": "respondent"},
                    {"name": "丙", "role": "other"}]})
    with pytest.raises(Conflict) as err:
        _session(case, world.mediator)
    assert err.value.code == "pi_consent_missing" and "甲、居民甲、丙" in str(err.value.message)
    first = case.parties[0]
    svc.record_pi_consent(case, world.mediator, [first.id])
    assert first.pi_consent_method == "form" and first.pi_consent_by_id == world.mediator.id
    assert first.pi_consent_on == svc.dates.today(world.community)
    with pytest.raises(Conflict):
        svc.record_pi_consent(case, world.mediator, [first.id])  # recorded once
    with pytest.raises(Conflict):
        _session(case, world.mediator)
    with pytest.raises(Forbidden):
        svc.record_pi_consent(case, world.resident, None, "paper")
    future = (svc.dates.today(world.community) + timedelta(days=1)).isoformat()
    with pytest.raises(svc.ServiceError) as err:
        svc.record_pi_consent(case, world.mediator, None, "paper", future)
    assert "on" in err.value.fields
    done = svc.record_pi_consent(case, world.mediator, None, "paper")  # everyone still missing, on paper
    assert [p.name for p in done] == ["居民甲", "丙"] and {p.pi_consent_method for p in done} == {"paper"}
    assert _session(case, world.mediator).id


def test_a_refusing_party_does_not_hold_up_the_gate(app, world, case):
    from plugins.mediation import services as svc

    svc.add_party(case, world.mediator, {"role": "other", "name": "丁", "consent": "pending"})
    assert [p.name for p in svc.pi_consent_missing(case)] == ["丁"]
    case.parties[-1].consent = "refused"
    assert svc.pi_consent_missing(case) == []


def _closed_case(world, case, years_ago=4):
    """The fixture's case with a session, a document, an oral agreement and a follow-up, resolved
    ``years_ago`` years ago."""
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationFollowup

    _session(case, world.mediator)
    doc = svc.upload_document(case, world.mediator, "photo.png", PNG)
    svc.record_agreement(case, world.mediator, {"form": "oral", "facts": f"事实{SECRET}", "terms": "十点后安静",
                                                "obligations": [{"party_id": case.parties[1].id,
                                                                 "description": f"安静{SECRET}",
                                                                 "due_on": svc.dates.today(world.community)}]})
    svc.record_followup(MediationFollowup.query.filter_by(case_id=case.id).first(), world.mediator, "performed",
                        f"已履行{SECRET}")
    svc.close(case, world.mediator, "resolved")
    case.closed_at = case.closed_at - timedelta(days=365 * years_ago + 2)
    case.opened_at = case.closed_at - timedelta(days=10)
    db.session.commit()
    return svc.document_path(doc)


def _counts(case_id):
    from plugins.mediation import models as m

    return {cls.__tablename__: cls.query.filter_by(case_id=case_id).count()
            for cls in (m.MediationParty, m.MediationSession, m.MediationDocument, m.MediationAgreement)}


def test_purge_erases_personal_details_keeps_statistics_and_is_idempotent(app, world, case, runner):
    from core.models import AuditEntry
    from plugins.mediation import reports
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationCase, MediationFollowup, MediationHistory

    path = _closed_case(world, case)
    assert path.is_file()
    recent = svc.open_case(world.community, world.mediator, {  # closed yesterday: kept
        "source": "committee", "category": "pets", "description": f"狗{SECRET}", "parties": [{"name": "甲"}]})
    svc.close(recent, world.mediator, "withdrawn", "撤回")
    still_open = svc.open_case(world.community, world.mediator, {
        "source": "committee", "category": "noise", "description": "噪音", "parties": [{"name": "乙"}]})
    before = _counts(case.id)
    assert before == {"mediation_party": 2, "mediation_session": 1, "mediation_document": 1,
                      "mediation_agreement": 1}
    stats_before = reports.stats(world.community)

    # Dry run: lists the case, changes nothing.
    r = runner.invoke(args=["mediation", "purge", "--community", "test", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert case.number in r.output and recent.number not in r.output and "Nothing was changed" in r.output
    db.session.expire_all()
    assert _counts(case.id) == before and path.is_file() and SECRET in db.session.get(MediationCase, case.id).description
    assert AuditEntry.query.filter_by(action="mediation.case.purged").count() == 0

    r = runner.invoke(args=["mediation", "purge", "--community", "test"])
    assert r.exit_code == 0, r.output
    assert "1 cases erased" in r.output
    db.session.expire_all()
    c = db.session.get(MediationCase, case.id)
    assert _counts(case.id) == {"mediation_party": 0, "mediation_session": 0, "mediation_document": 0,
                                "mediation_agreement": 0}
    assert not path.exists()
    assert c.purged_at is not None and c.description == "" and c.location is None
    # The statistics row stays: category, tier, source, dates, outcome.
    assert (c.category, c.tier, c.status, c.outcome) == ("noise", "community", "closed", "resolved")
    assert c.opened_at is not None and c.closed_at is not None
    fu = MediationFollowup.query.filter_by(case_id=case.id).one()
    assert fu.result == "performed" and fu.findings is None
    assert all(h.reason is None for h in MediationHistory.query.filter_by(case_id=case.id))
    stats_after = reports.stats(world.community)
    for key in ("total", "closed", "resolved", "codes", "by_outcome", "by_month"):
        assert stats_after[key] == stats_before[key], key
    # The audit entry names ids only.
    entry = AuditEntry.query.filter_by(action="mediation.case.purged").one()
    assert entry.object_id == str(case.id) and entry.after == {"case_id": case.id}
    # Nothing secret is left anywhere in the case's tables, except the kept recent case.
    assert SECRET in db.session.get(MediationCase, recent.id).description
    assert db.session.get(MediationCase, still_open.id).parties[0].name == "乙"

    # Twice is safe: nothing more to erase, no new audit entry.
    r = runner.invoke(args=["mediation", "purge", "--community", "test"])
    assert r.exit_code == 0 and "0 cases erased" in r.output
    assert AuditEntry.query.filter_by(action="mediation.case.purged").count() == 1
    # The erased case still opens for mediation staff.
    assert svc.purge(world.community, world.mediator) == []


def test_retention_years_setting_and_staff_only(app, world, case):
    from core.services import settings
    from plugins.mediation import services as svc

    _closed_case(world, case, years_ago=4)
    settings.set(world.community, "mediation", "retention_years", 5)
    db.session.commit()
    assert svc.purge(world.community, None, dry_run=True) == []
    settings.set(world.community, "mediation", "retention_years", 3)
    db.session.commit()
    with pytest.raises(Forbidden):
        svc.purge(world.community, world.admin)
    report = svc.purge(world.community, world.mediator, dry_run=True)
    assert report == [(case.number, {"parties": 2, "sessions": 1, "documents": 1, "agreements": 1,
                                     "followups": 1})]


def test_an_erased_case_still_opens(app, world, case, login):
    from plugins.mediation import services as svc

    _closed_case(world, case)
    svc.purge(world.community, None)
    page = login(world.mediator).get(f"/c/test/mediation/cases/{case.id}")
    assert page.status_code == 200 and SECRET not in page.get_data(as_text=True)
    assert "R22" not in page.get_data(as_text=True) and case.purged_at.date().isoformat() in page.get_data(as_text=True)
