"""The API of elections (R14): nominations, supporters, consent, the published candidates. The
routes join the voting API blueprint; the rules are in plugins/voting/elections.py."""
from flask import jsonify
from flask_login import current_user

from core.api import endpoint, json_body, require_api
from plugins.voting import elections
from plugins.voting.api import TAG, _ballot, api_bp, ballot_json


def nomination_json(n, t, mine=None):
    """A nomination as everyone may see it: the candidate's name and the tallies, never who
    supports them (the supporters' list stays with staff, as the signed forms do)."""
    data = {"id": n.id, "name": n.name, "consented": t["consented"], "supporters": t["voters"],
            "household_representatives": t["households"], "supported": t["supported"], "qualifies": t["qualifies"],
            "position": n.position}
    if mine is not None:
        data["supported_by_me"] = n.id in mine
    return data


@endpoint(api_bp, "/ballots/<int:ballot_id>/nominations", summary="An election's nominations with their "
          "supporters' tallies (R14: 10 voters or 5 household representatives, and the candidate's consent)",
          auth=False, tag=TAG)
def nominations(ballot_id):
    b = _ballot(ballot_id)
    elections.check_kind(b)
    mine = elections.supported_by(b, current_user) if current_user.is_authenticated else None
    return jsonify({"seats": b.seats, "published": b.candidates_published_at is not None,
                    "thresholds": {"voters": elections.NOMINATION_VOTERS,
                                   "household_representatives": elections.NOMINATION_HOUSEHOLDS}
                    if elections.residents_committee(b) else None,
                    "items": [nomination_json(n, t, mine) for n, t in elections.nominations(b)]})


@endpoint(api_bp, "/ballots/<int:ballot_id>/nominations/eligible", summary="Who may be nominated: people on the "
          "register of the election's area, 18 or over (owners, for an owners' committee) (staff)", tag=TAG)
def eligible(ballot_id):
    b = _ballot(ballot_id)
    require_api("voting.ballots.manage")
    elections.check_kind(b)
    return jsonify({"items": [{"person_id": pid, "name": name, "units": units}
                              for pid, name, units in elections.eligible_candidates(b)]})


@endpoint(api_bp, "/ballots/<int:ballot_id>/nominations", ["POST"], summary="Nominate a person on the register "
          "(staff, from a nomination form)", tag=TAG, idempotent=True,
          body={"person_id": ("integer", "the candidate's register number (…/nominations/eligible)", True)})
def nominate(ballot_id):
    b = _ballot(ballot_id)
    n = elections.nominate(b, current_user, json_body().get("person_id"))
    return jsonify(nomination_json(n, elections.tally(n))), 201


@endpoint(api_bp, "/ballots/<int:ballot_id>/nominations/<int:nomination_id>/support", ["POST"],
          summary="Support a nomination: as myself, or (grid worker, staff) for the person who signed a nomination "
                  "form; once per person", tag=TAG, idempotent=True,
          body={"person_id": ("integer", "grid worker, staff: the supporter's register number", False)})
def support(ballot_id, nomination_id):
    b = _ballot(ballot_id)
    n = elections.nomination_by_id(b, nomination_id)
    elections.support(b, current_user, n, json_body().get("person_id"))
    return jsonify(nomination_json(n, elections.tally(n))), 201


@endpoint(api_bp, "/ballots/<int:ballot_id>/nominations/<int:nomination_id>/consent", ["POST"],
          summary="The candidate agrees to stand (the candidate, or staff with their signed consent)", tag=TAG)
def consent(ballot_id, nomination_id):
    b = _ballot(ballot_id)
    n = elections.nomination_by_id(b, nomination_id)
    elections.consent(b, current_user, n)
    return jsonify(nomination_json(n, elections.tally(n)))


@endpoint(api_bp, "/ballots/<int:ballot_id>/candidates", ["POST"], summary="Publish the candidates: the "
          "nominations that qualify become the options and nominations close; refused (409 too_few_candidates) "
          "unless there are more candidates than seats (staff)", tag=TAG)
def publish(ballot_id):
    b = _ballot(ballot_id)
    elections.publish_candidates(b, current_user)
    return jsonify(ballot_json(b, full=True))
