-- What every run reports: one JSON line on standard output, read by bench/run.
-- A script that loads this keeps its threads, so the next combination left unused is known.

threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- Pacing: with BENCH_DELAY_MS set, each connection waits that long before each request.
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pace then
   delay = function() return pace end
end

function done(summary, latency, requests)
   local used = 0
   for _, thread in ipairs(threads) do
      local made = thread:get("made") or 0
      if made > used then used = made end
   end
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,' ..
      '"p50_us":%d,"p99_us":%d,"max_us":%d,"threads":%d,"made_per_thread":%d}\n',
      summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
      latency:percentile(50), latency:percentile(99), latency.max, #threads, used))
end
