//! Malformed input, generated: hundreds of requests with random methods,
//! paths, parameters, headers and bodies (near-valid bodies with one field
//! off, random JSON, bytes that are not JSON, bodies over MAX_BODY), through
//! the router and through HTTP API events. None may produce a 5xx, and none
//! that is refused may write anything to Redis.
//!
//! The seed is fixed, so a failure reproduces; proptest shrinks it to a
//! small example. FUZZ_SEED=<number> explores other cases.

mod common;

use std::cell::RefCell;

use common::*;
use functions::{ROUTES, State};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{Value, json};
use testkit::RedisServer;

/// MAX_BODY for this test: small, so oversized bodies are cheap to make.
const MAX_BODY: usize = 2048;

/// Values that sit on the edges of what each field accepts, and past them.
fn edge_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        prop::sample::select(vec![0.0, -0.0, 0.5, -1.0, 86400.0, 86400.5, 1e300, -1e300, 9.0e15, 2f64.powi(63)])
            .prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::from),
        prop::sample::select(vec!["long_task", "task_a", "task_b", "LONG_TASK", "5", "true", ""]).prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        Just(json!({"user_id": 1})),
        Just(json!({"user_id": "1"})),
        Just(json!({"duration": 1})),
        Just(json!({"user_id": 1, "x": [1, {"y": null}]})),
    ]
}

/// Any JSON, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    edge_value().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec!["task_name", "duration", "payload", "high", "user_id", "extra"])
                        .prop_map(String::from),
                    "\\PC{0,10}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with each field of the enqueue, reschedule and schedule bodies
/// present or not, each holding an edge value.
fn near_valid_body() -> impl Strategy<Value = Value> {
    let field = |name: &'static str| prop::option::weighted(0.7, edge_value()).prop_map(move |v| (name, v));
    let rare = |name: &'static str| prop::option::weighted(0.3, edge_value()).prop_map(move |v| (name, v));
    (
        field("task_name"),
        field("duration"),
        field("payload"),
        field("high"),
        field("user_id"),
        any::<bool>(),
        rare("delay"),
        rare("run_at"),
        rare("retry"),
        rare("cron"),
        rare("missed"),
    )
        .prop_map(|(a, b, c, d, e, extra, f, g, h, i, j)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [a, b, c, d, e, f, g, h, i, j] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            if extra {
                m.insert("hihg".into(), json!(true));
            }
            Value::Object(m)
        })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => near_valid_body().prop_map(|v| v.to_string().into_bytes()),
        2 => any_json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => near_valid_body().prop_flat_map(|v| {
            let text = v.to_string();
            let len = text.len();
            (Just(text), 0..len.max(1)).prop_map(|(t, cut)| t.as_bytes()[..cut.min(t.len())].to_vec())
        }),
        1 => (MAX_BODY + 1..MAX_BODY * 3).prop_map(|n| {
            let filler = "a".repeat(n);
            format!(r#"{{"task_name": "long_task", "duration": 1, "payload": {{"x": "{filler}"}}}}"#).into_bytes()
        }),
        1 => Just(Vec::new()),
    ]
}

/// A path segment: ids, queue names, and junk that is still legal in a URI.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u128>().prop_map(|n| uuid::Builder::from_random_bytes(n.to_le_bytes()).into_uuid().to_string()),
        any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).simple().to_string()),
        prop::sample::select(vec!["default", "high", "a", "b", "..", ".", "%00", "%2F", "purge", "requeue"])
            .prop_map(String::from),
        "[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,40}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    let pair = (
        prop::sample::select(vec!["queue", "state", "cursor", "limit", "minutes", "x"]),
        prop_oneof![
            prop::sample::select(vec!["default", "high", "queued", "failed", "0", "1", "500", "501", "-1", "1e3", ""])
                .prop_map(String::from),
            "[A-Za-z0-9%+._-]{0,12}",
        ],
    );
    prop::collection::vec(pair, 0..4).prop_map(|pairs| {
        let q: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) }
    })
}

