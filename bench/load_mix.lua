-- wrk script of the load run (scripts/load.sh): one route class per wrk process, so that each
-- class gets its own latency distribution; scripts/load.sh runs one wrk per class at once, and
-- the connections it gives each class are the weights of the mix.
--   wrk -t1 -cN -dS --timeout 10s -s bench/load_mix.lua URL -- ROUTE key=value ...
-- ROUTE and the requests it makes (each picked at random, by the weights given, from varied
-- coordinates, pages and tiles):
--   locate    GET /api/v1/locate at a point of the district's box (+10% around it; 1 in 5 in GCJ-02)
--   geojson   GET /api/v1/{grids,buildings,communities,streets}: pages (limit, offset) and boxes
--   ogc       GET /ogc/collections/{grids,buildings,communities}/items: pages and boxes
--   mvt       GET /tiles/{layer}/{z}/{x}/{y}.mvt, the layers given, z12 (or the layer's least
--             zoom) to z16 over the district
--   png       GET /tiles/{default,dark}/{z}/{x}/{y}[@2x].png, z12-z16 over the district
--   intake    POST /api/v1/incidents (bearer token), each with its own Idempotency-Key
--   open311   POST /open311/v2/requests.json (a form, api_key as bearer token, its own
--             Idempotency-Key) 3 in 4; GET /open311/v2/services.json 1 in 8, services/{code}.json 1 in 8
--   login     POST /api/v1/session as one of the users given, in turn (Origin of the server)
-- key=value arguments:
--   bbox=minlon,minlat,maxlon,maxlat   the district's box (WGS84); every route needs it
--   counts=grids:175,buildings:1210,... features per collection (pages stay within them)
--   layers=grids:11,buildings:14,...    vector tile layers and their least zooms (mvt)
--   token=T            API token (intake, open311)
--   categories=0101,...  category codes (intake, open311), taken in turn
--   run=NAME           prefix of the Idempotency-Keys (unique per run)
--   users=a,b password=P origin=http://HOST:PORT   (login)
--   order=once         tiles in order; once every tile has been answered, one line
--                      `load_fill route=R tiles=N errors=E` and wrk exits (with -t1 only: fills
--                      the tile caches before the warm-up; wrk's own thread:stop() would still
--                      wait out the duration)
-- The environment variable LOAD_DELAY_MS makes each connection pause that long between its
-- requests (wrk reads delay() before init sees the arguments; the sign-ins are paced by it).
-- At the end one line:
--   load_route route=R requests=N seconds=S rps=X p50_ms=A p99_ms=B max_ms=C errors=E
--     bad_status=.. connect=.. read=.. write=.. timeout=..
-- errors counts every answer outside 2xx/3xx and every socket error and timeout; the first three
-- bad answers of each thread are written to standard error.

local threads = {}
local opts = {}
local tiles = {}
local sent = 0
local next_tile = 0

-- Read by done() through thread:get, so global in each thread's state.
route = nil
bad = 0
answered = 0

