"""One owner for each transaction: the entry point.

A view, an API handler, a command or a worker job runs its writes in ``transaction()``; services
and hook implementations never commit (hookspecs say so too), so a service error anywhere rolls
back everything the request did. A block opened inside another joins it: only the outermost
commits.
"""
from contextlib import contextmanager
from functools import wraps

from core.extensions import db

DEPTH = "linli_transaction_depth"
KEEP = "linli_keep_loaded"


@contextmanager
def transaction():
    """Run the block as one unit of work: commit at its end, roll back on any exception (which
    goes on up). Inside another ``transaction()`` the block joins it and the outer one decides."""
    session = db.session()
    depth = session.info.get(DEPTH, 0)
    session.info[DEPTH] = depth + 1
    try:
        yield session
    except BaseException:
        session.info[DEPTH] = depth
        if depth == 0:
            session.rollback()
        raise
    session.info[DEPTH] = depth
    if depth == 0:
        keep = session.info.pop(KEEP, False)
        session.expire_on_commit = not keep
        try:
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.expire_on_commit = True


def keep_loaded():
    """The objects written so far are up to date (every column changed in SQL was also set on
    them, e.g. from an UPDATE ... RETURNING): the commit need not expire them, so the entry point
    can serialise its answer without reading them back. A speed hint, never a rule."""
    db.session().info[KEEP] = True


def transactional(func):
    """Run ``func`` (a command, a job, a view that only writes) in ``transaction()``."""

    @wraps(func)
    def wrapped(*args, **kwargs):
        with transaction():
            return func(*args, **kwargs)

    return wrapped


class WroteWithoutCommitting(RuntimeError):
    """A request ended with writes its entry point neither committed nor rolled back."""


def check_left_writes(app):
    """At the end of every request (core.db.init_app): the entry point owns the transaction, so
    nothing may be left written and not committed (flushed, or only pending in the session). Under
    ``app.testing`` that raises ``WroteWithoutCommitting`` naming the endpoint; otherwise it is
    logged as an error and rolled back (as the end of the request would do silently). A log
    (``logs_only``: a token's use, noted in the request's transaction and recorded at its end
    if nothing commits, core.api) is the storage layer's own business and is not counted."""
    from flask import request

    from core.db.version import CHANGED

    @app.after_request
    def left_writes(resp):
        if not db.session.registry.has():
            return resp
        session = db.session()
        left = bool(session.new or session.deleted) or any(session.is_modified(o) for o in session.dirty)
        if not left and session.in_transaction():
            left = session.connection().info.get(CHANGED, False)
        if left:
            session.rollback()
            message = f"{request.endpoint} wrote without committing: use core.db.transaction()"
            if app.testing:
                raise WroteWithoutCommitting(message)
            app.logger.error(message)
        return resp
