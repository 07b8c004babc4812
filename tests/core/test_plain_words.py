"""Residents see plain words (issue 20): no hash, seed, recount command, raw fraction of big
numbers, "Markdown", rule number (R22) or legal article, or API token on the pages a resident
uses, in Chinese or English. Integrity details are allowed only inside the closed 核验 (Verify)
section (<details class="verify">), which says what they prove."""
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import INSTALLED

pytestmark = pytest.mark.plugins(*INSTALLED)
DEMO_PASSWORD = "linli-demo-2026"

# What a resident must not read outside the verify section: each pattern with why.
TECHNICAL = [
    (r"哈希|雜湊|\bhash(es)?\b", "a hash"),
    (r"种子|種子|\bseed\b", "the tie-break seed"),
    (r"recount|SHA-256", "the recount command or the hash function"),
    (r"Markdown", "the name of a markup language"),
    (r"\bR\d{1,2}\b", "a rule number of the design"),
    (r"\bArt\.|第[一二三四五六七八九十百零\d]+条", "a legal article"),
    (r"API\s*(令牌|權杖|token)", "an API token"),
    (r"\b\d{4,}\s*/\s*\d{4,}\b", "an exact fraction of big numbers"),
    (r"\bJSON\b", "a file format"),
]


class _Text(HTMLParser):
    """The text of <main>, less the verify section, written content (.prose), scripts and styles."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.parts, self.in_main = [], [], False

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        # the verify section (核验), what only developers open (.advanced), and what residents or
        # staff wrote themselves (.prose)
        hidden = tag in ("script", "style", "template") or bool({"verify", "advanced", "prose"} & set(classes))
        self.stack.append((tag, hidden, tag == "main"))
        if tag == "main":
            self.in_main = True

    def handle_endtag(self, tag):
        while self.stack:
            t, _hidden, was_main = self.stack.pop()
            if was_main:
                self.in_main = False
            if t == tag:
                break

    def handle_data(self, data):
        if self.in_main and not any(hidden for _t, hidden, _m in self.stack):
            self.parts.append(data)


def plain_text(html):
    """The text a resident reads on the page, without the verify sections."""
    p = _Text()
    p.feed(html)
    return " ".join(" ".join(p.parts).split())


def technical_words(text):
    return [f"{why}: …{text[max(0, m.start() - 30):m.end() + 30]}…"
            for pattern, why in TECHNICAL for m in re.finditer(pattern, text, re.IGNORECASE)]


@pytest.fixture
def demo(app):
    from core.demo import load_demo

    community, _created = load_demo("demo")
    return community


# Pages every resident must be able to read in plain words; the crawl below must reach them.
MUST_SEE = [r"/c/demo/proposals/$", r"/c/demo/proposals/\d+$", r"/c/demo/voting/\d+$", r"/auth/account$",
            r"/c/demo/points/$", r"/c/demo/meetings/\d+$", r"/c/demo/mediation/cases/\d+$"]
SKIP = re.compile(r"/logout|/static/|\.(ics|json|csv|pdf|png|jpg|svg)$|/export$|/personal-data$|/file$")
ACCEPT = {"zh_Hans": "zh-CN", "zh_Hant": "zh-TW", "en": "en-US"}


def resident(app, locale):
    """A client logged in as the demo's resident1 whose browser asks for ``locale``."""
    from tests.conftest import FreshContextClient

    app.test_client_class = FreshContextClient
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = ACCEPT[locale]
    r = client.post("/auth/login", data={"login": "resident1", "password": DEMO_PASSWORD})
    assert r.status_code == 302
    return client


def crawl(client, start, limit=160):
    """Every page of the demo community a logged-in resident reaches by following links from
    ``start`` (GET only, at most ``limit``): {path: html}."""
    seen, todo, pages = set(), list(start), {}
    while todo and len(seen) < limit:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        r = client.get(path)
        if r.status_code != 200 or "text/html" not in r.content_type:
            continue
        html = r.get_data(as_text=True)
        pages[path] = html
        for m in re.finditer(r'href="(/(?:c/demo|auth)[^"#?]*)"', html):
            if m.group(1) not in seen and not SKIP.search(m.group(1)):
                todo.append(m.group(1))
    return pages


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_resident_pages_use_plain_words(app, demo, locale):
    """A resident (陈阿姨, the demo's resident1: a voter on open and closed ballots, a party to a
    mediation case, a volunteer with points) reads no technical word outside the verify section."""
    client = resident(app, locale)
    pages = crawl(client, ["/c/demo/", "/c/demo/proposals/", "/c/demo/voting/", "/auth/account",
                           "/c/demo/points/", "/c/demo/meetings/", "/c/demo/mediation/"])
    for must in MUST_SEE:
        assert any(re.search(must, p) for p in pages), f"the crawl never reached {must}"
    lang = {"zh_Hans": 'lang="zh-Hans"', "zh_Hant": 'lang="zh-Hant"', "en": 'lang="en"'}[locale]
    assert all(lang in html for html in pages.values())
    found = {path: technical_words(plain_text(html)) for path, html in pages.items()}
    found = {path: words for path, words in found.items() if words}
    assert not found, "\n".join(f"{p}: {w}" for p, ws in found.items() for w in ws)


def test_the_verify_section_is_there_and_closed(app, demo):
    """A closed ballot's page keeps its integrity details under a closed 核验 section that says
    what they prove; the account page folds the API tokens away."""
    client = resident(app, "zh_Hans")
    pages = crawl(client, ["/c/demo/voting/"], limit=40)
    closed = [html for p, html in pages.items() if re.search(r"/voting/\d+$", p) and 'id="result"' in html]
    assert closed, "no closed ballot with a result in the demo"
    for html in closed:
        section = html[html.index('<details class="verify"'):]
        section = section[:section.index("</details>")]
        assert "<details class=\"verify\" id=\"verify\">" in html  # closed: no "open" attribute
        assert "<summary>核验</summary>" in section and "linli ballots recount" in section
        assert "哈希" in section and "/receipts" in section
    account = client.get("/auth/account").get_data(as_text=True)
    assert '<details class="card advanced" id="developers">' in account


def _rule_ids(text):
    return re.findall(r"\bR\d{1,2}\b", text)


def test_no_rule_number_in_any_catalog_or_template():
    """Rule numbers of the design (R1–R33) are for the code; no translated message and no text of
    a template shows one (Jinja comments may cite them)."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    bad = []
    for po in list(root.glob("core/translations/*/LC_MESSAGES/messages.po")) + \
            list(root.glob("plugins/*/translations/*/LC_MESSAGES/messages.po")):
        with open(po, "rb") as fh:
            for m in read_po(fh):
                text = " ".join(m.string) if isinstance(m.string, (list, tuple)) else (m.string or "")
                if _rule_ids(text):
                    bad.append(f"{po.relative_to(root)}: {text[:80]}")
    for tpl in list(root.glob("templates/**/*.html")) + list(root.glob("plugins/*/templates/**/*.html")):
        text = re.sub(r"\{#.*?#\}", "", tpl.read_text(encoding="utf-8"), flags=re.S)
        if _rule_ids(text):
            bad.append(f"{tpl.relative_to(root)}: {_rule_ids(text)}")
    assert not bad, "\n".join(bad)
