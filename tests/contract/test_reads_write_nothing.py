"""No read writes (issue 21): every GET route of the access matrix, core and every installed
plugin, requested as every role with the matrix's world and URL arguments, sends no write
statement to the database.

A listener on the test app's engine (``before_cursor_execute``) sees every statement a request
sends through SQLAlchemy: the ORM's flushes, ``session.execute``, ``Connection.execute`` and
``exec_driver_sql`` (a plugin's ``store.py`` must go through those, never through a raw driver
cursor: tests/contract/test_layers.py). It records INSERT, UPDATE, DELETE, REPLACE and MERGE
(also inside a ``WITH``) and the advance of a sequence (``nextval``, ``setval``: the content
version on PostgreSQL, which moves only after a write).

Allowed, because they are logs of the storage layer that change nothing a page shows:

* ``UPDATE api_token SET last_used_at`` — the API token's last use (core/api, at most once a
  minute per token);
* ``INSERT INTO mediation_access_log`` — the mediation access log: every read of a case or of the
  case list is logged (docs/mediation.md).

A failed sign-in's counter (``login_failure``) is written by ``POST /auth/login`` only, never by
a GET, so it has no exception here.
"""
import re

import pytest
from sqlalchemy import event

from core.extensions import db
from tests.conftest import INSTALLED
from tests.security import matrix as m
from tests.security.roles import ROLES

WHO = [pytest.param("core", id="core")] + [pytest.param(name, id=name, marks=pytest.mark.plugins(name))
                                           for name in INSTALLED]

_COMMENTS = re.compile(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", re.S)
_WRITE = re.compile(r"^(INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT)\b", re.I)
_WRITE_IN_WITH = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b", re.I)
_SEQUENCE = re.compile(r"\b(nextval|setval)\s*\(", re.I)

# The storage layer's logs: (a pattern of the statement, why it may be written by a read).
ALLOWED = (
    (re.compile(r'^UPDATE\s+"?api_token"?\s+SET\s+"?last_used_at"?\s*=[^,]*\bWHERE\b', re.I | re.S),
     "the API token's last use"),
    (re.compile(r'^INSERT\s+INTO\s+"?mediation_access_log"?\s', re.I), "the mediation access log"),
)


def is_write(statement):
    """Whether ``statement`` (SQL text) writes: a write statement, a ``WITH`` holding one, or the
    advance of a sequence."""
    sql = _COMMENTS.sub("", statement, count=1)
    if _WRITE.match(sql):
        return True
    if sql[:4].upper() == "WITH" and _WRITE_IN_WITH.search(sql):
        return True
    return bool(_SEQUENCE.search(sql))


def allowed(statement):
    """The reason ``statement`` may be written by a read (a storage-layer log), or None."""
    sql = _COMMENTS.sub("", statement, count=1)
    for pattern, why in ALLOWED:
        if pattern.match(sql):
            return why
    return None


class WriteRecorder:
    """Records the writes sent on ``engine`` while ``self.request`` names a request."""

    def __init__(self, engine):
        self.engine, self.request = engine, None
        self.writes, self.logs = [], set()

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, _parameters, _context, _executemany):
        if self.request is None or not is_write(statement):
            return
        why = allowed(statement)
        if why is not None:
            self.logs.add(why)
            return
        self.writes.append(f"{self.request}: {' '.join(statement.split())[:160]}")


def read_routes(app, who):
    return [(rule, method) for rule, method in m.routes(app, who) if method == "GET"]


def check_reads(app, world, login, api, who, roles=ROLES):
    """Request every GET route of ``who`` as every role; the writes they sent, as
    ["GET <path> [<endpoint>] as <role>: <statement>"], and the storage logs that were written."""
    access, url_args, _mod = m.load_declarations(who)
    values = {"community": world.community.slug}
    if url_args is not None:
        values.update(url_args(world) or {})
    req = m.Requester(app, world, login, api)
    for role in roles:  # log in (a write) and make the tokens before anything is recorded
        req.page_client(role)
        req.api_client(role)
    db.session.commit()  # what the set-up wrote
    with WriteRecorder(db.engine) as recorder:
        for rule, method in read_routes(app, who):
            path = m.build(rule, values)
            for role in roles:
                recorder.request = f"GET {path} [{rule.endpoint}] as {role}"
                try:
                    req.status(role, method, path)
                except Exception as err:  # noqa: BLE001  (e.g. core.db's WroteWithoutCommitting): go on, report
                    recorder.writes.append(f"{recorder.request}: raised {type(err).__name__}: {err}")
                finally:
                    recorder.request = None
    return recorder.writes, recorder.logs


@pytest.mark.parametrize("who", WHO)
def test_no_get_route_writes(app, world, login, api, who):
    if m.load_declarations(who) is None:
        pytest.skip("no access declarations (tests/security/test_access_matrix.py says what to add)")
    assert read_routes(app, who), f"no GET routes found for {who}"
    writes, _logs = check_reads(app, world, login, api, who)
    assert not writes, f"{len(writes)} write(s) by GET requests of {who}:\n  " + "\n  ".join(writes)


def test_the_recorder_sees_a_write_made_by_a_read(app, world, login, api):
    """A GET route that writes is reported with its path and role, so the test cannot pass
    vacuously; the storage logs are let through."""
    from flask import request

    from core.models import ApiToken, Notification

    def a_read_that_writes(resp):
        if request.method == "GET" and request.path == f"/c/{world.community.slug}/":
            db.session.query(Notification).filter(Notification.id == -1).delete()
            db.session.query(ApiToken).filter(ApiToken.id == -1).update({"last_used_at": None})
            db.session.commit()
        return resp

    app.after_request_funcs.setdefault(None, []).append(a_read_that_writes)
    writes, logs = check_reads(app, world, login, api, "core", roles=("resident",))
    home = f"GET /c/{world.community.slug}/ [c.community.home] as resident: "
    assert writes and all(w.startswith(home) for w in writes), writes
    assert any(w.startswith(home + "DELETE FROM notification") for w in writes), writes
    assert not any("api_token" in w for w in writes) and "the API token's last use" in logs


def test_the_statement_rules():
    assert is_write("INSERT INTO proposal (title) VALUES (?)")
    assert is_write("  /* x */ update ballot set head_hash = %(h)s where id = %(b)s")
    assert is_write("WITH head AS (UPDATE voting_ballot SET n = 1 RETURNING id) INSERT INTO voting_entry ...")
    assert is_write("SELECT nextval('content_version_seq')")
    assert not is_write("SELECT last_value FROM content_version_seq")
    assert not is_write("WITH x AS (SELECT 1) SELECT * FROM x")
    assert not is_write("SELECT id FROM voting_ballot WHERE id = ? FOR UPDATE")
    assert allowed('UPDATE api_token SET last_used_at=? WHERE api_token.id = ?') == "the API token's last use"
    assert allowed("INSERT INTO mediation_access_log (community_id) VALUES (?)") == "the mediation access log"
    assert allowed("UPDATE api_token SET revoked_at=?, last_used_at=? WHERE id = ?") is None
    assert allowed("DELETE FROM mediation_access_log") is None
