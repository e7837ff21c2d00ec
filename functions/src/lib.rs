//! taskq's HTTP API as AWS Lambda functions, one small function per endpoint.
//!
//! The library is the glue every function shares:
//! - [`routes`]: the route table (method, path, function name, handler and
//!   its OpenAPI operation), the single source for the binaries, the local
//!   router, the OpenAPI document and the checks against template.yaml;
//! - [`state`]: what an execution environment keeps between invocations (the
//!   configuration and a Redis client made lazily and rebuilt after failures);
//! - [`error`]: the one error type, its statuses and error bodies;
//! - [`request`]: a request as handlers read it ([`request::Call`]): path and
//!   query parameters, headers;
//! - [`input`]: reading JSON bodies field by field;
//! - [`reply`]: what handlers answer ([`Reply`]): JSON, HTML pages, errors;
//! - [`auth`]: the bearer token check;
//! - [`invoke`](mod@invoke): one request through auth, limits, the handler and the log line;
//! - [`views`]: the shapes of every body, from which the OpenAPI document is made;
//! - [`handlers`]: one module per endpoint.
//!
//! Dependencies point one way: [`routes`] -> [`handlers`] -> the shared
//! modules ([`request`], [`input`], [`reply`], [`state`], [`error`],
//! [`views`]) -> `taskq`; among those, request -> input -> error -> views
//! and reply -> error. [`invoke`](mod@invoke) and [`openapi`] read the route
//! table. Only this file's re-exports name modules back.
//!
//! A function's `main` (in `src/bin/`) is one line: [`invoke::run`] with its
//! route, which builds the [`State`] and serves the route with [`invoke::invoke`].

pub mod auth;
pub mod error;
pub mod handlers;
pub mod input;
pub mod invoke;
pub mod openapi;
pub mod reply;
pub mod request;
pub mod routes;
pub mod state;
pub mod views;

pub use error::ApiError;
pub use invoke::{dispatch, invoke, run};
pub use reply::Reply;
pub use routes::{ROUTES, Route};
pub use state::State;
