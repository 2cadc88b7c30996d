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
   orders = read_lines(args[2])
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

function response(status, hdrs, body)
   if status == 201 then -- a take charged now (a repeat take would be 200: not counted)
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
   local nextk = 0
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
      local last = t:get("offset") + t:get("n") * t:get("nthreads") + t:get("tid")
      if last > nextk then
         nextk = last
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
   io.write(string.format("WRKNEXT %d\n", nextk))
   if first ~= "" then
      io.write("WRKSAMPLE " .. first:gsub("\n", " ") .. "\n")
   end
end
