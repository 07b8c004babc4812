"""Demo content of the points module: activities, verified hours, a store with rice, orders."""
from datetime import timedelta

from flask import current_app

from core.db import transaction
from core.extensions import db
from core.models import utcnow
from plugins.points import services as svc
from plugins.points.models import PointsActivity, PointsRule, PointsSignup

ITEMS = [
    # name, kind, price, stock, limit, description
    ("大米（5公斤）", "goods", 30, 20, 2, "东北大米一袋，5公斤装。"),
    ("食用油（1.8升）", "goods", 25, 12, 1, "花生油一桶。"),
    ("洗衣液", "goods", 15, 30, None, "2公斤装。"),
    ("鸡蛋（一盒）", "goods", 10, 3, 2, "新鲜鸡蛋一盒，十个。"),
    ("抽纸（六包）", "goods", 8, 40, None, "三层抽纸。"),
    ("牙膏牙刷套装", "goods", 6, 25, None, ""),
    ("毛巾", "goods", 5, 2, None, "纯棉毛巾。"),
    ("环保购物袋", "goods", 3, 50, None, "可反复使用。"),
    ("理发一次", "service", 12, 10, 1, "社区志愿理发师上门或在活动中心理发。"),
    ("家电清洗", "service", 40, 5, 1, "油烟机或空调清洗一次，由合作商家提供。"),
    ("免费量血压、测血糖", "service", 2, 100, None, "社区卫生服务站提供。"),
    ("磨刀修伞", "service", 4, 20, None, "每月第一个周六上午。"),
]


def load(community, users):
    """The demo builder is an entry point of its own: all of it is one transaction (core.db),
    joining the caller's if ``linli demo`` runs one."""
    with transaction():
        _build(community, users)


def _build(community, users):
    staff, admin = users["staff"], users["admin"]
    now = utcnow()
    # Rules for events of the modules installed here (a disabled module sends nothing).
    declared = current_app.extensions["linli.plugins"].event_types
    for name, points, daily, monthly in (("proposal.accepted", 10, None, 30), ("meeting.attended", 3, 3, 12),
                                         ("vote.cast", 1, 3, 10), ("mediation.followup_done", 2, None, 10)):
        if name in declared:
            db.session.add(PointsRule(community_id=community.id, event_name=name, points=points, daily_cap=daily,
                                      monthly_cap=monthly, active=True))

    past = [("楼道清理志愿活动", "3号楼楼道", 20, "清理楼道私堆乱放，打扫卫生。"),
            ("陪伴独居老人", "社区活动中心", 12, "陪老人聊天、读报、量血压。"),
            ("垃圾分类宣传引导", "东门垃圾投放点", 8, "早晚高峰在投放点引导居民分类投放。"),
            ("网格安全巡查", "第一网格", 5, "检查楼道消防通道和飞线充电。")]
    volunteers = ["resident1", "resident2", "resident3", "loudongzhang", "resident4"]
    teams = [volunteers[0:3], volunteers[1:4], volunteers[2:5], ["wanggeyuan", "tiaojieyuan", "resident5"]]
    for k, (title, where, days_ago, desc) in enumerate(past):
        start = now - timedelta(days=days_ago, hours=2)
        a = PointsActivity(community_id=community.id, title=title, location=where, description=desc,
                           starts_at=start, ends_at=start + timedelta(hours=3), places=10, created_by_id=staff.id,
                           created_at=start - timedelta(days=7))
        db.session.add(a)
        db.session.flush()
        names = teams[k]
        for name in names:
            db.session.add(PointsSignup(activity_id=a.id, user_id=users[name].id,
                                        created_at=start - timedelta(days=3)))
        a.signups_count = len(names)
        db.session.flush()
        for j, name in enumerate(names):
            svc.record_hours(a, users[name], staff, hours=("2.5", "2", "1.5")[j], content=desc[:40],
                             evaluation="认真负责" if j == 0 else "表现良好")

    upcoming = [("周末义务理发", "社区活动中心", 3, 6), ("小区绿化带补种", "中心广场", 6, 15),
                ("防电诈宣传", "北门", 10, None)]
    for k, (title, where, days, places) in enumerate(upcoming):
        start = (now + timedelta(days=days)).replace(hour=1, minute=0, second=0, microsecond=0)
        a = svc.save_activity(community, staff, {"title": title, "location": where, "starts_at": start,
                                                 "ends_at": start + timedelta(hours=2), "places": places,
                                                 "description": "欢迎报名参加，积分可在积分超市兑换。"})
        for name in volunteers[k:k + 2]:
            svc.signup(a, users[name])

    for name in ("resident1", "resident2", "loudongzhang"):
        svc.set_consent(community, users[name], True)

    items = {}
    for name, kind, price, stock, limit, desc in ITEMS:
        items[name] = svc.save_item(community, staff, {"name": name, "kind": kind, "price": price, "stock": stock,
                                                       "per_resident_limit": limit, "description": desc,
                                                       "low_stock": 3})
    svc.adjust(community, users["resident1"], 40, "社区公益活动补记积分（纸质登记册）", admin)
    svc.adjust(community, users["resident5"], 20, "重阳节敬老活动补记积分", admin)
    rice = items["大米（5公斤）"]
    order = svc.redeem(community, rice, users["resident1"])
    svc.hand_over(community, order.pickup_code, staff)
    svc.redeem(community, items["环保购物袋"], users["resident2"])
    svc.redeem(community, items["免费量血压、测血糖"], users["resident5"], staff, 1, "老人不会用手机，在柜台代为兑换")
