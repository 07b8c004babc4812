-- POST writes through the API, each request as a different (resident, object) pair so that every
-- write is a new one (no "already seconded" / "already voted"). Configured from the environment:
--   BENCH_PATH       a format with one %d for the object id, e.g. /api/v1/c/bench-1/proposals/%d/second
--   BENCH_OBJECTS    comma-separated object ids (proposals, ballots, store items)
--   BENCH_USER_LO    first user id with a token (tokens are lnl_bench_<user id>)
--   BENCH_USERS      how many consecutive user ids have tokens
--   BENCH_BODY       the JSON body (may be empty)
--   BENCH_THREADS    wrk's -t, so threads take disjoint pairs
-- Request n of thread i uses pair p = n * threads + i: user lo + p % users, object p // users.
local fmt = os.getenv("BENCH_PATH")
local objects = {}
for id in string.gmatch(os.getenv("BENCH_OBJECTS") or "", "%d+") do table.insert(objects, tonumber(id)) end
local user_lo = tonumber(os.getenv("BENCH_USER_LO"))
local users = tonumber(os.getenv("BENCH_USERS"))
local body = os.getenv("BENCH_BODY") or ""
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local counter = 0
local next_id = 0

function setup(thread)
  thread:set("thread_index", next_id)
  next_id = next_id + 1
end

function request()
  local p = counter * nthreads + thread_index
  counter = counter + 1
  local user = user_lo + (p % users)
  local obj = objects[(math.floor(p / users) % #objects) + 1]
  return wrk.format("POST", string.format(fmt, obj), {
    ["Authorization"] = "Bearer lnl_bench_" .. user,
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "linli-bench",
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors_connect": %d, "errors_read": %d, '
    .. '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
