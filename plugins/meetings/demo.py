"""Demo content: the four-party joint meeting (四方联席会议) of the demo community."""
from datetime import timedelta

from core import dates
from core.db import transaction
from core.extensions import db
from core.models import Proposal, utcnow
from plugins.meetings.models import (ActionItem, AgendaItem, Attendance, Body, Delegate, Meeting, MinutesApproval,
                                     Org, Resolution)
from plugins.meetings import services as svc

ORGS = [
    ("社区党委", [("王书记", "admin", "delegate"), ("刘委员", None, "substitute")]),
    ("居民委员会", [("李社工", "staff", "delegate"), ("赵楼长", "loudongzhang", "substitute")]),
    ("物业公司", [("张经理", None, "delegate"), ("钱主管", None, "substitute")]),
    ("社区警务室（派出所）", [("孙警官", None, "delegate")]),
]

MINUTES = """## 时间
{when}

## 地点
社区党群服务中心二楼会议室

## 参会人员
王书记（社区党委）、李社工（居民委员会）、张经理（物业公司）、孙警官（社区警务室）

## 议题与讨论
1. 东门僵尸车清理：物业已张贴告知，三辆车车主中两位已联系。孙警官介绍了长期停放车辆的处置程序。
2. 楼道飞线充电：各方一致认为存在火灾隐患，需要尽快增设集中充电桩。

## 决定
- 物业公司在两周内完成东门僵尸车清理。
- 居委会牵头调查集中充电桩选址，下次会议汇报。
"""


def load(community, users):
    from flask_babel import force_locale

    # The builder is an entry point of its own (or joins `linli demo`'s transaction): one unit of
    # work, committed at its end.
    with force_locale(community.default_locale or "zh_Hans"), transaction():
        _load(community, users)


def _load(community, users):
    now = utcnow()
    body = Body(community_id=community.id, name="四方联席会议",
                description="社区党委、居民委员会、物业公司、社区警务室共同协商小区重大事务，每月召开一次，轮值主席。",
                quorum_rule="all_orgs", decision_rule="majority", topic_deadline_days=3, rotation_index=0)
    db.session.add(body)
    db.session.flush()
    orgs, delegates = [], {}
    for i, (name, people) in enumerate(ORGS):
        org = Org(body_id=body.id, name=name, position=i)
        db.session.add(org)
        db.session.flush()
        orgs.append(org)
        for person, login, role in people:
            user = users.get(login) if login else None
            d = Delegate(body_id=body.id, org_id=org.id, name=person, role=role, user_id=user.id if user else None)
            db.session.add(d)
            db.session.flush()
            delegates.setdefault(org.id, []).append(d)
    # A past meeting, chaired by the party committee, with approved and published minutes.
    start = (now - timedelta(days=30)).replace(hour=11, minute=0, second=0, microsecond=0)
    past = Meeting(community_id=community.id, body_id=body.id, title="四方联席会议（上月例会）", starts_at=start,
                   ends_at=start + timedelta(hours=2), place="社区党群服务中心二楼会议室", chair_org_id=orgs[0].id,
                   status="held", quorum_met=True, uid=f"demo-{community.slug}-past@linli", sequence=1,
                   topics_deadline=start - timedelta(days=3), minutes_state="published",
                   minutes=MINUTES.format(when=dates.format_local(start, community)), minutes_published_at=start + timedelta(days=5),
                   created_by_id=users["staff"].id, created_at=start - timedelta(days=10),
                   updated_at=start + timedelta(days=5))
    db.session.add(past)
    db.session.flush()
    for org in orgs:
        for d in delegates[org.id]:
            if d.role == "delegate":
                db.session.add(Attendance(meeting_id=past.id, delegate_id=d.id, status="present",
                                          recorded_by_id=users["staff"].id, recorded_at=start))
        # Each organisation's delegate approved: with their own account, or, for those without
        # one, staff recorded the approval for them with the reason.
        d = next(d for d in delegates[org.id] if d.role == "delegate")
        own = d.user_id is not None
        db.session.add(MinutesApproval(meeting_id=past.id, org_id=org.id, delegate_id=d.id,
                                       user_id=d.user_id if own else users["staff"].id, on_behalf=not own,
                                       reason=None if own else f"{d.name}在纸质纪要上签字确认",
                                       approved_at=start + timedelta(days=3)))
    items = [("free", "东门僵尸车清理"), ("free", "楼道飞线充电隐患")]
    resolutions = []
    for pos, (kind, title) in enumerate(items):
        item = AgendaItem(meeting_id=past.id, position=pos, kind=kind, title=title,
                          submitted_by_id=users["staff"].id, created_at=start - timedelta(days=5))
        db.session.add(item)
        db.session.flush()
        text = ("物业公司两周内完成东门僵尸车清理，派出所协助联系车主。" if pos == 0
                else "居委会牵头调查集中充电桩选址，下次会议汇报。")
        # Four delegates present, all four for: within those present and a majority (R28).
        res = Resolution(meeting_id=past.id, agenda_item_id=item.id, outcome="decided", text=text, rule="majority",
                         votes_for=4, votes_against=0, votes_abstain=0, recorded_by_id=users["staff"].id,
                         created_at=start + timedelta(hours=1))
        db.session.add(res)
        db.session.flush()
        resolutions.append(res)
    # The first is overdue (due two weeks after the meeting, still open); the second is in progress.
    overdue = ActionItem(community_id=community.id, body_id=body.id, meeting_id=past.id,
                         resolution_id=resolutions[0].id, title="清理东门三辆僵尸车", owner_org_id=orgs[2].id,
                         owner_name="张经理", due_date=(start + timedelta(days=14)).date(), status="in_progress")
    charging = ActionItem(community_id=community.id, body_id=body.id, meeting_id=past.id,
                          resolution_id=resolutions[1].id, title="调查集中充电桩选址并汇报", owner_org_id=orgs[1].id,
                          owner_user_id=users["staff"].id, due_date=(now + timedelta(days=10)).date())
    db.session.add_all([overdue, charging])
    body.rotation_index = 1  # the residents' committee chairs next
    db.session.flush()
    # The upcoming meeting: scheduled through the service, so the rotation, the minutes to confirm
    # and the overdue item on the agenda come out as they would in use.
    nxt = (now + timedelta(days=7)).replace(hour=11, minute=0, second=0, microsecond=0)
    meeting = svc.schedule(body, users["admin"], {
        "title": "四方联席会议（本月例会）", "starts_at": nxt, "duration": 120,
        "place": "社区党群服务中心二楼会议室"})
    coordinating = (Proposal.query.filter_by(community_id=community.id, state="coordinating")
                    .order_by(Proposal.id).first())
    if coordinating is not None:
        svc.add_agenda_item(meeting, users["admin"], {"kind": "proposal", "proposal_id": coordinating.id})
    svc.add_agenda_item(meeting, users["admin"], {
        "kind": "free", "title": "集中充电桩选址汇报", "description": "居委会汇报调查结果，各方讨论建设方案。"})
