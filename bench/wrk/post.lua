-- POST an escalation that meets every criterion, each for a (customer, service, category) no
-- earlier request used: request k of thread t takes combination BENCH_OFFSET + t + k * threads.
-- BENCH_DATA, BENCH_PREFIX, BENCH_KEY as for get.lua.
dofile(os.getenv("BENCH_WRK") .. "/report.lua")

local prefix = os.getenv("BENCH_PREFIX") or ""
local key = os.getenv("BENCH_KEY") or ""
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local customers = {}
for line in io.lines(os.getenv("BENCH_DATA") .. "/customers") do
   if line ~= "" then table.insert(customers, line) end
end
local services = { "microsoft-365", "azure", "dynamics-365", "power-bi", "power-apps", "power-automate" }
-- billing_dispute is left to the seeded escalations.
local categories = { "service_unavailable", "undocumented_defect", "product_bug",
                     "network_disruption", "regional_multi_tenant_issue" }
local headers = { ["Content-Type"] = "application/json" }
if key ~= "" then headers["Authorization"] = "Bearer " .. key end
local checked = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 3600)
local started = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 7200)
made = 0

local template = '{"customer_id":"%s","service_key":"%s","category":"%s","severity":"moderate",' ..
   '"title":"Exchange Online 邮件无法投递到外部域",' ..
   '"description":"自 09:10 起，全部用户发往外部域的邮件停留在队列中，退信代码 4.4.7。",' ..
   '"business_impact":"300 名员工无法与客户和供应商通信，订单确认邮件全部延迟。",' ..
   '"problem_started_at":"' .. started .. '","reasons":["lacks_support_tools"],' ..
   '"justification":"需要世纪互联的传输日志才能确定邮件在服务端被阻塞的原因，合作伙伴无权访问这些日志。",' ..
   '"troubleshooting":{"service_health_checked_at":"' .. checked .. '","admin_center_attempted":true,' ..
   '"steps":["在管理中心运行了邮件流诊断"]},' ..
   '"contact":{"first_name":"伟","last_name":"张","email":"zhang.wei@cloudbridge.cn",' ..
   '"phone":"+86 10 5555 0199","preferred_contact_method":"phone"}}'

function request()
   local n = offset + tid + made * nthreads
   made = made + 1
   local c = #customers
   local customer = customers[n % c + 1]
   local service = services[math.floor(n / c) % #services + 1]
   local category = categories[math.floor(n / (c * #services)) % #categories + 1]
   local body = string.format(template, customer, service, category)
   return wrk.format("POST", prefix .. "/escalations", headers, body)
end
