-- wrk load for POST /api/v1/predictions (tests/bench/predictions_bench.py runs it): the
-- arguments, the spreading of players over threads, the keys and the WRKJSON summary are
-- bets.lua's; EVENTS holds one line, "SYMBOL DURATION", and every request opens a fixed-odds
-- contract on that symbol, up and down alternating (by request number), with a stake of STAKE (10). 201 answers
-- are contracts placed (a replay would be 200: not counted).

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
   local words = {}
   for word in read_lines(args[2])[1]:gmatch("%S+") do
      words[#words + 1] = word
   end
   symbol = words[1]
   duration = words[2]
   nthreads = tonumber(args[3])
   offset = tonumber(args[4])
   tag = args[5]
   keyed = args[6] == "keys"
   n = 0
   ok = 0
   refused = {}
   sample = ""
   headers = { ["Content-Type"] = "application/json" }
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

function response(status, hdrs, body)
   if status == 201 then
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
