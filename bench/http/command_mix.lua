-- wrk script: the command mix, over keep-alive connections.
--   60% POST /orders             (one or two lines; fulfilment then reserves and confirms)
--   25% POST /inventory/{sku}/restock
--   15% POST /products/{sku}/price
--   wrk -t2 -c32 -d10s -s bench/http/command_mix.lua http://127.0.0.1:8080
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")

setup = common.setup
done = common.done

local counter = 0

function init(args)
  common.install_response()
  math.randomseed(id * 7919 + os.time())
end

local function sku()
  return "sku-" .. math.random(1, common.skus)
end

request = function()
  counter = counter + 1
  local pick = math.random(100)
  if pick <= 60 then
    local lines = string.format('{"sku":"%s","quantity":1}', sku())
    if pick % 2 == 0 then
      lines = lines .. string.format(',{"sku":"%s","quantity":2}', sku())
    end
    local body = string.format('{"order_id":"b%d-%d-%d","customer_id":"cust-%d","lines":[%s]}',
      id, os.time(), counter, math.random(1, 500), lines)
    return wrk.format("POST", "/orders", common.headers, body)
  elseif pick <= 85 then
    return wrk.format("POST", "/inventory/" .. sku() .. "/restock", common.headers, '{"quantity":5}')
  else
    local body = string.format('{"price_cents":%d}', math.random(100, 10000))
    return wrk.format("POST", "/products/" .. sku() .. "/price", common.headers, body)
  end
end
