-- wrk script: sustained intake, each request a new report (POST /api/v1/incidents).
--   wrk ... -s bench/intake_reports.lua URL -- points.csv TOKEN RUN CATEGORIES
-- points.csv holds "lon,lat" lines (WGS84); each wrk thread walks them from its own offset.
-- CATEGORIES is a comma-separated list of category codes, taken in turn (reports come in every
-- category, and a report's duplicate search looks at the open cases of its own category).
-- Every report has its own Idempotency-Key, RUN-thread-n, and names it in its description
-- ("bench RUN-thread-n"), so that the reports stored can be counted against the answers.
-- At the end one line: intake_answers created=N other=M (201s and anything else received).
local points = {}
local next_index = 0
local threads = {}
local token, run
local categories = {}

-- Read by done() through thread:get, so global in each thread's state.
created = 0
other = 0
sent = 0

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  local source = assert(args[1], "give a points CSV, a token and a run name after --")
  token = assert(args[2], "give an API token after the points")
  run = assert(args[3], "give a run name after the token")
  for code in assert(args[4], "give the category codes after the run name"):gmatch("%d+") do
    categories[#categories + 1] = code
  end
  assert(#categories > 0, "no category codes in " .. args[4])
  local file = assert(io.open(source, "r"))
  for line in file:lines() do
    local lon, lat = line:match("^([%d.]+),([%d.]+)$")
    if lon then
      points[#points + 1] = { lon, lat }
    end
  end
  file:close()
  assert(#points > 0, "no points in " .. source)
  next_index = (thread_index or 0) * 7919 % #points
end

function request()
  sent = sent + 1
  next_index = next_index % #points + 1
  local p = points[next_index]
  local key = run .. "-" .. (thread_index or 0) .. "-" .. sent
  local category = categories[sent % #categories + 1]
  local body = '{"category":"' .. category .. '","description":"bench ' .. key .. '","source":"hotline",'
    .. '"location":{"lon":' .. p[1] .. ',"lat":' .. p[2] .. ',"crs":"wgs84"}}'
  -- wrk.format takes these headers instead of wrk.headers (Host is added from those).
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = key,
  }
  return wrk.format("POST", "/api/v1/incidents", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    if other <= 3 then
      io.stderr:write("answer " .. status .. ": " .. body .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format("intake_answers created=%d other=%d\n", c, o))
end
