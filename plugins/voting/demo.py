"""Demo ballots: an open one on the proposal being voted on, closed ones with results on the
accepted and rejected proposals, and owners' double-majority ballots (one closed, one open for
staff to enter paper ballots)."""
import random
from datetime import timedelta

from core import dates
from core.extensions import db
from core.models import Proposal, utcnow
from plugins.voting import services
from plugins.voting.models import Voter


def _owners_ballot(community, staff, data):
    """An owners' ballot whose notice went up 16 days ago (R8: at least 15), opened now, with a
    voting window inside the community's bounds (R10: 5–60 days). The demo register's owners
    have random names, some of them shared: it opens as the register stands (staff confirm)."""
    b = services.create(community, staff, data)
    services.publish_notice(b, staff, at=utcnow() - timedelta(days=16))
    services.open_ballot(b, staff, confirm_duplicates=True)
    return b


def _cast_many(ballot, staff, rng, share, weights, paper_share=0.0):
    """Cast ``share`` of the electorate: online where the voter has an account, else on paper."""
    voters = Voter.query.filter_by(ballot_id=ballot.id).order_by(Voter.id).all()
    options = list(range(len(ballot.options)))
    for v in voters:
        if rng.random() >= share:
            continue
        if ballot.method in ("irv", "schulze"):
            choice = rng.sample(options, k=rng.randint(1, len(options)))
        elif ballot.method == "approval":
            choice = rng.sample(options, k=rng.randint(1, 2))
        else:
            choice = rng.choices(options, weights=weights)[0]
        if v.user_id and rng.random() >= paper_share:
            from core.models import User

            services.cast(ballot, db.session.get(User, v.user_id), choice)
        else:
            services.cast(ballot, staff, choice, voter=v, source="paper", witness="李社工")
    db.session.flush()


def load(community, users):
    rng = random.Random(278)
    staff = users["staff"]
    proposals = {s: Proposal.query.filter_by(community_id=community.id, state=s).order_by(Proposal.id).all()
                 for s in ("voting", "accepted", "rejected")}
    # 1. The proposal being voted on: an open yes/no ballot, some residents have voted.
    for p in proposals["voting"]:
        b = services.create(community, staff, {"days": 10}, proposal=p, open_now=True)
        for login, choice in (("resident2", "yes"), ("resident3", "no"), ("loudongzhang", "yes")):
            if services.voter_for(b, users[login]) is not None:
                services.cast(b, users[login], choice)
    # 2. Closed ballots with results on an accepted and a rejected proposal.
    for state, weights in (("accepted", (6, 2, 1)), ("rejected", (2, 6, 1))):
        for p in proposals[state][:1]:
            p.state = "voting"  # as it was while the ballot ran
            b = services.create(community, staff, {"days": 7, "unit": "household"}, proposal=p, open_now=True)
            _cast_many(b, staff, rng, 0.7, weights, paper_share=0.3)
            p.state = state
            db.session.flush()
            services.count_and_close(b, staff, "演示：投票期结束")
    # 3. Owners' double majority, closed: renewing the property-service contract (ordinary).
    b = _owners_ballot(community, staff, {
        "title": "续聘物业服务企业（业主共同决定）", "unit": "owners", "matter_class": "ordinary", "days": 14,
        "description": "依据《民法典》第二百七十八条，续聘现物业服务企业三年。专有部分面积和业主人数双过半。"})
    _cast_many(b, staff, rng, 0.8, (7, 2, 1), paper_share=0.5)
    services.count_and_close(b, staff, "演示：投票期结束")
    # 4. Owners' double majority, open: raising the maintenance fund (special matter, 3/4).
    b = _owners_ballot(community, staff, {
        "title": "筹集专项维修资金加装电梯（特别事项）", "unit": "owners", "matter_class": "special", "days": 20,
        "description": "筹集建筑物及其附属设施的维修资金，属于《民法典》第二百七十八条规定的特别事项："
                       "参与表决的专有部分面积和人数均需四分之三以上同意。"})
    _cast_many(b, staff, rng, 0.4, (8, 1, 1), paper_share=0.6)
    # Two owners who have not voted gave a written proxy (委托书) to a neighbour without an account.
    waiting = Voter.query.filter(Voter.ballot_id == b.id, Voter.voted_at.is_(None),
                                 Voter.key.like("owner:%")).order_by(Voter.id).limit(2).all()
    for v in waiting:
        services.record_proxy(b, staff, {"voter_id": v.id, "proxy_name": "王阿姨（3号楼邻居）",
                                         "instructions": "同意", "witness": "李社工"})
    # An owners' ballot announced today: its notice is up 15 whole days, voting opens the day after at 9:00.
    opens = dates.start_of_day(dates.today(community) + timedelta(days=16), community) + timedelta(hours=9)
    b = services.create(community, staff, {
        "title": "更换小区门禁系统（业主共同决定）", "unit": "owners", "matter_class": "ordinary",
        "opens_at": opens, "closes_at": opens + timedelta(days=10),
        "description": "拟使用公共收益更换小区门禁系统，费用约 12 万元。公告期十五日，期间可向业主委员会提出意见。"})
    services.publish_notice(b, staff)
    # 5. A standalone ranked-choice poll, open.
    services.create(community, staff, {
        "title": "社区活动中心周末开放时段", "method": "irv", "unit": "person", "days": 12,
        "options": ["上午 9–12 点", "下午 2–5 点", "晚上 7–9 点", "全天开放"]}, open_now=True)
    db.session.flush()
    # 6. Residents asking for a residents' meeting: a request collecting support.
    load_convening(community, users)


def load_convening(community, users):
    """A request for a residents' meeting collecting support (by households): started by 杨女士, supported
    by two neighbours and, for an elderly owner of his building without an account, by the building head."""
    from core.models import Building, Household, HouseholdMember, Person, Unit
    from plugins.voting import convening

    req = convening.start(community, users["resident3"], {
        "subject": "地面停车位重新划线", "base": "households",
        "reason": "小区车位不够，晚上消防通道常被占用。请居委会召集居民会议，讨论地面停车位重新划线和访客临时车位的方案。"})
    for login in ("resident1", "resident2"):
        convening.support(req, users[login])
    head = users["loudongzhang"]
    building = (db.session.query(Unit.building_id).join(Household, Household.unit_id == Unit.id)
                .join(HouseholdMember, HouseholdMember.household_id == Household.id)
                .filter(HouseholdMember.user_id == head.id, Household.community_id == community.id).scalar())
    elder = (Person.query.join(HouseholdMember, HouseholdMember.person_id == Person.id)
             .join(Household, Household.id == HouseholdMember.household_id).join(Unit, Unit.id == Household.unit_id)
             .join(Building, Building.id == Unit.building_id)
             .filter(Building.id == building, Person.user_id.is_(None), HouseholdMember.relation == "owner")
             .order_by(Person.id).first())
    if elder is not None:
        convening.support(req, head, person_id=elder.id, reason="老人不会用手机，当面表示支持，楼长代为登记")
    return req
