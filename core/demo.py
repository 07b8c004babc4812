"""The demo community loaded by `linli demo` (and the first `make run`)."""
import random
from datetime import timedelta
from decimal import Decimal

from flask import current_app

from core.db import transactional
from core.extensions import db
from core.models import (Building, Community, Grid, Household, HouseholdMember, Membership, Proposal,
                         ProposalComment, ProposalSecond, ProposalTransition, Unit, utcnow)
from core.services import accounts, structure

DEMO_PASSWORD = "linli-demo-2026"
DEMO_ACCOUNTS = [
    # login, name, roles, household index (None = not a resident here)
    ("admin", "王主任", ("admin", "staff"), None),
    ("staff", "李社工", ("staff",), None),
    ("loudongzhang", "赵楼长", ("resident", "building_head"), 0),
    ("wanggeyuan", "孙网格员", ("resident", "grid_worker"), 1),
    ("tiaojieyuan", "周调解员", ("resident", "mediator"), 2),
    ("resident1", "陈阿姨", ("resident",), 3),
    ("resident2", "刘大爷", ("resident",), 4),
    ("resident3", "杨女士", ("resident",), 5),
    ("resident4", "黄先生", ("resident",), 30),
    ("resident5", "吴奶奶", ("resident",), 60),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英 建国 丽华 志强 桂兰 海燕 国庆 淑珍 卫东 玉梅 文明 红霞 建华 凤英 德明".split()
PROPOSALS = [
    ("parking", "小区东门僵尸车清理", "东门停车区有三辆车停放超过一年，车身积灰，占用车位。建议由物业张贴告知后统一清理。"),
    ("safety", "禁止楼道飞线给电动车充电", "3号楼有居民从窗户拉线给电动车充电，存在火灾隐患。建议增设集中充电桩。"),
    ("facilities", "为5号楼加装扶手", "5号楼老人多，楼梯没有扶手，上下楼不方便，建议加装不锈钢扶手。"),
    ("greenery", "清理绿化带里的私人菜地", "部分居民在绿化带种菜，毁坏草坪，夏天蚊虫多。建议恢复绿化，另设共享菜园。"),
    ("pets", "遛狗必须拴绳", "小区内常有大型犬不拴绳，孩子和老人害怕。建议制定文明养犬公约。"),
    ("property", "公开物业费收支明细", "希望物业公司每季度在公示栏公布物业费和公共收益的收支明细。"),
    ("elderly", "开设老年助餐点", "社区独居老人较多，建议在活动中心开设助餐点，提供午餐。"),
    ("abandoned_cars", "地下车库废弃电动车处理", "地下车库堆放大量废弃电动车和自行车，影响通行，建议登记后清理。"),
    ("facilities", "修复中心广场路灯", "中心广场有四盏路灯不亮已两个月，晚上散步不安全。"),
    ("parking", "规划访客临时停车位", "访客车辆乱停，建议在北门划出临时停车位并限时。"),
    ("greenery", "楼道私堆乱放清理", "楼道里堆放旧家具和纸箱，挡住消防通道。建议开展集中清理。"),
    ("other", "建立居民议事厅微信群规则", "议事群消息太杂，建议制定群规，重要事项在平台公示。"),
    ("safety", "增设单元门禁", "部分单元门禁损坏，陌生人随意进出，建议维修更换。"),
    ("facilities", "儿童游乐设施维护", "游乐场滑梯有裂缝，存在安全隐患，需要尽快维修。"),
    ("property", "更换垃圾分类投放点位置", "垃圾投放点离2号楼太近，夏天有异味，建议迁移。"),
    ("elderly", "组织志愿者陪伴独居老人", "建议组织志愿者每周上门探访独居老人，积分可兑换。"),
    ("other", "社区图书角扩充", "社区图书角书太少，建议发动居民捐书并设立借阅登记。"),
    ("pets", "设置宠物便便箱", "草坪上常有狗粪，建议在主要路口设置宠物便便箱。"),
]
STAGES = ["draft", "open", "coordinating", "voting", "accepted", "rejected", "implementing", "completed", "withdrawn"]
PATHS = {
    "draft": [], "open": ["open"], "coordinating": ["open", "coordinating"],
    "voting": ["open", "coordinating", "voting"], "accepted": ["open", "coordinating", "voting", "accepted"],
    "rejected": ["open", "coordinating", "voting", "rejected"],
    "implementing": ["open", "coordinating", "voting", "accepted", "implementing"],
    "completed": ["open", "coordinating", "voting", "accepted", "implementing", "completed"],
    "withdrawn": ["open", "withdrawn"],
}


@transactional  # the builder is an entry point of its own: one transaction, committed at its end
def load_demo(slug="demo", progress=None):
    """Create the demo community with structure, accounts, proposals, comments and seconds.

    Returns (community, accounts list) or (existing community, []) if it already exists."""
    existing = Community.query.filter_by(slug=slug).first()
    if existing:
        return existing, []
    rng = random.Random(20261121)
    community = structure.create_community(slug, "邻里示范社区", street="示范街道", seconds_threshold=5,
                                           enable_all=True)
    households = []
    for gi in range(3):
        grid = Grid(community_id=community.id, name=f"第{gi + 1}网格")
        db.session.add(grid)
        db.session.flush()
        for bi in range(4):
            b = Building(community_id=community.id, grid_id=grid.id, name=f"{gi * 4 + bi + 1}号楼")
            db.session.add(b)
            db.session.flush()
            for ui in range(2):
                unit = Unit(building_id=b.id, name=f"{ui + 1}单元")
                db.session.add(unit)
                db.session.flush()
                for floor in range(1, 7):
                    for door in (1, 2):
                        area = Decimal(rng.randrange(5500, 14000)) / 100
                        h = Household(community_id=community.id, unit_id=unit.id, room=f"{floor}0{door}",
                                      floor_area=area, area_source="register",
                                      developer_held=(gi == 2 and bi == 3 and floor == 6))
                        db.session.add(h)
                        households.append(h)
        if progress:
            progress(1)
    db.session.flush()
    for h in households:
        if h.developer_held:
            continue
        owner = rng.choice(SURNAMES) + rng.choice(GIVEN)
        db.session.add(HouseholdMember(household_id=h.id, name=owner, relation="owner", is_representative=True,
                                       phone=f"139{rng.randrange(10**7, 10**8)}"))
        for _ in range(rng.randrange(0, 3)):
            db.session.add(HouseholdMember(household_id=h.id, name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                                           relation="resident"))
    users = {}
    created = []
    for login, name, roles, hh in DEMO_ACCOUNTS:
        user = accounts.find_user(login) or accounts.create_user(login, DEMO_PASSWORD, name, locale=None)
        m = Membership(user_id=user.id, community_id=community.id)
        m.set_roles(roles)
        db.session.add(m)
        db.session.flush()
        if "building_head" in roles:
            m.building_id = households[0].unit.building_id
        if "grid_worker" in roles:
            m.grid_id = households[0].unit.building.grid_id
        users[login] = user
        created.append((login, name, roles))
    staff = users["staff"]
    for login, _n, _r, hh in DEMO_ACCOUNTS:
        if hh is not None:
            m = Membership.query.filter_by(user_id=users[login].id, community_id=community.id).one()
            accounts.verify_resident(m, households[hh], "owner", staff, reason="demo")
    if progress:
        progress(1)
    # Proposals: two in every stage, with comments and seconds, written directly so the demo
    # history looks like weeks of use rather than one second.
    residents = [users[k] for k in ("resident1", "resident2", "resident3", "resident4", "resident5",
                                    "loudongzhang", "wanggeyuan", "tiaojieyuan")]
    now = utcnow()
    for i, (category, title, body) in enumerate(PROPOSALS):
        stage = STAGES[i % len(STAGES)]
        author = residents[i % len(residents)]
        start = now - timedelta(days=60 - i * 3)
        p = Proposal(community_id=community.id, title=title, body=body, category=category, scope="community",
                     state=stage, author_id=author.id, author_name=author.display_name, created_at=start,
                     updated_at=start)
        if i % 5 == 2:
            p.scope, p.building_id = "building", households[0].unit.building_id
        if i == 4:  # submitted by the building head for an elderly resident without a phone
            qian = HouseholdMember(household_id=households[1].id, name="钱奶奶", relation="owner")
            db.session.add(qian)
            db.session.flush()  # her person on the register (R5): the proposal is hers
            p.author_id, p.author_name, p.author_person_id = None, "钱奶奶", qian.person_id
            p.submitted_by_id, p.assist_reason = users["loudongzhang"].id, "老人不会用手机，楼长代为提交"
        db.session.add(p)
        db.session.flush()
        db.session.add(ProposalTransition(proposal_id=p.id, from_state=None, to_state="draft",
                                          actor_id=author.id, created_at=start))
        prev = "draft"
        for step, state in enumerate(PATHS[stage]):
            actor = author if state in ("open", "withdrawn") else staff
            reason = None if state == "open" else "社区议事会讨论通过" if state != "withdrawn" else "已私下协商解决"
            db.session.add(ProposalTransition(proposal_id=p.id, from_state=prev, to_state=state, actor_id=actor.id,
                                              reason=reason, created_at=start + timedelta(days=step * 4 + 1)))
            prev = state
        p.updated_at = start + timedelta(days=len(PATHS[stage]) * 4)
        if stage != "draft":
            n_sec = 3 if stage == "open" else min(6, len(residents) - 1)
            seconders = [r for r in residents if r.id != p.author_id][:n_sec]
            for r in seconders:
                db.session.add(ProposalSecond(proposal_id=p.id, user_id=r.id, created_at=start + timedelta(days=2)))
            p.seconds_count = len(seconders)
            for j, text in enumerate(["支持，这个问题确实存在很久了。", "建议物业也参与讨论。", "同意，希望尽快解决。"][: 1 + i % 3]):
                r = residents[(i + j + 1) % len(residents)]
                db.session.add(ProposalComment(proposal_id=p.id, author_id=r.id, author_name=r.display_name, body=text,
                                               created_at=start + timedelta(days=1, hours=j)))
                p.comments_count += 1
    registry = current_app.extensions["linli.plugins"]
    registry.hooks_for(community).load_demo_data(community=community, users=users)
    if progress:
        progress(1)
    return community, created
