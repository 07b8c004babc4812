"""The audit log in words (issue 20): every key the code writes with ``audit.record`` has a sentence
in zh_Hans, zh_Hant and en (the core's and each module's, through ``register_audit_events``); the
page shows that sentence and the changed fields as a small table, never the raw key or JSON; a key
nobody declared still reads as a sentence."""
import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core.extensions import db
from core.models import AuditEntry
from core.services import proposals
from tests.conftest import INSTALLED

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"title": "规划访客临时停车位", "body": "访客车辆乱停，建议在北门划出临时停车位并限时。", "category": "parking"}

# Call sites whose key is computed: what they can write. A new computed key must be listed here
# (and given a sentence), or the test below fails and says where.
COMPUTED = {
    ("core/services/structure.py", "action"): {"grid.created", "building.created", "unit.created"},
    ("core/services/structure.py", "f'{obj.__tablename__}.renamed'"): {"grid.renamed", "building.renamed",
                                                                       "unit.renamed"},
    ("core/services/structure.py", "f'{obj.__tablename__}.deleted'"): {"grid.deleted", "building.deleted",
                                                                       "unit.deleted"},
    # the helper below; its callers' keys are collected through HELPERS
    ("plugins/mediation/services.py", "f'mediation.{action}'"): set(),
}
# Helpers that write ``<prefix><their first argument>``: (file, helper name) -> prefix.
HELPERS = {("plugins/mediation/services.py", "_audit"): "mediation."}


def _keys(node, consts):
    """The keys an expression can be: a string, a choice of strings, a sum of them; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        a, b = _keys(node.body, consts), _keys(node.orelse, consts)
        return None if a is None or b is None else a | b
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _keys(node.left, consts), _keys(node.right, consts)
        return None if a is None or b is None else {x + y for x in a for y in b}
    if isinstance(node, ast.Name) and node.id in consts:
        return {consts[node.id]}
    return None


def keys_the_code_writes():
    """Every audit key of the core and the installed modules, read from their source."""
    found, unknown = set(), []
    files = list(ROOT.glob("core/**/*.py")) + [p for name in INSTALLED for p in ROOT.glob(f"plugins/{name}/**/*.py")]
    for path in files:
        if "migrations" in path.parts:
            continue
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                  and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                  for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == "record" and isinstance(f.value, ast.Name) \
                    and f.value.id == "audit":
                keys = _keys(node.args[0], consts) or COMPUTED.get((rel, ast.unparse(node.args[0])))
                if keys is None:
                    unknown.append(f"{rel}:{node.lineno}: {ast.unparse(node.args[0])}")
                    continue
                found |= keys
            elif isinstance(f, ast.Name) and (rel, f.id) in HELPERS:
                keys = _keys(node.args[0], consts)
                if keys is not None:
                    found |= {HELPERS[(rel, f.id)] + k for k in keys}
    assert not unknown, "audit keys computed in a way this test cannot follow; list them in COMPUTED:\n" + \
        "\n".join(unknown)
    return found


def translated(locale):
    """(context, msgid) of every message translated in ``locale`` in the core's and modules' catalogs."""
    out = set()
    for po in [ROOT / "core/translations"] + [ROOT / f"plugins/{n}/translations" for n in INSTALLED]:
        path = po / locale / "LC_MESSAGES" / "messages.po"
        if path.exists():
            with open(path, "rb") as fh:
                out |= {(m.context, m.id) for m in read_po(fh) if m.id and m.string}
    return out


@pytest.mark.plugins(*INSTALLED)
def test_every_key_the_code_writes_has_a_sentence_in_three_languages(app):
    keys = keys_the_code_writes()
    assert {"proposal.transition", "membership.verified", "grid.renamed"} <= keys
    registry = app.extensions["linli.plugins"]
    missing = sorted(keys - set(registry.audit_events))
    assert not missing, f"audit keys without a sentence (register_audit_events): {missing}"
    for locale in ("zh_Hans", "zh_Hant", "en"):
        done = translated(locale)
        untranslated = [k for k in sorted(keys) if (None, registry.audit_events[k].sentence._args[0]) not in done]
        assert not untranslated, f"{locale}: sentences not translated for {untranslated}"


def _rows(html):
    return html.split("<tbody>", 1)[1]


def test_the_log_shows_sentences_and_changed_fields_not_keys(world, login):
    p = proposals.create(world.community, world.resident, GOOD)
    proposals.transition(p, "coordinating", world.staff, "物业同意协调")
    c = login(world.staff)
    page = _rows(c.get("/c/test/admin/audit").get_data(as_text=True))
    assert "把议题转入下一阶段" in page and "提交了议题" in page and "物业同意协调" in page
    assert "proposal.transition" not in page and "proposal.created" not in page
    assert "{&#34;" not in page and '{"' not in page  # no JSON
    # the change as a small table: the field's label, then before and after in words
    assert '<table class="audit-fields">' in page
    assert "<th scope=\"row\">阶段</th><td>征求意见中</td><td>协调中</td>" in page.replace("\n", "")
    # the filter offers sentences too
    form = c.get("/c/test/admin/audit").get_data(as_text=True).split("<main", 1)[1].split("</form>", 1)[0]
    assert ">把议题转入下一阶段</option>" in form


def test_an_unknown_key_still_reads_as_a_sentence(world, login):
    db.session.add(AuditEntry(community_id=world.community.id, action="someplugin.thing_done",
                              object_type="x", object_id="1", before={"size": 1}, after={"size": 2}))
    db.session.commit()
    page = _rows(login(world.staff).get("/c/test/admin/audit").get_data(as_text=True))
    assert "记录了一项变更（someplugin · thing done）。" in page
    assert "<th scope=\"row\">size</th><td>1</td><td>2</td>" in page


def test_names_in_the_log_never_break_one_character_per_line():
    css = (ROOT / "core/static/linli.css").read_text(encoding="utf-8")
    rule = css[css.index(".table.audit td.who"):]
    rule = rule[:rule.index("}")]
    assert ".large-text .table.audit td.who" in rule and "white-space: nowrap" in rule
