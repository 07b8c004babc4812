"""A real multi-worker server for concurrency and fault tests.

``live_server(db_url, tmp_path, plugins=("voting",))`` starts gunicorn on a free loopback port
against the test's database and yields its base URL; ``storm(n, fn)`` runs ``fn(i)`` in ``n``
threads released together from a barrier and returns the results in order. Requests use only the
standard library and go only to 127.0.0.1."""
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(db_url, tmp_path, plugins=(), workers=2, extra_config=""):
    port = free_port()
    inst = Path(tmp_path) / f"instance-{port}"
    inst.mkdir(parents=True, exist_ok=True)
    (inst / "config.py").write_text(
        f"SECRET_KEY = 'live-test'\nSQLALCHEMY_DATABASE_URI = {db_url!r}\nRATELIMIT_ENABLED = False\n"
        f"{extra_config}\n", encoding="utf-8")
    env = dict(os.environ, LINLI_INSTANCE_PATH=str(inst), LINLI_PLUGINS=",".join(plugins) or "none")
    env.pop("LINLI_DATABASE_URL", None)
    log = open(inst / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "--timeout", "60", "--no-control-socket", "core.wsgi:app"],
        cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # generous: a loaded CI machine starts workers slowly
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/communities", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start:\n" + (inst / "server.log").read_text(errors="replace"))
                time.sleep(0.2)
        proc.log_path = inst / "server.log"
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def request(method, url, token=None, body=None, headers=None, timeout=30):
    """(status, parsed JSON or text) for one HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def storm(n, fn, timeout=60):
    """Run fn(i) for i in range(n) in n threads released together; return results (or exceptions)."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=timeout)
            results[i] = fn(i)
        except Exception as exc:  # reported to the test, which decides
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results
