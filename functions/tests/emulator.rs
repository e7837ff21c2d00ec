//! End to end under cargo-lambda's emulator (`cargo lambda watch`): it
//! serves each function at `/lambda-url/<function>/<path>` and feeds it
//! through the Lambda Runtime API; the functions are the real binaries,
//! built by cargo for this test; a real worker runs in this process and a
//! real redis-server holds the state. One job goes enqueue -> progress ->
//! finished, another is canceled while it runs, all over HTTP.
//!
//! The emulator runs with `--only-lambda-apis` and the binaries are started
//! here against its Runtime API: left to itself it would `cargo run` each
//! function, a nested build that takes minutes in another feature set.
//!
//! cargo-lambda is required: when it is missing the test installs it with
//! pip, and fails (never skips) if that does not work.

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::RedisServer;
use tokio_util::sync::CancellationToken;

const LONG: Duration = Duration::from_secs(60);

/// The functions this test calls, with their binaries.
const FUNCTIONS: [(&str, &str); 5] = [
    ("health", env!("CARGO_BIN_EXE_health")),
    ("enqueue_task", env!("CARGO_BIN_EXE_enqueue_task")),
    ("enqueue_task_a", env!("CARGO_BIN_EXE_enqueue_task_a")),
    ("get_task", env!("CARGO_BIN_EXE_get_task")),
    ("cancel_task", env!("CARGO_BIN_EXE_cancel_task")),
];

fn has_cargo_lambda() -> bool {
    Command::new("cargo").args(["lambda", "--version"]).output().map(|o| o.status.success()).unwrap_or(false)
}

fn ensure_cargo_lambda() {
    if has_cargo_lambda() {
        return;
    }
    eprintln!("cargo-lambda is missing: installing it with pip");
    let installed = Command::new("python3").args(["-m", "pip", "install", "--quiet", "cargo-lambda"]).status();
    assert!(
        has_cargo_lambda(),
        "this test needs cargo-lambda and could not install it ({installed:?}): run `pip install cargo-lambda`"
    );
}

