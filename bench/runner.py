"""The whole benchmark: data, start-up, one gunicorn + wrk run over every endpoint, memory, the
plugin benches, the scale curve, results JSON, docs/performance.md and the printed table."""
import argparse
import importlib
import inspect
import json
import os
import shutil
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import data, inproc, report, server

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
WORKERS = 2


def threads_for(url):
    """Threads per worker, as docs/deploy.md advises for the database: 2 with SQLite (a writer
    waiting for the writer lock leaves the core to its worker's other thread), 1 with PostgreSQL
    (a thread whose answer has arrived could starve for Python's lock behind the other thread's
    short system calls: single requests stalled for 0.1-1.3 s with 2 threads; docs/performance.md,
    session 5). BENCH_THREADS_PER_WORKER overrides both, for comparisons."""
    forced = os.environ.get("BENCH_THREADS_PER_WORKER")
    if forced:
        return int(forced)
    return 2 if url.startswith("sqlite") else 1


CURVE = (1_000, 10_000, 100_000)


def db_url(kind, name, workdir):
    if kind == "sqlite":
        return f"sqlite:///{workdir}/{name}.sqlite"
    base = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/linli_bench")
    return f"{base}_{name}"


def fixture_path(url, workdir):
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):] + ".json")
    return Path(workdir) / (url.rsplit("/", 1)[-1] + ".json")


def get_data(url, scale, workdir, reuse, proposals=None, log=print):
    fp = fixture_path(url, workdir)
    if reuse and fp.exists():
        fx = json.loads(fp.read_text(encoding="utf-8"))
        if fx.get("scale") == scale and fx.get("url") == url:
            log(f"reusing {url} (built in {fx['seconds_to_build']} s); applying newer migrations")
            data.upgrade(url)  # a database built by an earlier commit lacks the newer tables
            return fx
    log(f"building {scale} data ({proposals or data.SCALES[scale]['proposals']:,} proposals) at {url} ...")
    fx = data.build(url, scale, proposals=proposals, log=log)
    fp.write_text(json.dumps(fx, indent=1), encoding="utf-8")
    log(f"  built in {fx['seconds_to_build']} s: " + ", ".join(f"{k} {v:,}" for k, v in sorted(fx["rows"].items())
                                                            if v >= 1000))
    return fx


def working_copy(url, log=print, suffix="run"):
    """A copy of the built database for one run: every run writes (votes, seconds, redemptions),
    and a run on an earlier run's leftovers would find pairs already used ("already seconded")."""
    t = time.perf_counter()
    if url.startswith("sqlite:///"):
        src = Path(url[len("sqlite:///"):])
        dst = src.with_name(f"{src.stem}-{suffix}.sqlite")
        with sqlite3.connect(src) as conn:  # fold the WAL into the file before copying it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for extra in ("", "-wal", "-shm", "-writer.lock"):
            Path(str(dst) + extra).unlink(missing_ok=True)
        shutil.copyfile(src, dst)
        copy = f"sqlite:///{dst}"
    else:
        import sqlalchemy as sa

        base, name = url.rsplit("/", 1)
        copy = f"{base}/{name}_{suffix}"
        engine = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}_{suffix}" WITH (FORCE)'))
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            # PostgreSQL 15's default strategy writes the whole copy into the WAL (about 500 MB
            # here), and the checkpoint that follows then runs through the first minutes of
            # measurements. A file copy, then a checkpoint now, leaves none pending.
            version = int(conn.execute(sa.text("SHOW server_version_num")).scalar())
            strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
            conn.execute(sa.text(f'CREATE DATABASE "{name}_{suffix}" TEMPLATE "{name}"{strategy}'))
            conn.execute(sa.text("CHECKPOINT"))
        engine.dispose()
    os.sync()  # the copy's dirty pages are written now, not during the first measurements
    log(f"working copy of the data ({suffix}): {time.perf_counter() - t:.1f} s")
    return copy


