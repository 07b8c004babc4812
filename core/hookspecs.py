"""The hook specifications: the whole contract between the core and a plugin.

Each docstring here is the reference documentation (docs/plugins.md links here). Hooks come in
two kinds:

* install-time hooks (``register_*``) are called once in ``create_app`` over every installed
  plugin; they return data and the core does the wiring;
* community-scoped hooks are always called through ``g.hooks`` (``registry.hooks_for(community)``),
  a relay that leaves out the plugins disabled for that community, so a disabled module takes no
  part in them;
* register hooks (``on_persons_merged``) are called for every installed plugin, enabled or not,
  because they keep the module's stored rows true (a disabled module keeps its data).

Every hook implementation runs inside the caller's transaction (the entry point's, core.db): it
may add, change and flush rows, and never commits or rolls back; when it raises, or the caller
refuses later, everything the request wrote is rolled back together.
"""
import pluggy

hookspec = pluggy.HookspecMarker("linli")
hookimpl = pluggy.HookimplMarker("linli")


# ── install-time ────────────────────────────────────────────────────────────────────────
@hookspec
def register_blueprints():
    """Return a list of page Blueprints. The core nests each under the per-community parent
    blueprint, so URLs are ``/c/<community>/<url_prefix>/...`` and endpoints ``c.<bp>.<view>``.
    A plugin's blueprint name must equal the plugin name (it is used to gate requests)."""


@hookspec
def register_api_blueprints():
    """Return a list of JSON API Blueprints. They are nested under ``/api/v1/c/<community>``,
    so a plugin's resources live at ``/api/v1/c/<community>/<plugin>/...``. Use
    ``core.api.endpoint`` to declare each route so it appears in the OpenAPI document."""


@hookspec
def register_cli_commands():
    """Return a list of click commands or groups added to the ``linli`` command line."""


@hookspec
def register_permissions():
    """Return a list of ``core.permissions.Permission`` (name ``<plugin>.<thing>.<verb>``,
    label, default roles)."""


@hookspec
def register_audit_events():
    """Return a list of ``core.services.audit.AuditEvent`` (every key this plugin writes with
    ``audit.record``, named ``<plugin>.<...>``, with a translated sentence) and optionally
    ``AuditField`` (labels of the fields its entries hold). The audit log shows these sentences;
    a test fails when a key the code writes has none."""


@hookspec
def register_event_types():
    """Return a list of ``core.events.EventType`` this plugin emits (name ``<plugin>.<verb>``).
    ``core.events.emit`` refuses names nobody declared."""


# ── lifecycle: called for ONE plugin only ────────────────────────────────────────────────
@hookspec
def on_plugin_enabled(community, actor):
    """This plugin was just enabled for ``community`` (seed per-community defaults here)."""


@hookspec
def on_plugin_disabled(community, actor):
    """This plugin was just disabled for ``community``; its data is kept."""


@hookspec
def open_business(community):
    """What people still have open in this plugin for ``community``: a list of
    ``{"key": str, "label": str, "count": int}`` (``label`` translated, e.g. "Orders not yet
    collected"), or None. Asked, on this plugin only, before an admin switches it off, so that
    the admin sees who would be stranded and confirms. Read only: never write here."""


# ── community-scoped ─────────────────────────────────────────────────────────────────────
@hookspec
def nav_items(community, user):
    """Return a list of ``core.ui.NavItem``. The core filters them by permission and sorts them by
    (area, order, label)."""


@hookspec
def proposal_panels(proposal, user):
    """Return a list of ``core.ui.Panel`` shown on the proposal detail page."""


@hookspec(firstresult=True)
def proposal_transition_blocked(proposal, new_state, actor):
    """Return a translated reason to refuse moving ``proposal`` to ``new_state``, or None.
    The first reason wins; for example voting refuses a manual ``accepted`` while a ballot is open."""


@hookspec
def on_proposal_transition(proposal, old_state, new_state, actor, reason):
    """The proposal changed state. Called inside the same database transaction: add rows, do not
    commit. For example voting opens a ballot when a proposal reaches ``voting``."""


@hookspec
def on_resident_verified(membership, actor):
    """Staff verified a resident (linked them to a household)."""


@hookspec
def on_event(event):
    """Any declared ``core.events.Event``. Match on ``event.name`` strings only, never import
    another plugin. Called inside the emitter's transaction."""


