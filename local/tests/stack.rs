//! The local stack as a user starts it (`cargo run -p local`), exercised
//! over HTTP: enqueue with progress, cancel, purge; then stopped with SIGINT,
//! losing no job.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use testkit::{RedisServer, free_port, wait_for};

const LONG: Duration = Duration::from_secs(30);

/// The `local` binary, killed on drop.
struct Stack {
    child: Child,
    base: String,
}

impl Stack {
    fn start(server: &RedisServer) -> Stack {
        Stack::start_with(server, &[])
    }

    fn start_with(server: &RedisServer, env: &[(&str, &str)]) -> Stack {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_local"))
            .envs(server.env())
            .envs(env.iter().copied())
            .env("API_HOST", "127.0.0.1")
            .env("API_PORT", port.to_string())
            .env("SHUTDOWN_GRACE", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("local binary");
        Stack { child, base: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn job(stack: &Stack, id: &str) -> Value {
    call(reqwest::Method::GET, format!("{}/tasks/{id}", stack.base), None).await.1
}

#[tokio::test]
async fn the_local_stack_serves_the_api_runs_jobs_and_stops_without_losing_any() {
    let server = RedisServer::start();
    let mut stack = Stack::start(&server);
    wait_for("the API to answer", LONG, || async {
        call(reqwest::Method::GET, format!("{}/health", stack.base), None).await
            == (200, json!({"status": "ok", "redis": "ok"}))
    })
    .await;
    for page in ["/docs", "/openapi.json", "/dashboard"] {
        let r = reqwest::get(format!("{}{page}", stack.base)).await.unwrap();
        assert_eq!(r.status(), 200, "{page}");
    }

    // Enqueue; progress shows while it runs; it finishes with its result.
    let (code, body) = call(
        reqwest::Method::POST,
        format!("{}/tasks", stack.base),
        Some(json!({"task_name": "long_task", "duration": 2, "payload": {"usuario_id": 123}, "high": false})),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let first = body["job_id"].as_str().unwrap().to_owned();
    wait_for("progress", LONG, || async { job(&stack, &first).await["progress"]["done"].as_u64() >= Some(1) }).await;
    wait_for("finished", LONG, || async { job(&stack, &first).await["status"] == "finished" }).await;
    assert_eq!(job(&stack, &first).await["result"]["payload"], json!({"usuario_id": 123}));

    // Cancel a running job.
    let (_, body) =
        call(reqwest::Method::POST, format!("{}/tasks/a", stack.base), Some(json!({"user_id": 1, "duration": 30})))
            .await;
    let running = body["job_id"].as_str().unwrap().to_owned();
    wait_for("started", LONG, || async { job(&stack, &running).await["status"] == "started" }).await;
    let (code, _) = call(reqwest::Method::DELETE, format!("{}/tasks/{running}", stack.base), None).await;
    assert_eq!(code, 202);
    wait_for("canceled", LONG, || async { job(&stack, &running).await["status"] == "canceled" }).await;

    // Fill every slot (8) and queue 4 more; purge the queued ones.
    let mut ids = Vec::new();
    for i in 0..12 {
        let (code, body) = call(
            reqwest::Method::POST,
            format!("{}/tasks", stack.base),
            Some(json!({"task_name": "long_task", "duration": 60, "payload": {"i": i}})),
        )
        .await;
        assert_eq!(code, 200);
        ids.push(body["job_id"].as_str().unwrap().to_owned());
    }
    wait_for("8 running", LONG, || async {
        let (_, q) = call(reqwest::Method::GET, format!("{}/queues", stack.base), None).await;
        q["queues"][1]["states"]["started"] == 8 && q["queues"][1]["states"]["queued"] == 4
    })
    .await;
    let (code, body) = call(reqwest::Method::DELETE, format!("{}/queues/default/purge", stack.base), None).await;
    assert_eq!((code, body), (200, json!({"queue": "default", "purged": 4})));

    // SIGINT: the 8 running jobs go back to their queue; nothing is lost.
    let pid = stack.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || {
        let s = stack.child.wait();
        (s, stack)
    })
    .await
    .unwrap();
    assert!(status.0.unwrap().success());
    let q = taskq::Queue::connect(server.config()).await.unwrap();
    let mut statuses = std::collections::BTreeMap::new();
    for id in &ids {
        let j = q.get(id).await.unwrap().expect("job kept");
        *statuses.entry(j.status.as_str()).or_insert(0) += 1;
    }
    assert_eq!(statuses, [("canceled", 4), ("queued", 8)].into_iter().collect());
    assert_eq!(server.cli(&["llen", "{taskq}:queue:default"]).trim(), "8");
}

#[tokio::test]
async fn high_follows_queues_and_an_oversized_body_gets_the_functions_413() {
    let server = RedisServer::start();
    let stack = Stack::start_with(&server, &[("QUEUES", "urgent,default"), ("MAX_BODY", "1000")]);
    testkit::wait_until("the API", LONG, || {
        std::net::TcpStream::connect(stack.base.trim_start_matches("http://")).is_ok()
    });
    for (high, queue) in [(true, "urgent"), (false, "default")] {
        let body = json!({"user_id": high as i64, "duration": 60, "high": high});
        let (status, reply) = call(reqwest::Method::POST, format!("{}/tasks/a", stack.base), Some(body)).await;
        assert_eq!((status, reply["queue"].as_str()), (200, Some(queue)), "high {high}: {reply}");
        let body = json!({"task_name": "long_task", "duration": 60, "payload": {"high": high}, "high": high});
        let (status, reply) = call(reqwest::Method::POST, format!("{}/tasks", stack.base), Some(body)).await;
        assert_eq!((status, reply["queue"].as_str()), (200, Some(queue)), "high {high}: {reply}");
    }
    // Far over MAX_BODY: the local server answers before any function does, in the functions' words.
    let body = json!({"user_id": 7, "duration": 1, "pad": "x".repeat(5000)});
    let (status, reply) = call(reqwest::Method::POST, format!("{}/tasks/a", stack.base), Some(body)).await;
    let theirs = functions::error::ApiError::PayloadTooLarge { limit: 1000 }.into_response();
    let theirs: Value = serde_json::from_slice(theirs.body().as_ref()).unwrap();
    assert_eq!((status, &reply), (413, &theirs));
}
