"""No catalog uses a word the glossary (docs/glossary.md) lists as wrong for a domain term."""
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.core.test_i18n import CATALOGS

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = {"zh_Hans": 3, "zh_Hant": 4}


def _avoid(locale):
    """[(wrong word, module where it is right or None, the English term)] from the glossary's table."""
    rows = []
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or cells[0] in ("en", "---"):
            continue
        for word in filter(None, (w.strip() for w in cells[COLUMNS[locale]].split(","))):
            m = re.fullmatch(r"(.+?) \(except in (\w+)\)", word)
            rows.append((m.group(1), m.group(2)) if m else (word, None))
            rows[-1] += (cells[0],)
    return rows


def test_the_glossary_lists_the_terms():
    assert len(_avoid("zh_Hans")) >= 8 and ("提案", None, "proposal") in _avoid("zh_Hans")
    assert ("已下架", "points", "withdraw (a proposal, a case)") in _avoid("zh_Hant")


@pytest.mark.parametrize("locale", sorted(COLUMNS))
def test_catalogs_use_the_glossary_words(locale):
    avoid = _avoid(locale)
    problems = []
    for name, _dirs, tdir in CATALOGS:
        with (tdir / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
            catalog = read_po(f, locale=locale)
        for m in catalog:
            text = " ".join(m.string) if isinstance(m.string, tuple) else (m.string or "")
            for word, except_in, term in avoid:
                if word in text and except_in != name:
                    problems.append(f"{name}: {m.id!r} → {text!r}: {word} (glossary: {term})")
    assert not problems, f"{locale}: {len(problems)}\n" + "\n".join(problems[:60])
