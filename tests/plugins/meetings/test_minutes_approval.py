"""Minutes are approved by each organisation's own delegate (R32). Staff may record a named
delegate's approval for them, with a reason, audited and shown as such, never as their own.
Through the services, the web and the API; every refusal saves nothing."""
import pytest

from core.db import transaction
from core.errors import Forbidden, ServiceError
from core.extensions import db
from core.models import AuditEntry
from plugins.meetings import services as svc
from plugins.meetings.models import Meeting, MinutesApproval
from tests.plugins.meetings.conftest import delegates, orgs, quorate, schedule

pytestmark = pytest.mark.plugins("meetings")
BASE = "/api/v1/c/test/meetings"


@pytest.fixture
def review(world, body):
    """A held meeting whose minutes are in review. Delegates: 王书记 (admin) for the party committee,
    李社工 (staff) for the residents' committee, 张经理 (no account; substitute 钱主管 = resident2)
    for the property company, 孙警官 (grid worker) for the police station."""
    m = quorate(schedule(body, world.staff), world.staff)
    with transaction():
        svc.close(m, world.staff)
        svc.save_minutes(m, world.staff, "## 决定\n- 物业两周内清理楼道堆物")
        svc.submit_minutes(m, world.staff)
    return m


def _approvals():
    return MinutesApproval.query.count(), AuditEntry.query.filter_by(action="meetings.minutes.approved").count()


def test_staff_cannot_approve_for_another_organisation_as_themselves(world, body, review):
    party, committee, company, police = orgs(body)
    before = _approvals()
    for org in (party, company, police):
        with pytest.raises(ServiceError) as e:
            svc.approve_minutes(review, world.staff, org.id)
        assert e.value.code == "delegate_required" and {"delegate_id", "reason"} <= set(e.value.fields)
        db.session.rollback()
    assert _approvals() == before
    # For the residents' committee, where staff member 李社工 is the delegate, it is their own approval.
    svc.approve_minutes(review, world.staff, committee.id)
    ap = MinutesApproval.query.one()
    assert (ap.delegate.name, ap.user_id, ap.on_behalf, ap.reason) == ("李社工", world.staff.id, False, None)


def test_recording_for_a_delegate_needs_their_name_and_a_reason(world, body, review):
    ds = delegates(body)
    company = orgs(body)[2]
    before = _approvals()
    for delegate_id, reason, field in ((ds["张经理"].id, "", "reason"), (ds["张经理"].id, "签", "reason"),
                                       (ds["张经理"].id, "x" * 301, "reason"), (ds["孙警官"].id, "电话确认", "delegate_id"),
                                       (99999, "电话确认", "delegate_id"), (ds["张经理"].id, None, "reason")):
        with pytest.raises(ServiceError) as e:
            svc.approve_minutes(review, world.staff, company.id, delegate_id, reason)
        assert field in e.value.fields, (delegate_id, reason, e.value.fields)
        db.session.rollback()
    assert _approvals() == before
    svc.approve_minutes(review, world.staff, company.id, ds["张经理"].id, "在纸质纪要上签字")
    ap = MinutesApproval.query.one()
    assert (ap.delegate_id, ap.user_id, ap.on_behalf, ap.reason) == (ds["张经理"].id, world.staff.id, True,
                                                                     "在纸质纪要上签字")
    entry = AuditEntry.query.filter_by(action="meetings.minutes.approved").one()
    assert (entry.actor_id, entry.on_behalf_of_name, entry.reason) == (world.staff.id, "张经理", "在纸质纪要上签字")
    assert entry.after["on_behalf"] is True and entry.after["delegate_id"] == ds["张经理"].id


def test_only_staff_record_for_others_and_delegates_only_for_their_own(world, body, review):
    ds = delegates(body)
    party, _committee, company, police = orgs(body)
    with pytest.raises(Forbidden):  # a delegate, but of the police station
        svc.approve_minutes(review, world.grid_worker, company.id, ds["张经理"].id, "他让我代签")
    with pytest.raises(Forbidden):
        svc.approve_minutes(review, world.grid_worker, party.id)
    with pytest.raises(Forbidden):  # neither a delegate nor staff
        svc.approve_minutes(review, world.resident, police.id)
    db.session.rollback()
    assert _approvals() == (0, 0)
    # A substitute with an account approves for their own organisation.
    svc.approve_minutes(review, world.resident2)
    assert MinutesApproval.query.one().delegate.name == "钱主管"
    svc.approve_minutes(review, world.grid_worker)
    assert MinutesApproval.query.count() == 2


