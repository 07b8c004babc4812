"""`python -m bench --before REF`: the code of git REF ("before") and the working tree ("after")
measured in one run on the same data, so that the change in % is the change of the code, not of
the machine's load.

The data is built once, with the current code (the migrations must be the same: checked). Each
side gets an identical copy of it (every write run needs (resident, object) pairs nobody used:
both sides then do the same writes), and a gunicorn of its own (the before side started with the
checkout first on PYTHONPATH, so ``core`` and the plugins named by the entry points import from
there; checked). Both servers run for the whole phase; every endpoint is measured on them in
turn, before, after, after, before, ... (``--rounds``, default 2 each), so a drift of the load
hits both sides alike; the figure of a side is the mean of its rounds. Writes take a fresh slice
of objects in each round; when too few are left (votes at street scale: 3 open ballots × 2,000
tokens) that endpoint gets fewer rounds. SQL counts, start-up, memory, the plugin benches and the
scale curve are taken for both sides with the same code of this bench (bench/inproc.py run in a
process of each side's code)."""
import contextlib
import json
import math
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import data, inproc, report, runner, server

SIDES = ("before", "after")


def _with_alts(endpoints):
    return [dict(ep) for ep in endpoints] + [
        dict(ep, name=ep["name"] + " [alt]", path=ep["alt_path"], count_path=ep["alt_path"])
        for ep in endpoints if ep.get("alt_path")]


def _mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


def _combine(runs):
    """One figure per side from its rounds: the mean of requests/s and of the latencies, the sum
    of requests and errors; the rounds themselves are kept."""
    if len(runs) == 1:
        return dict(runs[0], rounds=runs)
    out = dict(runs[-1])
    for k in ("rps", "p50_ms", "p90_ms", "p99_ms"):
        out[k] = _mean([r[k] for r in runs])
    out["max_ms"] = max(r["max_ms"] for r in runs)
    for k in ("requests", "non_2xx", "socket_errors"):
        out[k] = sum(r[k] for r in runs)
    out["rounds"] = runs
    return out


def _one(ep, srv, cfg, cookies, idle, offsets, log):
    """One wrk run of ``ep`` against one side's server; a write starts at that side's next
    unused object."""
    server.wait_idle(idle)
    env, script = {}, "get.lua"
    if ep.get("cookie_user"):
        env["BENCH_COOKIE"] = "session=" + cookies[ep["cookie_user"]]
    if ep["method"] == "POST":
        script = "post.lua"
        env.update(ep["wrk_env"])
        objects = env["BENCH_OBJECTS"].split(",")
        env["BENCH_OBJECTS"] = ",".join(objects[offsets.get(ep["name"], 0):])
    else:
        if ep.get("token"):
            env["BENCH_TOKEN"] = ep["token"]
        server.wrk(srv["base"] + ep["path"], cfg["warmup"], cfg["connections"], cfg["threads"], script, env,
                   workers=srv["pids"])
        server.wait_idle(idle)
    r = server.wrk(srv["base"] + ep["path"], cfg["duration"], cfg["connections"], cfg["threads"], script, env,
                   workers=srv["pids"])
    if ep["method"] == "POST":
        users = max(1, int(env["BENCH_USERS"]))
        # pairs taken: the answered requests, those in flight at the end, the stopped attempts
        used = r.get("objects_skipped", 0) + math.ceil((r["requests"] + 2 * cfg["connections"]) / users) + 1
        offsets[ep["name"]] = offsets.get(ep["name"], 0) + used
        offsets[ep["name"] + " need"] = used
    return r


def _room(ep, offsets):
    """Whether a side has enough unused objects left for another write run of ``ep``."""
    total = len(ep["wrk_env"]["BENCH_OBJECTS"].split(","))
    return total - offsets.get(ep["name"], 0) >= offsets.get(ep["name"] + " need", 1)


