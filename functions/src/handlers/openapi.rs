//! GET /openapi.json: the OpenAPI 3.1 document of this API.
//!
//! The document is generated from the Rust types by the `openapi` module, and
//! served from its committed copy, `src/openapi.json`: building it at run
//! time would put utoipa's whole model in this function (2 MB of its 4). A
//! test fails when the copy differs from what the types generate, and
//! rewrites it when run with UPDATE_OPENAPI=1.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};

use crate::reply::Reply;
use crate::request::Call;

/// The document as committed (`src/openapi.json`), which this function serves.
pub const COMMITTED: &str = include_str!("../openapi.json");

/// The document, generated from the handlers' annotations and the body types.
#[utoipa::path(get, path = "/openapi.json", tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn handle(_call: Call) -> Reply {
    let mut r = Response::new(Body::Text(COMMITTED.to_owned()));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    Ok(r)
}
