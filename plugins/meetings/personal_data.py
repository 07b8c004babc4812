"""Personal data hooks of the meetings module (PIPL Art. 45 copy, Art. 47 erasure).

Rule: minutes, attendance and resolutions are the joint meeting's record and are kept; the
person's name on the delegate list and as an action item's owner is replaced by the anonymous id
(their attendance stays, so quorum counts of past meetings do not change)."""
from core.hookspecs import hookimpl


def _iso(value):
    return value.isoformat() if value is not None else None


@hookimpl
def personal_data_export(user, community):
    from plugins.meetings.models import ActionItem, Attendance, Body, Delegate, Meeting, Org

    delegates = (Delegate.query.join(Body, Body.id == Delegate.body_id).join(Org, Org.id == Delegate.org_id)
                 .add_columns(Body.name, Org.name)
                 .filter(Body.community_id == community.id, Delegate.user_id == user.id).order_by(Delegate.id).all())
    attendance = (Attendance.query.join(Meeting, Meeting.id == Attendance.meeting_id)
                  .add_columns(Meeting.title)
                  .filter(Meeting.community_id == community.id, Attendance.user_id == user.id)
                  .order_by(Attendance.id).all())
    actions = ActionItem.query.filter_by(community_id=community.id, owner_user_id=user.id).order_by(ActionItem.id).all()
    if not (delegates or attendance or actions):
        return None
    return {
        "module": "meetings",
        "delegate_of": [{"body": body, "organisation": org, "name": d.name, "role": d.role, "active": d.active}
                        for d, body, org in delegates],
        "attendance": [{"meeting": title, "status": a.status} for a, title in attendance],
        "action_items": [{"title": a.title, "status": a.status, "owner_name": a.owner_name} for a in actions],
    }


@hookimpl
def personal_data_erase(user, community, actor):
    from core.services.personal_data import anonymous_label
    from plugins.meetings.models import ActionItem, Body, Delegate

    label = anonymous_label(user)
    bodies = [b for (b,) in Body.query.with_entities(Body.id).filter_by(community_id=community.id)]
    delegates = 0
    if bodies:
        delegates = Delegate.query.filter(Delegate.body_id.in_(bodies), Delegate.user_id == user.id,
                                          Delegate.name != label).update({"name": label}, synchronize_session=False)
    actions = ActionItem.query.filter(ActionItem.community_id == community.id, ActionItem.owner_user_id == user.id,
                                      ActionItem.owner_name.isnot(None)).update({"owner_name": None},
                                                                               synchronize_session=False)
    return {"module": "meetings", "delegates": delegates, "action_items": actions}
