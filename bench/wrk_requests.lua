-- wrk script: cycles through request paths, each wrk thread from its own offset.
--   wrk ... -s bench/wrk_requests.lua URL -- points.csv   GET /api/v1/locate for each point
--                                                        (a file whose name ends in .csv)
--   wrk ... -s bench/wrk_requests.lua URL -- /healthz     the same path every time
-- Both modes go through request(), so the client does the same work per request in each and
-- the two throughputs can be compared.
local paths = {}
local next_index = 0
local threads_started = 0

function setup(thread)
  thread:set("thread_index", threads_started)
  threads_started = threads_started + 1
end

function init(args)
  local source = assert(args[1], "give a points CSV or a path after --")
  if not source:match("%.csv$") then
    paths[1] = source
  else
    local file = assert(io.open(source, "r"))
    for line in file:lines() do
      local lon, lat = line:match("^%d+,([^,]+),([^,]+),")
      if lon then
        paths[#paths + 1] = "/api/v1/locate?lon=" .. lon .. "&lat=" .. lat
      end
    end
    file:close()
    assert(#paths > 0, "no points in " .. source)
  end
  next_index = (thread_index or 0) * 7919 % #paths
end

function request()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index])
end
