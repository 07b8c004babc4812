-- GET one path (wrk's command-line URL) with optional headers from the environment:
--   BENCH_COOKIE      a session cookie (pages seen by a logged-in user)
--   BENCH_TOKEN       a bearer token (API)
-- done() prints one JSON line the runner parses: requests, duration, errors, latency percentiles.
local cookie = os.getenv("BENCH_COOKIE")
local token = os.getenv("BENCH_TOKEN")
wrk.headers["User-Agent"] = "linli-bench"
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors_connect": %d, "errors_read": %d, '
    .. '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
