"""Every message of the points module is translated in zh_Hans, zh_Hant and en, and the template
catalog matches the source."""
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
DIR = ROOT / "plugins" / "points" / "translations"


def _ids(path):
    with open(path, "rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant", "en"])
def test_every_message_is_translated(locale):
    with open(DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    pot = _ids(DIR / "messages.pot")
    have = {m.id: m for m in catalog if m.id}
    assert pot <= set(have), sorted(pot - set(have))[:10]
    bad = [m.id for m in have.values() if not m.string or m.fuzzy]
    assert bad == []


def test_template_catalog_is_up_to_date(tmp_path):
    out = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "N_", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2", "--no-location", "-o", str(out), "plugins/points"],
                   cwd=ROOT, check=True, capture_output=True)
    assert _ids(out) == _ids(DIR / "messages.pot")
