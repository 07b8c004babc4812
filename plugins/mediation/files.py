"""Uploaded documents on disk, kept in step with their rows.

A file is written before its row and removed after its row is gone, but services never commit (the
entry point does, core.db): so a file a service stored is removed again if the transaction rolls
back, and a file whose row a service deleted is removed only once the transaction has committed.
A failed commit therefore leaves every file with its row."""
from pathlib import Path

from flask import current_app
from sqlalchemy import event

from core.extensions import db

STORED = "mediation_files_stored"  # written in this transaction: removed if it rolls back
RELEASED = "mediation_files_released"  # rows deleted in this transaction: removed once it commits


def upload_dir() -> Path:
    configured = current_app.config.get("MEDIATION_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "mediation"


def path_of(stored_name) -> Path:
    return upload_dir() / stored_name


def store(stored_name, data: bytes) -> Path:
    """Write ``data`` as ``stored_name``; removed again if the transaction rolls back."""
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / stored_name
    path.write_bytes(data)
    db.session().info.setdefault(STORED, []).append(path)
    return path


def release(paths):
    """Remove ``paths`` once the transaction commits (their rows were deleted in it)."""
    db.session().info.setdefault(RELEASED, []).extend(paths)


def _unlink(paths):
    for path in paths or ():
        path.unlink(missing_ok=True)


@event.listens_for(db.session, "after_commit")
def _after_commit(session):
    session.info.pop(STORED, None)
    _unlink(session.info.pop(RELEASED, None))


@event.listens_for(db.session, "after_rollback")
def _after_rollback(session):
    session.info.pop(RELEASED, None)
    _unlink(session.info.pop(STORED, None))