def test_a_substitute_who_was_removed_cannot_be_named(world, body, review, login):
    ds = delegates(body)
    login(world.admin).post(f"/c/test/meetings/bodies/{body.id}/delegates/{ds['钱主管'].id}/remove",
                            data={"confirm": "1"})
    db.session.expire_all()
    with pytest.raises(ServiceError) as e:
        svc.approve_minutes(review, world.staff, orgs(body)[2].id, ds["钱主管"].id, "纸质签字")
    assert "delegate_id" in e.value.fields


def test_the_web_pages_and_the_print_show_who_approved(world, body, review, login):
    url = f"/c/test/meetings/{review.id}"
    ds = delegates(body)
    party, committee, company, police = orgs(body)
    staff = login(world.staff)
    page = staff.get(url).data.decode()
    assert "代表居民委员会确认" in page  # staff's own organisation: a plain button
    assert "代表社区党委确认" not in page and "替社区党委的代表登记确认" in page
    # Refused on the web: for another organisation without naming the delegate, or without a reason.
    r = staff.post(f"{url}/minutes/approve", data={"org_id": party.id}, follow_redirects=True)
    assert "只有社区党委的代表才能代表该单位确认" in r.data.decode()
    r = staff.post(f"{url}/minutes/approve", data={"org_id": company.id, "delegate_id": ds["张经理"].id, "reason": ""},
                   follow_redirects=True)
    assert "请说明代为登记确认的原因" in r.data.decode()
    assert MinutesApproval.query.count() == 0
    assert staff.post(f"{url}/minutes/approve", data={"org_id": committee.id}).status_code == 302
    staff.post(f"{url}/minutes/approve", data={"org_id": company.id, "delegate_id": ds["张经理"].id,
                                               "reason": "张经理在纸质纪要上签字"})
    login(world.admin).post(f"{url}/minutes/approve", data={"org_id": party.id})
    login(world.grid_worker).post(f"{url}/minutes/approve", data={"org_id": police.id})
    db.session.expire_all()
    assert db.session.get(Meeting, review.id).minutes_state == "approved"
    text = staff.get(f"{url}/minutes/print").data.decode()
    approved = text[text.index("确认单位"):]
    for org, name in (("社区党委", "王书记"), ("居民委员会", "李社工"), ("物业公司", "张经理"), ("派出所", "孙警官")):
        assert f"{org} · {name} · " in approved
    assert "由社工代为登记：张经理在纸质纪要上签字" in approved
    assert approved.count("代为登记") == 1
    page = staff.get(url).data.decode()
    assert "由社工代为登记：张经理在纸质纪要上签字" in page


def test_the_api_names_the_delegate(world, body, review, api):
    ds = delegates(body)
    party, committee, company, police = orgs(body)
    url = f"{BASE}/{review.id}/minutes/approve"
    staff = api(world.staff)
    r = staff.post(url, json={"org_id": police.id})
    assert r.status_code == 400 and r.json["error"]["code"] == "delegate_required"
    r = staff.post(url, json={"org_id": company.id, "delegate_id": ds["张经理"].id, "reason": 5})
    assert r.status_code == 400 and "reason" in r.json["error"]["fields"]
    r = api(world.grid_worker).post(url, json={"org_id": company.id, "delegate_id": ds["张经理"].id,
                                               "reason": "他让我代签"})
    assert r.status_code == 403
    assert MinutesApproval.query.count() == 0
    r = staff.post(url, json={"org_id": company.id, "delegate_id": ds["张经理"].id, "reason": "纸质签字"})
    assert r.status_code == 200
    assert api(world.admin).post(url, json={}).status_code == 200  # one organisation: no need to name it
    approvals = {a["org_id"]: a for a in api(None).get(f"{BASE}/{review.id}").json["minutes_approvals"]}
    assert (approvals[company.id]["delegate_name"], approvals[company.id]["on_behalf"],
            approvals[company.id]["reason"], approvals[company.id]["user_id"]) == ("张经理", True, "纸质签字",
                                                                                    world.staff.id)
    assert (approvals[party.id]["delegate_name"], approvals[party.id]["on_behalf"],
            approvals[party.id]["user_id"]) == ("王书记", False, world.admin.id)
    r = staff.post(url, json={"org_id": company.id, "delegate_id": ds["钱主管"].id, "reason": "再签一次"})
    assert r.status_code == 409 and r.json["error"]["code"] == "already_approved"


def test_an_organisation_that_is_no_whole_number_is_refused_not_taken_for_ones_own(world, body, review):
    """A delegate of one organisation sending ``org_id: "abc"`` is refused: it is never read as
    "none given" and so as their own organisation."""
    before = _approvals()
    with pytest.raises(ServiceError) as e:
        svc.approve_minutes(review, world.grid_worker, "abc")
    assert e.value.code == "invalid_parameter" and "org_id" in e.value.fields
    assert _approvals() == before