def core_endpoints(fx, slug="bench-1"):
    c = fx["communities"][slug]
    detail = fx.get("plugin_data", {}).get("detail_proposal_with_ballot") or c["detail_proposal"]
    w_lo, w_hi = fx["writers"]
    targets = fx["second_targets"]
    return [
        dict(name="reference /healthz", kind="ref", method="GET", path="/healthz"),
        dict(name="proposal list", kind="read", method="GET", path=f"/c/{slug}/proposals/", curve=True,
             alt_path=f"/c/{slug}/proposals/?per_page=50"),
        dict(name="proposal detail", kind="read", method="GET", path=f"/c/{slug}/proposals/{detail}",
             curve=True),
        dict(name="API proposal list", kind="read", method="GET", path=f"/api/v1/c/{slug}/proposals",
             alt_path=f"/api/v1/c/{slug}/proposals?per_page=100"),
        dict(name="second (API POST)", kind="write", method="POST",
             path=f"/api/v1/c/{slug}/proposals/{targets[0]}/second",
             count_path=f"/api/v1/c/{slug}/proposals/{targets[-1]}/second", token=data.token_for(w_hi), json={},
             wrk_env={"BENCH_PATH": f"/api/v1/c/{slug}/proposals/%d/second",
                      "BENCH_OBJECTS": ",".join(map(str, targets)), "BENCH_USER_LO": str(w_lo),
                      "BENCH_USERS": str(w_hi - w_lo), "BENCH_BODY": "{}"}),
    ]


def plugin_benches():
    """bench/bench_<plugin>.py modules with a run() (written by the plugins' authors)."""
    out = []
    for p in sorted(BENCH_DIR.glob("bench_*.py")):
        try:
            mod = importlib.import_module(f"bench.{p.stem}")
        except Exception as exc:  # a plugin's bench mid-edit must not sink the run
            def failed(exc=exc, **_kw):
                raise RuntimeError(f"import failed: {exc.__class__.__name__}: {exc}")
            out.append((p.stem, failed))
            continue
        if callable(getattr(mod, "run", None)):
            out.append((p.stem, mod.run))
    return out


def call_plugin_bench(fn, ctx):
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return fn(**ctx)
    kwargs = {k: v for k, v in ctx.items() if k in params}
    return fn(**kwargs)


def measure_endpoints(base, endpoints, cfg, cookies, log, pids):
    results = {}
    for ep in endpoints:
        server.wait_idle(pids)
        env = {}
        script = "get.lua"
        if ep.get("cookie_user"):
            env["BENCH_COOKIE"] = "session=" + cookies[ep["cookie_user"]]
        if ep["method"] == "POST":
            script = "post.lua"
            env.update(ep["wrk_env"])
        else:
            if ep.get("token"):
                env["BENCH_TOKEN"] = ep["token"]
            server.wrk(base + ep["path"], cfg["warmup"], cfg["connections"], cfg["threads"], script, env,
                       workers=pids)
            server.wait_idle(pids)
        r = server.wrk(base + ep["path"], cfg["duration"], cfg["connections"], cfg["threads"], script, env,
                       workers=pids)
        results[ep["name"]] = r
        log(f"  {ep['name']:34} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']:>7.2f} ms  p99 {r['p99_ms']:>7.2f} ms"
            + (f"  non-2xx {r['non_2xx']}" if r["non_2xx"] else "")
            + (f"  socket errors {r['socket_errors']}" if r["socket_errors"] else ""))
    return results


