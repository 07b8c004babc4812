"""Every message of the core and of every installed plugin is translated into the three languages."""
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import INSTALLED

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("zh_Hans", "zh_Hant", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
CATALOGS = [("core", [ROOT / "core", ROOT / "templates"], ROOT / "core" / "translations")] + [
    (name, [ROOT / "plugins" / name], ROOT / "plugins" / name / "translations") for name in INSTALLED]


def _extracted(dirs):
    ids = set()
    for d in dirs:
        for _fn, _line, message, _comments, _ctx in extract_from_dir(str(d), METHODS, keywords=KEYWORDS):
            ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.mark.parametrize("name,dirs,tdir", CATALOGS, ids=[c[0] for c in CATALOGS])
def test_catalogs_complete(name, dirs, tdir):
    wanted = _extracted(dirs)
    problems = []
    for locale in LOCALES:
        po = tdir / locale / "LC_MESSAGES" / "messages.po"
        assert po.exists(), f"{po} is missing"
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        have = {}
        for m in catalog:
            if not m.id:
                continue
            key = m.id[0] if isinstance(m.id, tuple) else m.id
            have[key] = m
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            if m.fuzzy:
                problems.append(f"{locale}: fuzzy: {key!r}")
            if not all(strings):
                problems.append(f"{locale}: untranslated: {key!r}")
        for msgid in sorted(wanted - set(have)):
            problems.append(f"{locale}: not in the catalog (run `make messages`): {msgid!r}")
    assert not problems, f"{name}: {len(problems)} problems\n" + "\n".join(problems[:40])


def test_pages_render_in_each_language(client, world):
    texts = {}
    for locale in LOCALES:
        client.post("/language", data={"locale": locale, "next": "/"})
        texts[locale] = client.get("/c/test/proposals/").get_data(as_text=True)
    assert "提案" in texts["zh_Hans"] or "议题" in texts["zh_Hans"]
    assert "議題" in texts["zh_Hant"] or "提案" in texts["zh_Hant"]
    assert "Proposals" in texts["en"]


def test_dates_follow_the_locale(app, world):
    from datetime import datetime, timezone

    from flask_babel import force_locale

    from core.i18n import fmt_area, fmt_datetime

    moment = datetime(2026, 3, 5, 6, 30, tzinfo=timezone.utc)  # 14:30 in Shanghai
    with app.test_request_context():
        with force_locale("en"):
            assert "Mar" in fmt_datetime(moment) and "2:30" in fmt_datetime(moment)
            assert fmt_area("1234.5") == "1,234.50 m²"
        with force_locale("zh_Hans"):
            assert "2026年3月5日" in fmt_datetime(moment) and "14:30" in fmt_datetime(moment)


def _read(tdir, locale):
    with (tdir / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_of_a_language_agree(locale):
    """The core's and the plugins' catalogs are merged into one per language (core/web.py), the last
    loaded winning: a message two catalogs translate differently rewrites the other module's pages and
    API errors. A module's own meaning of a common word takes a message context (pgettext)."""
    first, problems = {}, []
    for name, _dirs, tdir in CATALOGS:  # the core first: a plugin never changes a core message
        for m in _read(tdir, locale):
            if not m.id or not m.string:
                continue
            key = (m.context, m.id)
            if key in first and first[key][1] != m.string:
                problems.append(f"{m.context or ''}|{m.id!r}: {first[key][0]} {first[key][1]!r}, {name} {m.string!r}")
            first.setdefault(key, (name, m.string))
    assert not problems, f"{locale}: {len(problems)} messages translated two ways\n" + "\n".join(problems[:60])


@pytest.mark.plugins(*INSTALLED)
def test_a_plugin_does_not_reword_the_core(app):
    """With every plugin loaded, the core's words stay the core's (a proposal is 已撤回, not 已下架)."""
    from flask_babel import force_locale, gettext, pgettext

    with app.test_request_context():
        with force_locale("zh_Hans"):
            assert gettext("Withdrawn") == "已撤回"
            assert gettext("Choose a category.") == "请选择类别。"
            if "points" in INSTALLED:
                assert pgettext("store item", "Withdrawn") == "已下架"
            if "mediation" in INSTALLED:
                assert pgettext("mediation", "Choose a category.") == "请选择纠纷类型。"
        with force_locale("zh_Hant"):
            assert gettext("Withdrawn") == "已撤回"
            assert gettext("Choose a category.") == "請選擇類別。"


@pytest.mark.parametrize("locale", LOCALES)
def test_long_dates_carry_no_zone_offset(app, world, client, locale):
    """Print footers once read '2026年3月5日 +0800 14:30:00': every time shown is in the community's zone."""
    from datetime import datetime, timezone

    from flask_babel import force_locale

    from core.i18n import fmt_datetime
    from core.services import proposals

    moment = datetime(2026, 3, 5, 6, 30, tzinfo=timezone.utc)  # 14:30 in Shanghai
    with app.test_request_context():
        with force_locale(locale):
            text = fmt_datetime(moment, "long")
    assert "+08" not in text and "2026" in text and ("14:30" in text or "2:30" in text), text
    p = proposals.create(world.community, world.resident, {
        "title": "规划访客临时停车位", "body": "访客车辆乱停，建议在北门划出临时停车位并限时。", "category": "parking"})
    page = client.get(f"/c/test/proposals/{p.id}/print", headers={"Accept-Language": locale}).get_data(as_text=True)
    foot = page.split('class="notice-foot"', 1)[1].split("</p>", 1)[0]
    assert "+08" not in foot and "GMT" not in foot, foot


@pytest.mark.plugins(*INSTALLED)
@pytest.mark.parametrize("locale,words,wrong", [("zh_Hans", "请选择类别", "纠纷"), ("zh_Hant", "請選擇類別", "糾紛")])
def test_a_proposal_without_a_category_is_told_so_in_the_core_words(world, api, locale, words, wrong):
    """The mediation catalog once answered a proposal without a category with 请选择纠纷类型."""
    r = api(world.resident).post("/api/v1/c/test/proposals", headers={"Accept-Language": locale},
                                 json={"title": "规划访客临时停车位", "body": "访客车辆乱停，建议在北门划出临时停车位。"})
    assert r.status_code == 400
    message = r.get_json()["error"]["fields"]["category"]
    assert words in str(message) and wrong not in str(message), message
