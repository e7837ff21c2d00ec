//! taskq's HTTP API as AWS Lambda functions, one small function per endpoint.
//!
//! The library is the glue every function shares:
//! - [`routes`]: the route table (method, path, function name, handler), the
//!   single source for the binaries, the local router, the OpenAPI document
//!   and the checks against template.yaml;
//! - [`state`]: what an execution environment keeps between invocations (the
//!   configuration and a Redis client made lazily and rebuilt after failures);
//! - [`error`]: the one error type and the answer each variant becomes;
//! - [`input`]: reading JSON bodies, path and query parameters, headers;
//! - [`auth`]: the bearer token check;
//! - [`invoke`]: one request through auth, limits, the handler and the log line;
//! - [`views`]: the shapes of every body, from which the OpenAPI document is made;
//! - [`handlers`]: one module per endpoint.
//!
//! A function's `main` (in `src/bin/`) is one line: [`invoke::run`] with its
//! route, which builds the [`State`] and serves the route with [`invoke::invoke`].

pub mod auth;
pub mod error;
pub mod handlers;
pub mod input;
pub mod invoke;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod views;

pub use error::ApiError;
pub use invoke::{dispatch, invoke, run};
pub use routes::{ROUTES, Route};
pub use state::State;

/// What every handler returns.
pub type Reply = Result<lambda_http::Response<lambda_http::Body>, ApiError>;
