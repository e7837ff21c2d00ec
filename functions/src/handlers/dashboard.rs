//! GET /dashboard: PLACEHOLDER. The dashboard is built separately and
//! replaces this module; until then the route exists (so the route table,
//! the binaries and template.yaml already agree) and says so.

use crate::Reply;
use crate::input::Call;

const PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>taskq dashboard</title>\
</head><body><h1>taskq dashboard</h1><p>Not built yet. Meanwhile see <a href=\"docs\">the API docs</a>.</p>\
</body></html>";

/// Serves the placeholder page.
#[utoipa::path(get, path = "/dashboard", tag = "docs",
    responses((status = 200, description = "The dashboard page", content_type = "text/html")))]
pub async fn handle(_call: Call) -> Reply {
    super::html(PAGE)
}
