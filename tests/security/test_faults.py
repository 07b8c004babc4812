"""Faults (issue 7): the server killed with SIGKILL in the middle of a storm of writes, and a
database that refuses writes or is not there. Every acknowledged write survives, nothing is
half-written, errors are a clear 503 and the app recovers by itself."""
import os
import signal
import sqlite3
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.extensions import db
from core.models import Proposal, ProposalComment, ProposalSecond, ProposalTransition
from core.services import proposals, tokens
from tests.conftest import PG_URL
from tests.helpers import residents_with_points
from tests.live import live_server, request, storm
from tests.security.figures import add

# ── SIGKILL in the middle of a storm ────────────────────────────────────────────────────


def _server_pids(port):
    """The gunicorn master listening on ``port`` (a child of this process) and its workers."""
    def children(pid):
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
        return out

    masters = [p for p in children(os.getpid())
               if f"127.0.0.1:{port}".encode() in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(masters) == 1, masters
    return masters + children(masters[0])


def _check_consistent(community_id):
    """No half-written proposal: counters match their rows, the state matches the history."""
    db.session.expire_all()
    for p in Proposal.query.filter_by(community_id=community_id):
        assert p.comments_count == ProposalComment.query.filter_by(proposal_id=p.id).count(), p.id
        assert p.seconds_count == ProposalSecond.query.filter_by(proposal_id=p.id).count(), p.id
        history = ProposalTransition.query.filter_by(proposal_id=p.id).order_by(ProposalTransition.id).all()
        assert history and history[0].to_state == "draft", p.id
        assert history[-1].to_state == p.state, (p.id, p.state, [h.to_state for h in history])


def test_sigkill_mid_storm_loses_no_acknowledged_write(app, world, tmp_path, db_url):
    open_ = [proposals.create(world.community, world.mediator, {
        "title": f"第{i}号提案：小区公共事务", "body": "请大家附议和讨论这件事情。", "category": "other"}).id
        for i in range(12)]
    seconders = [tokens.create(u, "fault")[1] for u in (world.resident, world.resident2, world.building_head,
                                                          world.grid_worker)]
    writers = [tokens.create(u, "fault")[1] for u in (world.resident, world.resident2, world.newbie,
                                                        world.mediator)]
    cid = world.community.id
    users = [world.resident.id, world.resident2.id, world.building_head.id, world.grid_worker.id]
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()
    acked = {"proposal": [], "comment": [], "second": []}
    lock = threading.Lock()
    enough = threading.Event()
    KILL_AFTER = 40  # acknowledged writes before the kill (bounded: at most 8 × 30 requests)

    def ack(kind, value):
        with lock:
            acked[kind].append(value)
            if sum(len(v) for v in acked.values()) >= KILL_AFTER:
                enough.set()

    with live_server(db_url, tmp_path) as base:
        port = urlparse(base).port
        api = f"{base}/api/v1/c/test"

        def work(i):
            failures = 0
            for n in range(30):
                try:
                    if i < 4:  # seconds: each resident goes through the proposals
                        pid = open_[n % len(open_)]
                        if n >= len(open_):
                            break
                        status, body = request("POST", f"{api}/proposals/{pid}/second", token=seconders[i], timeout=10)
                        if status == 201:
                            ack("second", (pid, i))
                    elif n % 2:
                        pid = open_[(n + i) % len(open_)]
                        status, body = request("POST", f"{api}/proposals/{pid}/comments", token=writers[i - 4],
                                               body={"body": f"评论 {i}-{n}：同意，尽快办。"}, timeout=10)
                        if status == 201:
                            ack("comment", body["id"])
                    else:
                        status, body = request("POST", f"{api}/proposals", token=writers[i - 4], timeout=10, body={
                            "title": f"风暴中的提案 {i}-{n}", "body": "服务器被杀死前提交的提案。", "category": "other"})
                        if status == 201:
                            ack("proposal", body["id"])
                except Exception:  # the server is gone: stop after a few refusals
                    failures += 1
                    if failures >= 3:
                        break
            return failures

        killer = threading.Thread(target=lambda: enough.wait(60) and [
            os.kill(pid, signal.SIGKILL) for pid in _server_pids(port)])
        killer.start()
        results = storm(8, work)
        killer.join(60)
        assert enough.is_set(), acked
        assert not any(isinstance(r, BaseException) for r in results), results
    total = sum(len(v) for v in acked.values())
    assert total >= KILL_AFTER

    # after a restart on the same database, everything acknowledged is there
    with live_server(db_url, tmp_path) as base:
        api = f"{base}/api/v1/c/test"
        for pid in acked["proposal"]:
            status, body = request("GET", f"{api}/proposals/{pid}")
            assert status == 200 and body["state"] == "open", (pid, status)
        status, body = request("POST", f"{api}/proposals", token=writers[0], body={
            "title": "重启后的提案", "body": "服务器重启后一切正常。", "category": "other"})
        assert status == 201
    db.session.expire_all()
    for cid_ in acked["comment"]:
        assert db.session.get(ProposalComment, cid_) is not None, cid_
    for pid, i in acked["second"]:
        assert ProposalSecond.query.filter_by(proposal_id=pid, user_id=users[i]).count() == 1
    _check_consistent(cid)
    add("faults injected")
    add("acknowledged writes checked after a kill", total)


# ── a database that refuses writes, or is not there ─────────────────────────────────────
def _assert_503(resp, api=False):
    assert resp.status_code == 503, (resp.status_code, resp.data[:300])
    assert resp.headers.get("Retry-After")
    if api:
        assert resp.get_json()["error"]["code"] == "unavailable"
    else:
        assert resp.mimetype == "text/html"
        assert "503" in resp.data.decode() or "稍后" in resp.data.decode() or "shortly" in resp.data.decode()


@pytest.fixture
def refusing_writes(db_url):
    """A context: while inside, the database refuses every write (SQLite: another process holds
    the write lock; PostgreSQL: the database is read-only)."""
    import contextlib

    if PG_URL:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(db_url)
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

        @contextlib.contextmanager
        def ctx():
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on')
                try:
                    yield
                finally:
                    conn.execute(f'ALTER DATABASE "{url.database}" RESET default_transaction_read_only')
                    # as after a restart of PostgreSQL: the sessions opened meanwhile are gone
                    # (with a timeout: returns once they have exited, as a restart finishes
                    # before the server is back)
                    conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                                 "WHERE datname = %s AND pid <> pg_backend_pid()", (url.database,))
        yield ctx
        return

    path = db_url[len("sqlite:///"):]

    def short_wait(dbapi_conn, _record):  # runs after core.web's pragmas: fail fast instead of 15 s
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.execute("PRAGMA busy_timeout=200")

    event.listen(Engine, "connect", short_wait)

    @contextlib.contextmanager
    def ctx():
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    yield ctx
    event.remove(Engine, "connect", short_wait)