def paired_phase(urls, endpoints, workdir, cfg, log, tag, tree, rounds):
    """Both servers up, every endpoint measured on them in turn; returns {side: (results, info)}."""
    app = data.make_app(urls["after"])
    cookies = {ep["cookie_user"]: inproc.session_cookie(app, ep["cookie_user"])
               for ep in endpoints if ep.get("cookie_user")}
    threads = runner.threads_for(urls["after"])
    with contextlib.ExitStack() as stack:
        srv = {}
        for side in SIDES:
            base, proc, ready = stack.enter_context(server.gunicorn(
                urls[side], Path(workdir) / f"instance-{tag}-{side}", runner.WORKERS, threads,
                tree=tree if side == "before" else None))
            srv[side] = {"base": base, "proc": proc, "ready": ready, "pids": server.worker_pids(proc.pid)}
            log(f"gunicorn {side}: {len(srv[side]['pids'])} workers (gthread, {threads} threads each) on {base}, "
                f"first answer after {ready:.2f} s")
        idle = srv["before"]["pids"] + srv["after"]["pids"]
        res = {side: {} for side in SIDES}
        offsets = {side: {} for side in SIDES}
        ref = next((ep for ep in endpoints if ep["kind"] == "ref"), None)
        for i, ep in enumerate(endpoints + ([dict(ref, again=True)] if ref else [])):
            runs = {side: [] for side in SIDES}
            for r in range(rounds):
                if ep["method"] == "POST" and r and not all(_room(ep, offsets[s]) for s in SIDES):
                    log(f"  {ep['name']}: no unused (resident, object) pairs left for round {r + 1}; "
                        f"{r} round(s) per side")
                    break
                order = SIDES if (r + i) % 2 == 0 else SIDES[::-1]
                for side in order:
                    runs[side].append(_one(ep, srv[side], cfg, cookies, idle, offsets[side], log))
            for side in SIDES:
                got = _combine(runs[side])
                if ep.get("again"):
                    first = res[side][ep["name"]]
                    got = dict(first, rps=round((first["rps"] + got["rps"]) / 2, 1),
                               rps_start_end=[first["rps"], got["rps"]])
                res[side][ep["name"]] = got
            b, a = res["before"][ep["name"]], res["after"][ep["name"]]
            log(f"  {ep['name']:34} before {b['rps']:>8.1f} req/s p99 {b['p99_ms']:>7.2f} ms | after "
                f"{a['rps']:>8.1f} req/s p99 {a['p99_ms']:>7.2f} ms  ({_pct(b['rps'], a['rps'])} req/s)"
                + (f"  non-2xx {b['non_2xx']}/{a['non_2xx']}" if b["non_2xx"] or a["non_2xx"] else ""))
        out = {}
        for side in SIDES:
            s = srv[side]
            mem = {pid: server.rss_mb(pid) for pid in server.worker_pids(s["proc"].pid) or s["pids"]}
            out[side] = (res[side], {
                "workers": len(s["pids"]), "threads": threads, "worker_class": "gthread",
                "ready_s": round(s["ready"], 2), "worker_rss_mb": [m[0] for m in mem.values()],
                "worker_peak_rss_mb": [m[1] for m in mem.values()],
                "master_peak_rss_mb": server.rss_mb(s["proc"].pid)[1]})
    return out


def _pct(before, after):
    if not before or after is None:
        return "—"
    return f"{(after - before) / before * 100:+.1f}%"


def plugin_benches(tree, ctx, log):
    """Each plugin bench of the working tree, run in a process of each side's code (the before
    side runs REF's own bench module, written for REF's services), after, then before."""
    out = {side: {} for side in SIDES}
    for name, _fn in runner.plugin_benches():
        for side in SIDES[::-1]:
            where = tree if side == "before" else runner.BENCH_DIR.parent
            if not (Path(where) / "bench" / f"{name}.py").exists():
                out[side][name] = {"error": f"no bench/{name}.py at {side}"}
                continue
            log(f"plugin bench {name} ({side}) ...")
            try:
                out[side][name] = inproc.in_tree(where, {"cmd": "plugin", "module": f"bench.{name}", "ctx": ctx})
            except Exception as exc:  # a plugin's bench must not sink the others
                out[side][name] = {"error": f"{exc.__class__.__name__}: {str(exc)[-500:]}"}
                log(f"  {name} ({side}) failed: {str(exc)[-500:]}")
    return out


