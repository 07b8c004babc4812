"""Uploads: jpg, png and pdf only, at most 10 MB, checked by their first bytes, stored under
the instance folder and served only through the access-checked view as an attachment."""
import io
import os

import pytest

pytestmark = pytest.mark.plugins("mediation")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100


def _upload(client, case, name, data, kind="evidence"):
    return client.post(f"/c/test/mediation/cases/{case.id}/documents",
                       data={"dc-kind": kind, "dc-file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_photo_is_stored_and_downloaded_as_an_attachment(app, world, case, login, tmp_path):
    from plugins.mediation.models import MediationDocument

    m = login(world.mediator)
    assert _upload(m, case, "现场照片.jpg", JPG).status_code == 302
    doc = MediationDocument.query.one()
    assert doc.content_type == "image/jpeg" and doc.size == len(JPG)
    stored = tmp_path / "uploads" / doc.stored_name
    assert stored.read_bytes() == JPG and "现场照片" not in doc.stored_name
    r = m.get(f"/c/test/mediation/cases/{case.id}/documents/{doc.id}")
    assert r.status_code == 200 and r.data == JPG
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r.headers["Cache-Control"]
    assert "现场照片.jpg" in m.get(f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)


@pytest.mark.parametrize("name, data", [
    ("evil.html", b"<script>alert(1)</script>"),
    ("fake.png", b"<svg onload=alert(1)>"),          # the name says png, the bytes do not
    ("fake.pdf", JPG),
    ("empty.jpg", b""),
    ("noext", PDF),
])
def test_other_files_are_refused_and_nothing_is_stored(app, world, case, login, tmp_path, name, data):
    from plugins.mediation.models import MediationDocument

    r = _upload(login(world.mediator), case, name, data)
    assert r.status_code == 400
    assert "dc-file-err" in r.get_data(as_text=True)
    assert MediationDocument.query.count() == 0
    folder = tmp_path / "uploads"
    assert not folder.exists() or os.listdir(folder) == []


def test_files_over_ten_megabytes_are_refused(app, world, case):
    from core.errors import ServiceError
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationDocument

    # through the service: the test client would spool a body this large to an unclosed temp file
    with pytest.raises(ServiceError) as e:
        svc.upload_document(case, world.mediator, "scan.pdf", PDF + b"0" * (10 * 1024 * 1024))
    assert "10 MB" in str(e.value.fields["file"])
    assert MediationDocument.query.count() == 0
    svc.upload_document(case, world.mediator, "scan.pdf", PDF + b"0" * (10 * 1024 * 1024 - len(PDF)))
    assert MediationDocument.query.count() == 1


def test_a_pdf_scan_is_accepted(app, world, case, login):
    from plugins.mediation.models import MediationDocument

    assert _upload(login(world.mediator), case, "协议扫描.PDF", PDF, kind="agreement").status_code == 302
    assert MediationDocument.query.one().content_type == "application/pdf"
