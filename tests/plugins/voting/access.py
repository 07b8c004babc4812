"""Expected answers of every voting route, per role (tests/security, docs/plugins.md).

The objects: a proposal moved to voting whose secret yes/no household ballot is open (the
resident voted online; the grid worker entered resident2's paper ballot with a photo of the
sheet; staff recorded the building head's written proxy to the grid worker, with a scan), a closed
secret approval poll with its result, an open building poll and a draft ballot. The matrix
requests every route with the open ballot and the paper ballot's entry: its results, receipts
and file are not published before it closes. The electorate is the verified residents living in
the community's households: in the matrix the resident, the building head and the grid worker;
staff, admins, the mediator and the unverified member live in none and do not vote.
tests/plugins/voting/test_access.py checks the closed poll and the draft with these objects."""
from tests.security.roles import GONE, OK, STAFF, logged_in, only, public

ELECTORATE = ("resident", "building_head", "grid_worker")
PAPER = ("grid_worker", "staff", "admin")  # voting.paper.enter: paper ballots, the electorate, prints
REDIRECT = {302}  # a form that answers by redirecting back with a message
INVALID = {400}   # the permission check passed; the empty request was refused
CONFLICT = {409}  # the permission check passed; the ballot is not in a state for this
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def url_args(world):
    from core.services import proposals
    from plugins.voting import services as svc
    from plugins.voting.models import Voter

    staff = world.staff
    p = proposals.create(world.community, world.resident, {
        "title": "楼道加装声控灯", "body": "一单元楼道晚上太黑，老人上下楼不安全，建议加装声控灯。",
        "category": "facilities"})
    proposals.transition(p, "coordinating", staff, "附议足够")
    ballot = svc.create(world.community, staff, {"secret": True, "days": 7, "unit": "household"}, proposal=p,
                        open_now=True)
    assert p.state == "voting"  # the proposal follows its ballot
    svc.cast(ballot, world.resident, "yes")
    paper_voter = Voter.query.filter_by(ballot_id=ballot.id, user_id=world.resident2.id).one()
    paper = svc.cast(ballot, world.grid_worker, "no", voter=paper_voter, source="paper", witness="楼长",
                     photo=("image/png", PNG))
    head = Voter.query.filter_by(ballot_id=ballot.id, user_id=world.building_head.id).one()
    proxy = svc.record_proxy(ballot, staff, {"voter_id": head.id, "proxy_user_id": world.grid_worker.id,
                                             "witness": "楼长"}, scan=("image/png", PNG))
    closed = svc.create(world.community, staff, {
        "title": "小区活动选题", "method": "approval", "options": ["广场舞", "象棋赛", "读书会"], "secret": True},
        open_now=True)
    svc.cast(closed, world.resident, [0, 2])
    svc.cast(closed, world.building_head, [1])
    svc.close(closed, staff, "全部投完")
    poll = svc.create(world.community, staff, {"title": "1号楼外墙颜色", "scope": "building",
                                               "building_id": world.building.id}, open_now=True)
    draft = svc.create(world.community, staff, {"title": "停车费调整"})
    # A request for a residents' meeting by households: the world's four households, so the
    # resident's own support reaches one fifth at once and it waits for the committee's answer.
    from plugins.voting import convening

    request = convening.start(world.community, world.resident, {
        "subject": "讨论增设停车位", "reason": "小区停车位严重不足，需要居民会议讨论。", "base": "households"})
    assert request.state == "reached"
    return {"request_id": request.id, "ballot_id": ballot.id, "entry_id": paper.id, "proposal_id": p.id, "closed_ballot_id": closed.id,
            "poll_id": poll.id, "draft_ballot_id": draft.id, "proxy_id": proxy.id, "nomination_id": 1}


