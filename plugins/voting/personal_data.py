"""Personal data hooks of the voting module (PIPL Art. 45 copy, Art. 47 erasure).

Rule: a ballot is a legal record (Civil Code Art. 278 counts owners by area and head). Erasure
keeps every roll entry and every counted ballot with its weight; the person's name on the roll is
replaced by the anonymous id. How someone voted is never exported (secret ballots are secret even
to the voter's own copy; the receipt checks it)."""
from core.hookspecs import hookimpl


@hookimpl
def personal_data_export(user, community):
    from plugins.voting.models import Ballot, Voter

    rows = (Voter.query.join(Ballot, Ballot.id == Voter.ballot_id).add_columns(Ballot.title)
            .filter(Ballot.community_id == community.id, Voter.user_id == user.id).order_by(Voter.id).all())
    if not rows:
        return None
    return {"module": "voting", "electorate_entries": [
        {"ballot": title, "ballot_id": v.ballot_id, "roll_ref": v.ref,
         "name_on_roll": v.name, "units": v.units, "heads": v.heads, "area": str(v.area),
         "voted_at": v.voted_at.isoformat() if v.voted_at else None, "voted_via": v.voted_via}
        for v, title in rows]}


@hookimpl
def personal_data_erase(user, community, actor):
    from core.services.personal_data import anonymous_label
    from plugins.voting.models import Ballot, Voter

    label = anonymous_label(user)
    ballots = [b for (b,) in Ballot.query.with_entities(Ballot.id).filter_by(community_id=community.id)]
    changed = 0
    if ballots:
        changed = Voter.query.filter(Voter.ballot_id.in_(ballots), Voter.user_id == user.id,
                                     Voter.name != label).update({"name": label}, synchronize_session=False)
    return {"module": "voting", "roll_entries": changed}
