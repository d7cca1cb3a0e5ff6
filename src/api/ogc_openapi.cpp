// The OpenAPI 3.0 description of Wangge's OGC API - Features (conformance class oas30). Kept as
// JSON text so that it reads like the document clients receive; only the server URL changes per
// request. Clients use it: GDAL's OAPIF driver reads the items parameters from it, and QGIS and
// Swagger UI show it.
#include "api/ogc_endpoints.hpp"

namespace wangge::api::detail {

namespace {

constexpr const char* document = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "Wangge 网格 - OGC API - Features",
    "version": "1.0.0",
    "description": "China's community grid management hierarchy (网格化管理) as OGC API - Features - Part 1: Core: street offices (街道), communities (社区), responsibility grids (责任网格) and buildings (楼栋) with their households. Coordinates are WGS84 longitude/latitude (CRS84)."
  },
  "servers": [],
  "tags": [
    {"name": "Capabilities", "description": "What this API offers"},
    {"name": "Data", "description": "The features"}
  ],
  "paths": {
    "/": {
      "get": {
        "tags": ["Capabilities"],
        "summary": "Landing page",
        "operationId": "getLandingPage",
        "parameters": [{"$ref": "#/components/parameters/fJson"}],
        "responses": {
          "200": {"description": "Links to the API definition, the conformance classes and the collections",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/landingPage"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "406": {"$ref": "#/components/responses/NotAcceptable"}
        }
      }
    },
    "/api": {
      "get": {
        "tags": ["Capabilities"],
        "summary": "This API definition",
        "operationId": "getAPI",
        "parameters": [{"$ref": "#/components/parameters/fJson"}],
        "responses": {
          "200": {"description": "The OpenAPI 3.0 document",
                  "content": {"application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "406": {"$ref": "#/components/responses/NotAcceptable"}
        }
      }
    },
    "/conformance": {
      "get": {
        "tags": ["Capabilities"],
        "summary": "Conformance classes implemented by this API",
        "operationId": "getConformanceDeclaration",
        "parameters": [{"$ref": "#/components/parameters/fJson"}],
        "responses": {
          "200": {"description": "The conformance classes",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/confClasses"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "406": {"$ref": "#/components/responses/NotAcceptable"}
        }
      }
    },
    "/collections": {
      "get": {
        "tags": ["Capabilities"],
        "summary": "The feature collections: streets, communities, grids, buildings",
        "operationId": "getCollections",
        "parameters": [{"$ref": "#/components/parameters/fJson"}],
        "responses": {
          "200": {"description": "The collections with their extents and links",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/collections"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "406": {"$ref": "#/components/responses/NotAcceptable"}
        }
      }
    },
    "/collections/{collectionId}": {
      "get": {
        "tags": ["Capabilities"],
        "summary": "One feature collection",
        "operationId": "describeCollection",
        "parameters": [{"$ref": "#/components/parameters/collectionId"},
                       {"$ref": "#/components/parameters/fJson"}],
        "responses": {
          "200": {"description": "The collection with its extent and links",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/collection"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "406": {"$ref": "#/components/responses/NotAcceptable"}
        }
      }
    },
    "/collections/{collectionId}/items": {
      "get": {
        "tags": ["Data"],
        "summary": "Features of a collection, in code order (buildings by id), one page at a time",
        "description": "Pages are linked by `next` and `prev` links; numberMatched counts all features that match bbox. Any other query parameter is answered with 400.",
        "operationId": "getFeatures",
        "parameters": [{"$ref": "#/components/parameters/collectionId"},
                       {"$ref": "#/components/parameters/bbox"},
                       {"$ref": "#/components/parameters/datetime"},
                       {"$ref": "#/components/parameters/limit"},
                       {"$ref": "#/components/parameters/offset"},
                       {"$ref": "#/components/parameters/fFeatures"}],
        "responses": {
          "200": {"description": "A page of features",
                  "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/featureCollectionGeoJSON"}},
                              "application/json": {"schema": {"$ref": "#/components/schemas/featureCollectionGeoJSON"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "406": {"$ref": "#/components/responses/NotAcceptable"}
        }
      }
    },
    "/collections/{collectionId}/items/{featureId}": {
      "get": {
        "tags": ["Data"],
        "summary": "One feature",
        "operationId": "getFeature",
        "parameters": [{"$ref": "#/components/parameters/collectionId"},
                       {"$ref": "#/components/parameters/featureId"},
                       {"$ref": "#/components/parameters/fFeatures"}],
        "responses": {
          "200": {"description": "The feature",
                  "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/featureGeoJSON"}},
                              "application/json": {"schema": {"$ref": "#/components/schemas/featureGeoJSON"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "406": {"$ref": "#/components/responses/NotAcceptable"}
        }
      }
    }
  },
  "components": {
    "parameters": {
      "collectionId": {
        "name": "collectionId", "in": "path", "required": true,
        "description": "The collection",
        "schema": {"type": "string", "enum": ["streets", "communities", "grids", "buildings"]}
      },
      "featureId": {
        "name": "featureId", "in": "path", "required": true,
        "description": "The code of a street (9 digits), community (12) or grid (15), or the id of a building",
        "schema": {"type": "string"}
      },
      "bbox": {
        "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
        "description": "Only features whose geometry intersects the box minLon,minLat,maxLon,maxLat (CRS84); with six numbers the third and sixth (heights) are ignored. A box across the antimeridian is not supported.",
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
      },
      "datetime": {
        "name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
        "description": "An RFC 3339 instant or interval (open ends as ..). The collections hold the current state and have no temporal property: a valid value selects every feature.",
        "schema": {"type": "string"}
      },
      "limit": {
        "name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
        "description": "Features per page; a value above the maximum is served as the maximum",
        "schema": {"type": "integer", "minimum": 1}
      },
      "offset": {
        "name": "offset", "in": "query", "required": false, "style": "form", "explode": false,
        "description": "Number of matching features to skip; the next and prev links carry it",
        "schema": {"type": "integer", "minimum": 0, "default": 0}
      },
      "fJson": {
        "name": "f", "in": "query", "required": false, "style": "form", "explode": false,
        "description": "The representation; overrides the Accept header. JSON is the only one (no HTML).",
        "schema": {"type": "string", "enum": ["json"]}
      },
      "fFeatures": {
        "name": "f", "in": "query", "required": false, "style": "form", "explode": false,
        "description": "The representation; overrides the Accept header. geojson is served as application/geo+json, json is the same document as application/json.",
        "schema": {"type": "string", "enum": ["geojson", "json"]}
      }
    },
    "responses": {
      "BadRequest": {"description": "A malformed or unknown query parameter",
                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
      "NotFound": {"description": "No such collection or feature",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
      "NotAcceptable": {"description": "The Accept header names no media type offered for the resource",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}}
    },
    "schemas": {
      "exception": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}
      },
      "link": {
        "type": "object", "required": ["href", "rel"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"},
                       "type": {"type": "string"}, "title": {"type": "string"}}
      },
      "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
      "landingPage": {
        "type": "object", "required": ["links"],
        "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                       "links": {"$ref": "#/components/schemas/links"}}
      },
      "confClasses": {
        "type": "object", "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}
      },
      "extent": {
        "type": "object",
        "properties": {
          "spatial": {
            "type": "object",
            "properties": {
              "bbox": {"type": "array", "minItems": 1,
                       "items": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
              "crs": {"type": "string", "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]}
            }
          }
        }
      },
      "collection": {
        "type": "object", "required": ["id", "links"],
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                       "links": {"$ref": "#/components/schemas/links"},
                       "extent": {"$ref": "#/components/schemas/extent"},
                       "itemType": {"type": "string", "enum": ["feature"]},
                       "crs": {"type": "array", "items": {"type": "string"}}}
      },
      "collections": {
        "type": "object", "required": ["links", "collections"],
        "properties": {"links": {"$ref": "#/components/schemas/links"},
                       "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}}
      },
      "geometryGeoJSON": {
        "type": "object", "required": ["type", "coordinates"],
        "description": "A GeoJSON Polygon or MultiPolygon (RFC 7946), shells counter-clockwise, 7 decimals",
        "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                       "coordinates": {"type": "array", "items": {}}}
      },
      "areaProperties": {
        "type": "object", "required": ["code", "name", "level", "households"],
        "description": "A street, community or grid; docs/API.md lists the properties of each level",
        "properties": {
          "code": {"type": "string"}, "name": {"type": "string"},
          "level": {"type": "string", "enum": ["street", "community", "grid"]},
          "households": {"type": "integer"}, "buildings": {"type": "integer"},
          "estimated_buildings": {"type": "integer"}, "area_m2": {"type": "number"},
          "communities": {"type": "integer"}, "grids": {"type": "integer"},
          "street_code": {"type": "string"}, "street_name": {"type": "string"},
          "community_code": {"type": "string"}, "community_name": {"type": "string"},
          "kind": {"type": "string", "enum": ["residential", "unit"]},
          "load": {"type": "string", "enum": ["below", "in_band", "above", "unit"]},
          "version": {"type": "integer"}
        }
      },
      "buildingProperties": {
        "type": "object", "required": ["id", "households"],
        "properties": {
          "id": {"type": "integer"}, "source_id": {"type": "string"}, "name": {"type": "string"},
          "use": {"type": "string"}, "address": {"type": "string"},
          "floors": {"type": "integer", "nullable": true}, "height_m": {"type": "number", "nullable": true},
          "households": {"type": "integer"}, "households_estimated": {"type": "boolean"},
          "grid_code": {"type": "string", "nullable": true}
        }
      },
      "featureGeoJSON": {
        "type": "object", "required": ["type", "geometry", "properties"],
        "properties": {
          "type": {"type": "string", "enum": ["Feature"]},
          "id": {"type": "string", "description": "The area's code or the building's id"},
          "geometry": {"$ref": "#/components/schemas/geometryGeoJSON"},
          "properties": {"oneOf": [{"$ref": "#/components/schemas/areaProperties"},
                                   {"$ref": "#/components/schemas/buildingProperties"}]},
          "links": {"$ref": "#/components/schemas/links"}
        }
      },
      "featureCollectionGeoJSON": {
        "type": "object", "required": ["type", "features"],
        "properties": {
          "type": {"type": "string", "enum": ["FeatureCollection"]},
          "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
          "links": {"$ref": "#/components/schemas/links"},
          "timeStamp": {"type": "string", "format": "date-time"},
          "numberMatched": {"type": "integer", "minimum": 0},
          "numberReturned": {"type": "integer", "minimum": 0}
        }
      }
    }
  }
})json";

} // namespace

nlohmann::json ogc_openapi(const std::string& server_url) {
    // Parsed once; a malformed literal would throw on the first request and fail every test.
    static const nlohmann::json parsed = nlohmann::json::parse(document);
    nlohmann::json doc = parsed;
    doc["servers"] = {{{"url", server_url}, {"description", "This Wangge server"}}};
    // The page sizes come from the one place that enforces them.
    auto& limit = doc["components"]["parameters"]["limit"]["schema"];
    limit["maximum"] = OgcEndpoints::max_limit;
    limit["default"] = OgcEndpoints::default_limit;
    return doc;
}

} // namespace wangge::api::detail
