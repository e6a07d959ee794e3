-- wrk script for bench/spends.ts: POSTs spendPrivacyBudget mutations with
-- `Authorization: Bearer $BENCH_TOKEN`, each with a key of its own ($BENCH_SPEND_KEY_PREFIX and a
-- counter), to the tenants of $BENCH_SPEND_TENANTS (comma-separated) in rotation. Sorts the
-- answers into granted, denied and errors (non-200, or no `granted` in the body) and prints a
-- JSON summary line ("BENCH_JSON {...}") when done.
local tenants = {}
for t in string.gmatch(os.getenv("BENCH_SPEND_TENANTS") or "", "[^,]+") do tenants[#tenants + 1] = t end
if #tenants == 0 then error("BENCH_SPEND_TENANTS is empty") end
local prefix = os.getenv("BENCH_SPEND_KEY_PREFIX") or error("BENCH_SPEND_KEY_PREFIX is required")
-- What a spend declares: $BENCH_SPEND_DECLARATION (JSON members, e.g. for an RDP tenant
-- `"mechanism":"gaussian","noiseMultiplier":100`), else $BENCH_SPEND_EPSILON of laplace.
local declaration = os.getenv("BENCH_SPEND_DECLARATION")
if declaration == nil or declaration == "" then
  local epsilon = os.getenv("BENCH_SPEND_EPSILON") or error("BENCH_SPEND_EPSILON or BENCH_SPEND_DECLARATION is required")
  declaration = '"epsilon":' .. epsilon .. ',"mechanism":"laplace"'
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or error("BENCH_TOKEN is required"))

local query = "mutation BenchSpend($input: SpendInput!) { spendPrivacyBudget(input: $input) "
  .. "{ granted spendId denialReason budget { tenantId epsilonSpent epsilonRemaining status } } }"
local body = '{"operationName":"BenchSpend","query":"' .. query .. '","variables":{"input":{"tenantId":"%s",'
  .. declaration:gsub("%%", "%%%%") .. ',"queryRef":"bench/%s","idempotencyKey":"%s"}}}'

-- Per thread (wrk gives each thread a Lua state of its own); done() adds them up.
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads)
end

n, granted, denied, failed = 0, 0, 0, 0

function request()
  n = n + 1
  local key = string.format("%s-%d-%d", prefix, id, n)
  return wrk.format(nil, nil, nil, string.format(body, tenants[(n - 1) % #tenants + 1], key, key))
end

function response(status, _, answer)
  if status ~= 200 then
    failed = failed + 1
  elseif string.find(answer, '"granted":true', 1, true) then
    granted = granted + 1
  elseif string.find(answer, '"granted":false', 1, true) then
    denied = denied + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, _)
  local g, d, f = 0, 0, 0
  for _, t in ipairs(threads) do
    g, d, f = g + t:get("granted"), d + t:get("denied"), f + t:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"granted":%d,"denied":%d,"failed":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p95":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, g, d, f, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
