//! GET /docs: interactive API documentation, like FastAPI's /docs.
//!
//! A small page, embedded in the binary (no CDN, works offline and behind
//! strict networks): it loads `openapi.json` from beside itself, lists every
//! operation with its parameters, body and answers, and can send a request
//! (with the bearer token typed in the page).

use crate::Reply;
use crate::input::Call;

/// The page.
pub const PAGE: &str = include_str!("docs.html");

/// This page: every operation, its parameters, bodies and answers, and a form to try it.
#[utoipa::path(get, path = "/docs", tag = "docs",
    responses((status = 200, description = "The documentation page", content_type = "text/html")))]
pub async fn handle(_call: Call) -> Reply {
    super::html(PAGE)
}
