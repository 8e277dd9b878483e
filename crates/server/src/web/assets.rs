//! The static files, inside the binary: htmx (vendored, see `static/README.md`) and the style
//! sheet. Their URLs carry a hash of their content, so that they can be cached for a year.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static [u8],
    hash: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    let files: [(&str, &str, &[u8]); 3] = [
        (
            "htmx.min.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../static/htmx.min.js"),
        ),
        (
            "app.css",
            "text/css; charset=utf-8",
            include_bytes!("../../static/app.css"),
        ),
        (
            "app.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../static/app.js"),
        ),
    ];
    files
        .into_iter()
        .map(|(name, mime, body)| {
            let d = Sha256::digest(body);
            Asset {
                name,
                mime,
                body,
                hash: d.iter().take(6).map(|b| format!("{b:02x}")).collect(),
            }
        })
        .collect()
});

/// The URL of a static file: `/static/NAME?v=HASH`.
pub fn url(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => format!("/static/{}?v={}", a.name, a.hash),
        None => format!("/static/{name}"),
    }
}

/// `GET /static/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(a.mime)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (
                    header::HeaderName::from_static("x-content-type-options"),
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            a.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
