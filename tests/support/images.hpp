#pragma once
// Real image files for tests of photos, written by GDAL (JPEG, PNG, WebP) into memory.
#include <catch2/catch.hpp>
#include <cpl_vsi.h>
#include <gdal_priv.h>

#include <memory>
#include <string>
#include <vector>

namespace wangge::test {

// A `size` x `size` RGB picture in the format of GDAL driver `driver` (JPEG, PNG, WEBP); `ext`
// names the in-memory file.
inline std::string encode_image(const char* driver, const char* ext, int size = 16, char** options = nullptr) {
    GDALAllRegister();
    GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
    std::unique_ptr<GDALDataset> src(mem->Create("", size, size, 3, GDT_Byte, nullptr));
    const auto n = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
    for (int band = 1; band <= 3; ++band) {
        std::vector<GByte> pixels(n);
        for (std::size_t i = 0; i < n; ++i)
            pixels[i] = static_cast<GByte>((i * static_cast<std::size_t>(band) * 7 + i * i / 13) % 256);
        REQUIRE(src->GetRasterBand(band)->RasterIO(GF_Write, 0, 0, size, size, pixels.data(), size, size, GDT_Byte, 0,
                                                   0) == CE_None);
    }
    const std::string path = std::string("/vsimem/test_image.") + ext;
    GDALDriver* out = GetGDALDriverManager()->GetDriverByName(driver);
    REQUIRE(out != nullptr);
    std::unique_ptr<GDALDataset> written(out->CreateCopy(path.c_str(), src.get(), FALSE, options, nullptr, nullptr));
    REQUIRE(written != nullptr);
    written.reset();
    vsi_l_offset length = 0;
    GByte* data = VSIGetMemFileBuffer(path.c_str(), &length, FALSE);
    std::string bytes(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
    VSIUnlink(path.c_str());
    return bytes;
}

} // namespace wangge::test