def run_server_phase(url, fx, endpoints, workdir, cfg, log, tag):
    """Start gunicorn on ``url``, measure ``endpoints``; returns (results, server info)."""
    app = data.make_app(url)
    cookies = {ep["cookie_user"]: inproc.session_cookie(app, ep["cookie_user"])
               for ep in endpoints if ep.get("cookie_user")}
    threads = threads_for(url)
    with server.gunicorn(url, Path(workdir) / f"instance-{tag}", WORKERS, threads) as (base, proc, ready):
        pids = server.worker_pids(proc.pid)
        log(f"gunicorn: {len(pids)} workers (gthread, {threads} threads each) on {base}, "
            f"first answer after {ready:.2f} s")
        res = measure_endpoints(base, endpoints, cfg, cookies, log, pids)
        # The reference again at the end: on a shared machine the limit itself drifts during a
        # run, and every ratio divides by it. The ratios use the mean of both measurements.
        ref = next((ep for ep in endpoints if ep["kind"] == "ref"), None)
        if ref is not None:
            first = res[ref["name"]]
            last = measure_endpoints(base, [ref], cfg, cookies, log, pids)[ref["name"]]
            res[ref["name"]] = dict(first, rps=round((first["rps"] + last["rps"]) / 2, 1),
                                    rps_start_end=[first["rps"], last["rps"]])
        extra = {}
        server.wait_idle(pids)
        if cfg.get("plugin_ctx") is not None:
            for name, fn in plugin_benches():
                log(f"plugin bench {name} ...")
                t = time.perf_counter()
                try:
                    extra[name] = {"result": call_plugin_bench(fn, dict(cfg["plugin_ctx"], base_url=base)),
                                   "seconds": round(time.perf_counter() - t, 1)}
                except Exception as exc:  # a plugin's bench must not sink the others
                    extra[name] = {"error": f"{exc.__class__.__name__}: {exc}"}
                    log(f"  {name} failed: {exc}")
        mem = {pid: server.rss_mb(pid) for pid in server.worker_pids(proc.pid) or pids}
        master_mem = server.rss_mb(proc.pid)
    info = {"workers": len(pids), "threads": threads, "worker_class": "gthread", "ready_s": round(ready, 2),
            "worker_rss_mb": [m[0] for m in mem.values()], "worker_peak_rss_mb": [m[1] for m in mem.values()],
            "master_peak_rss_mb": master_mem[1]}
    return res, info, extra


def sql_counts(url, endpoints, log):
    app = data.make_app(url)
    plain = [dict(ep) for ep in endpoints]
    alts = [dict(ep, name=ep["name"] + " [alt]", path=ep["alt_path"], count_path=ep["alt_path"])
            for ep in endpoints if ep.get("alt_path")]
    for ep in plain + alts:
        if ep.get("cookie_user"):
            ep["cookie_user"] = ep["cookie_user"]
    counts = inproc.count_statements(app, plain + alts)
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description="linli's benchmark (issue 8).")
    ap.add_argument("--scale", choices=("small", "street"), default=os.environ.get("BENCH_SCALE", "street"))
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default=os.environ.get("BENCH_DB", "sqlite"))
    ap.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")),
                    help="short wrk runs (3 s), curve at 1,000 and 10,000 only")
    ap.add_argument("--reuse", action="store_true", default=bool(os.environ.get("BENCH_REUSE")),
                    help="reuse databases built by an earlier run with the same scale")
    ap.add_argument("--no-curve", action="store_true", default=bool(os.environ.get("BENCH_NO_CURVE")))
    ap.add_argument("--curve-only", action="store_true", help="only the scale curve (for before/after checks)")
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 0)) or None,
                    help="seconds per wrk run (default 10, --quick 3)")
    ap.add_argument("--workdir", default=os.environ.get("BENCH_DIR", "/tmp/linli-bench"))
    ap.add_argument("--no-docs", action="store_true", help="don't rewrite docs/performance.md")
    ap.add_argument("--before", metavar="REF", default=os.environ.get("BENCH_BEFORE") or None,
                    help="also measure the code of git REF on the same data, alternating with the current code, "
                         "and report the change (refused when the migrations differ)")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 2)),
                    help="with --before: wrk runs per endpoint and side (order before, after, after, before, ...)")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    server.ensure_wrk()
    duration = args.duration or (3 if args.quick else 10)
    cfg = {"duration": duration, "warmup": 1 if args.quick else 2, "connections": 8, "threads": 2}
    log(f"linli bench: scale {args.scale}, {args.db}, wrk {cfg['threads']} threads {cfg['connections']} "
        f"connections {duration} s per endpoint; gunicorn {WORKERS} workers on this {os.cpu_count()}-core machine")

    load_start = os.getloadavg()
    log(f"load average now {load_start[0]:.1f} (other work on this machine skews absolute figures; "
        f"compare ratios to the reference)")
    if args.curve_only:
        return run_curve_only(args, cfg, duration, log)
    if args.before:
        from bench import compare

        return compare.main(args, cfg, duration, log, t_start, load_start)
    built = db_url(args.db, args.scale, args.workdir)
    fx = get_data(built, args.scale, args.workdir, args.reuse, log=log)
    url = working_copy(built, log)  # the writes below must not meet an earlier run's writes
    endpoints = core_endpoints(fx) + fx.get("plugin_data", {}).get("endpoints", [])

    log("SQL statements per request (in-process, Flask test client) ...")
    counts = sql_counts(url, endpoints, log)

    inst = server.write_instance(url, Path(args.workdir) / "instance-startup")
    app_s, wall_s = inproc.startup_seconds(inst)
    log(f"start-up: create_app {app_s:.3f} s, whole interpreter {wall_s:.3f} s")

    ctx = {"db_url": url, "fixture": fx, "duration": duration, "quick": args.quick, "scale": args.scale,
           "db": args.db, "workdir": args.workdir, "wrk": server.wrk}
    res, srv, plugin_results = run_server_phase(url, fx, endpoints, args.workdir, dict(cfg, plugin_ctx=ctx), log,
                                                tag=f"{args.scale}-{args.db}")

    curve = [] if args.no_curve else measure_curve(args, cfg, duration, log)

    results = report.assemble(args, cfg, fx, endpoints, res, counts, srv, (app_s, wall_s), curve, plugin_results,
                              WORKERS, threads_for(url))
    results["loadavg"] = {"start": [round(x, 1) for x in load_start], "end": [round(x, 1) for x in os.getloadavg()]}
    results["total_seconds"] = round(time.perf_counter() - t_start, 1)
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"{stamp}-{args.scale}-{args.db}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    if not args.no_docs:
        report.write_docs(results, out)
    print()
    print(report.table(results))
    log(f"\nresults: {out.relative_to(BENCH_DIR.parent)}; total {results['total_seconds']:.0f} s")
    return 0


