-- wrk load for POST /api/v1/bets (tests/bench/events_bench.py runs it):
--
--   wrk -t2 -c64 -d10s --latency -s bets.lua http://127.0.0.1:PORT -- \
--       TOKENS EVENTS THREADS OFFSET TAG [keys]
--
-- TOKENS: one access token a line (line i = bettor i). EVENTS: one event a line, "event_id
-- outcome_id outcome_id ...". Request k (k = OFFSET + n * THREADS + thread; OFFSET carries on
-- from the previous run so every run bets on new (user, event) pairs first) comes from bettor
-- k mod #TOKENS, who always backs the same outcome of an event (bettor mod #outcomes): the
-- events allow top-ups, so a bettor's later bets on an event add to its first one instead of
-- being refused. With several events, request k goes to event (k + k div #TOKENS) mod #EVENTS:
-- consecutive requests spread over the events, and each round of bettors moves one event on.
-- Each thread takes every THREADS-th bettor, so one bettor never has requests on two threads.
-- "keys": every request carries its own Idempotency-Key (TAG-thread-n), as a client that
-- retries safely would.
--
-- done() prints one line "WRKJSON {...}": requests, 201 answers (bets placed), every other
-- status by code,
-- socket errors, the duration and latency percentiles (microseconds).

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local function read_lines(path)
   local out = {}
   for line in io.lines(path) do
      if line ~= "" then
         out[#out + 1] = line
      end
   end
   return out
end

function init(args)
   tokens = read_lines(args[1])
   events = {}
   for _, line in ipairs(read_lines(args[2])) do
      local ev = {}
      for word in line:gmatch("%S+") do
         ev[#ev + 1] = word
      end
      events[#events + 1] = ev
   end
   nthreads = tonumber(args[3])
   offset = tonumber(args[4])
   tag = args[5]
   keyed = args[6] == "keys"
   n = 0
   ok = 0
   refused = {}
   sample = ""
   headers = { ["Content-Type"] = "application/json" }
end

function request()
   local k = offset + n * nthreads + tid
   n = n + 1
   local user = k % #tokens
   local ev
   if #events == 1 then
      ev = events[1]
   else
      ev = events[(k + math.floor(k / #tokens)) % #events + 1]
   end
   local outcome = ev[2 + user % (#ev - 1)]
   headers["Authorization"] = "Bearer " .. tokens[user + 1]
   if keyed then
      headers["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. n
   end
   local body = '{"event_id":' .. ev[1] .. ',"outcome_id":' .. outcome .. ',"amount":1}'
   return wrk.format("POST", "/api/v1/bets", headers, body)
end

function response(status, hdrs, body)
   if status == 201 then -- a new bet (a replay would be 200: not counted)
      ok = ok + 1
   else
      local key = tostring(status)
      refused[key] = (refused[key] or 0) + 1
      if sample == "" and body then
         sample = key .. " " .. body:sub(1, 300)
      end
   end
end

function done(summary, latency, requests)
   local accepted = 0
   local parts = {}
   local counts = {}
   local first = ""
   for _, t in ipairs(threads) do
      accepted = accepted + t:get("ok")
      local r = t:get("refused")
      for code, count in pairs(r) do
         counts[code] = (counts[code] or 0) + count
      end
      local s = t:get("sample")
      if first == "" and s ~= "" then
         first = s
      end
   end
   for code, count in pairs(counts) do
      parts[#parts + 1] = string.format('"%s":%d', code, count)
   end
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests":%d,"ok":%d,"refused":{%s},"duration_us":%d,'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
         .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, accepted, table.concat(parts, ","), summary.duration,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean))
   if first ~= "" then
      io.write("WRKSAMPLE " .. first:gsub("\n", " ") .. "\n")
   end
end
