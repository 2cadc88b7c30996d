-- wrk load for POST /api/v1/raffles/{id}/tickets (tests/bench/raffles_bench.py runs it): the
-- arguments, the spreading of buyers over threads, the keys and the WRKJSON summary are
-- bets.lua's; EVENTS holds one line, the hot raffle's id, and every request buys one random
-- free number ({"count": 1}). 201 answers are tickets bought.

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
   headers["Authorization"] = "Bearer " .. tokens[user + 1]
   if keyed then
      headers["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. n
   end
   return wrk.format("POST", "/api/v1/raffles/" .. events[1][1] .. "/tickets", headers,
                     '{"count":1}')
end
