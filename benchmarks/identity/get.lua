-- wrk script for the profile lookup benchmark: GET /v1/profiles/<ref>/traits for references read
-- from $REFS (one per line, already URL-safe), round robin, with the bearer token $TOKEN.
-- DELAY_MS paces each connection so the total rate is what the benchmark asks for.
local refs = {}
local counter = 0
local pace = tonumber(os.getenv("DELAY_MS") or "0")

function init(args)
  for line in io.lines(os.getenv("REFS")) do table.insert(refs, line) end
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  counter = math.random(#refs)
end

function request()
  counter = counter % #refs + 1
  return wrk.format("GET", "/v1/profiles/" .. refs[counter] .. "/traits")
end

function delay()
  return pace
end

function done(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %d, \"duration_us\": %d, \"non2xx\": %d, " ..
    "\"errors\": %d, \"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"max_us\": %d}\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
