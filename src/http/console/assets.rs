//! The console's static files, embedded in the binary: the vendored third-party assets
//! (`assets/vendor/<package>@<version>/`, from the npm registry; see `assets/vendor/update.sh`)
//! and the console's own CSS and scripts (`assets/console/`). Vendored files carry their version
//! in the path and are cached for a year; the console's own are revalidated by ETag.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:literal) => {
        Asset { path: $path, content_type: $type, bytes: include_bytes!(concat!("../../../assets/", $path)) }
    };
}

static ASSETS: &[Asset] = &[
    asset!("console/console.css", "text/css; charset=utf-8"),
    asset!("console/console.js", "text/javascript; charset=utf-8"),
    asset!("console/map.js", "text/javascript; charset=utf-8"),
    asset!("vendor/htmx.org@2.0.11/dist/htmx.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/leaflet@1.9.4/dist/leaflet.js", "text/javascript; charset=utf-8"),
    asset!("vendor/leaflet@1.9.4/dist/leaflet.css", "text/css; charset=utf-8"),
    asset!("vendor/leaflet@1.9.4/dist/images/marker-icon.png", "image/png"),
    asset!("vendor/leaflet@1.9.4/dist/images/marker-icon-2x.png", "image/png"),
    asset!("vendor/leaflet@1.9.4/dist/images/marker-shadow.png", "image/png"),
    asset!("vendor/leaflet@1.9.4/dist/images/layers.png", "image/png"),
    asset!("vendor/leaflet@1.9.4/dist/images/layers-2x.png", "image/png"),
    asset!("vendor/topojson-client@3.1.0/dist/topojson-client.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/world-atlas@2.0.2/countries-50m.json", "application/json"),
    asset!("vendor/world-atlas@2.0.2/countries-10m.json", "application/json"),
];

/// The licence files of the vendored packages, served beside them.
static LICENCES: &[Asset] = &[
    asset!("vendor/htmx.org@2.0.11/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/leaflet@1.9.4/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/topojson-client@3.1.0/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/world-atlas@2.0.2/LICENSE", "text/plain; charset=utf-8"),
];

/// `GET /hq/assets/{path}`.
pub async fn get(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    let Some(asset) = ASSETS.iter().chain(LICENCES).find(|a| a.path == path) else {
        return crate::http::error::ApiError::new(actix_web::http::StatusCode::NOT_FOUND, "route_not_found", "no such asset")
            .error_response();
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(asset.bytes))[..16]);
    let vendored = asset.path.starts_with("vendor/");
    let cache = if vendored { "public, max-age=31536000, immutable" } else { "no-cache" };
    let matches = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    let mut response = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, cache));
    if asset.content_type.starts_with("image/") {
        response.insert_header((header::CONTENT_ENCODING, "identity"));
    }
    if matches {
        return response.finish();
    }
    response.content_type(asset.content_type).body(asset.bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_vendored_package_has_its_licence_and_is_in_the_manifest() {
        let manifest = include_str!("../../../assets/vendor/MANIFEST");
        for asset in super::ASSETS.iter().filter(|a| a.path.starts_with("vendor/")) {
            let package = asset.path.split('/').nth(1).unwrap();
            assert!(super::LICENCES.iter().any(|l| l.path == format!("vendor/{package}/LICENSE")), "{package} has no licence");
            assert!(manifest.lines().any(|l| l.starts_with(&format!("{package} sha512-"))), "{package} is not in MANIFEST");
        }
    }
}