/// The emulator and the functions, in one process group that is killed when
/// this is dropped, and also if this test process dies first: a watchdog
/// shell leads the group and kills it when its stdin, a pipe whose only
/// writer is this process, reaches end of file.
struct Emulator {
    leader: Child,
    /// Held, never written: closing it (at exit, however it happens) ends the watchdog's `read`.
    _lifeline: std::process::ChildStdin,
    functions: Vec<Child>,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Emulator {
    fn start(server: &RedisServer) -> Self {
        ensure_cargo_lambda();
        let port = testkit::free_port();
        let log = tempfile::NamedTempFile::new().expect("log file");
        let watchdog = format!(
            "cargo lambda watch --only-lambda-apis --ignore-changes --invoke-address 127.0.0.1 --invoke-port {port} \
             </dev/null & read _ignored; kill -KILL 0"
        );
        let mut leader = Command::new("sh")
            .args(["-c", &watchdog])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::piped())
            .stdout(log.reopen().expect("log"))
            .stderr(log.reopen().expect("log"))
            .process_group(0)
            .spawn()
            .expect("cargo lambda watch starts");
        let lifeline = leader.stdin.take().expect("piped stdin");
        let mut emulator = Emulator { leader, _lifeline: lifeline, functions: Vec::new(), port, log };
        let end = Instant::now() + LONG;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "cargo lambda watch did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        for (function, binary) in FUNCTIONS {
            let child = Command::new(binary)
                .envs(server.env())
                .env("REDIS_TIMEOUT", "2")
                .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt/{function}"))
                .env("AWS_LAMBDA_FUNCTION_NAME", function)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                .stdin(Stdio::null())
                .stdout(emulator.log.reopen().expect("log"))
                .stderr(emulator.log.reopen().expect("log"))
                .process_group(emulator.leader.id() as i32)
                .spawn()
                .unwrap_or_else(|e| panic!("{binary}: {e}"));
            emulator.functions.push(child);
        }
        emulator
    }

    fn url(&self, function: &str, path: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/{function}{path}", self.port)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let group = format!("-{}", self.leader.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end && matches!(self.leader.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.leader.wait();
        for f in &mut self.functions {
            let _ = f.kill();
            let _ = f.wait();
        }
        if std::thread::panicking() {
            let mut text = String::new();
            let _ = self.log.reopen().and_then(|mut f| f.read_to_string(&mut text));
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            eprintln!("--- emulator and functions, last lines ---");
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// The in-process worker.
struct Worker {
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    name: String,
}

impl Worker {
    async fn start(server: &RedisServer) -> Self {
        let w = worker::Worker::connect(server.config(), worker::tasks::registry()).await.expect("worker connects");
        let name = w.name().to_owned();
        let stop = CancellationToken::new();
        let handle = tokio::spawn(w.run(stop.clone()));
        Worker { stop, handle, name }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.handle.await.expect("worker task").expect("worker ran");
    }
}

async fn send(client: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = client.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let code = resp.status().as_u16();
    (code, resp.json().await.unwrap_or(Value::Null))
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    send(client, reqwest::Method::GET, url, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_and_cancel_over_http_under_cargo_lambda() {
    taskq::logging::init(taskq::config::LogFormat::Text);
    let server = RedisServer::start();
    let emulator = Emulator::start(&server);
    let client = reqwest::Client::builder().timeout(LONG).build().unwrap();
    assert_eq!(get(&client, &emulator.url("health", "/health")).await, (200, json!({"status": "ok", "redis": "ok"})));
    let unknown = uuid::Uuid::new_v4();
    assert_eq!(get(&client, &emulator.url("get_task", &format!("/tasks/{unknown}"))).await.0, 404);
    let cancel_unknown = emulator.url("cancel_task", &format!("/tasks/{unknown}"));
    assert_eq!(send(&client, reqwest::Method::DELETE, &cancel_unknown, None).await.0, 404);

    let worker = Worker::start(&server).await;

    // Enqueue -> progress -> finished.
    let body = json!({"task_name": "long_task", "duration": 3, "payload": {"usuario_id": 123}, "high": false});
    let (code, created) =
        send(&client, reqwest::Method::POST, &emulator.url("enqueue_task", "/tasks"), Some(body.clone())).await;
    assert_eq!(code, 200, "{created}");
    assert_eq!(created["queue"], "default");
    let job_id = created["job_id"].as_str().unwrap().to_owned();
    let (code, dup) = send(&client, reqwest::Method::POST, &emulator.url("enqueue_task", "/tasks"), Some(body)).await;
    assert_eq!((code, dup), (200, json!({"duplicate": true, "job_id": job_id})));

    let job_url = emulator.url("get_task", &format!("/tasks/{job_id}"));
    let mut progress_seen = Vec::new();
    let mut statuses = Vec::new();
    let end = Instant::now() + LONG;
    let finished = loop {
        let (code, job) = get(&client, &job_url).await;
        assert_eq!(code, 200, "{job}");
        let status = job["status"].as_str().unwrap().to_owned();
        if statuses.last() != Some(&status) {
            statuses.push(status.clone());
        }
        if let Some(done) = job["progress"]["done"].as_u64() {
            progress_seen.push(done);
        }
        if status == "finished" {
            break job;
        }
        assert!(Instant::now() < end, "job did not finish: {statuses:?} {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(statuses.contains(&"started".to_owned()), "{statuses:?}");
    assert!(progress_seen.windows(2).all(|w| w[0] <= w[1]), "progress only rises: {progress_seen:?}");
    assert!(progress_seen.iter().any(|d| (1..3).contains(d)), "progress seen mid-run: {progress_seen:?}");
    assert_eq!(finished["progress"]["done"], 3);
    assert_eq!(finished["progress"]["percent"], 100.0);
    assert_eq!(finished["result"]["payload"], json!({"usuario_id": 123}));
    assert!(finished["ended_at"].is_string() && finished["worker"] == worker.name.as_str(), "{finished}");

    // Another job, canceled while it runs: 202, then it ends canceled; a second DELETE is 409.
    let body = json!({"user_id": 7, "duration": 30, "high": true});
    let (code, created) =
        send(&client, reqwest::Method::POST, &emulator.url("enqueue_task_a", "/tasks/a"), Some(body)).await;
    assert_eq!((code, created["queue"].as_str()), (200, Some("high")), "{created}");
    let job_id = created["job_id"].as_str().unwrap().to_owned();
    let job_url = emulator.url("get_task", &format!("/tasks/{job_id}"));
    testkit::wait_for("task_a to start", LONG, || async { get(&client, &job_url).await.1["status"] == "started" })
        .await;
    let cancel_url = emulator.url("cancel_task", &format!("/tasks/{job_id}"));
    let started = Instant::now();
    let (code, answer) = send(&client, reqwest::Method::DELETE, &cancel_url, None).await;
    assert_eq!((code, answer), (202, json!({"job_id": job_id, "status": "cancel_requested"})));
    testkit::wait_for("task_a to end canceled", LONG, || async {
        get(&client, &job_url).await.1["status"] == "canceled"
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(10), "cancellation is cooperative and quick");
    let (code, answer) = send(&client, reqwest::Method::DELETE, &cancel_url, None).await;
    assert_eq!((code, &answer["status"]), (409, &json!("canceled")), "{answer}");

    worker.stop().await;
    drop(emulator);
}