def test_writes_refused_give_503_and_the_app_recovers(app, world, db_url, refusing_writes, extra_app):
    refusing = refusing_writes
    p = proposals.create(world.community, world.mediator, {
        "title": "数据库只读时的提案", "body": "测试数据库拒绝写入时的表现。", "category": "other"})
    pid, cid = p.id, world.community.id
    token = tokens.create(world.resident, "ro")[1]
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()
    fresh = extra_app()  # its own connections, opened while the database refuses writes
    client = fresh.test_client()
    r = client.post("/auth/login", data={"login": "resident", "password": "correct-horse-9"})
    assert r.status_code == 302
    headers = {"Authorization": f"Bearer {token}"}
    with refusing():
        with fresh.app_context():
            db.engine.dispose()
        r = client.post(f"/c/test/proposals/{pid}/comment", data={"body": "只读时的评论"})
        _assert_503(r)
        r = client.post(f"/api/v1/c/test/proposals/{pid}/comments", json={"body": "只读时的评论"}, headers=headers)
        _assert_503(r, api=True)
        assert client.get(f"/c/test/proposals/{pid}").status_code == 200  # reading still works
    # the database is back: the same app writes again, without a restart
    r = client.post(f"/c/test/proposals/{pid}/comment", data={"body": "恢复后的评论"})
    assert r.status_code == 302
    r = client.post(f"/api/v1/c/test/proposals/{pid}/comments", json={"body": "恢复后的评论"}, headers=headers)
    assert r.status_code == 201, r.get_json()
    db.session.expire_all()
    assert [c.body for c in ProposalComment.query.filter_by(proposal_id=pid)] == ["恢复后的评论"] * 2
    _check_consistent(cid)
    add("faults injected")


class _Proxy:
    """A TCP relay on loopback to the PostgreSQL server: stopping it is PostgreSQL going away
    (connections refused, open ones cut), starting it again is PostgreSQL coming back."""

    def __init__(self, target_port):
        import socket

        self.target, self.socks, self.listener = target_port, [], None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def start(self):
        import socket

        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        import socket

        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for x in (a, b):
                try:
                    x.close()
                except OSError:
                    pass

    def stop(self):
        import socket

        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        for x in self.socks:
            try:
                x.shutdown(socket.SHUT_RDWR)
                x.close()
            except OSError:
                pass
        self.socks = []


