"""Static analysis (issue 7): bandit over core/ and plugins/ finds nothing of medium severity or above.

A false positive is marked on its line with ``# nosec Bxxx`` and the reason in a comment above it."""
import json
import subprocess  # nosec B404 - runs bandit, a fixed command
import sys
from pathlib import Path

from tests.security.figures import add

ROOT = Path(__file__).resolve().parents[2]


def bandit(*paths):
    """bandit's findings of medium severity or above in ``paths``, as readable lines."""
    out = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", "-f", "json", *map(str, paths)],  # nosec B603
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    report = json.loads(out.stdout)
    assert not report["errors"], report["errors"]
    return [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']} {r['issue_text']}"
            for r in report["results"] if r["issue_severity"] in ("MEDIUM", "HIGH")], report


def test_bandit_finds_nothing_of_medium_severity_or_above_in_core_and_plugins(tmp_path):
    # the check can fail: a file with a shell injection and SQL built from input is caught
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\n\ndef f(name, db):\n"
                   "    subprocess.call('ls ' + name, shell=True)\n"
                   "    db.execute(\"SELECT * FROM t WHERE name = '%s'\" % name)\n")
    found, _r = bandit(bad)
    assert {line.split()[1] for line in found} >= {"B602", "B608"}, found
    found, report = bandit(ROOT / "core", ROOT / "plugins")
    assert report["metrics"]["_totals"]["loc"] > 10000  # it really read the code
    assert found == [], "\n".join(found)
    add("files scanned by bandit", len({r for r in report["metrics"] if r != "_totals"}))
