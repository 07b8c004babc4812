"""Personal data hooks of the voting module (PIPL Art. 45 copy, Art. 47 erasure).

Rule: a ballot is a legal record (Civil Code Art. 278 counts owners by area and head). Erasure
keeps every roll entry and every counted ballot with its weight; the person's name on the roll is
replaced by the anonymous id. How someone voted is never exported (secret ballots are secret even
to the voter's own copy; the receipt checks it).

Found by key, column by column (core/services/personal_data.py):

* ``voting_voter.name``: on the person's own roll entries — keyed by their person on the
  register (``person:<person id>``, or an owners' head ``owner:<person ids>`` they are one of
  and that carries their name: co-owners are named by the one who votes), by their account on rolls published
  before persons existed (``person:user:<id>``, ``owner:user:<id>``, or the name and phone of
  one of their register entries; that key is replaced too), or a household's entry in one of
  their households that carries one of their own names. A household entry the person only
  votes for (its representative is someone else) keeps the representative's name;
* ``voting_proxy.name`` where the person is the proxy (``user_id``, or their person as the
  holder); the names in audit entries
  about those proxies;
* never the ballot, its manifest, its entries, their hashes or times, or a witness's name typed
  by staff: the exported file and its closing hash stay the same.

Requests to convene a residents' meeting (plugins/voting/convening.py): the export lists the
requests the person started and their supports (by their account and by their person on the
register, also those a building head recorded for them, with who and why). Erasure keeps them
(a support is part of the count that obliged the committee, like a second of a proposal); they
hold no name — the person's name is shown from the register, which the core anonymises.

Elections (plugins/voting/elections.py): the export lists the person's nominations as a candidate
and the nominations they support (by their person on the register). Erasure replaces the name a
nomination keeps with the anonymous id; supports hold no name and stay (they made the candidate
eligible); a published candidate's name stays in the ballot's manifest, like the ballot file."""
from core.hookspecs import hookimpl


def _convening(user, community):
    """The requests ``user`` started and the supports given by them or for their person."""
    from core.models import Person
    from plugins.voting.models import ConveningRequest, ConveningSupport

    persons = [p for (p,) in Person.query.with_entities(Person.id).filter_by(community_id=community.id,
                                                                             user_id=user.id)]
    started = (ConveningRequest.query.filter_by(community_id=community.id, started_by_id=user.id)
               .order_by(ConveningRequest.id).all())
    supports = (ConveningSupport.query.join(ConveningRequest, ConveningRequest.id == ConveningSupport.request_id)
                .filter(ConveningRequest.community_id == community.id,
                        (ConveningSupport.user_id == user.id) | ConveningSupport.person_id.in_(persons))
                .order_by(ConveningSupport.id).all())
    return started, supports


def _convening_export(user, community):
    started, supports = _convening(user, community)
    out = {}
    if started:
        out["convening_requests_started"] = [
            {"request_id": r.id, "subject": r.subject, "reason": r.reason, "base": r.base,
             "created_at": r.created_at.isoformat()} for r in started]
    if supports:
        out["convening_supports"] = [
            {"request_id": s.request_id, "supported_at": s.created_at.isoformat(),
             "withdrawn_at": s.withdrawn_at.isoformat() if s.withdrawn_at else None,
             "recorded_for_you_by": s.acted_by.display_name if s.acted_by else None,
             "reason_given": s.assist_reason} for s in supports]
    return out


def _persons_of(user, community):
    from core.models import HouseholdMember, Person

    ids = {p for (p,) in Person.query.with_entities(Person.id).filter_by(community_id=community.id, user_id=user.id)}
    return ids | {p for (p,) in HouseholdMember.query.with_entities(HouseholdMember.person_id)
                  .filter_by(user_id=user.id)}


def _elections_export(user, community):
    """The person's nominations as a candidate and the nominations they support."""
    from plugins.voting.models import Ballot, Nomination, NominationSupport

    persons = _persons_of(user, community)
    if not persons:
        return {}
    nominated = (Nomination.query.join(Ballot, Ballot.id == Nomination.ballot_id).add_columns(Ballot.title)
                 .filter(Ballot.community_id == community.id, Nomination.person_id.in_(persons))
                 .order_by(Nomination.id).all())
    supports = (NominationSupport.query.join(Ballot, Ballot.id == NominationSupport.ballot_id).add_columns(Ballot.title)
                .filter(Ballot.community_id == community.id, NominationSupport.person_id.in_(persons))
                .order_by(NominationSupport.id).all())
    out = {}
    if nominated:
        out["election_nominations"] = [
            {"ballot": title, "ballot_id": n.ballot_id, "name": n.name, "nominated_at": n.created_at.isoformat(),
             "consented_at": n.consented_at.isoformat() if n.consented_at else None,
             "candidate": n.position is not None} for n, title in nominated]
    if supports:
        out["election_supports"] = [
            {"ballot": title, "ballot_id": s.ballot_id, "nominee": s.nomination.name,
             "supported_at": s.created_at.isoformat(), "via": s.via,
             "as_household_representative": s.household_id is not None} for s, title in supports]
    return out


