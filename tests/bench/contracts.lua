-- wrk load for POST /api/v1/predictions (tests/bench/predictions_bench.py runs it): the
-- arguments, the spreading of players over threads, the keys and the WRKJSON summary are
-- bets.lua's; EVENTS holds one line, "SYMBOL DURATION", and every request opens a fixed-odds
-- contract on that symbol, up and down alternating (by request number), with a stake of STAKE (10). 201 answers
-- are contracts placed (a replay would be 200: not counted).

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrkcommon.lua")

function init(args)
   tokens = read_lines(args[1])
   local words = {}
   for word in read_lines(args[2])[1]:gmatch("%S+") do
      words[#words + 1] = word
   end
   symbol = words[1]
   duration = words[2]
   init_common(args)
   bodies = {}
   for i, dir in ipairs({ "up", "down" }) do
      bodies[i] = string.format('{"symbol":"%s","direction":"%s","stake":10,"duration":%s}',
                                symbol, dir, duration)
   end
end

function request()
   local k = offset + n * nthreads + tid
   n = n + 1
   local user = k % #tokens
   headers["Authorization"] = "Bearer " .. tokens[user + 1]
   if keyed then
      headers["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. n
   end
   return wrk.format("POST", "/api/v1/predictions", headers, bodies[k % 2 + 1])
end
