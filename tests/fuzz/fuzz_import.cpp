// Spreadsheet and vector-file import through GDAL (src/ingest/table.hpp, importer.hpp): the
// input is written as a small file whose extension the first byte chooses, then read the way
// `wangge workers import` reads a register (read_table) or `wangge import` imports a layer
// (import_file, into a SpatiaLite file holding the small district, in one transaction with
// repair and reassignment). The first byte also picks the target and the CRS option. Checked:
// only wangge::Error leaves the reading code. GDAL is kept off the network.
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "ingest/importer.hpp"
#include "ingest/table.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <cpl_conv.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

using namespace wangge;

namespace {

constexpr std::size_t max_input = 64 * 1024;

struct Format {
    const char* ext;
    bool table; // read as a register of rows (read_table) rather than imported as a layer
};
constexpr std::array<Format, 8> formats{{{".geojson", false},
                                         {".csv", true},
                                         {".kml", false},
                                         {".gpx", false},
                                         {".xlsx", true},
                                         {".ods", true},
                                         {".gml", false},
                                         {".shp.zip", false}}}; // a zipped Shapefile
constexpr std::array<ingest::Target, 4> targets{ingest::Target::buildings, ingest::Target::grids,
                                                ingest::Target::roads, ingest::Target::communities};

struct Workspace {
    test::TempDir dir;
    std::unique_ptr<store::Database> db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);

    Workspace() { test::write_small_district(*db); }
};

std::unique_ptr<Workspace> work;

void no_network() {
    for (const auto& [key, value] : std::initializer_list<std::pair<const char*, const char*>>{
             {"GDAL_HTTP_TIMEOUT", "1"},
             {"GDAL_HTTP_CONNECTTIMEOUT", "1"},
             {"GDAL_HTTP_MAX_RETRY", "0"},
             {"GDAL_HTTP_PROXY", "127.0.0.1:9"},
             {"CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".none"},
             {"GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"},
             {"GML_SKIP_RESOLVE_ELEMS", "ALL"},
             {"GML_DOWNLOAD_WFS_SCHEMA", "NO"},
             {"GDAL_PAM_ENABLED", "NO"},
             {"CPL_DEBUG", "OFF"}})
        CPLSetConfigOption(key, value);
    setenv("PROJ_NETWORK", "OFF", 1);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    no_network();
    work = std::make_unique<Workspace>();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > max_input) return 0;
    const fuzz::Input in(data, size);
    // WANGGE_FUZZ_VERBOSE=1: what each input became, on stderr (to see what a seed reaches).
    static const bool verbose = std::getenv("WANGGE_FUZZ_VERBOSE") != nullptr;
    const Format& format = formats[in.choice % formats.size()];
    const std::filesystem::path file = work->dir / (std::string("input") + format.ext);
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(in.rest.data(), static_cast<std::streamsize>(in.rest.size()));
    }
    try {
        if (format.table) {
            const ingest::Table t = ingest::read_table(file);
            if (verbose) std::fprintf(stderr, "%s: %zu columns, %zu rows\n", format.ext, t.columns.size(), t.rows.size());
        } else {
            ingest::ImportOptions o;
            o.path = file;
            o.target = targets[(in.choice / 8) % targets.size()];
            o.replace = true;
            // GPX files always hold five layers: the lines are in routes or tracks.
            if (std::string_view(format.ext) == ".gpx") o.layer = (in.choice & 0x80) ? "tracks" : "routes";
            if (in.choice & 0x20) o.crs = (in.choice & 0x40) ? "gcj02" : "EPSG:4547";
            const ingest::ImportReport r = ingest::import_file(*work->db, o);
            if (verbose) std::fprintf(stderr, "%s: %s stored %zu of %zu\n", format.ext, std::string(to_string(o.target)).c_str(), r.stored, r.read);
        }
    } catch (const Error& e) {
        if (verbose) std::fprintf(stderr, "%s: %s\n", format.ext, e.what());
    }
    return 0;
}
