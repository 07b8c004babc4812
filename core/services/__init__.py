"""State changes of the core, shared by the pages, the API and the command line."""


def commit_keeping_loaded():
    """Commit without expiring what the session has loaded: the caller serialises the objects it
    just wrote (an API answer) without reading them all back. Use only where every column changed
    in SQL (not through the ORM) was set on the objects, e.g. from an UPDATE ... RETURNING."""
    from core.extensions import db

    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
