-- What the benches' wrk scripts share (bets.lua, tickets.lua, contracts.lua and takes.lua load
-- it first with dofile): threads numbered in setup(), read_lines(), init_common(args) for the
-- arguments after the two data files (THREADS OFFSET TAG [keys]) and the counters, response()
-- counting 201 answers as accepted and any other status as refused (the first refusal kept as
-- a sample), and done() writing the one "WRKJSON {...}" summary line the Python side reads.

threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function read_lines(path)
   local out = {}
   for line in io.lines(path) do
      if line ~= "" then
         out[#out + 1] = line
      end
   end
   return out
end

function init_common(args)
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

function response(status, hdrs, body)
   if status == 201 then -- accepted (a replay would be 200: not counted)
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
