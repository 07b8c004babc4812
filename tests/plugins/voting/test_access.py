"""Who may do what with ballots beyond the access matrix (tests/plugins/voting/access.py): the
closed poll publishes its result to everyone, a ballot in preparation exists only for staff, and
only the electorate may vote, whatever the request carries."""
import pytest

from core.extensions import db
from plugins.voting import services
from plugins.voting.models import Ballot, Entry
from tests.plugins.voting.access import ELECTORATE, PAPER, url_args
from tests.security import matrix as m
from tests.security.roles import GONE, OK, ROLES, STAFF, only, public

pytestmark = pytest.mark.plugins("voting")

CONFLICT = {409}
REDIRECT = {302}

# The closed secret poll: its result, receipts and file are published to everyone; nobody votes any more.
CLOSED = {
    "c.voting.detail": public(),
    "c.voting.receipts": public(),
    "c.voting.export": public(),
    "c.voting.print_notice": public(),
    "api_c.voting_api.result": public(),
    "api_c.voting_api.receipts": public(),
    "api_c.voting_api.export": public(),
    "api_c.voting_api.vote": only(ELECTORATE, CONFLICT, anonymous={401}) | {
        r: CONFLICT for r in ROLES if r != "anonymous"},  # closed for everyone logged in
    "api_c.voting_api.paper": only(PAPER, {400}),  # no voter named (services.cast refuses after closing)
    "api_c.voting_api.ballot_close": only(STAFF, {400}),
}

# The ballot in preparation: only staff know it exists.
DRAFT = {
    "c.voting.detail": only(STAFF, OK, denied=GONE, anonymous=GONE),
    "c.voting.vote": only(STAFF, REDIRECT, denied=GONE),
    "c.voting.electorate": only(PAPER, GONE),  # published when the ballot opens
    "c.voting.paper": only(PAPER, GONE),
    "c.voting.print_ballots": only(PAPER, GONE),
    "api_c.voting_api.ballot_get": only(STAFF, OK, denied=GONE, anonymous=GONE),
    "api_c.voting_api.vote": only(STAFF, {409}, denied=GONE),
    "api_c.voting_api.electorate": only(STAFF, OK, denied=GONE) | {"grid_worker": GONE},
    "api_c.voting_api.ballot_open": only(STAFF, {200}, denied=GONE),  # staff: checked last, below
}


def check(app, world, login, api, values, table):
    req = m.Requester(app, world, login, api)
    rules = {}
    for rule, method in m.routes(app, "voting"):
        rules.setdefault(rule.endpoint, (rule, method))
    wrong = []
    for endpoint, expected in table.items():
        rule, method = rules[endpoint]
        path = m.build(rule, {"community": world.community.slug, **values})
        for role in ROLES:
            if endpoint.endswith("ballot_open") and role in STAFF:
                continue  # it would open the ballot
            got = req.status(role, method, path)
            if got not in expected[role]:
                wrong.append(f"{method} {path} as {role}: got {got}, expected {sorted(expected[role])}")
    return wrong


def test_a_closed_ballot_publishes_its_result_to_everyone_and_takes_no_more_votes(app, world, login, api):
    ids = url_args(world)
    assert db.session.get(Ballot, ids["closed_ballot_id"]).state == "closed"
    assert check(app, world, login, api, {"ballot_id": ids["closed_ballot_id"]}, CLOSED) == []
    result = app.test_client().get(f"/api/v1/c/test/voting/ballots/{ids['closed_ballot_id']}/result").get_json()
    assert result["result"]["winner"] is not None


def test_a_ballot_in_preparation_exists_only_for_staff(app, world, login, api):
    ids = url_args(world)
    assert check(app, world, login, api, {"ballot_id": ids["draft_ballot_id"]}, DRAFT) == []
    html = login(world.grid_worker).get(f"/c/test/voting/{ids['draft_ballot_id']}/electorate")
    assert html.status_code == 404  # it failed with a server error (a draft has no electorate yet)
    assert api(world.staff).post(f"/api/v1/c/test/voting/ballots/{ids['draft_ballot_id']}/open",
                                 json={}).status_code == 200


def test_an_open_secret_ballot_shows_no_result_before_it_closes(app, world, login, api):
    ids = url_args(world)
    bid = ids["ballot_id"]
    data = api(world.resident).get(f"/api/v1/c/test/voting/ballots/{bid}").get_json()
    assert "result" not in data and data["me"]["voted"] and data["me"]["choice"] is None  # secret
    html = login(world.staff).get(f"/c/test/voting/{bid}").get_data(as_text=True)
    assert "Results are published when the ballot closes." in html and 'id="result"' not in html
    for path in ("result", "receipts", "export"):
        r = api(world.admin).get(f"/api/v1/c/test/voting/ballots/{bid}/{path}")
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_closed"


@pytest.mark.parametrize("body", [{}, {"choice": "yes"}, {"choice": "nonsense"}])
def test_only_the_electorate_may_vote_whatever_it_sends(app, world, api, body):
    ids = url_args(world)
    url = f"/api/v1/c/test/voting/ballots/{ids['ballot_id']}/votes"
    before = Entry.query.filter_by(ballot_id=ids["ballot_id"]).count()
    for user in (world.newbie, world.mediator, world.staff, world.admin, world.outsider):
        r = api(user).post(url, json=body)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_in_electorate", user
    assert api(None).post(url, json=body).status_code == 401
    r = api(world.building_head).post(url, json=body)
    assert r.status_code == (201 if body == {"choice": "yes"} else 400)
    db.session.expire_all()
    assert Entry.query.filter_by(ballot_id=ids["ballot_id"]).count() == before + (body == {"choice": "yes"})


def test_only_grid_workers_and_staff_enter_paper_ballots_even_on_a_closed_ballot(app, world):
    from core.errors import Conflict, Forbidden
    from plugins.voting.models import Voter

    ids = url_args(world)
    ballot = db.session.get(Ballot, ids["closed_ballot_id"])
    voter = Voter.query.filter_by(ballot_id=ballot.id).first()
    for user in (world.resident, world.building_head, world.mediator, world.outsider):
        with pytest.raises(Forbidden):
            services.cast(ballot, user, [0], voter=voter, source="paper", witness="楼长")
    with pytest.raises(Conflict):
        services.cast(ballot, world.grid_worker, [0], voter=voter, source="paper", witness="楼长")
