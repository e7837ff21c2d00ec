//! The route table: every endpoint's method, path, Lambda function (binary)
//! name, access, handler and OpenAPI operation, in one place.
//!
//! Each `src/bin/<function>.rs` serves one entry; the local router serves them
//! all; the OpenAPI document is built from it ([`Paths`]) and template.yaml is
//! checked against it by a test.
//! Each entry is its own constant so a function's binary links only its own
//! handler, not the whole API.

use std::future::Future;
use std::pin::Pin;

use crate::handlers;
use crate::reply::Reply;
use crate::request::{Call, Params};

/// A handler, as stored in the table.
pub type Handler = fn(Call) -> Pin<Box<dyn Future<Output = Reply> + Send>>;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health checks, and static pages that hold no data (a browser
    /// cannot send a bearer token when it opens a page; the page asks for
    /// the token and sends it with its API calls).
    Public,
    /// With API_TOKEN set, only requests with `Authorization: Bearer <token>`.
    Token,
}

/// One endpoint.
#[derive(Clone, Copy)]
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template, with `{name}` parameters as API Gateway writes them.
    pub path: &'static str,
    /// The Lambda function's name: its binary and its template.yaml entry.
    pub function: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What serves it.
    pub handler: Handler,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.method, self.path, self.function)
    }
}

/// Declares the table: one constant per route, [`ROUTES`] in the order
/// given, and [`Paths`], the handlers' OpenAPI operations. An entry names
/// its handler by its module in [`handlers`], which is also its function's name.
macro_rules! routes {
    ($($(#[$doc:meta])* $name:ident: $method:literal $path:literal => $function:ident, $access:ident;)*) => {
        $(
            $(#[$doc])*
            pub const $name: Route = Route {
                method: $method,
                path: $path,
                function: stringify!($function),
                access: Access::$access,
                handler: |call| Box::pin(handlers::$function::handle(call)),
            };
        )*

        /// Every route, literal paths before templated ones where both could match.
        pub const ROUTES: &[Route] = &[$($name),*];

        /// The operations of every route, from the handlers' annotations: what
        /// the `openapi` module completes into the document. Never built by a
        /// function's binary (it would link utoipa's model).
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($(handlers::$function::handle),*))]
        pub struct Paths;
    };
}

routes! {
    /// Liveness and Redis reachability.
    HEALTH: "GET" "/health" => health, Public;
    /// Enqueue any catalogue task (the starter's body).
    ENQUEUE_TASK: "POST" "/tasks" => enqueue_task, Token;
    /// Enqueue `task_a`.
    ENQUEUE_TASK_A: "POST" "/tasks/a" => enqueue_task_a, Token;
    /// Enqueue `task_b`.
    ENQUEUE_TASK_B: "POST" "/tasks/b" => enqueue_task_b, Token;
    /// A job's state, progress and result.
    GET_TASK: "GET" "/tasks/{job_id}" => get_task, Token;
    /// Cancel a job.
    CANCEL_TASK: "DELETE" "/tasks/{job_id}" => cancel_task, Token;
    /// Put a failed or canceled job back on its queue.
    REQUEUE_TASK: "POST" "/tasks/{job_id}/requeue" => requeue_task, Token;
    /// Move a scheduled or retrying job to another time, or onto its queue now.
    RESCHEDULE_TASK: "POST" "/tasks/{job_id}/reschedule" => reschedule_task, Token;
    /// Every queue with its counts.
    LIST_QUEUES: "GET" "/queues" => list_queues, Token;
    /// Cancel every job waiting in a queue.
    PURGE_QUEUE: "DELETE" "/queues/{queue_name}/purge" => purge_queue, Token;
    /// Put every failed job of a queue back on it.
    REQUEUE_FAILED: "POST" "/queues/{queue_name}/requeue" => requeue_failed, Token;
    /// A queue's jobs in one state, newest first, paged.
    LIST_JOBS: "GET" "/jobs" => list_jobs, Token;
    /// Live workers.
    LIST_WORKERS: "GET" "/workers" => list_workers, Token;
    /// Finished and failed jobs per minute.
    GET_STATS: "GET" "/stats" => get_stats, Token;
    /// Every cron schedule.
    LIST_SCHEDULES: "GET" "/schedules" => list_schedules, Token;
    /// Create or replace a cron schedule.
    PUT_SCHEDULE: "PUT" "/schedules/{name}" => put_schedule, Token;
    /// A cron schedule with its next runs.
    GET_SCHEDULE: "GET" "/schedules/{name}" => get_schedule, Token;
    /// Delete a cron schedule (its jobs stay).
    DELETE_SCHEDULE: "DELETE" "/schedules/{name}" => delete_schedule, Token;
    /// Pause a cron schedule.
    PAUSE_SCHEDULE: "POST" "/schedules/{name}/pause" => pause_schedule, Token;
    /// Resume a paused cron schedule.
    RESUME_SCHEDULE: "POST" "/schedules/{name}/resume" => resume_schedule, Token;
    /// The OpenAPI document.
    OPENAPI: "GET" "/openapi.json" => openapi, Token;
    /// The interactive API documentation page.
    DOCS: "GET" "/docs" => docs, Public;
    /// The dashboard page (its API calls need the token; the page asks for it).
    DASHBOARD: "GET" "/dashboard" => dashboard, Public;
}

impl Route {
    /// The parameters of `path` if it is exactly this route's path (one
    /// trailing slash allowed).
    pub fn match_path(&self, path: &str) -> Option<Params> {
        let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
        let path = path.strip_prefix('/')?;
        self.match_segments(&path.split('/').collect::<Vec<_>>())
    }

    /// The parameters of `path` if it ends with this route's path: behind API
    /// Gateway stages, custom domain base paths and function URLs the path a
    /// function sees may carry a prefix, and a function serves one route only.
    pub fn match_suffix(&self, path: &str) -> Option<Params> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let want = self.segments().count();
        if segments.len() < want {
            return None;
        }
        self.match_segments(&segments[segments.len() - want..])
    }

    /// The names of the path parameters, in order.
    pub fn param_names(&self) -> impl Iterator<Item = &'static str> {
        self.segments().filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }

    fn segments(&self) -> impl Iterator<Item = &'static str> {
        self.path.trim_start_matches('/').split('/')
    }

    fn match_segments(&self, segments: &[&str]) -> Option<Params> {
        if segments.len() != self.segments().count() {
            return None;
        }
        let mut params = Vec::new();
        for (want, got) in self.segments().zip(segments) {
            match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !got.is_empty() => params.push((name, (*got).to_owned())),
                Some(_) => return None,
                None if want == *got => {}
                None => return None,
            }
        }
        Some(params)
    }
}

