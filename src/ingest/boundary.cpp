#include "ingest/feature.hpp"
#include "ingest/gdal_source.hpp"
#include "ingest/importer.hpp"

namespace wangge::ingest {

geo::Geometry read_boundary(const std::filesystem::path& path, const std::optional<std::string>& crs,
                            const std::optional<std::string>& layer) {
    detail::register_gdal();
    ImportOptions options;
    options.target = Target::streets;
    options.path = path;
    options.crs = crs;
    options.layer = layer;
    detail::Source source(options);
    std::vector<geo::Geometry> parts;
    std::size_t index = 0;
    while (OGRFeatureUniquePtr feature = source.next()) {
        ++index;
        std::optional<geo::Geometry> g;
        try {
            g = source.geometry(*feature, "feature " + std::to_string(index));
        } catch (const detail::Rejected&) {
            continue;
        }
        if (!g) continue;
        geo::Geometry polygonal = geo::polygonal_part(geo::make_valid_polygonal(*g));
        if (!polygonal.is_empty()) parts.push_back(std::move(polygonal));
    }
    if (parts.empty()) throw Error(ErrorKind::unprocessable, "no_polygons", source.where() + " holds no polygon");
    std::vector<const geo::Geometry*> refs;
    for (const auto& p : parts) refs.push_back(&p);
    return geo::to_multi_polygon(geo::union_all(refs));
}

} // namespace wangge::ingest
