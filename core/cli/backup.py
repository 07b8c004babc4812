"""`linli backup` and `linli restore`: the whole database to a file and back (SQLite or PostgreSQL)."""
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.cli.support import fail

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _pg_command(url):
    """(libpq connection string, environment) for pg_dump/pg_restore from a SQLAlchemy URL."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return conninfo, env


def _run_pg(args, env):
    import subprocess

    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True)
    except OSError as err:
        fail(_("Cannot run %(program)s: %(error)s", program=args[0], error=err.strerror or err))
    if done.returncode != 0:
        fail(_("%(program)s failed: %(error)s", program=Path(args[0]).name,
                error=(done.stderr or done.stdout).strip()[-2000:]))


def _file_kind(path):
    """'sqlite', 'pgdump' or None, from the first bytes of the file."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "pgdump"
    return None


def _release_connections():
    """Close this process's own connections, so they neither hold locks nor look like other users."""
    from core.extensions import db

    db.session.remove()
    db.engine.dispose()


@click.command("backup", help=_l("Back up the database to FILE while linli keeps running (SQLite: a copy of "
                                  "the database file; PostgreSQL: a pg_dump archive in custom format)."))
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(file):
    import sqlite3

    from core.extensions import db

    url = db.engine.url
    target = Path(file)
    if target.exists():
        fail(_("%(path)s exists already; choose a new file.", path=file))
    if url.get_backend_name() == "postgresql":
        conninfo, env = _pg_command(url)
        _run_pg([current_app.config.get("LINLI_PG_DUMP", "/usr/bin/pg_dump"), "--format=custom",
                 "--no-owner", "--file", str(target), "--dbname", conninfo], env)
        click.echo(_("Wrote %(path)s.", path=file))
        return
    try:
        src = sqlite3.connect(url.database)
        dst = sqlite3.connect(str(target))
    except sqlite3.Error as err:
        fail(_("Cannot write %(path)s: %(error)s", path=file, error=err))
    pages = src.execute("PRAGMA page_count").fetchone()[0] or 1
    with click.progressbar(length=pages, label=_("Backing up")) as bar:
        done = [0]

        def progress(status, remaining, total):
            bar.update(total - remaining - done[0])
            done[0] = total - remaining

        src.backup(dst, pages=256, progress=progress)
    dst.close()
    src.close()
    click.echo(_("Wrote %(path)s.", path=file))


@click.command("restore", help=_l("Replace the whole database with the backup in FILE (made by linli backup). "
                                   "Everything written since that backup is lost."))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help=_l("SQLite: restore even though the database seems to be in use "
                                               "(stop linli first if you can)."))
@with_appcontext
def restore_command(file, force):
    import sqlite3

    from core.extensions import db

    source = Path(file)
    if not source.is_file():
        fail(_("There is no file %(path)s.", path=file))
    try:
        kind = _file_kind(source)
    except OSError as err:
        fail(_("Cannot read %(path)s: %(error)s", path=file, error=err.strerror or err))
    url = db.engine.url
    backend = url.get_backend_name()
    _release_connections()
    if backend == "postgresql":
        if kind == "sqlite":
            fail(_("%(path)s is a SQLite database, but this database is PostgreSQL: nothing was changed.", path=file))
        if kind != "pgdump":
            fail(_("%(path)s is not a backup made by linli backup: nothing was changed.", path=file))
        conninfo, env = _pg_command(url)
        # One transaction: a dump that fails half-way leaves the database as it was.
        _run_pg([current_app.config.get("LINLI_PG_RESTORE", "/usr/bin/pg_restore"), "--clean", "--if-exists",
                 "--no-owner", "--single-transaction", "--exit-on-error", "--dbname", conninfo, str(source)], env)
        click.echo(_("Restored the database from %(path)s.", path=file))
        return
    if kind == "pgdump":
        fail(_("%(path)s is a PostgreSQL dump, but this database is SQLite: nothing was changed.", path=file))
    if kind != "sqlite":
        fail(_("%(path)s is not a backup made by linli backup: nothing was changed.", path=file))
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        ok = src.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        ok, tables = False, set()
    if not ok or not {"user", "community"} <= tables:
        fail(_("%(path)s is not a backup made by linli backup: nothing was changed.", path=file))
    target = Path(url.database)
    in_use = any(Path(f"{target}{suffix}").exists() for suffix in ("-wal", "-shm", "-journal"))
    if in_use and not force:
        src.close()
        fail(_("The database %(path)s seems to be in use (linli is running?). Stop linli and try again, "
                "or pass --force: nothing was changed.", path=str(target)))
    dst = sqlite3.connect(str(target), timeout=15)
    try:
        src.backup(dst)  # page by page under the database's own lock: readers never see half a restore
    except sqlite3.Error as err:
        fail(_("The restore failed: %(error)s", error=err))
    finally:
        dst.close()
        src.close()
    click.echo(_("Restored the database from %(path)s.", path=file))
