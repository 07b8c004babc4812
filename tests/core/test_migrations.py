"""Models and migrations agree: upgrading an empty database gives exactly the models' schema."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import INSTALLED, PG_URL

ROOT = Path(__file__).resolve().parents[2]


def fresh_database(tmp_path, tag):
    if PG_URL:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(PG_URL)
        name = f"{url.database}_mig_{tag}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return url.set(database=name).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / (tag + '.sqlite')}"


def run_check(url, plugins, downgrade=None):
    env = dict(os.environ, LINLI_PLUGINS=",".join(plugins) or "none")
    args = [sys.executable, "-m", "tests.migration_check", url] + ([downgrade] if downgrade else [])
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def test_core_migrations_match_models(tmp_path):
    result = run_check(fresh_database(tmp_path, "core"), [])
    assert result["diff"] == []


def test_all_migrations_match_all_models(tmp_path):
    result = run_check(fresh_database(tmp_path, "all"), INSTALLED)
    assert result["diff"] == []
    assert len(result["heads"]) == 1 + len(INSTALLED)  # one branch per plugin plus the core's
