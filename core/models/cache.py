"""The content version: the counter cached pages are keyed by (core/pagecache.py)."""
from core.extensions import db

# PostgreSQL: the version is this sequence, advanced right after each commit that changed what a
# page shows (no row lock shared by every write; create_all makes it there, and skips it on SQLite).
content_version_seq = db.Sequence("content_version_seq", metadata=db.metadata)


class ContentVersion(db.Model):
    """SQLite: a single row (id 1) whose ``n`` grows with every committed write that changes what
    a page shows, bumped inside the writing transaction (SQLite's writers take turns anyway).
    Cached pages are keyed by the version, so a write in any worker or server invalidates them
    all at once."""

    __tablename__ = "content_version"

    id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    n = db.Column(db.BigInteger, nullable=False, default=0)
