"""Personal data hooks of the meetings module (PIPL Art. 45 copy, Art. 47 erasure).

Rule: minutes, attendance and resolutions are the joint meeting's record and are kept; the
person's name on the delegate list and as an action item's owner is replaced by the anonymous id
(their attendance stays, so quorum counts of past meetings do not change).

Found by key, column by column (core/services/personal_data.py): ``meetings_delegate.name`` of the
seats linked to the account (``user_id``), which may differ from the account's name;
``meetings_action_item.owner_name`` where the person is the owner (``owner_user_id``); the same
names in the audit entries about those seats and action items. Attendance, minutes, agenda and
resolutions are not rewritten: minutes are other people's text, approved by the body (staff can
edit a specific record if the person asks)."""
from core.hookspecs import hookimpl


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
    from core.services.personal_data import anonymous_label, erase_audit_fields
    from plugins.meetings.models import ActionItem, Body, Delegate

    label = anonymous_label(user)
    bodies = [b for (b,) in Body.query.with_entities(Body.id).filter_by(community_id=community.id)]
    delegates, audited = 0, 0
    if bodies:
        seats = [d for (d,) in Delegate.query.with_entities(Delegate.id).filter(Delegate.body_id.in_(bodies),
                                                                                Delegate.user_id == user.id)]
        if seats:
            delegates = Delegate.query.filter(Delegate.id.in_(seats), Delegate.name != label).update(
                {"name": label}, synchronize_session=False)
            audited += erase_audit_fields(user, "meetings_delegate", seats, ("name",))
    items = [i for (i,) in ActionItem.query.with_entities(ActionItem.id).filter(
        ActionItem.community_id == community.id, ActionItem.owner_user_id == user.id)]
    actions = 0
    if items:
        actions = ActionItem.query.filter(ActionItem.id.in_(items), ActionItem.owner_name.isnot(None)).update(
            {"owner_name": None}, synchronize_session=False)
        audited += erase_audit_fields(user, "meetings_action_item", items, ("owner_name",), owner_field="owner_user_id")
    return {"module": "meetings", "delegates": delegates, "action_items": actions, "audit_entries": audited}
