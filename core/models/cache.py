"""The content version: one counter every write transaction bumps (core/pagecache.py)."""
from core.extensions import db


class ContentVersion(db.Model):
    """A single row (id 1) whose ``n`` grows with every committed write that changes what a page
    shows. Cached pages are keyed by it, so a write in any worker or server invalidates them all
    at once; the bump is part of the writing transaction, so no reader ever sees the new data
    under the old number with the old page still being served."""

    __tablename__ = "content_version"

    id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    n = db.Column(db.BigInteger, nullable=False, default=0)
