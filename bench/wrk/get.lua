-- GET one escalation, picked at random among the seeded ones.
-- BENCH_DATA: the seed's directory; BENCH_PREFIX: "/v1" for escalade, "" for the baseline;
-- BENCH_KEY: the partner key (none for the baseline).
dofile(os.getenv("BENCH_WRK") .. "/report.lua")

local prefix = os.getenv("BENCH_PREFIX") or ""
local key = os.getenv("BENCH_KEY") or ""
local ids = {}
for line in io.lines(os.getenv("BENCH_DATA") .. "/escalations") do
   if line ~= "" then table.insert(ids, line) end
end
local headers = {}
if key ~= "" then headers["Authorization"] = "Bearer " .. key end
made = 0

function init(args)
   math.randomseed(os.time() + 7919 * tid)
end

function request()
   made = made + 1
   return wrk.format("GET", prefix .. "/escalations/" .. ids[math.random(#ids)], headers)
end