@hookspec
def check_permission(user, community, permission, obj):
    """Return True (allow), False (deny) or None (no opinion) for ``permission`` on ``obj``.
    Any False denies; otherwise any True allows; otherwise the permission's default roles decide."""


@hookspec
def dashboard_widgets(community, user):
    """Return a list of ``core.ui.Panel`` for the community home page (points balance, open
    ballots, ...)."""


@hookspec
def notification_channels():
    """Return a list of callables ``send(notification)`` that deliver a notification by another
    channel (SMS, WeChat, e-mail). In-app delivery is the core's and always happens."""


@hookspec
def agenda_sources(community, user):
    """Return a list of ``core.ui.AgendaCandidate`` that a meetings module may put on an agenda
    (for example a mediation case handed over for the joint meeting)."""


@hookspec
def load_demo_data(community, users):
    """Add this module's demo content to the freshly created demo ``community``. ``users`` maps
    demo role names (admin, staff, resident1, ...) to accounts. Called only for enabled plugins."""


# ── personal data (个人信息保护法 Art. 45 copy, Art. 47 deletion) ────────────────────────────
@hookspec
def personal_data_export(user, community):
    """Return this module's personal data about ``user`` in ``community`` for the copy a person may
    ask for (PIPL Art. 45): a JSON-serialisable dict ``{"module": "<plugin name>", ...}`` (lists of
    plain values, ISO dates, amounts as strings), or None when there is nothing. Only data about
    ``user`` — never another person's name or contact details. Called only for enabled plugins."""


@hookspec
def personal_data_erase(user, community, actor):
    """Erase or anonymise this module's personal data about ``user`` in ``community`` (PIPL Art.
    47), called before the core anonymises the account (``user.display_name``, ``user.phone`` and
    ``core.services.personal_data.own_names(user)`` are still readable). Delete what the law lets
    go; keep records that must be kept (ballots, ledger entries, case files) with the person's
    name and contact details replaced by ``core.services.personal_data.anonymous_label(user)``.

    Find the rows by key, never by searching text: rows linked to ``user.id`` or to an id of one of
    the person's own records (a register entry, a delegate seat), and in them only the columns
    that hold the person's name, phone or address (a name copied into such a row may be compared
    with ``own_names`` where the row can name someone else). Never touch other people's rows,
    hashes, tokens, timestamps, ballot chains or published files. What other people wrote that
    mentions the person (minutes, notes, comments) is not rewritten: the controller handles the
    request by the records it holds about the person, and staff can edit a specific record on
    request. Name fields in audit entries about the module's own rows of the person go through
    ``core.services.personal_data.erase_audit_fields``. Amounts and counts never change.
    Must be idempotent: a second call finds nothing more to change. Add rows, do not commit.
    Return ``{"module": "<plugin name>", "<what>": <count>, ...}`` (counts of rows changed)."""


# ── the register: called for EVERY installed plugin, enabled or not ──────────────────────
@hookspec
def on_persons_merged(community, keep_id, other_id, actor):
    """Staff found that two people on the register of ``community`` are one human being
    (``core.services.persons.merge``, or verifying an account as an entry of another person):
    person ``other_id`` becomes ``keep_id``. Called inside the merge's transaction, after the
    core moved the entries, proposals, comments and seconds, and before ``other_id`` is deleted
    (whose foreign keys would otherwise cascade or go NULL). Called for every installed plugin,
    also one switched off in the community: its rows are kept while it is off.

    Point every row of the module that names ``other_id`` (a foreign key to ``person.id``, or a
    key such as ``person:<id>`` of something still in progress) at ``keep_id``. Where a unique
    constraint would now hold two rows of one person (both supported the same nomination, both
    signed up for one activity), keep the earliest and delete the other, so that every count is
    one per person; counters kept beside the rows are recounted while they still move. Refuse the
    merge (raise ``core.errors.Conflict``) only where two rows cannot become one (both are
    candidates on one published ballot): the whole request is rolled back. Add rows, do not
    commit.

    Return ``{"module": "<plugin name>", "moved": {"<table>": count, ...}, "removed": {"<table>":
    count, ...}}``: ``moved`` names EVERY table of the module with a person key (zeros too; a
    contract test checks it against the models), ``removed`` the duplicates deleted. The core
    writes the non-zero counts into the merge's audit entry; register an ``AuditField`` label
    for each table name.

    Splitting an entry off (``persons.split``) calls no hook: what a person did stays theirs (the
    original person keeps every row), since nothing tells which entry acted."""