def test_a_missing_database_gives_503_and_the_app_recovers_when_it_is_back(app, world, db_url, tmp_path,
                                                                          extra_app):
    """SQLite: the file's directory is not there (an unmounted volume), then it is. PostgreSQL:
    the server cannot be reached (connections refused), then it can."""
    db.session.remove()
    proxy = None
    if PG_URL:
        from sqlalchemy.engine import make_url

        url = make_url(db_url)
        proxy = _Proxy(url.port or 5432)
        target = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        bring_back = proxy.start
    else:
        src = db_url[len("sqlite:///"):]
        missing = tmp_path / "not-mounted" / "linli.sqlite"
        target = f"sqlite:///{missing}"

        def bring_back():
            missing.parent.mkdir()
            with sqlite3.connect(src) as source, sqlite3.connect(missing) as dest:
                source.backup(dest)  # the live database, WAL included
    gone = extra_app(target)
    client = gone.test_client()
    try:
        for _ in range(3):  # not a crash loop: every request gets the same clear answer
            _assert_503(client.get("/c/test/"))
            _assert_503(client.get("/api/v1/communities"), api=True)
            _assert_503(client.post("/auth/login", data={"login": "resident", "password": "correct-horse-9"}))
        assert client.get("/healthz").status_code == 200  # liveness does not depend on the database
        bring_back()
        assert client.get("/c/test/").status_code == 200
        status = client.post("/auth/login", data={"login": "resident", "password": "correct-horse-9"}).status_code
        assert status == 302
        r = client.get("/api/v1/communities")
        assert r.status_code == 200 and "test" in r.get_data(as_text=True)
        add("faults injected")
        if proxy is not None:  # PostgreSQL goes away under open connections, and comes back
            proxy.stop()
            _assert_503(client.get("/auth/account"))
            proxy.start()
            assert client.get("/auth/account").status_code == 200
            add("faults injected")
    finally:
        with gone.app_context():
            db.engine.dispose()
        if proxy is not None:
            proxy.stop()


