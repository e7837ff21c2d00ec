//! GET /docs: interactive API documentation, like FastAPI's /docs.
//!
//! A small page, embedded in the binary (no CDN, works offline and behind
//! strict networks): it loads `openapi.json` from beside itself, lists every
//! operation with its parameters, body and answers, and can send a request
//! (with the bearer token typed in the page) to this API only: the document
//! always comes from beside the page, and the page's Content-Security-Policy
//! lets it talk to its own origin alone.

use std::sync::LazyLock;

use crate::reply::Reply;
use crate::request::Call;

/// The page.
pub const PAGE: &str = include_str!("docs.html");

/// The page's Content-Security-Policy, made once from its inline script and style.
pub static POLICY: LazyLock<String> = LazyLock::new(|| crate::reply::page_policy(PAGE));

/// This page: every operation, its parameters, bodies and answers, and a form to try it.
#[utoipa::path(get, path = "/docs", tag = "docs",
    responses((status = 200, description = "The documentation page", content_type = "text/html")))]
pub async fn handle(_call: Call) -> Reply {
    crate::reply::html(PAGE, &POLICY)
}
