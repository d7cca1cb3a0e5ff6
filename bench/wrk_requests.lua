-- wrk script: cycles through request paths, each wrk thread from its own offset.
--   wrk ... -s bench/wrk_requests.lua URL -- points.csv   GET /api/v1/locate for each point
--                                                        (a file whose name ends in .csv)
--   wrk ... -s bench/wrk_requests.lua URL -- paths.txt    GET each path of the file, one a line
--                                                        (a file whose name ends in .txt)
--   wrk ... -s bench/wrk_requests.lua URL -- /healthz     the same path every time
-- A second argument `gzip` adds `Accept-Encoding: gzip` to every request.
-- All modes go through request(), so the client does the same work per request in each and
-- the throughputs can be compared.
local paths = {}
local next_index = 0
local threads_started = 0

function setup(thread)
  thread:set("thread_index", threads_started)
  threads_started = threads_started + 1
end

function init(args)
  local source = assert(args[1], "give a points CSV, a paths file or a path after --")
  if source:match("%.csv$") then
    local file = assert(io.open(source, "r"))
    for line in file:lines() do
      local lon, lat = line:match("^%d+,([^,]+),([^,]+),")
      if lon then
        paths[#paths + 1] = "/api/v1/locate?lon=" .. lon .. "&lat=" .. lat
      end
    end
    file:close()
  elseif source:match("%.txt$") then
    local file = assert(io.open(source, "r"))
    for line in file:lines() do
      if line:match("^/") then
        paths[#paths + 1] = line
      end
    end
    file:close()
  else
    paths[1] = source
  end
  assert(#paths > 0, "no paths in " .. source)
  if args[2] == "gzip" then
    wrk.headers["Accept-Encoding"] = "gzip"
  elseif args[2] then
    error("unknown argument " .. args[2])
  end
  next_index = (thread_index or 0) * 7919 % #paths
end

function request()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index])
end