/// The routes whose path matches `path` exactly, with their parameters.
pub fn find(path: &str) -> Vec<(&'static Route, Params)> {
    ROUTES.iter().filter_map(|r| r.match_path(path).map(|p| (r, p))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, r) in ROUTES.iter().enumerate() {
            for other in &ROUTES[..i] {
                assert_ne!(r.function, other.function);
                assert!(r.method != other.method || r.path != other.path, "{r:?} twice");
            }
        }
    }

    #[test]
    fn paths_match_with_parameters() {
        assert_eq!(GET_TASK.match_path("/tasks/abc"), Some(vec![("job_id", "abc".into())]));
        assert_eq!(GET_TASK.match_path("/tasks/abc/"), Some(vec![("job_id", "abc".into())]));
        assert_eq!(GET_TASK.match_path("/tasks/"), None);
        assert_eq!(GET_TASK.match_path("/tasks//"), None);
        assert_eq!(GET_TASK.match_path("tasks/abc"), None);
        assert_eq!(HEALTH.match_path("/health"), Some(vec![]));
        assert_eq!(HEALTH.match_path("/"), None);
        assert_eq!(PURGE_QUEUE.match_path("/queues/high/purge"), Some(vec![("queue_name", "high".into())]));
        assert_eq!(PURGE_QUEUE.param_names().collect::<Vec<_>>(), ["queue_name"]);
    }

    #[test]
    fn prefixed_paths_match_by_suffix() {
        assert_eq!(GET_TASK.match_suffix("/prod/tasks/abc"), Some(vec![("job_id", "abc".into())]));
        assert_eq!(HEALTH.match_suffix("/lambda-url/health/health"), Some(vec![]));
        assert_eq!(HEALTH.match_suffix("/lambda-url/health/other"), None);
        assert_eq!(REQUEUE_TASK.match_suffix("/requeue"), None);
    }

    #[test]
    fn literal_routes_win_by_method() {
        let found: Vec<_> = find("/tasks/a").into_iter().map(|(r, _)| r.function).collect();
        assert_eq!(found, ["enqueue_task_a", "get_task", "cancel_task"]);
    }
}
