//! One request, from arrival to answer: route, auth, body limit, handler,
//! error mapping, the security headers and the one log line every request gets.
//!
//! [`invoke`] is what a function's binary runs: it serves one route. [`dispatch`]
//! serves them all by path (the local dev server, tests).

use std::convert::Infallible;
use std::future::{Future, ready};
use std::pin::Pin;
use std::time::Instant;

use lambda_http::http::{HeaderMap, HeaderValue, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::auth;
use crate::error::ApiError;
use crate::reply::Reply;
use crate::request::{Call, Params};
use crate::routes::{self, Access, Route};
use crate::state::State;

/// A function's `main`: reads the configuration (a bad one stops here, with
/// the variable's name), then serves `route` until Lambda stops the process.
pub async fn run(route: &'static Route) -> Result<(), lambda_http::Error> {
    let state = State::from_env()?;
    lambda_http::run(lambda_http::service_fn(|request| {
        let state = state.clone();
        async move { invoke(state, route, request).await.map(Answer) }
    }))
    .await
}

/// An answer handed to lambda_http as it is.
///
/// lambda_http's own conversion of a `Response<Body>` reads every text body
/// again to decode it by its Content-Type's charset, which links encoding_rs
/// and its tables (about 180 KB) into every function. Our bodies are
/// `Body::Text` (UTF-8 JSON or HTML) already, which that conversion returns
/// unchanged.
pub struct Answer(pub Response<Body>);

impl lambda_http::IntoResponse for Answer {
    fn into_response(self) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        Box::pin(ready(self.0))
    }
}

/// Serves `request` as `route`: the body of every function.
pub async fn invoke(state: State, route: &'static Route, request: Request) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    if request.method().as_str() != route.method {
        let error = ApiError::MethodNotAllowed { allow: route.method.to_owned() };
        return Ok(finish(&request, Some(route), started, Err(error)));
    }
    let Some(params) = route_params(route, &request) else {
        return Ok(finish(&request, Some(route), started, Err(ApiError::NotFound("Not Found".into()))));
    };
    Ok(serve(state, route, params, request, started).await)
}

/// Serves `request` by whichever route its method and path name.
pub async fn dispatch(state: State, request: Request) -> Response<Body> {
    let started = Instant::now();
    let found = routes::find(path_of(&request));
    if found.is_empty() {
        return finish(&request, None, started, Err(ApiError::NotFound("Not Found".into())));
    }
    match found.iter().position(|(r, _)| r.method == request.method().as_str()) {
        Some(i) => {
            let (route, params) = found.into_iter().nth(i).expect("index from position");
            serve(state, route, params, request, started).await
        }
        None => {
            let mut allow: Vec<&str> = found.iter().map(|(r, _)| r.method).collect();
            allow.dedup();
            let error = ApiError::MethodNotAllowed { allow: allow.join(", ") };
            finish(&request, Some(found[0].0), started, Err(error))
        }
    }
}

/// Path parameters: API Gateway's when it sent them (a REST or HTTP API route
/// with `{job_id}`), else read from the path by the route's template (function
/// URLs, the emulator, catch-all routes).
fn route_params(route: &Route, request: &Request) -> Option<Params> {
    if let Some(given) = request.path_parameters_ref() {
        let params: Option<Params> =
            route.param_names().map(|name| given.first(name).map(|v| (name, v.to_owned()))).collect();
        if let Some(params) = params.filter(|p| !p.is_empty()) {
            return Some(params);
        }
    }
    route.match_suffix(path_of(request))
}

/// The path as the client sent it: API Gateway's (without the stage that
/// lambda_http puts in the URI) when there is one.
fn path_of(request: &Request) -> &str {
    let raw = request.raw_http_path();
    if raw.is_empty() { request.uri().path() } else { raw }
}

async fn serve(
    state: State,
    route: &'static Route,
    params: Params,
    request: Request,
    started: Instant,
) -> Response<Body> {
    let cfg = state.config();
    let refused = if route.access == Access::Token
        && cfg.api_token.as_deref().is_some_and(|token| !auth::authorized(request.headers(), token))
    {
        Some(ApiError::Unauthorized)
    } else if request.body().len() > cfg.max_body {
        Some(ApiError::PayloadTooLarge { limit: cfg.max_body })
    } else {
        None
    };
    if let Some(error) = refused {
        return finish(&request, Some(route), started, Err(error));
    }
    // The handler owns the request; keep what the log line needs.
    let meta = Request::from_parts(request_head(&request), Body::Empty);
    let call = Call { state, request, params };
    let result = (route.handler)(call).await;
    finish(&meta, Some(route), started, result)
}

/// A copy of the request without its body.
fn request_head(request: &Request) -> lambda_http::http::request::Parts {
    let (mut parts, ()) = lambda_http::http::Request::new(()).into_parts();
    parts.method = request.method().clone();
    parts.uri = request.uri().clone();
    parts.extensions = request.extensions().clone();
    parts
}

/// Turns a result into the answer and writes the request's log line.
fn finish(request: &Request, route: Option<&Route>, started: Instant, result: Reply) -> Response<Body> {
    let mut response = result.unwrap_or_else(ApiError::into_response);
    protect(response.headers_mut());
    let request_id = request_id(request);
    if let Ok(v) = request_id.parse() {
        response.headers_mut().insert("x-request-id", v);
    }
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    // Only the method, the route template and ids: never headers (tokens) nor the raw path.
    let route_name = route.map(|r| r.path).unwrap_or("-");
    let function = route.map(|r| r.function).unwrap_or("-");
    let method = request.method().as_str();
    if status >= 500 {
        tracing::warn!(request_id, method, route = route_name, function, status, duration_ms, "request");
    } else {
        tracing::info!(request_id, method, route = route_name, function, status, duration_ms, "request");
    }
    response
}

/// The headers every answer carries: its Content-Type is what it is
/// (`nosniff`), it is never framed, links from a page send no Referer (the
/// dashboard's addresses name jobs), and an answer without a policy of its
/// own (JSON) may load and run nothing.
pub fn protect(headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
}

/// API Gateway's request id (what clients see), else Lambda's, else one made here.
fn request_id(request: &Request) -> String {
    let from_gateway = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.request_id.clone(),
        Some(RequestContext::ApiGatewayV1(c)) => c.request_id.clone(),
        _ => None,
    };
    from_gateway
        .filter(|id| !id.is_empty())
        .or_else(|| request.lambda_context_ref().map(|c| c.request_id.clone()).filter(|id| !id.is_empty()))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
