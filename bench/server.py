"""gunicorn on loopback for the bench, wrk against it, and process measurements.

Only 127.0.0.1 is ever bound or requested; every wrk run has a fixed duration and the server
is always stopped (``finally``), also on Ctrl-C."""
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"


def ensure_wrk():
    """The wrk binary; installs the Debian package when missing (needs root or sudo)."""
    path = shutil.which("wrk")
    if path:
        return path
    print("wrk is missing: installing the Debian package wrk", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "wrk"], env=env).returncode != 0:
        subprocess.run(sudo + ["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "wrk"], env=env, check=True)
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("could not install wrk")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_instance(db_url, directory, secret="bench"):
    inst = Path(directory)
    inst.mkdir(parents=True, exist_ok=True)
    (inst / "config.py").write_text(
        f"SECRET_KEY = {secret!r}\nSQLALCHEMY_DATABASE_URI = {db_url!r}\nRATELIMIT_ENABLED = False\n",
        encoding="utf-8")
    return inst


def tree_env(tree, env=None):
    """The environment for a process that must run the code of ``tree`` (the checkout of
    ``--before``): its directory first on the path, so ``core`` and ``plugins`` (found through
    the installed entry points by module name) import from there, not from the editable install."""
    env = dict(os.environ if env is None else env)
    if tree is not None and Path(tree) != ROOT:
        env["PYTHONPATH"] = os.pathsep.join([str(tree)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                             if p])
    return env


def _git(*args, **kw):
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, **kw)


def prepare_tree(ref, workdir, log=print):
    """The code of ``ref`` in ``<workdir>/before`` (``git archive``, catalogs compiled), for the
    before-and-after mode. Refuses when the migrations differ between ``ref`` and the working
    tree: both servers measure one database, built once with the current code."""
    rev = _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    if rev.returncode != 0:
        raise SystemExit(f"--before {ref}: not a commit ({rev.stderr.strip()})")
    commit = rev.stdout.strip()
    diff = _git("diff", "--stat", commit, "--", "*/migrations/*")
    if diff.returncode != 0 or diff.stdout.strip():
        raise SystemExit(f"--before {ref}: the migrations differ from the working tree, so one database cannot "
                         f"serve both; compare across a schema change with two ordinary runs instead.\n"
                         f"{diff.stdout}{diff.stderr}")
    tree = Path(workdir) / "before"
    stamp = tree / ".bench-commit"
    if not (stamp.exists() and stamp.read_text().strip() == commit):
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", "--format=tar", commit],
                                   stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise SystemExit(f"git archive {commit} failed")
        pybabel = Path(sys.executable).with_name("pybabel")
        for po in sorted(tree.glob("**/translations/*/LC_MESSAGES/messages.po")):
            catalogs = po.parent.parent.parent
            subprocess.run([str(pybabel), "--quiet", "compile", "-i", str(po), "-o",
                            str(po.with_suffix(".mo"))], check=True, cwd=str(catalogs))
        import compileall

        for folder in ("core", "plugins"):
            compileall.compile_dir(str(tree / folder), quiet=1)
        stamp.write_text(commit + "\n")
    check_tree_imports(tree)
    log(f"before: {ref} = {commit[:10]} in {tree} (the code that runs for 'before'; data and database shared)")
    return tree, commit


def check_tree_imports(tree):
    """``core`` and every plugin the entry points name must import from ``tree`` in a process
    started with ``tree_env(tree)``; otherwise the 'before' figures would measure the current code."""
    code = ("import json, core; from importlib import metadata; "
            "mods = {ep.name: ep.load().__file__ for ep in metadata.entry_points(group='linli.plugins')}; "
            "mods['core'] = core.__file__; print(json.dumps(mods))")
    out = subprocess.run([sys.executable, "-c", code], cwd=str(tree), env=tree_env(tree), capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"the code of {tree} does not import:\n{out.stderr}")
    mods = json.loads(out.stdout.strip().splitlines()[-1])
    wrong = {k: v for k, v in mods.items() if not str(Path(v).resolve()).startswith(str(Path(tree).resolve()))}
    if wrong:
        raise SystemExit(f"these modules would not run the code of {tree}: {wrong}")
    return mods


@contextlib.contextmanager
def gunicorn(db_url, directory, workers=2, threads=4, worker_connections=1000, tree=None):
    """Serve core.wsgi:app on a free loopback port; yields (base_url, master Popen, seconds to
    the first answer). ``tree``: run that checkout's code (the before-and-after mode)."""
    port = free_port()
    inst = write_instance(db_url, directory)
    env = tree_env(tree, dict(os.environ, LINLI_INSTANCE_PATH=str(inst)))
    env.pop("LINLI_DATABASE_URL", None)
    env.pop("LINLI_PLUGINS", None)
    log = open(inst / "server.log", "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", str(threads),
         "--worker-connections", str(worker_connections),
         "-b", f"127.0.0.1:{port}", "--timeout", "60", "--control-socket", str(inst / "gunicorn.ctl"),
         "core.wsgi:app"],
        cwd=str(tree or ROOT), env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start:\n" + (inst / "server.log").read_text(errors="replace"))
                time.sleep(0.05)
        ready = time.perf_counter() - t0
        yield base, proc, ready
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def worker_pids(master_pid):
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        return [int(c) for c in children]
    except OSError:
        return []


def rss_mb(pid):
    """(current RSS, peak RSS) of a process in MB, from /proc/<pid>/status."""
    cur = peak = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return round(cur, 1), round(peak, 1)


def connections_per_worker(pids, port):
    """Established connections to ``port`` held by each of ``pids`` (from ``ss``), or None without ss."""
    try:
        out = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    counts = dict.fromkeys(pids, 0)
    for pid in re.findall(r"pid=(\d+)", out):
        if int(pid) in counts:
            counts[int(pid)] += 1
    return counts


def wrk(url, duration, connections=8, threads=2, script="get.lua", env=None, timeout="5s", workers=None,
        attempts=8):
    """Run wrk for ``duration`` seconds; returns the parsed figures (requests/s, p50/p99 in ms,
    errors) or raises with wrk's output.

    wrk opens its keep-alive connections at the start and keeps them, and gunicorn's workers race
    to accept them: in about 4 runs out of 10 one worker took all 8 and the other sat idle, which
    halved the figure (it is how /healthz measured anywhere from 1,200 to 5,000 req/s). Behind
    nginx, which opens a connection per request by default, the workers share the load. So with
    ``workers`` (their pids) a run whose connections are not shared (some worker holding fewer
    than a quarter of its fair part) is stopped at once and started again, up to ``attempts``
    times; the split is in the result."""
    assert url.startswith("http://127.0.0.1:"), url
    cmd = [shutil.which("wrk") or "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{int(duration)}s",
           "--timeout", timeout, "-s", str(WRK_DIR / script), url]
    e = dict(os.environ, BENCH_THREADS=str(threads), **(env or {}))
    split = None
    # A write run (post.lua) takes its (user, object) pairs from the start of BENCH_OBJECTS: an
    # attempt stopped early has used some, and the next attempt must not meet them ("already
    # voted"). It starts that many objects further on (at most 3,000 writes/s assumed).
    objects = e.get("BENCH_OBJECTS", "").split(",") if e.get("BENCH_OBJECTS") else None
    skipped = 0
    for _attempt in range(attempts if workers else 1):
        if objects:
            e["BENCH_OBJECTS"] = ",".join(objects[skipped:] or objects[-1:])
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if workers:
            time.sleep(min(0.3, duration / 4))
            split = connections_per_worker(workers, url.split(":")[2].split("/")[0])
            fair = connections / len(workers)
            if split is not None and min(split.values()) < fair / 4 and _attempt < attempts - 1:
                proc.kill()
                proc.communicate()
                if objects:
                    users = max(1, int(e.get("BENCH_USERS") or 1))
                    skipped += -(-(int((time.monotonic() - started) * 3000) + connections) // users) + 1
                time.sleep(0.2)
                continue
        try:
            stdout, stderr = proc.communicate(timeout=duration + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        break
    line = next((x for x in stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{stdout}\n{stderr}")
    r = json.loads(line[len("BENCH_JSON "):])
    secs = r["duration_us"] / 1e6
    errors = r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"]
    return {
        "requests": r["requests"],
        "rps": round(r["requests"] / secs, 1) if secs else 0.0,
        "p50_ms": round(r["p50_us"] / 1000, 2),
        "p90_ms": round(r["p90_us"] / 1000, 2),
        "p99_ms": round(r["p99_us"] / 1000, 2),
        "max_ms": round(r["max_us"] / 1000, 2),
        "non_2xx": r["errors_status"],
        "socket_errors": errors,
        **({"connections_per_worker": sorted(split.values(), reverse=True)} if split else {}),
        **({"objects_skipped": skipped} if objects else {}),
    }


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def wait_idle(pids, quiet_ticks=2, interval=0.25, limit=60.0):
    """Wait until the workers stop burning CPU: wrk leaves requests in flight when its time is
    up, and the server finishes them; the next measurement must not pay for that backlog."""
    deadline = time.monotonic() + limit
    last = cpu_ticks(pids)
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = cpu_ticks(pids)
        if now - last <= quiet_ticks:
            return True
        last = now
    return False
