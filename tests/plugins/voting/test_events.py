"""Other modules hear `vote.cast` and `ballot.closed` through `on_event` (no import of voting)."""
import types

import pytest
from flask_babel import lazy_gettext as _l

from core.hookspecs import hookimpl
from core.plugins import PluginManifest
from plugins.voting import services
from plugins.voting.models import Ballot

heard = []


@hookimpl
def _on_event(event):
    if event.name in ("vote.cast", "ballot.closed", "ballot.opened"):
        heard.append(event)


listener = types.SimpleNamespace(__name__="tests.plugins.voting", on_event=_on_event,
                                 manifest=PluginManifest(name="listener", label=_l("Listener")))


@pytest.mark.plugins("voting", listener)
def test_events_reach_other_modules_with_stable_refs(world, voting_proposal):
    b = Ballot.query.filter_by(proposal_id=voting_proposal.id).one()
    assert [e.name for e in heard][-1] == "ballot.opened"
    heard.clear()
    services.cast(b, world.resident, "no")
    services.cast(b, world.resident, "yes")  # a change of vote: same ref, so a points store pays once
    services.close(b, world.staff, "测试")
    casts = [e for e in heard if e.name == "vote.cast"]
    assert len(casts) == 2 and casts[0].ref == casts[1].ref
    assert casts[0].user_ids == (world.resident.id,) and casts[0].data["first"] and not casts[1].data["first"]
    closed = [e for e in heard if e.name == "ballot.closed"]
    assert len(closed) == 1 and closed[0].data["passed"] is True
    assert closed[0].data["proposal_id"] == voting_proposal.id
