#pragma once
// The incidents layer of the map (docs/TILES.md, "The incidents layer"): one MVT layer
// `incidents` of points, made per request for the user asking (never cached or shared), from
// cases the caller has read from the store. Knows nothing of HTTP, accounts or the workflow: the
// caller says how far each case has used its time (its light) and who may see which case.
//
// From `cluster_below` (z15) up, each case the user may see is one point feature (id = case id;
// properties id, category, state, light, due). Below it, the tile is cut into cells x cells
// (8 x 8) and the cases of a cell become one point at their mean position with `count` and the
// worst light among them; a cell with one case shows that case as at higher zooms.
#include "core/types.hpp"
#include "tiles/tile_math.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::tiles {

// How far a case has used its time limit (亮灯), ordered so that the worst compares greatest.
// `none` for a case no longer running against a limit (closed, invalid, suspended).
enum class IncidentLight : std::uint8_t { none, green, yellow, red };
std::string_view to_string(IncidentLight light) noexcept;

// One case as the map shows it.
struct IncidentMark {
    std::int64_t id = 0;
    LonLat at;           // WGS84
    std::string category; // 小类 code
    std::string state;
    std::string due_at;  // UTC text
    IncidentLight light = IncidentLight::none;
};

struct IncidentTileOptions {
    int cluster_below = 15; // zooms below this are clustered
    int cells = 8;          // cluster cells per tile side
    int buffer = 64;        // tile units beyond the edges where single cases are kept (circles are not cut)
};

// The WGS84 box of the cases a tile may show: the tile grown by the buffer.
BBox incident_tile_bounds(const TileId& tile, const IncidentTileOptions& options = {});

// Whether the user asking may see a case.
using MaySee = std::function<bool(const IncidentMark&)>;

// The uncompressed MVT of `tile` with the layer `incidents`; "" when nothing in it may be seen.
// `may_see` is asked of each mark before anything is counted, so clusters count and colour only
// cases the user may see. Marks outside the tile (and its buffer) are left out; in clusters,
// a case on the edge between two tiles is counted in the tile east or south of the edge only.
std::string make_incident_tile(const std::vector<IncidentMark>& marks, const TileId& tile, const MaySee& may_see,
                               const IncidentTileOptions& options = {});

} // namespace wangge::tiles
