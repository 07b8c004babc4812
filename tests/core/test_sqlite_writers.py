"""SQLite: the writers of one process take turns on a lock (core/db/sqlite.py); it is given
back however a transaction ends, so a failed or abandoned write never blocks the next one."""
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from core.db import sqlite as sqlite_writers


@pytest.fixture
def engine(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    sqlite_writers.attach(eng)  # as core.db.init_app does for an app's engines
    with eng.begin() as conn:
        conn.execute(text("PRAGMA journal_mode=WAL"))
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, worker INTEGER NOT NULL)"))
    yield eng
    eng.dispose()


def test_concurrent_writers_all_commit(engine):
    errors = []

    def work(worker):
        try:
            for i in range(25):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t (worker) VALUES (:w)"), {"w": worker})
                    conn.execute(text("SELECT count(*) FROM t")).scalar()
                    conn.execute(text("UPDATE t SET worker = worker WHERE worker = :w"), {"w": worker})
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 200
    assert not sqlite_writers._lock.locked()


def test_the_lock_is_given_back_after_a_failed_write_and_an_abandoned_one(engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (id, worker) VALUES (1, 0)"))
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (id, worker) VALUES (1, 1)"))  # rolled back
    assert not sqlite_writers._lock.locked()
    conn = engine.connect()
    conn.execute(text("INSERT INTO t (worker) VALUES (2)"))
    assert sqlite_writers._lock.locked()  # a write transaction is open
    conn.close()  # never committed: the pool rolls it back
    assert not sqlite_writers._lock.locked()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (worker) VALUES (3)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT worker FROM t ORDER BY id")).scalars().all() == [0, 3]


def _other_process_can_lock(path):
    """Whether another process could take the writer lock file right now."""
    import subprocess
    import sys

    code = ("import fcntl, os, sys\n"
            "fd = os.open(sys.argv[1], os.O_RDWR)\n"
            "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(1)\n")
    return subprocess.run([sys.executable, "-c", code, str(path)], timeout=30).returncode == 0


def test_worker_processes_take_turns_on_a_lock_file(engine, tmp_path):
    """gunicorn's workers are processes: while one holds a write transaction, another cannot take
    the writer lock (it waits for it instead of sleeping in SQLite's busy handler)."""
    lock_file = tmp_path / "w.sqlite-writer.lock"
    conn = engine.connect()
    conn.execute(text("INSERT INTO t (worker) VALUES (1)"))
    assert lock_file.exists()
    assert not _other_process_can_lock(lock_file)  # held for the whole transaction
    conn.commit()
    assert _other_process_can_lock(lock_file)  # given back at commit
    conn.execute(text("INSERT INTO t (worker) VALUES (2)"))
    conn.rollback()
    assert _other_process_can_lock(lock_file)  # and at rollback
    conn.close()


def test_only_the_engines_set_up_take_the_lock(tmp_path):
    """The lock and the pragmas are the app's engines' (core.db.init_app), not every engine's."""
    other = create_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    conn = other.connect()
    conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    conn.execute(text("INSERT INTO t (id) VALUES (1)"))
    assert not sqlite_writers._lock.locked()
    assert conn.execute(text("PRAGMA journal_mode")).scalar() != "wal"
    conn.rollback()
    conn.close()
    other.dispose()


def test_an_app_engine_has_its_pragmas(app):
    from core.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's pragmas")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
