"""The picker (选择器) for long lists of people, rooms, units and buildings.

A staff member who enters a paper ballot picks one voter of 479, one who verifies a resident one
room of 288: a plain list is too long to scroll on a phone. The picker is a list (a ``<select>``,
so what is posted is always a key, never a typed name) with a search box above it:

* with JavaScript (core/static/picker.js) the list narrows as one types, on phones and desktops;
* without it, the search box belongs to a small GET form of its own (``?<field>_q=...``) and the
  page answers with the list narrowed on the server by ``offer`` — the same matching rule.

The narrowing only shortens what the page lists anyway for this user; nothing is looked up by a
typed name. Views call ``offer(field, choices)`` with the choices already in natural order
(core.sorting); templates render the field with the ``picker`` macro of templates/_macros.html.
"""
import unicodedata

from flask import g, request

QUERY_SUFFIX = "_q"  # the GET parameter of a field's search box: voter_id_q, household_id_q ...
MAX_QUERY = 100


def folded(text):
    """``text`` as the picker compares it: full-width characters folded, case ignored."""
    return unicodedata.normalize("NFKC", str(text)).casefold()


def terms_of(query):
    """The words of a search box: each must appear in an entry for it to be shown."""
    return folded(query or "").split()


def matches(label, terms):
    label = folded(label)
    return all(t in label for t in terms)


def query_for(field):
    """What was typed in ``field``'s search box (the GET parameter), trimmed and capped."""
    return (request.args.get(field.name + QUERY_SUFFIX) or "").strip()[:MAX_QUERY]


def _blank(value):
    return value in (0, "", None)


def offer(field, choices):
    """Give ``field`` (a SelectField) ``choices`` [(value, label), ...], narrowed to the entries
    that match its search box when one was sent. The blank first entry ("—") and the entry
    already chosen always stay, so a posted choice still validates; when exactly one entry matches
    and nothing is chosen yet, it is chosen. ``field.picker`` tells the template what was done."""
    choices = list(choices)
    query = query_for(field)
    terms = terms_of(query)
    entries = [c for c in choices if not _blank(c[0])]
    found = [c for c in entries if matches(c[1], terms)]
    if terms and len(found) == 1 and _blank(field.data) and request.method == "GET":
        field.data = found[0][0]
    shown = [c for c in entries if c in found or c[0] == field.data] if terms else entries
    field.choices = [c for c in choices[:1] if _blank(c[0])] + shown
    field.picker = {"query": query, "total": len(entries), "found": len(found) if terms else len(entries)}
    return field


def detached_form(form_id):
    """Note that the page needs an empty GET form ``form_id`` outside every other form (a search
    box inside a POST form belongs to it through its ``form`` attribute: forms cannot nest);
    base.html writes them after the content. Returns "" so a template can call it in place."""
    wanted = g.setdefault("picker_forms", [])
    if form_id not in wanted:
        wanted.append(form_id)
    return ""


def detached_forms():
    return list(g.get("picker_forms", ()))


def register(app):
    app.jinja_env.globals.update(picker_form=detached_form, picker_forms=detached_forms)
