"""In-process measurements: SQL statements per request (Flask test client + a
``before_cursor_execute`` listener) and the app's start-up time."""
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent


def session_cookie(app, user_id, user_agent="linli-bench"):
    """A signed session cookie value logging in ``user_id`` (session version 1), with the identifier
    Flask-Login's session protection expects from 127.0.0.1 and our User-Agent, and a CSRF token
    as a browser's session holds after its first page (wrk sends the same cookie every time; without
    the token every request would draw a new one and sign a new cookie, which no browser does)."""
    import secrets

    from flask_login.utils import _create_identifier

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                  headers={"User-Agent": user_agent}):
        ident = _create_identifier()
        data = {"_user_id": f"{user_id}:1", "_fresh": True, "_id": ident, "csrf_token": secrets.token_hex(20)}
        return app.session_interface.get_signing_serializer(app).dumps(data)


def count_statements(app, endpoints, repeat=2):
    """For each endpoint (dict with method, path, and optional cookie_user / token / json), the
    number of SQL statements of one request (after ``repeat - 1`` warm-up requests, so that
    one-time work like loading plugins' settings caches doesn't count) and the status."""
    from core.extensions import db

    out = {}
    # Count what rendering a page costs, not a hit in the page cache (one statement: the content
    # version), so that the page-size and data-size checks still look at the real queries.
    app.config["PAGE_CACHE"] = False
    # No app context around the requests: each request must get its own ``g`` (Flask-Login keeps
    # the current user there).
    with app.app_context():
        engine = db.engine
    counter = {"n": 0, "sql": []}
    if True:

        def before(conn, cursor, statement, parameters, context, executemany):
            counter["n"] += 1
            counter["sql"].append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            for ep in endpoints:
                if ep.get("no_sql_count"):
                    continue
                client = app.test_client()
                headers = {"User-Agent": "linli-bench"}
                if ep.get("cookie_user"):
                    client.set_cookie("session", session_cookie(app, ep["cookie_user"]))
                if ep.get("token"):
                    headers["Authorization"] = f"Bearer {ep['token']}"
                status = None
                n = 0
                for i in range(repeat if ep["method"] == "GET" else 1):
                    counter["n"], counter["sql"] = 0, []
                    path = ep.get("count_path", ep["path"])
                    resp = client.open(path, method=ep["method"], headers=headers,
                                       json=ep.get("json") if ep["method"] != "GET" else None,
                                       environ_base={"REMOTE_ADDR": "127.0.0.1"})
                    status, n = resp.status_code, counter["n"]
                out[ep["name"]] = {"statements": n, "status": status, "sql": list(counter["sql"])}
        finally:
            event.remove(engine, "before_cursor_execute", before)
    return out


def startup_seconds(instance_dir, runs=3, tree=None):
    """Best of ``runs`` fresh interpreters: (seconds to import and build the app, whole process
    wall-clock including the interpreter). ``tree``: the code of that checkout (``--before``)."""
    code = ("import time; t = time.perf_counter(); from core import create_app; create_app(); "
            "print(time.perf_counter() - t)")
    best_app = best_wall = None
    import os

    env = dict(os.environ, LINLI_INSTANCE_PATH=str(instance_dir))
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                             if p])
    env.pop("LINLI_DATABASE_URL", None)
    env.pop("LINLI_PLUGINS", None)
    # A deployed app starts from bytecode (pip compiles installed packages; gunicorn writes
    # __pycache__). With PYTHONDONTWRITEBYTECODE set (as in some shells here) every fresh
    # interpreter would compile the project's sources again and count that as start-up, so
    # compile them once first.
    import compileall

    for folder in ("core", "plugins"):
        compileall.compile_dir(str(Path(tree or ROOT) / folder), quiet=1)
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], cwd=str(tree or ROOT), env=env, capture_output=True,
                             text=True, timeout=120)
        wall = time.perf_counter() - t
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        app_s = float(out.stdout.strip().splitlines()[-1])
        best_app = app_s if best_app is None else min(best_app, app_s)
        best_wall = wall if best_wall is None else min(best_wall, wall)
    return round(best_app, 3), round(best_wall, 3)


def sequential_ms(app, endpoints, n=40, warm=3):
    """Median and worst CPU time (ms) of ``n`` sequential in-process requests per endpoint (after
    ``warm`` untimed ones): one request at a time, and CPU time rather than wall time, so that
    other work on a shared machine (waiting for a core) skews the curve as little as possible."""
    out = {}
    for ep in endpoints:
        if ep["method"] != "GET":
            continue
        client = app.test_client()
        if ep.get("cookie_user"):
            client.set_cookie("session", session_cookie(app, ep["cookie_user"]))
        times = []
        for i in range(warm + n):
            t = time.process_time()
            client.get(ep["path"], headers={"User-Agent": "linli-bench"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
            if i >= warm:
                times.append((time.process_time() - t) * 1000)
        times.sort()
        out[ep["name"]] = {"median_ms": round(times[len(times) // 2], 2), "max_ms": round(times[-1], 2)}
    return out


# ── the before-and-after mode: the same measurements in a process running another checkout ──

def in_tree(tree, job):
    """Run ``job`` (a dict, see ``_job``) in a fresh interpreter whose ``core``, ``plugins`` and
    ``bench`` come from ``tree`` (a checkout, or the working tree itself); this file's own code
    does the measuring on both sides. Returns the job's JSON answer."""
    import json
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop("LINLI_DATABASE_URL", None)
    env.pop("LINLI_PLUGINS", None)
    out = subprocess.run([sys.executable, str(Path(__file__).resolve())], input=json.dumps(job), cwd=str(tree),
                         env=env, capture_output=True, text=True, timeout=3600)
    line = next((x for x in reversed(out.stdout.splitlines()) if x.startswith("BENCH_RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"{job['cmd']} in {tree} failed ({out.returncode}):\n{out.stdout[-3000:]}\n"
                           f"{out.stderr[-3000:]}")
    return json.loads(line[len("BENCH_RESULT "):])


def _job(job):
    import importlib

    if job["cmd"] == "plugin":  # a plugin bench of this tree (bench/bench_<plugin>.py), with JSON context
        import inspect

        fn = importlib.import_module(job["module"]).run
        params = inspect.signature(fn).parameters
        ctx = job.get("ctx", {})
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            ctx = {k: v for k, v in ctx.items() if k in params}
        t = time.perf_counter()
        return {"result": fn(**ctx), "seconds": round(time.perf_counter() - t, 1)}
    from core import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": job["url"], "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False})
    out = {"counts": count_statements(app, job["endpoints"])}
    if job.get("sequential"):
        out["sequential"] = sequential_ms(app, [ep for ep in job["endpoints"] if ep["kind"] != "ref"],
                                          n=job["sequential"])
    return out


if __name__ == "__main__":
    import json

    # Run as a script (by in_tree): this file's folder must not shadow anything; the checkout
    # comes first through PYTHONPATH.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    result = _job(json.loads(sys.stdin.read()))
    print("BENCH_RESULT " + json.dumps(result, default=str), flush=True)