@hookimpl
def personal_data_export(user, community):
    from plugins.voting.models import Ballot, Voter

    rows = (Voter.query.join(Ballot, Ballot.id == Voter.ballot_id).add_columns(Ballot.title)
            .filter(Ballot.community_id == community.id, Voter.user_id == user.id).order_by(Voter.id).all())
    convening = {**_convening_export(user, community), **_elections_export(user, community)}
    if not rows and not convening:
        return None
    return {"module": "voting", **convening, "electorate_entries": [
        {"ballot": title, "ballot_id": v.ballot_id, "roll_ref": v.ref,
         "name_on_roll": v.name, "units": v.units, "heads": v.heads, "area": str(v.area),
         "voted_at": v.voted_at.isoformat() if v.voted_at else None, "voted_via": v.voted_via}
        for v, title in rows]}


def _erase_nominations(user, community, ballots, label):
    """The name a nomination of the person keeps becomes the anonymous id."""
    from plugins.voting.models import Nomination

    persons = _persons_of(user, community)
    if ballots and persons:
        Nomination.query.filter(Nomination.ballot_id.in_(ballots), Nomination.person_id.in_(persons),
                                Nomination.name != label).update({"name": label}, synchronize_session=False)


@hookimpl
def personal_data_erase(user, community, actor):
    from core.models import HouseholdMember
    from core.services.personal_data import anonymous_label, erase_audit_fields, own_names
    from plugins.voting.models import Ballot, Proxy, Voter

    label = anonymous_label(user)
    ballots = [b for (b,) in Ballot.query.with_entities(Ballot.id).filter_by(community_id=community.id)]
    _erase_nominations(user, community, ballots, label)
    # Supports of convening requests stay as counted (they hold no name): nothing to change there.
    if not ballots:
        return {"module": "voting", "roll_entries": 0, "proxies": 0}
    names = own_names(user)
    entries = HouseholdMember.query.filter_by(user_id=user.id).all()
    persons = {str(e.person_id) for e in entries}
    own_keys = {f"{kind}:user:{user.id}" for kind in ("person", "owner")} | {f"person:{p}" for p in persons}
    # Keys made from a register entry before it was linked to the account (before persons).
    by_name = {f"{kind}:name:{e.name}|{e.phone or ''}" for e in entries for kind in ("person", "owner")}
    households = {f"household:{e.household_id}" for e in entries}

    def owner_of(key):  # an owners' head this person is one of (co-owners: the roll names one of them)
        return key.startswith("owner:") and len(set(key[6:].split("+")) & persons) > 0
    changed = 0
    rows = Voter.query.filter(Voter.ballot_id.in_(ballots),
                              Voter.key.in_(own_keys | by_name | households) | (Voter.user_id == user.id)
                              | Voter.key.like("owner:%")).all()
    for v in rows:
        mine = v.key in own_keys or v.key in by_name or ((v.key in households or owner_of(v.key)) and v.name in names)
        if not mine:  # the person votes for a roll entry in someone else's name
            continue
        values = {}
        if v.name != label:
            values["name"] = label
        if v.key in by_name:  # the key held the name and phone; keep it unique on the ballot
            values["key"] = f"{v.key.split(':', 1)[0]}:{label}:{v.id}"[:120]
        if values:
            Voter.query.filter_by(id=v.id).update(values, synchronize_session=False)
            changed += 1
    held_as = (Proxy.user_id == user.id) | Proxy.holder_key.in_({f"person:{p}" for p in persons})
    proxies = [p for (p,) in Proxy.query.with_entities(Proxy.id).filter(Proxy.ballot_id.in_(ballots), held_as)]
    held = 0
    if proxies:
        held = Proxy.query.filter(Proxy.id.in_(proxies), Proxy.name != label).update({"name": label},
                                                                                     synchronize_session=False)
        held += erase_audit_fields(user, "voting_proxy", proxies, ("proxy_name",), owner_field="proxy_user_id")
    return {"module": "voting", "roll_entries": changed, "proxies": held}