def run_curve_only(args, cfg, duration, log):
    curve = measure_curve(args, cfg, duration, log)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"{stamp}-curve-{args.db}.json"
    out.write_text(json.dumps({"curve": curve, "loadavg_end": os.getloadavg()}, indent=1), encoding="utf-8")
    for c in curve:
        log(f"  {c['size']:>7,} {c['name']:34} {c['rps']:>8.1f} req/s  p50 {c['p50_ms']:>8.2f}  p99 {c['p99_ms']:>8.2f}"
            f"  SQL {c['statements']}  in-process median {c.get('inproc_median_ms')} ms")
    log(f"results: {out.relative_to(BENCH_DIR.parent)}")
    return 0


def measure_curve(args, cfg, duration, log):
    curve = []
    if True:
        sizes = CURVE[:2] if args.quick else CURVE
        for n in sizes:
            curl = db_url(args.db, f"curve{n}", args.workdir)
            cfx = get_data(curl, "curve", args.workdir, args.reuse, proposals=n, log=log)
            ceps = [ep for ep in core_endpoints(cfx) + cfx.get("plugin_data", {}).get("endpoints", [])
                    if ep.get("curve") or ep["kind"] == "ref"]
            capp = data.make_app(curl)
            ccounts = inproc.count_statements(capp, ceps)
            seq = inproc.sequential_ms(capp, [ep for ep in ceps if ep["kind"] != "ref"],
                                       n=8 if args.quick else 15)
            ccfg = dict(cfg, duration=max(3, duration // 2))
            cres, _srv, _ = run_server_phase(curl, cfx, ceps, args.workdir, ccfg, log, tag=f"curve{n}-{args.db}")
            for ep in ceps:
                curve.append({"size": n, "name": ep["name"], **cres[ep["name"]],
                              "statements": ccounts.get(ep["name"], {}).get("statements"),
                              "inproc_median_ms": seq.get(ep["name"], {}).get("median_ms")})
    return curve


if __name__ == "__main__":
    sys.exit(main())
