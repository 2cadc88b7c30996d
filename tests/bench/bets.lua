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

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrkcommon.lua")

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
   init_common(args)
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