ACCESS = {
    "c.voting.static": public(GONE),
    # pages anyone may read: the list and the open ballot (no counts before it closes)
    "c.voting.index": public(),
    "c.voting.detail": public(),
    # results, receipts and the ballot file are published when the ballot closes: not yet
    "c.voting.receipts": public(GONE),
    "c.voting.export": public(GONE),
    "c.voting.print_notice": public(GONE),
    # staff set up ballots (an empty POST shows the form again with its errors)
    "c.voting.new": only(STAFF, OK),
    # staff open, close and cancel; they answer with a redirect back and a message (open: it is
    # open already; close and cancel: no reason given)
    "c.voting.open_": only(STAFF, REDIRECT),
    "c.voting.representatives": only(STAFF, REDIRECT),  # not a residents' meeting: sent back with a message
    "c.voting.close": only(STAFF, OK),  # the confirmation page (closing asks first)
    "c.voting.cancel": only(STAFF, OK),  # the confirmation page (cancelling asks first)
    # voting in the browser answers with a redirect back and a message (an empty form: choose
    # yes, no or abstain; outside the electorate: you are not in it); what it did is checked by
    # tests/plugins/voting/test_voting.py and test_access.py
    "c.voting.vote": logged_in(REDIRECT),
    # grid workers and staff: paper ballots (an empty POST shows the form again), the sheet's
    # photo, the electorate and who voted, printed ballots
    "c.voting.paper": only(PAPER, OK),
    "c.voting.scan": only(PAPER, OK),
    "c.voting.electorate": only(PAPER, OK),
    "c.voting.print_ballots": only(PAPER, OK),
    # staff add a resident the roll missed (an empty POST shows the page again with the message)
    "c.voting.roll": only(STAFF, OK),
    # a ballot in preparation: staff change it (the open one: 404) and publish its notice (the open
    # one: refused with a message); the notice prints for everyone once the ballot is open
    "c.voting.edit": only(STAFF, GONE),
    "c.voting.notice": only(STAFF, REDIRECT),
    "c.voting.print_call": public(),
    # written proxies: grid workers and staff record (an empty POST shows the form again), revoke
    # (no reason: a redirect back with the message) and see the scan
    "c.voting.proxies": only(PAPER, OK),
    "c.voting.proxy_revoke": only(PAPER, OK),  # the confirmation page (revoking asks first)
    "c.voting.proxy_scan": only(PAPER, OK),
    # the proxy's page and vote: anyone logged in sees the page (it lists only the proxies they
    # hold); a vote is answered with a redirect and a message (an empty form; not your proxy)
    "c.voting.proxy_page": logged_in(OK),
    "c.voting.proxy_vote": logged_in(REDIRECT),
    # the community's voting settings: admins (core.settings.manage); an empty POST shows the form again
    "GET c.voting.settings": only(("admin",), OK),
    "POST c.voting.settings": only(("admin",), REDIRECT),  # the empty form keeps the settings
    # API
    "api_c.voting_api.ballots": public(),
    "api_c.voting_api.ballot_get": public(),
    "api_c.voting_api.ballot_create": only(STAFF, INVALID),
    "api_c.voting_api.ballot_open": only(STAFF, CONFLICT),  # open already
    "api_c.voting_api.ballot_representatives": only(STAFF, CONFLICT),  # not a residents' meeting
    "api_c.voting_api.ballot_close": only(STAFF, INVALID),  # no reason given
    "api_c.voting_api.vote": only(ELECTORATE, INVALID),     # no choice sent
    "api_c.voting_api.paper": only(PAPER, INVALID),         # no voter named
    "api_c.voting_api.electorate": only(PAPER, OK),
    "api_c.voting_api.result": public(CONFLICT),
    "api_c.voting_api.receipts": public(CONFLICT),
    "api_c.voting_api.export": public(CONFLICT),
    "api_c.voting_api.ballot_update": only(STAFF, CONFLICT),   # open already
    "api_c.voting_api.ballot_notice": only(STAFF, CONFLICT),   # open already
    "api_c.voting_api.proxies": only(PAPER, OK),
    "api_c.voting_api.proxy_create": only(PAPER, INVALID),     # no voter named
    "api_c.voting_api.proxy_revoke": only(PAPER, INVALID),     # no reason given
    "api_c.voting_api.proxy_vote": only(("grid_worker",), INVALID),  # the holder; no choice sent
    "api_c.voting_api.proxy_scan": only(PAPER, OK),
    "api_c.voting_api.paper_photo": only(PAPER, OK),
    "api_c.voting_api.roll_missed": only(STAFF, OK),
    "api_c.voting_api.roll_add": only(STAFF, INVALID),         # no reason given
    # Elections (R14): the matrix's ballot is no election, so its nominations are not found (the
    # pages answer with a redirect and a message); staff nominate and publish, voters support,
    # the nominee consents
    "c.voting.nominate": only(STAFF, REDIRECT),
    "c.voting.support": logged_in(REDIRECT),
    "c.voting.consent": logged_in(REDIRECT),
    "c.voting.publish_candidates": only(STAFF, REDIRECT),
    "api_c.voting_api.nominations": public(GONE),
    "api_c.voting_api.eligible": only(STAFF, GONE),
    "api_c.voting_api.nominate": only(STAFF, GONE),
    "api_c.voting_api.support": logged_in(GONE),
    "api_c.voting_api.consent": logged_in(GONE),
    "api_c.voting_api.publish": only(STAFF, GONE),
    # Requests for a residents' meeting: everyone reads them; any member may open the form to start
    # one (an empty form shows it again); supporting answers with a redirect and a message (this
    # request has reached its threshold); staff answer (the form)
    "c.voting.convening_index": public(),
    "c.voting.convening_detail": public(),
    "c.voting.convening_new": logged_in(OK),
    "c.voting.convening_support": logged_in(REDIRECT),
    "c.voting.convening_answer": only(STAFF, OK),
    "api_c.voting_api.convening_list": public(),
    "api_c.voting_api.convening_get": public(),
    "api_c.voting_api.convening_start": logged_in(INVALID),    # no subject sent
    # residents on the register get 409 (the threshold is reached: supports no longer change);
    # everyone else is not a verified resident on the register
    "api_c.voting_api.convening_support": only(ELECTORATE, CONFLICT),
    "api_c.voting_api.convening_withdraw": only(ELECTORATE, CONFLICT),
    "api_c.voting_api.convening_answer": only(STAFF, INVALID),  # no ballot and no reply given
}
