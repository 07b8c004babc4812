"""`linli residents`: import and export the register, possible duplicates, a person's data (PIPL)."""
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from core.cli import support
from core.cli.support import fail, service_fail, transaction
from core.errors import ServiceError

@click.group("residents", help=_l("Import and export households and residents."))
def residents_group():
    pass


@residents_group.command("import", help=_l("Import households and residents from .xlsx or .csv. Checks every "
                                            "row first; a file with errors is imported only with --skip-bad-rows."))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--community", required=True, help=_l("Short name of the community."))
@click.option("--skip-bad-rows", is_flag=True, help=_l("Import the good rows of a file that has errors."))
@click.option("--dry-run", is_flag=True, help=_l("Only check the file; exits with 1 if a row has errors."))
@with_appcontext
def residents_import(file, community, skip_bad_rows, dry_run):
    from core import spreadsheets
    from core.services import imports

    c = support.community(community)
    try:
        data = spreadsheets.read_bounded(file)
    except OSError as err:
        fail(_("Cannot read %(path)s: %(error)s", path=file, error=err.strerror or err))
    try:
        rows = imports.check_rows(c, imports.read_table(Path(file).name, data))
        if not rows:
            fail(_("The file has no data rows."))
    except ServiceError as err:
        service_fail(err)
    bad = [r for r in rows if r["errors"]]
    good = [r["values"] for r in rows if not r["errors"]]
    for r in bad:
        click.echo(_("line %(line)d: %(errors)s", line=r["line"], errors=" ".join(r["errors"])), err=True)
    for r in rows:  # changes to known rooms, and people to check (never merged by name)
        if r["notes"] and not r["errors"]:
            click.echo(_("line %(line)d: %(errors)s", line=r["line"], errors=" ".join(r["notes"])))
    click.echo(_("%(good)d good rows, %(bad)d rows with errors.", good=len(good), bad=len(bad)))
    if dry_run:
        sys.exit(1 if bad else 0)
    if bad and not skip_bad_rows:
        fail(_("Nothing was imported. Fix the rows above, or pass --skip-bad-rows to import only the good rows."))
    if not good:
        fail(_("No row of this file can be imported."))
    try:
        with transaction():
            with click.progressbar(length=len(good), label=_("Importing")) as bar:
                counts = imports.import_rows(c, None, good, filename=Path(file).name, skipped=len(bad),
                                             progress=lambda n: bar.update(1))
    except ServiceError as err:
        service_fail(err)
    click.echo(_("Imported: %(h)d new households, %(m)d new people, %(u)d records updated.",
                 h=counts["households"], m=counts["members"], u=counts["updated"]))


@residents_group.command("duplicates", help=_l("List possible duplicates: people of the same name on the register "
                                                "whom nothing tells apart (staff merge them or mark them as different "
                                                "people on the Possible duplicates page)."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def residents_duplicates(community):
    from core.services import persons

    groups = persons.possible_duplicates(support.community(community))
    for group in groups:
        click.echo(group["name"])
        for p in group["persons"]:
            click.echo("  " + _("No. %(number)d: %(entries)s", number=p.id,
                                entries="、".join(f"{m.household.label} ({m.name})" for m in p.members)))
    click.echo(ngettext("%(num)d possible duplicate.", "%(num)d possible duplicates.", len(groups)))
    sys.exit(1 if groups else 0)


@residents_group.command("export", help=_l("Export households and residents to .xlsx (the columns the import reads)."))
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def residents_export(file, community):
    from core.services import imports

    c = support.community(community)
    if not file.lower().endswith(".xlsx"):
        fail(_("The export is an Excel file: give a file name ending in .xlsx."))
    try:
        Path(file).write_bytes(imports.export_xlsx(c))
    except OSError as err:
        fail(_("Cannot write %(path)s: %(error)s", path=file, error=err.strerror or err))
    click.echo(_("Wrote %(path)s.", path=file))


@residents_group.command("export-data", help=_l("Write a copy of all the personal data about one account "
                                                 "to FILE as JSON (Personal Information Protection Law, "
                                                 "Article 45); - writes to the screen."))
@click.argument("login")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@with_appcontext
def residents_export_data(login, file):
    from core.services import personal_data

    data = personal_data.export_json(support.account(login))
    if file == "-":
        click.echo(data.decode("utf-8"))
        return
    if Path(file).exists():
        fail(_("%(path)s exists already; choose a new file.", path=file))
    try:
        Path(file).write_bytes(data)
    except OSError as err:
        fail(_("Cannot write %(path)s: %(error)s", path=file, error=err.strerror or err))
    click.echo(_("Wrote %(path)s.", path=file))


@residents_group.command("erase", help=_l("Erase the personal data of one account on request (Personal "
                                           "Information Protection Law, Article 47): "
                                           "the account can no longer log in and is shown under an anonymous id. "
                                           "Running it again changes nothing more."))
@click.argument("login")
@click.option("--reason", required=True, help=_l("The request's date and reference (kept in the audit log)."))
@with_appcontext
def residents_erase(login, reason):
    from core.services import personal_data

    try:
        with transaction():
            summary = personal_data.erase(support.account(login), None, reason)
    except ServiceError as err:
        service_fail(err)
    if summary["changed"]:
        click.echo(_("Erased: the account is now shown as %(label)s (%(count)d records changed).",
                     label=summary["anonymous_id"], count=summary["changed"]))
    else:
        click.echo(_("Nothing more to erase: this account was erased already."))
