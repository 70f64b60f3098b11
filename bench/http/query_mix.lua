-- wrk script: the query mix, over keep-alive connections.
--   30% GET /products/{sku}     25% GET /inventory/{sku}     25% GET /orders/{id}
--   15% GET /customers/{id}/orders                            5% GET /reports/sales
--   wrk -t2 -c32 -d10s -s bench/http/query_mix.lua http://127.0.0.1:8080
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")

setup = common.setup
done = common.done

function init(args)
  common.install_response()
  math.randomseed(id * 104729 + os.time())
end

request = function()
  local pick = math.random(100)
  local path
  if pick <= 30 then
    path = "/products/sku-" .. math.random(1, common.skus)
  elseif pick <= 55 then
    path = "/inventory/sku-" .. math.random(1, common.skus)
  elseif pick <= 80 then
    path = "/orders/seed-" .. math.random(1, common.orders)
  elseif pick <= 95 then
    path = "/customers/seed-cust-" .. math.random(1, 20) .. "/orders"
  else
    path = "/reports/sales"
  end
  return wrk.format("GET", path, common.headers)
end
