-- wrk script for bench/run.sh: POSTs the `_entities` bodies of $BENCH_BODIES (one JSON document
-- a line) in rotation, with `Authorization: Bearer $BENCH_TOKEN`, and prints a JSON summary line
-- ("BENCH_JSON {...}") when done, which bench/measure.ts reads.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
if #bodies == 0 then error("no request bodies in " .. tostring(os.getenv("BENCH_BODIES"))) end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token and #token > 0 then wrk.headers["Authorization"] = "Bearer " .. token end

local requests = {}
local n = 0

-- $BENCH_TOKENS (one token a line): every request carries the next token in rotation instead
-- (many callers behind one gateway); bodies rotate alongside.
local tokens = {}
local tokensFile = os.getenv("BENCH_TOKENS")
if tokensFile and #tokensFile > 0 then
  for line in io.lines(tokensFile) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
end

function init(args)
  if #tokens > 0 then
    for i, t in ipairs(tokens) do
      local h = {}
      for k, v in pairs(wrk.headers) do h[k] = v end
      h["Authorization"] = "Bearer " .. t
      requests[i] = wrk.format(nil, nil, h, bodies[(i - 1) % #bodies + 1])
    end
  else
    for i, body in ipairs(bodies) do requests[i] = wrk.format(nil, nil, nil, body) end
  end
end

-- $BENCH_THINK_MS: each connection waits this long after a response before its next request (the
-- dual-read budget's light load: a server core with idle time, as replicas in production have).
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
if think > 0 then
  function delay() return think end
end

function request()
  n = n % #requests + 1
  return requests[n]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
