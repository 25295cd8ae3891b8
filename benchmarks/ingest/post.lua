-- wrk script for the collector benchmark: POST the JSON body in $BODY with HTTP Basic $AUTH.
-- UNIQUE=1: the body is a template whose "__REQ__" marks are replaced by a per-request id, so
-- every request carries new messageIds ($RUN keeps them apart between wrk runs). DELAY_MS paces
-- each connection (loader-lag runs).
local parts = nil
local counter = 0
local pace = tonumber(os.getenv("DELAY_MS") or "0")
local threads = 0
local run = os.getenv("RUN") or "r"

local function split(text, mark)
  local out, start = {}, 1
  while true do
    local i, j = string.find(text, mark, start, true)
    if not i then table.insert(out, string.sub(text, start)); return out end
    table.insert(out, string.sub(text, start, i - 1))
    start = j + 1
  end
end

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  local f = io.open(os.getenv("BODY"), "rb")
  local body = f:read("*all")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. (os.getenv("AUTH") or "")
  if os.getenv("UNIQUE") == "1" then parts = split(body, "__REQ__") else wrk.body = body end
end

function request()
  if parts == nil then return wrk.request() end
  counter = counter + 1
  return wrk.format(nil, nil, nil, table.concat(parts, run .. "-" .. tid .. "-" .. counter))
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
