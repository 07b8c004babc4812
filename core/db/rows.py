"""Row helpers: one INSERT with a statement built once, for the hottest writes (core.db)."""
from core.db.memo import built_once
from core.db.version import logs_only


@built_once
def _insert(table):
    from sqlalchemy import insert

    return insert(table)


@built_once
def insert_if_free(table, dialect_name):
    """``INSERT … ON CONFLICT DO NOTHING RETURNING <primary key>`` for ``table`` (SQLite and
    PostgreSQL), built once: no row comes back when a unique constraint refused it."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


def insert_row(model, *, if_free=False, **values):
    """INSERT one row of ``model`` with a statement built once, and return it as an object of the
    session, loaded, as if it had been added and flushed. For the hottest writes (a vote, a
    redemption), where the ORM's unit of work costs several times the INSERT itself. Column
    defaults are applied here so that the object holds every value that was written.

    With ``if_free``, a row that a unique constraint refuses is not written and None is returned
    (``INSERT ... ON CONFLICT DO NOTHING``: the transaction goes on, on PostgreSQL too)."""
    from core.extensions import db

    table = model.__table__
    stmt = insert_if_free(table, db.session.get_bind().dialect.name) if if_free else _insert(table)
    values = complete_row(model, values)
    if if_free:
        row = db.session.execute(stmt, values).first()
        if row is None:
            return None
        (pk,) = row
    else:
        (pk,) = db.session.execute(stmt, values).inserted_primary_key
    return attach_row(model, pk, values)


def record_log(model, **values):
    """INSERT one row of a log (a table no page shows, declared with ``logs_only``: the mediation
    access log) in the current transaction: it bumps no content version, though the request that
    wrote it is still neither answered from nor kept in the page cache (core/db/version.py)."""
    logs_only(model)
    return insert_row(model, **values)


def record_now(model, **values):
    """``record_log`` committed at once, for a request that has written nothing else (a page
    served from the cache). On PostgreSQL in a transaction of its own, one round trip (no BEGIN,
    no COMMIT); on SQLite through the session, whose writers take turns on the writer lock
    (core/db/sqlite.py)."""
    from core.extensions import db

    logs_only(model)
    engine = db.engine
    if engine.dialect.name != "postgresql":
        insert_row(model, **values)
        db.session.commit()
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(_insert(model.__table__),
                                                                     complete_row(model, values))


def complete_row(model, values):
    """``values`` for an INSERT of ``model`` with the columns' Python-side defaults filled in."""
    values = dict(values)
    for col in model.__table__.columns:
        if col.key in values or col.primary_key or col.server_default is not None:
            continue
        if col.default is None:
            values[col.key] = None
        else:
            values[col.key] = col.default.arg(None) if col.default.is_callable else col.default.arg
    return values


def attach_row(model, pk, values):
    """The row just inserted with ``values`` and primary key ``pk``, as a loaded object of the session."""
    from sqlalchemy.orm import make_transient_to_detached

    from core.extensions import db

    obj = model(**{model.__table__.primary_key.columns.values()[0].key: pk}, **values)
    make_transient_to_detached(obj)  # loaded and unchanged: the session will not INSERT it again
    db.session.add(obj)
    return obj
