-- wrk load for POST /api/v1/orders/{id}/take (tests/bench/orders_bench.py runs it). The
-- arguments, the keys and the WRKJSON summary are bets.lua's: TOKENS holds the executors'
-- tokens, ORDERS the active orders' ids (one a line, a multiple of BLOCK of them).
--
-- Request number k (offset + n * threads + tid: every request of a run, over all threads and
-- connections, has its own k) takes one (order, executor) pair that no other k takes, so every
-- request is a first take, a real charge: k's round r = floor(k / 3 BLOCK) covers orders
-- r BLOCK .. r BLOCK + BLOCK - 1, each taken by its slot s = floor((k % 3 BLOCK) / BLOCK) in
-- 0, 1, 2 (an order's at most 3 executors), by executor (j + 333 s) % #TOKENS. An order's
-- three takes are BLOCK requests apart: the load is on distinct orders, never one order's
-- lock. 201 answers are takes charged; a replay (200) or anything else is refused. done()
-- also writes WRKNEXT: the first k no thread used (the next run's offset).

local BLOCK = 1000

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrkcommon.lua")

function init(args)
   tokens = read_lines(args[1])
   orders = read_lines(args[2])
   init_common(args)
end

function request()
   local k = offset + n * nthreads + tid
   n = n + 1
   k = k % (3 * #orders) -- past the plan: pairs repeat (replays, refused; the bench fails)
   local r = math.floor(k / (3 * BLOCK))
   local within = k % (3 * BLOCK)
   local slot = math.floor(within / BLOCK)
   local j = within % BLOCK
   local order = orders[r * BLOCK + j + 1]
   local executor = (j + 333 * slot) % #tokens
   headers["Authorization"] = "Bearer " .. tokens[executor + 1]
   if keyed then
      headers["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. n
   end
   return wrk.format("POST", "/api/v1/orders/" .. order .. "/take", headers, "")
end

local summary_line = done -- wrkcommon.lua's WRKJSON (and WRKSAMPLE) lines

function done(summary, latency, requests)
   summary_line(summary, latency, requests)
   local nextk = 0
   for _, t in ipairs(threads) do
      local last = t:get("offset") + t:get("n") * t:get("nthreads") + t:get("tid")
      if last > nextk then
         nextk = last
      end
   end
   io.write(string.format("WRKNEXT %d\n", nextk))
end
