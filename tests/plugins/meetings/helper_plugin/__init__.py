"""A tiny test plugin beside the meetings tests: it offers a case for agendas through the core hook
``agenda_sources`` (as a mediation module would), keeps every event it hears, and refuses every
move of a proposal with the reason in ``blocked`` while a test sets one."""
from core.hookspecs import hookimpl
from core.plugins import PluginManifest
from core.ui import AgendaCandidate

manifest = PluginManifest(name="mhelper", label="meetings test helper")
heard = []
blocked = None


@hookimpl
def agenda_sources(community, user):
    return [AgendaCandidate(ref="case:7", title="3号楼漏水纠纷（调解转交）", url="/c/test/cases/7")]


@hookimpl
def on_event(event):
    heard.append(event)


@hookimpl
def proposal_transition_blocked(proposal, new_state, actor):
    return blocked
