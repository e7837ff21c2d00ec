//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! the body types in [`crate::views`], completed from the route table: each
//! operation's id (its function's name) and which operations need the bearer
//! token (and so may answer 401).

use std::sync::OnceLock;

use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, PathItem, Ref, ResponseBuilder, path::Operation};

use crate::error::{ErrorBody, FieldError, ValidationBody};
use crate::routes::{Access, Paths, ROUTES};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "taskq",
        description = "Background jobs for serverless Rust: enqueue tasks, follow their progress, cancel them.\n\n\
            Validation errors are `422 {\"detail\": [{\"loc\", \"msg\", \"type\"}]}`; every other error is \
            `{\"detail\": \"...\"}`. With API_TOKEN set, every operation marked `token` needs \
            `Authorization: Bearer <token>`.",
    ),
    components(schemas(ErrorBody, ValidationBody, FieldError)),
    tags(
        (name = "tasks", description = "Enqueue (now, later or with retries), follow, cancel, reschedule and requeue jobs"),
        (name = "queues", description = "Queue counts, purge, and requeue of failed jobs"),
        (name = "jobs", description = "Jobs by queue and state"),
        (name = "schedules", description = "Cron schedules: one job per tick"),
        (name = "workers", description = "Workers and throughput"),
        (name = "health", description = "Liveness"),
        (name = "docs", description = "This documentation and the dashboard"),
    )
)]
struct ApiDoc;

pub use crate::handlers::openapi::COMMITTED;

/// Name of the bearer scheme in the document.
const BEARER: &str = "bearer";

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi().merge_from(Paths::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(BEARER, SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    for route in ROUTES {
        let Some(op) = doc.paths.paths.get_mut(route.path).and_then(|item| operation(item, route.method)) else {
            continue;
        };
        // Every handler function is called `handle`: name operations after their Lambda function instead.
        op.operation_id = Some(route.function.to_owned());
        if route.access == Access::Public {
            continue;
        }
        op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
        let unauthorized = ResponseBuilder::new()
            .description("API_TOKEN is set and the request lacks `Authorization: Bearer <token>`")
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build();
        op.responses.responses.insert("401".into(), unauthorized.into());
    }
    doc
}

/// The document as generated from the types, pretty-printed, made once per process.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_pretty_json().map(|j| j + "\n").unwrap_or_else(|_| "{}".into()))
}

/// The operation of `item` for `method`.
pub fn operation<'a>(item: &'a mut PathItem, method: &str) -> Option<&'a mut Operation> {
    match method {
        "GET" => item.get.as_mut(),
        "POST" => item.post.as_mut(),
        "PUT" => item.put.as_mut(),
        "PATCH" => item.patch.as_mut(),
        "DELETE" => item.delete.as_mut(),
        _ => None,
    }
}
