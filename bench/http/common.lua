-- Shared by the wrk scripts: per-thread ids, and a count of non-2xx answers that done()
-- prints beside wrk's own report. Settings come from the environment:
--   SHOP_SKUS       products seeded by run.sh (default 50)
--   SHOP_ORDERS     orders seeded by run.sh, readable as seed-1..N (default 200)
--   SHOP_TOKEN      bearer token, if the node requires one
local M = {}

M.skus = tonumber(os.getenv("SHOP_SKUS") or "50")
M.orders = tonumber(os.getenv("SHOP_ORDERS") or "200")
M.headers = { ["Content-Type"] = "application/json" }
local token = os.getenv("SHOP_TOKEN")
if token and token ~= "" then
  M.headers["Authorization"] = "Bearer " .. token
end

local threads = {}
local next_id = 1

function M.setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function M.done(summary, latency, requests)
  local failed = 0
  local by_status = {}
  for _, t in ipairs(threads) do
    failed = failed + (t:get("failed") or 0)
    local s = t:get("statuses") or ""
    for code, n in string.gmatch(s, "(%d+)=(%d+)") do
      by_status[code] = (by_status[code] or 0) + tonumber(n)
    end
  end
  local parts = {}
  for code, n in pairs(by_status) do
    table.insert(parts, code .. "=" .. n)
  end
  io.write(string.format("non-2xx: %d (%s)\n", failed, table.concat(parts, " ")))
  io.write(string.format("SUMMARY requests/s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

-- Per-thread status accounting (runs in each thread's Lua state).
function M.install_response()
  failed = 0
  local counts = {}
  response = function(status, headers, body)
    if status < 200 or status >= 300 then
      failed = failed + 1
      counts[status] = (counts[status] or 0) + 1
      local s = {}
      for code, n in pairs(counts) do
        table.insert(s, code .. "=" .. n)
      end
      statuses = table.concat(s, " ")
    end
  end
end

return M
