//! The local stack: Redis (found or started), the HTTP API on
//! API_HOST:API_PORT routing the template's paths to the very same handlers
//! the Lambda functions run, and a worker on every queue, in one process.
//! Ctrl-C (or SIGTERM) stops the API, then the worker (running jobs finish
//! or go back to their queue), then a private Redis.

use std::net::SocketAddr;

use anyhow::Context;
use axum::body::{Body as AxumBody, to_bytes};
use axum::response::{IntoResponse, Response};
use clap::Args;
use lambda_http::Body;
use taskq::Config;
use tokio_util::sync::CancellationToken;

use crate::redis_server;

/// Options of the local stack (everything else comes from the environment).
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// Serve the API only, without a worker (when workers run elsewhere).
    #[arg(long)]
    pub no_worker: bool,
}

/// Runs the stack until Ctrl-C or SIGTERM.
pub async fn run(cfg: Config, args: ServeArgs) -> anyhow::Result<()> {
    let private = if redis_server::answers(&cfg).await {
        None
    } else {
        eprintln!(
            "Redis at {} does not answer: starting a private redis-server (AOF in {})",
            cfg.redis_url_redacted(),
            redis_server::DATA_DIR
        );
        Some(redis_server::start(&cfg).await?)
    };

    let stop = CancellationToken::new();
    tokio::spawn(worker::signals::stop_on_signal(stop.clone(), || {
        eprintln!("stopping (press Ctrl-C again to exit at once)")
    }));

    let worker = if args.no_worker {
        None
    } else {
        let w = worker::Worker::connect(cfg.clone(), worker::tasks::registry()).await?;
        let name = w.name().to_owned();
        let worker_stop = CancellationToken::new();
        Some((name, worker_stop.clone(), tokio::spawn(w.run(worker_stop))))
    };

    let addr: SocketAddr = format!("{}:{}", cfg.api_host, cfg.api_port)
        .parse()
        .with_context(|| format!("API_HOST={:?} with API_PORT={}: not an address", cfg.api_host, cfg.api_port))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (set API_PORT to another port)"))?;
    let shown = if cfg.api_host == "0.0.0.0" { format!("127.0.0.1:{}", cfg.api_port) } else { addr.to_string() };
    println!("taskq is running");
    match &private {
        Some(p) => {
            println!("  Redis      {} (private redis-server, data in {})", cfg.redis_url_redacted(), p.dir.display())
        }
        None => println!("  Redis      {}", cfg.redis_url_redacted()),
    }
    println!("  API        http://{shown}");
    println!("  Docs       http://{shown}/docs");
    println!("  Dashboard  http://{shown}/dashboard");
    match &worker {
        Some((name, _, _)) => {
            println!("  Worker     {name} on {} ({} at once)", cfg.queues.join(", "), cfg.worker_concurrency)
        }
        None => println!("  Worker     none (--no-worker)"),
    }
    println!("Ctrl-C stops everything.");

    let state = functions::State::new(cfg.clone());
    let max_body = cfg.max_body;
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let state = state.clone();
        async move { route(state, max_body, req).await }
    });
    let server_stop = stop.clone();
    axum::serve(listener, app).with_graceful_shutdown(async move { server_stop.cancelled().await }).await?;

    if let Some((_, worker_stop, handle)) = worker {
        eprintln!("stopping the worker: running jobs finish or return to their queue");
        worker_stop.cancel();
        handle.await.context("worker task")??;
    }
    drop(private);
    eprintln!("stopped");
    Ok(())
}

/// Turns an HTTP request into the event a function gets, and its answer back.
async fn route(state: functions::State, max_body: usize, req: axum::extract::Request) -> Response {
    let mut answer = answer_to(state, max_body, req).await;
    functions::invoke::protect(answer.headers_mut());
    answer
}

/// The answer to one request, before the headers every answer carries.
async fn answer_to(state: functions::State, max_body: usize, req: axum::extract::Request) -> Response {
    if req.uri().path() == "/" {
        return axum::response::Redirect::temporary("/dashboard").into_response();
    }
    let (parts, body) = req.into_parts();
    // One byte over the limit is enough for the handler to answer 413.
    let answer = match to_bytes(body, max_body + 1).await {
        Ok(bytes) => {
            let body = if bytes.is_empty() { Body::Empty } else { Body::Binary(bytes.to_vec()) };
            functions::invoke::dispatch(state, lambda_http::Request::from_parts(parts, body)).await
        }
        // The functions' own answer, so the local server says what API Gateway's would.
        Err(_) => functions::error::ApiError::PayloadTooLarge { limit: max_body }.into_response(),
    };
    let (parts, body) = answer.into_parts();
    let body = match body {
        Body::Empty => AxumBody::empty(),
        Body::Text(t) => AxumBody::from(t),
        Body::Binary(b) => AxumBody::from(b),
        _ => AxumBody::empty(),
    };
    Response::from_parts(parts, body)
}
