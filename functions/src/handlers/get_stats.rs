//! GET /stats?minutes=60: jobs finished and failed per minute, for the dashboard's chart.

use lambda_http::http::StatusCode;

use crate::error::{ApiError, ErrorBody, ValidationBody};
use crate::reply::{Reply, json};
use crate::request::Call;
use crate::views::StatsReply;

/// Longest window, in minutes (one day); the counters are kept 25 hours.
pub const MAX_MINUTES: u32 = 1440;

/// Counts per minute, oldest first.
#[utoipa::path(get, path = "/stats", tag = "workers",
    params(("minutes" = Option<u32>, Query, minimum = 1, maximum = 1440,
        description = "Minutes back from now, 1 to 1440 (default 60)")),
    responses(
        (status = 200, description = "One entry per minute", body = StatsReply),
        (status = 422, description = "Malformed `minutes`", body = ValidationBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody),
    ))]
pub async fn handle(call: Call) -> Reply {
    let minutes = match call.query("minutes") {
        None => 60,
        Some(m) => m.parse::<u32>().ok().filter(|n| (1..=MAX_MINUTES).contains(n)).ok_or_else(|| {
            ApiError::invalid(
                &["query", "minutes"],
                "int_parsing",
                format!("Input should be a whole number from 1 to {MAX_MINUTES}"),
            )
        })?,
    };
    let stats = call.redis(move |q| async move { q.throughput(minutes).await }).await?;
    Ok(json(StatusCode::OK, &StatsReply { minutes: stats.into_iter().map(Into::into).collect() }))
}
