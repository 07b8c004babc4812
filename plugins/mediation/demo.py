"""Demo content: a noise dispute from the grid worker's report to a follow-up visit, a few other
cases, the mediators' duty roster with the weekly 道德门诊, and the holiday calendar. Every
agreement is recorded as the rules require it: the notice of rights, every party's consent to
mediation and to processing their personal information, and a session first (R16–R18).

Loaded inside the demo builder's one transaction (core.demo: the builder is the entry point)."""
from datetime import time, timedelta

from core import dates
from core.extensions import db
from core.models import utcnow
from plugins.mediation import services as svc
from plugins.mediation.models import MediationFollowup


def load(community, users):
    now = utcnow()
    today = dates.today(community)
    gw, mediator = users["wanggeyuan"], users["tiaojieyuan"]
    a, b, c = users["resident1"], users["resident2"], users["resident3"]
    svc.add_holidays(community, None, "2026-10-01", "2026-10-07", "国庆节")
    svc.add_holidays(community, None, "2027-01-01", None, "元旦")
    svc.add_holidays(community, None, "2027-02-05", "2027-02-11", "春节")

    # 1. The noise dispute: reported by the grid worker, escalated, assigned, two sessions, agreement.
    noise = svc.open_case(community, gw, {
        "source": "grid_report", "category": "noise", "urgency": "normal",
        "description": "3号楼402住户反映楼上502夜间长时间使用音响、拖动家具，多次沟通无果，双方在楼道发生争吵。",
        "grid_id": _grid_of(community, gw), "location": "3号楼 4–5层",
        "rights_notified": True, "voluntary_statement": True,
        "parties": [{"role": "applicant", "user": a, "phone": "13900000001", "consent": "agreed",
                     "pi_consent": "form"},
                    {"role": "respondent", "user": b, "phone": "13900000002", "consent": "agreed",
                     "pi_consent": "form"}],
    }, when=now - timedelta(days=20))
    svc.escalate(noise, mediator, "网格员两次上门劝解未果，双方同意由社区人民调解委员会调解。")
    svc.assign(noise, mediator, mediator)
    for days, place, notes in (
        (15, "社区调解室", "分别听取双方陈述。502住户表示孩子练琴时间可调整，但否认夜间拖动家具。"),
        (8, "社区调解室", "双方当面协商，达成一致意见：晚十点后不再练琴，家具加装防滑垫。"),
    ):
        svc.add_session(noise, mediator, {"held_on": today - timedelta(days=days), "held_at": "19:00", "place": place,
                                          "attendees": f"{a.display_name}、{b.display_name}、{mediator.display_name}",
                                          "notes": notes})
    party_a, party_b = noise.parties[0], noise.parties[1]
    ag = svc.record_agreement(noise, mediator, {
        "form": "written",
        "facts": "502住户夜间练琴、拖动家具产生噪音，影响402住户休息。双方均同意通过调解解决。",
        "terms": "一、502住户晚上十点至早上七点不练琴、不拖动家具；二、502住户为家具加装防滑静音垫；三、双方互相谅解，今后有问题先找楼长沟通。",
        "obligations": [{"party_id": party_b.id, "description": "为家具加装防滑静音垫",
                         "due_on": today - timedelta(days=3)},
                        {"party_id": party_b.id, "description": "晚十点后不练琴", "due_on": today + timedelta(days=30)}],
    })
    for who in (party_a.id, party_b.id, "mediator", "seal"):
        svc.sign(ag, mediator, str(who))
    # The agreement was signed a week ago in this story: date it so the first visit is due today.
    ag.effective_on = today - timedelta(days=7)
    for f in MediationFollowup.query.filter_by(case_id=noise.id):
        f.due_on = max(f.obligation.due_on, ag.effective_on) + timedelta(days=3)
    db.session.flush()
    # R19: the applicant wants judicial confirmation; the respondent has not said yet.
    svc.record_confirmation(ag, mediator, [party_a.id])

    # 2. A water leak applied for online by a resident, still at grid tier and over a month old.
    leak = svc.open_case(community, c, {
        "source": "application", "category": "water_leak", "urgency": "urgent",
        "description": "卫生间天花板渗水，楼上住户不在家，物业联系不上。",
        "parties": [{"role": "respondent", "name": "赵先生（6号楼301业主）", "phone": "13900000003"}],
    }, when=now - timedelta(days=40))
    svc.assign(leak, mediator, gw)

    # 3. A parking dispute settled orally and closed.
    parking = svc.open_case(community, users["loudongzhang"], {
        "source": "building_head", "category": "parking", "description": "两户为门前车位长期争执。",
        "rights_notified": True, "voluntary_statement": True,
        "parties": [{"role": "applicant", "name": "钱先生", "consent": "agreed", "pi_consent": "paper"},
                    {"role": "respondent", "name": "孙女士", "consent": "agreed", "pi_consent": "paper"}],
    }, when=now - timedelta(days=60))
    svc.assign(parking, mediator, mediator)
    svc.add_session(parking, mediator, {"held_on": today - timedelta(days=55), "place": "1号楼楼下",
                                        "attendees": "钱先生、孙女士、周调解员"})
    svc.record_agreement(parking, mediator, {"form": "oral", "facts": "双方争用门前车位。",
                                             "terms": "单双日轮流停放。"})
    svc.close(parking, mediator, "resolved")
    f = MediationFollowup.query.filter_by(case_id=parking.id).first()
    svc.record_followup(f, mediator, "performed", "双方按约定轮流停放，未再发生争执。")

    # 4. A family dispute referred by the police station, flagged for a risk of violence.
    svc.open_case(community, mediator, {
        "source": "police", "source_detail": "示范街道派出所", "category": "family", "urgency": "urgent",
        "description": "兄弟二人因老人赡养问题多次争吵，派出所出警后转来调解。", "violence_risk": True,
        "parties": [{"role": "applicant", "name": "李大哥"}, {"role": "respondent", "name": "李二弟"}],
    }, when=now - timedelta(days=2))

    # The people's mediation committee (R15): five members, two of them women, elected a year ago.
    elected = today.replace(year=today.year - 1) if not (today.month == 2 and today.day == 29) \
        else today.replace(year=today.year - 1, day=28)
    for name, user, sex, role in (("", mediator, "male", "chair"), ("王秀兰", None, "female", "vice_chair"),
                                  ("", gw, "female", "member"), ("陈建国", None, "male", "member"),
                                  ("刘芳", None, "female", "member")):
        svc.add_committee_member(community, None, {"name": name, "user": user, "sex": sex, "role": role,
                                                   "term_start": elected})

    # Duty roster: the weekly 道德门诊 and a Saturday duty hour.
    svc.add_slot(community, None, {"user": mediator, "weekday": 2, "start_time": time(9, 0),
                                   "end_time": time(11, 30), "place": "社区党群服务中心调解室", "title": "道德门诊",
                                   "capacity": 6})
    svc.add_slot(community, None, {"user": mediator, "weekday": 5, "start_time": time(14, 0),
                                   "end_time": time(16, 0), "place": "社区调解室", "title": "周末调解值班",
                                   "capacity": 4})


def _grid_of(community, user):
    from core.models import Membership

    m = Membership.query.filter_by(user_id=user.id, community_id=community.id).first()
    return m.grid_id if m else None