# ── SIGKILL in the middle of a storm of votes and redemptions ───────────────────────────
@pytest.mark.plugins("voting", "points")
def test_sigkill_mid_storm_of_votes_and_redemptions_loses_nothing_acknowledged(app, world, tmp_path, db_url):
    """API votes and store redemptions with bearer tokens while gunicorn is SIGKILLed: after a restart
    every acknowledged vote and redemption is there, and nothing is half-written — stock plus orders
    make the starting stock, the points ledger balances (every transfer sums to zero, every balance
    is the sum of its entries), one counted ballot per voter and the hash chain verifies."""
    from plugins.points import ledger
    from plugins.points import services as points
    from plugins.points.models import PointsAccount, PointsItem, PointsOrder
    from plugins.voting import integrity
    from plugins.voting import services as voting
    from plugins.voting.models import Ballot, Entry, Voter

    PRICE, START_POINTS, STOCK = 10, 60, 500
    ids, toks = residents_with_points(world, "storm", 12, START_POINTS)
    item_id = points.save_item(world.community, world.staff, {"name": "风暴大米", "price": PRICE, "stock": STOCK}).id
    p = proposals.create(world.community, world.resident, {
        "title": "风暴中的表决：加装楼道灯", "body": "一单元楼道晚上太黑，建议加装声控灯。", "category": "facilities"})
    proposals.transition(p, "coordinating", world.staff, "附议足够")
    proposals.transition(p, "voting", world.staff, "议事会同意表决")
    ballot = Ballot.query.filter_by(proposal_id=p.id).one()
    bid = ballot.id
    voters = {v.user_id for v in Voter.query.filter_by(ballot_id=bid)}
    assert set(ids) <= voters, "the storm's residents are on the electoral roll"
    cid, staff_id = world.community.id, world.staff.id
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()
    acked = {"vote": [], "order": []}
    lock = threading.Lock()
    enough = threading.Event()
    KILL_AFTER = 30  # acknowledged writes before the kill

    def ack(kind, value):
        with lock:
            acked[kind].append(value)
            if sum(len(v) for v in acked.values()) >= KILL_AFTER:
                enough.set()

    with live_server(db_url, tmp_path, plugins=("voting", "points")) as base:
        port = urlparse(base).port
        api = f"{base}/api/v1/c/test"

        def work(i):
            failures = 0
            mine = [(uid, tok) for n, (uid, tok) in enumerate(zip(ids, toks)) if n % 6 == i % 6]
            for n in range(24):
                uid, tok = mine[n % len(mine)]
                try:
                    if i < 6:  # votes: each resident votes, then changes their mind
                        choice = ("yes", "no", "abstain")[(n + i) % 3]
                        status, body = request("POST", f"{api}/voting/ballots/{bid}/votes", token=tok,
                                               body={"choice": choice}, timeout=10)
                        if status == 201:
                            ack("vote", (uid, body["seq"], body["receipt"], choice))
                    else:  # redemptions, until the resident's points run out
                        status, body = request("POST", f"{api}/points/items/{item_id}/redeem", token=tok,
                                               body={"quantity": 1}, timeout=10,
                                               headers={"Idempotency-Key": f"storm-{i}-{n}"})
                        if status == 201:
                            ack("order", (uid, body["id"], body["pickup_code"]))
                except Exception:  # the server is gone: stop after a few refusals
                    failures += 1
                    if failures >= 3:
                        break
            return failures

        killer = threading.Thread(target=lambda: enough.wait(90) and [
            os.kill(pid, signal.SIGKILL) for pid in _server_pids(port)])
        killer.start()
        results = storm(12, work, timeout=120)
        killer.join(90)
        assert enough.is_set(), acked
        assert not any(isinstance(r, BaseException) for r in results), results
    assert acked["vote"] and acked["order"], acked
    total = sum(len(v) for v in acked.values())

    # after a restart on the same database: everything acknowledged is there and the server works
    with live_server(db_url, tmp_path, plugins=("voting", "points")) as base:
        api = f"{base}/api/v1/c/test"
        by_user = dict(zip(ids, toks))
        for uid, order_id, code in acked["order"]:
            status, body = request("GET", f"{api}/points/orders/{order_id}", token=by_user[uid])
            assert status == 200 and body["pickup_code"] == code and body["user_id"] == uid, (order_id, status)
        status, body = request("POST", f"{api}/voting/ballots/{bid}/votes", token=toks[0], body={"choice": "yes"})
        assert status == 201, body
        acked["vote"].append((ids[0], body["seq"], body["receipt"], "yes"))
        status, body = request("POST", f"{api}/points/items/{item_id}/redeem", token=toks[-1], body={"quantity": 1})
        assert status in (201, 409), body  # 409: their points ran out in the storm
    db.session.expire_all()

    # votes: every acknowledged one is in the chain; one counted ballot per voter, the latest
    entries = Entry.query.filter_by(ballot_id=bid).order_by(Entry.seq).all()
    by_seq = {e.seq: e for e in entries}
    for uid, seq, receipt, choice in acked["vote"]:
        assert seq in by_seq and by_seq[seq].receipt == receipt, (uid, seq)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert all(e.prev_hash == prev.hash for prev, e in zip(entries, entries[1:]))
    counted = [e for e in entries if e.counted]
    assert len({e.voter_tag for e in counted}) == len(counted)
    latest = {}
    for e in entries:
        latest[e.voter_tag] = e.seq
    assert sorted(e.seq for e in counted) == sorted(latest.values())
    b = db.session.get(Ballot, bid)
    assert b.voted_count == len(counted) and b.head_hash == entries[-1].hash
    voted = {v.user_id for v in Voter.query.filter_by(ballot_id=bid) if v.voted_at is not None}
    assert {uid for uid, *_r in acked["vote"]} <= voted
    from flask import g

    from core.models import User

    g.pop("_memberships", None)  # cached before the session was closed
    voting.close(b, db.session.get(User, staff_id), "风暴测试结束")
    check = integrity.verify(voting.export(db.session.get(Ballot, bid)))
    assert check["ok"], check["problems"]

    # redemptions: every acknowledged order is there; stock, orders and balances reconcile
    orders = PointsOrder.query.filter_by(item_id=item_id).all()
    assert {o.id for o in orders} >= {order_id for _u, order_id, _c in acked["order"]}
    live = [o for o in orders if o.cancelled_at is None]
    item = db.session.get(PointsItem, item_id)
    assert item.stock + sum(o.quantity for o in live) == STOCK
    spent = {uid: 0 for uid in ids}
    for o in live:
        spent[o.user_id] += o.total
    for account in PointsAccount.query.filter(PointsAccount.user_id.in_(ids), PointsAccount.community_id == cid):
        assert account.balance == START_POINTS - spent[account.user_id] >= 0, account.user_id
    assert ledger.check() == []
    add("faults injected")
    add("acknowledged votes and redemptions checked after a kill", total)
