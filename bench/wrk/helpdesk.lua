-- POST a ticket to django-helpdesk's REST API (bench/helpdesk): the same title and description
-- as post.lua's escalation, the title numbered so that each request is distinct.
-- BENCH_PATH: the ticket endpoint; BENCH_AUTH: the Authorization header's value;
-- BENCH_QUEUE: the queue's id.
dofile(os.getenv("BENCH_WRK") .. "/report.lua")

local path = os.getenv("BENCH_PATH") or "/api/tickets/"
local queue = tonumber(os.getenv("BENCH_QUEUE") or "1")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = os.getenv("BENCH_AUTH") }
made = 0

local template = '{"queue":%d,"title":"Exchange Online 邮件无法投递到外部域 #%d-%d",' ..
   '"description":"自 09:10 起，全部用户发往外部域的邮件停留在队列中，退信代码 4.4.7。' ..
   '300 名员工无法与客户和供应商通信，订单确认邮件全部延迟。",' ..
   '"submitter_email":"zhang.wei@cloudbridge.cn","priority":3}'

function request()
   made = made + 1
   return wrk.format("POST", path, headers, string.format(template, queue, tid, made))
end
