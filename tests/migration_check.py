"""Run in a subprocess by the migration tests, so only the chosen plugins' models are imported.

Usage: LINLI_PLUGINS=a,b python -m tests.migration_check <database-url> [downgrade-branch]
Prints JSON: {"diff": [...], "tables_after_downgrade": [...]}."""
import json
import sys

from core import create_app
from core.extensions import alembic, db


def main():
    url = sys.argv[1]
    downgrade = sys.argv[2] if len(sys.argv) > 2 else None
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "m", "TESTING": True})
    out = {}
    with app.app_context():
        alembic.upgrade()
        out["diff"] = [repr(d) for d in alembic.compare_metadata()]
        out["heads"] = sorted(r.revision for r in alembic.script_directory.get_revisions("heads"))
        if downgrade:
            alembic.downgrade(f"{downgrade}@base")
            out["tables_after_downgrade"] = sorted(db.inspect(db.engine).get_table_names())
        db.engine.dispose()
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
