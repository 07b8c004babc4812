"""Who commits (issue 21): mediation's services never do; the entry point's transaction
(core.db.transaction) commits or rolls back everything an action wrote, and the uploaded files
follow their rows: a file stored in a transaction that rolls back is removed, a file whose row a
committed purge deleted is removed, a purge rolled back leaves every file in place."""
import os
from datetime import timedelta

import pytest

from core.db import transaction
from core.extensions import db
from tests.plugins.mediation.conftest import hold_session

pytestmark = pytest.mark.plugins("mediation")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Boom(Exception):
    pass


def _stored(tmp_path):
    folder = tmp_path / "uploads"
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_a_service_commits_nothing_itself(app, world):
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationCase

    db.session.commit()
    svc.open_case(world.community, world.grid_worker, {
        "source": "grid_report", "category": "pets", "description": "狗叫扰民", "parties": [{"name": "甲"}]})
    db.session.rollback()  # what an entry point's transaction does on an error
    assert MediationCase.query.count() == 0


def test_an_upload_rolled_back_leaves_no_file(app, world, case, tmp_path):
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationDocument

    db.session.commit()
    with pytest.raises(Boom):
        with transaction():
            svc.upload_document(case, world.mediator, "scan.pdf", PDF)
            assert len(_stored(tmp_path)) == 1
            raise Boom  # anything after the upload fails: the row and the file go
    assert MediationDocument.query.count() == 0 and _stored(tmp_path) == []
    with transaction():
        doc = svc.upload_document(case, world.mediator, "scan.pdf", PDF)
    assert _stored(tmp_path) == [doc.stored_name]
    assert svc.document_path(doc).read_bytes() == PDF


def test_a_purge_removes_the_files_only_once_it_has_committed(app, world, case, tmp_path):
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationCase, MediationDocument

    hold_session(case, world.mediator)
    doc = svc.upload_document(case, world.mediator, "scan.pdf", PDF)
    svc.close(case, world.mediator, "withdrawn", "撤回")
    case.closed_at = case.closed_at - timedelta(days=365 * 4)
    db.session.commit()
    path = svc.document_path(doc)
    with pytest.raises(Boom):
        with transaction():
            assert [n for n, _counts in svc.purge(world.community, world.mediator)] == [case.number]
            raise Boom
    assert path.is_file() and MediationDocument.query.count() == 1  # the file stays with its row
    with transaction():
        svc.purge(world.community, world.mediator)
    assert not path.exists() and MediationDocument.query.count() == 0
    assert db.session.get(MediationCase, case.id).purged_at is not None


def test_a_refused_action_on_a_page_leaves_nothing_written(app, world, case, login):
    """Re-opening records the refusing party's new consent before it finds the case open
    meanwhile: the Conflict rolls back the consent too."""
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationCase, MediationParty

    respondent = case.parties[1]
    svc.set_consent(case, respondent, world.mediator, "refused")  # closes the case
    db.session.commit()
    m = login(world.mediator)
    MediationCase.query.filter_by(id=case.id).update({"status": "open", "outcome": None, "closed_at": None})
    db.session.commit()  # another request re-opened it meanwhile; this page still shows it closed
    r = m.post(f"/c/test/mediation/cases/{case.id}/reopen",
               data={"rs-reason": "当事人愿意再谈", "agreed_party": str(respondent.id)})
    assert r.status_code == 409
    db.session.expire_all()
    assert db.session.get(MediationParty, respondent.id).consent == "refused"