/// A method and a path: mostly a route's own method and template, filled with junk; sometimes anything.
fn method_and_path() -> impl Strategy<Value = (&'static str, String)> {
    let templated = (prop::sample::select(ROUTES.to_vec()), segment(), prop::option::weighted(0.15, any_method()))
        .prop_map(|(r, s, other)| {
            (other.unwrap_or(r.method), r.path.replace("{job_id}", &s).replace("{queue_name}", &s))
        });
    let random =
        (any_method(), prop::collection::vec(segment(), 0..4)).prop_map(|(m, s)| (m, format!("/{}", s.join("/"))));
    (prop_oneof![6 => templated, 1 => random], query()).prop_map(|((m, p), q)| (m, p + &q))
}

fn any_method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["GET", "POST", "DELETE", "PUT", "PATCH"])
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    path: String,
    body: Vec<u8>,
    idempotency_key: Option<String>,
    /// Through an HTTP API event and the matching function, else the router.
    as_event: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (method_and_path(), body(), prop::option::weighted(0.3, "[ -~]{0,300}"), any::<bool>()).prop_map(
        |((method, path), body, idempotency_key, as_event)| Case { method, path, body, idempotency_key, as_event },
    )
}

/// The request of `case`, or None if it cannot be expressed (an invalid URI).
fn build(case: &Case) -> Option<lambda_http::Request> {
    if case.as_event {
        let (raw_path, raw_query) = case.path.split_once('?').unwrap_or((&case.path, ""));
        let mut headers = json!({"content-type": "application/json", "host": "api.example.test"});
        if let Some(k) = &case.idempotency_key {
            headers["idempotency-key"] = json!(k);
        }
        let body = String::from_utf8_lossy(&case.body);
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.test", "domainPrefix": "api",
                "http": {"method": case.method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                         "userAgent": "fuzz"},
                "requestId": "fuzz", "routeKey": "$default", "stage": "$default",
                "time": "29/Nov/2026:10:49:28 +0000", "timeEpoch": 1795949368000u64
            },
            "body": body,
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).ok()
    } else {
        let mut b = lambda_http::http::Request::builder().method(case.method).uri(&case.path);
        if let Some(k) = &case.idempotency_key {
            b = b.header("idempotency-key", k.as_str());
        }
        b.body(lambda_http::Body::from(case.body.clone())).ok()
    }
}

async fn db_size(conn: &mut taskq::Connection) -> i64 {
    redis::cmd("DBSIZE").query_async(conn).await.expect("DBSIZE")
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_129)
}

#[test]
fn malformed_requests_never_5xx_and_refused_ones_write_nothing() {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut cfg = server.config();
    cfg.max_body = MAX_BODY;
    let state = State::new(cfg.clone());
    let conn = rt.block_on(async { taskq::Queue::connect(cfg).await.expect("connect").connection() });
    let counts = RefCell::new(std::collections::BTreeMap::<u16, usize>::new());

    let mut runner = TestRunner::new(Config {
        cases: 600,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed()),
        ..Config::default()
    });
    let result = runner.run(&case(), |case| {
        let Some(req) = build(&case) else { return Ok(()) };
        let mut conn = conn.clone();
        let (code, body, before, after) = rt.block_on(async {
            let before = db_size(&mut conn).await;
            let (code, body) = if case.as_event {
                // The function whose route matches the path, as API Gateway would pick it; else any.
                let path = req.uri().path().to_owned();
                let route = ROUTES.iter().find(|r| r.match_path(&path).is_some()).unwrap_or(&ROUTES[1]);
                invoke(&state, route, req).await
            } else {
                dispatch(&state, req).await
            };
            (code, body, before, db_size(&mut conn).await)
        });
        *counts.borrow_mut().entry(code).or_default() += 1;
        prop_assert!(code < 500, "{case:?} -> {code} {body}");
        if !(200..300).contains(&code) {
            prop_assert_eq!(before, after, "refused request wrote to Redis: {:?} -> {} {}", case, code, body);
            prop_assert!(body["detail"].is_string() || body["detail"].is_array(), "{case:?} -> {code} {body}");
        }
        Ok::<(), TestCaseError>(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let counts = counts.into_inner();
    let total: usize = counts.values().sum();
    eprintln!("answers by status: {counts:?}");
    assert!(total >= 500, "only {total} requests were sent");
    for code in [200, 404, 413, 422] {
        assert!(
            counts.get(&code).copied().unwrap_or(0) >= 5,
            "too few {code}s: the generator misses a class: {counts:?}"
        );
    }
}
