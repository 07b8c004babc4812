"""Irreversible actions ask first (确认页): one way for every page that spends, deletes, erases,
cancels or revokes something.

A form that does such a thing posts to its route as before. Without ``confirm=1`` the route does
not act: it answers with a confirmation page (``templates/confirm.html``) that says exactly what
will happen, and carries the fields that were sent in hidden inputs, with ``confirm=1`` added, so
that the second POST, from the page's own button, does it. It works without JavaScript, and a
page reloaded or a link followed never acts. The API and the command line are not asked: a
request there is already the caller's deliberate act.

A module's page that needs more than facts and sentences (a list of what is still open) extends
``confirm.html`` and fills its ``details`` block."""
from dataclasses import dataclass, field

from flask import render_template, request

CARRIED_NOT = frozenset({"csrf_token", "confirm"})


def confirmed() -> bool:
    """True when this POST came from a confirmation page's button (``confirm=1``)."""
    return request.method == "POST" and request.form.get("confirm") == "1"


def carried(*leave_out):
    """The fields of this POST to send again from the confirmation page (not its token)."""
    skip = CARRIED_NOT | set(leave_out)
    return [(k, v) for k, v in request.form.items(multi=True) if k not in skip]


@dataclass
class Confirmation:
    """What a confirmation page shows: its title (a question), what will happen (``lines``), the
    figures the decision rests on (``facts``: label and value pairs), the button, and where
    "keep it" goes back to. ``reason_label`` adds a reason field (kept from the first POST)."""

    title: str
    action: str
    button: str
    back_url: str
    back_label: str
    cancel_label: str
    lines: list = field(default_factory=list)
    facts: list = field(default_factory=list)
    hidden: list = field(default_factory=list)
    reason_label: str = None
    reason_required: bool = False
    danger: bool = True

    @property
    def reason(self):
        return request.form.get("reason", "") if request.method == "POST" else request.args.get("reason", "")

    @property
    def carried(self):
        """The hidden fields: those given, else everything sent (without the reason when the page
        asks for it in its own field)."""
        if self.hidden:
            return self.hidden
        return carried("reason") if self.reason_label else carried()


def ask(confirmation, template="confirm.html", status=200, **context):
    """The confirmation page for ``confirmation`` (the route does nothing else)."""
    return render_template(template, confirm=confirmation, **context), status