local function split(text, sep)
  local out = {}
  for part in string.gmatch(text or "", "[^" .. sep .. "]+") do
    out[#out + 1] = part
  end
  return out
end

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

-- Tile x, y of a WGS84 point at zoom z (Web Mercator, XYZ scheme).
local function tile_of(lon, lat, z)
  local n = 2 ^ z
  local x = math.floor((lon + 180) / 360 * n)
  local r = math.rad(lat)
  local y = math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
  return x, y
end

local function build_tiles(kinds, zmin, zmax)
  local b = opts.bbox
  for z = zmin, zmax do
    local x0, y0 = tile_of(b[1], b[4], z)
    local x1, y1 = tile_of(b[3], b[2], z)
    for _, kind in ipairs(kinds) do
      for x = x0, x1 do
        for y = y0, y1 do
          tiles[#tiles + 1] = kind[1] .. "/" .. z .. "/" .. x .. "/" .. y .. kind[2]
        end
      end
    end
  end
end

function init(args)
  route = assert(args[1], "give a route after --")
  for i = 2, #args do
    local key, value = args[i]:match("^([%w_]+)=(.*)$")
    assert(key, "arguments are key=value, not " .. args[i])
    opts[key] = value
  end
  local b = split(assert(opts.bbox, "give bbox=minlon,minlat,maxlon,maxlat"), ",")
  opts.bbox = { tonumber(b[1]), tonumber(b[2]), tonumber(b[3]), tonumber(b[4]) }
  opts.categories = split(opts.categories, ",")
  opts.users = split(opts.users, ",")
  math.randomseed(os.time() * 1000 + (thread_index or 0) * 7919 + #route)

  if route == "mvt" then
    -- Each layer from its own least zoom (TileJSON minzoom) or 12, to 16.
    for pair in string.gmatch(assert(opts.layers, "give layers=name:minzoom,..."), "[^,]+") do
      local layer, minzoom = pair:match("^(%w+):(%d+)$")
      assert(layer, "layers= takes name:minzoom pairs, not " .. pair)
      build_tiles({ { "/tiles/" .. layer, ".mvt" } }, math.max(12, tonumber(minzoom)), 16)
    end
  elseif route == "png" then
    build_tiles({ { "/tiles/default", ".png" }, { "/tiles/default", "@2x.png" },
                  { "/tiles/dark", ".png" }, { "/tiles/dark", "@2x.png" } }, 12, 16)
  elseif route == "intake" or route == "open311" then
    assert(opts.token, "give token=")
    assert(#opts.categories > 0, "give categories=")
    assert(opts.run, "give run=")
  elseif route == "login" then
    assert(#opts.users > 0 and opts.password and opts.origin, "give users=, password= and origin=")
  elseif route ~= "locate" and route ~= "geojson" and route ~= "ogc" then
    error("unknown route " .. route)
  end
  assert(opts.order == nil or opts.order == "once", "order= takes once")
  assert(opts.order == nil or #tiles > 0, "order=once is for the tile routes")
end

-- The counts= argument, parsed on first use: collection name -> features.
local counts
local function count_of(name)
  if not counts then
    counts = {}
    for pair in string.gmatch(opts.counts or "", "[^,]+") do
      local n, c = pair:match("^(%w+):(%d+)$")
      if n then counts[n] = tonumber(c) end
    end
  end
  return counts[name] or 100
end

local function random_point(margin)
  local b = opts.bbox
  local dx, dy = (b[3] - b[1]) * margin, (b[4] - b[2]) * margin
  local lon = b[1] - dx + math.random() * (b[3] - b[1] + 2 * dx)
  local lat = b[2] - dy + math.random() * (b[4] - b[2] + 2 * dy)
  return lon, lat
end

-- A box of 1-10% of the district's width somewhere in it.
local function random_bbox()
  local b = opts.bbox
  local w = (b[3] - b[1]) * (0.01 + math.random() * 0.09)
  local h = (b[4] - b[2]) * (0.01 + math.random() * 0.09)
  local lon = b[1] + math.random() * (b[3] - b[1] - w)
  local lat = b[2] + math.random() * (b[4] - b[2] - h)
  return string.format("%.6f,%.6f,%.6f,%.6f", lon, lat, lon + w, lat + h)
end

local function random_page(collection)
  local limit = ({ 10, 20, 50, 100 })[math.random(4)]
  local total = count_of(collection)
  local offset = math.random(0, math.max(0, total - 1))
  return "limit=" .. limit .. "&offset=" .. offset
end

local function pick(weights)
  local total = 0
  for _, w in ipairs(weights) do total = total + w[1] end
  local r = math.random() * total
  for _, w in ipairs(weights) do
    r = r - w[1]
    if r <= 0 then return w[2] end
  end
  return weights[#weights][2]
end

local function next_key()
  sent = sent + 1
  return opts.run .. "-" .. route .. "-" .. (thread_index or 0) .. "-" .. sent
end

local function category()
  return opts.categories[sent % #opts.categories + 1]
end

local requests = {}

function requests.locate()
  local lon, lat = random_point(0.1)
  local crs = ""
  if math.random(5) == 1 then crs = "&crs=gcj02"; lon = lon + 0.005; lat = lat - 0.002 end
  return wrk.format("GET", string.format("/api/v1/locate?lon=%.6f&lat=%.6f%s", lon, lat, crs))
end

function requests.geojson()
  local path = pick({
    { 4, function() return "/api/v1/grids?" .. random_page("grids") end },
    { 3, function() return "/api/v1/buildings?bbox=" .. random_bbox() end },
    { 2, function() return "/api/v1/buildings?" .. random_page("buildings") end },
    { 2, function() return "/api/v1/communities?" .. random_page("communities") end },
    { 1, function() return "/api/v1/streets" end },
  })()
  return wrk.format("GET", path)
end

function requests.ogc()
  local path = pick({
    { 4, function() return "/ogc/collections/grids/items?" .. random_page("grids") end },
    { 3, function() return "/ogc/collections/buildings/items?bbox=" .. random_bbox() end },
    { 2, function() return "/ogc/collections/buildings/items?" .. random_page("buildings") end },
    { 1, function() return "/ogc/collections/communities/items?" .. random_page("communities") end },
  })()
  return wrk.format("GET", path)
end

local function next_tile_path()
  if opts.order == "once" then
    next_tile = next_tile % #tiles + 1
    return tiles[next_tile]
  end
  return tiles[math.random(#tiles)]
end

function requests.mvt()
  return wrk.format("GET", next_tile_path())
end

requests.png = requests.mvt

function requests.intake()
  local key = next_key()
  local lon, lat = random_point(0)
  local body = string.format('{"category":"%s","description":"load %s","location":{"lon":%.6f,"lat":%.6f,"crs":"wgs84"}}',
    category(), key, lon, lat)
  return wrk.format("POST", "/api/v1/incidents", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. opts.token,
    ["Idempotency-Key"] = key,
  }, body)
end

function requests.open311()
  local r = math.random(8)
  if r == 1 then
    return wrk.format("GET", "/open311/v2/services.json")
  elseif r == 2 then
    sent = sent + 1
    return wrk.format("GET", "/open311/v2/services/" .. category() .. ".json")
  end
  local key = next_key()
  local lon, lat = random_point(0)
  -- 张 三 percent-encoded, as a form carries them.
  local body = string.format("service_code=%s&lat=%.6f&long=%.6f&description=load+%s"
    .. "&first_name=%%E4%%B8%%89&last_name=%%E5%%BC%%A0&phone=13912345678&address_string=load+test",
    category(), lat, lon, key)
  return wrk.format("POST", "/open311/v2/requests.json", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Bearer " .. opts.token,
    ["Idempotency-Key"] = key,
  }, body)
end

function requests.login()
  sent = sent + 1
  local user = opts.users[((thread_index or 0) + sent) % #opts.users + 1]
  local body = '{"user":"' .. user .. '","password":"' .. opts.password .. '"}'
  return wrk.format("POST", "/api/v1/session", {
    ["Content-Type"] = "application/json",
    ["Origin"] = opts.origin,
  }, body)
end

function request()
  return requests[route]()
end

local pause = tonumber(os.getenv("LOAD_DELAY_MS") or "0") or 0
if pause > 0 then
  function delay()
    return pause
  end
end

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 399 then
    bad = bad + 1
    if bad <= 3 then
      io.stderr:write(string.format("load_mix %s: answer %d: %s\n", route, status, (body or ""):sub(1, 300)))
    end
  end
  if opts.order == "once" and answered >= #tiles then
    io.write(string.format("load_fill route=%s tiles=%d errors=%d\n", route, #tiles, bad))
    os.exit(bad == 0 and 0 or 1)
  end
end

function done(summary, latency, requests_)
  local b = 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
  end
  local name = threads[1] and threads[1]:get("route") or "?"
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local errors = b + e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "load_route route=%s requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d"
      .. " bad_status=%d connect=%d read=%d write=%d timeout=%d\n",
    name, summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, errors,
    b, e.connect, e.read, e.write, e.timeout))
end