def curve(args, cfg, duration, log, tree):
    points = {side: [] for side in SIDES}
    sizes = runner.CURVE[:2] if args.quick else runner.CURVE
    for n in sizes:
        curl = runner.db_url(args.db, f"curve{n}", args.workdir)
        cfx = runner.get_data(curl, "curve", args.workdir, args.reuse, proposals=n, log=log)
        ceps = [ep for ep in runner.core_endpoints(cfx) + cfx.get("plugin_data", {}).get("endpoints", [])
                if ep.get("curve") or ep["kind"] == "ref"]
        inp = {side: inproc.in_tree(tree if side == "before" else runner.BENCH_DIR.parent,
                                    {"cmd": "counts", "url": curl, "endpoints": ceps,
                                     "sequential": 8 if args.quick else 15}) for side in SIDES}
        paired = paired_phase({s: curl for s in SIDES}, ceps, args.workdir, dict(cfg, duration=max(3, duration // 2)),
                              log, f"curve{n}-{args.db}", tree, 1)
        for side in SIDES:
            cres = paired[side][0]
            for ep in ceps:
                points[side].append({"size": n, "name": ep["name"], **cres[ep["name"]],
                                     "statements": inp[side]["counts"].get(ep["name"], {}).get("statements"),
                                     "inproc_median_ms": inp[side].get("sequential", {}).get(ep["name"], {})
                                     .get("median_ms")})
    return points


def main(args, cfg, duration, log, t_start, load_start):
    tree, commit = server.prepare_tree(args.before, args.workdir, log)
    built = runner.db_url(args.db, args.scale, args.workdir)
    fx = runner.get_data(built, args.scale, args.workdir, args.reuse, log=log)
    urls = {side: runner.working_copy(built, log, suffix=f"run_{side}") for side in SIDES}
    endpoints = runner.core_endpoints(fx) + fx.get("plugin_data", {}).get("endpoints", [])

    log("SQL statements per request (in-process, Flask test client), each side's code ...")
    counts = {side: inproc.in_tree(tree if side == "before" else runner.BENCH_DIR.parent,
                                   {"cmd": "counts", "url": urls[side], "endpoints": _with_alts(endpoints)})["counts"]
              for side in SIDES}
    startup = {}
    for side in SIDES:
        # Both sides start from compiled bytecode, as an installed app does (a shell with
        # PYTHONDONTWRITEBYTECODE would leave one side compiling every module at each start).
        code_dir = tree if side == "before" else runner.BENCH_DIR.parent
        subprocess.run([sys.executable, "-m", "compileall", "-q", "core", "plugins"], cwd=str(code_dir),
                       env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                       capture_output=True, check=False)
        inst = server.write_instance(urls[side], Path(args.workdir) / f"instance-startup-{side}")
        startup[side] = inproc.startup_seconds(inst, tree=tree if side == "before" else None)
        log(f"start-up ({side}): create_app {startup[side][0]:.3f} s, whole interpreter {startup[side][1]:.3f} s")

    phase = paired_phase(urls, endpoints, args.workdir, cfg, log, f"{args.scale}-{args.db}", tree,
                         max(1, args.rounds))
    ctx = {"db_url": urls["after"], "duration": duration, "quick": args.quick, "scale": args.scale,
           "db": args.db, "workdir": args.workdir}
    plugins = plugin_benches(tree, ctx, log)
    curves = {side: [] for side in SIDES} if args.no_curve else curve(args, cfg, duration, log, tree)

    results = {}
    for side in SIDES:
        res, srv = phase[side]
        results[side] = report.assemble(args, cfg, fx, endpoints, res, counts[side], srv, startup[side],
                                        curves[side], plugins[side], runner.WORKERS, runner.threads_for(urls[side]))
    out = results["after"]
    out["before"] = {k: v for k, v in results["before"].items() if k not in ("machine", "wrk", "data")}
    out["before"]["ref"], out["before"]["commit"] = args.before, commit
    out["rounds"] = max(1, args.rounds)
    out["comparison"] = report.compare(results["before"], results["after"])
    out["loadavg"] = {"start": [round(x, 1) for x in load_start], "end": [round(x, 1) for x in os.getloadavg()]}
    out["total_seconds"] = round(time.perf_counter() - t_start, 1)
    runner.RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = runner.RESULTS_DIR / f"{stamp}-{args.scale}-{args.db}{'-quick' if args.quick else ''}-before-after.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    if not args.no_docs:
        report.write_docs(out, path)
        report.write_compare_docs(out, path)
    print()
    print(report.table(out))
    print()
    print(report.compare_table(out))
    log(f"\nresults: {path.relative_to(runner.BENCH_DIR.parent)}; total {out['total_seconds']:.0f} s")
    return 0
