//! `cargo run --release -p functions --example figures`: the functions'
//! figures on this machine, printed as Markdown (see functions/BENCHMARKS.md).
//!
//! 1. Size of each function's `bootstrap` built with the `release-lambda`
//!    profile (stripped), and zipped as Lambda receives it.
//! 2. Cold-start proxy: from exec to the first answered invocation, against
//!    a minimal Lambda Runtime API served here; the invocation is GET /health,
//!    so it includes connecting to Redis. Median of 20 starts.
//! 3. RSS of `get_task` after 1,000 invocations through that Runtime API.
//! 4. In-process handler latency, p50 and p99, of GET /tasks/{job_id} and
//!    POST /tasks with Redis on loopback.
//!
//! It builds the functions first (`cargo build --profile release-lambda -p
//! functions --target <this machine's>`, with the compiler flags of
//! `[workspace.metadata.release-lambda]` in Cargo.toml, as local/sam-build
//! does) and starts a private redis-server.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use functions::{ROUTES, State, routes};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const COLD_STARTS: usize = 20;
const RSS_INVOCATIONS: usize = 1000;
const LATENCY_SAMPLES: usize = 2000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    eprintln!("building the functions with the release-lambda profile...");
    // As local/sam-build builds them: with the Lambda builds' compiler flags, for an explicit
    // target so that build scripts and proc macros do not get them.
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let built = Command::new(env!("CARGO"))
        .args(["build", "--profile", "release-lambda", "-p", "functions", "--bins", "--target", &triple])
        .env("CARGO_ENCODED_RUSTFLAGS", lambda_rustflags(&root).join("\x1f"))
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(built.success(), "the release-lambda build failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let bins = target.join(triple).join("release-lambda");

    let server = testkit::RedisServer::start();
    println!("## Function sizes (release-lambda, x86_64, stripped)\n");
    println!("| function | bootstrap | zipped |\n|---|---:|---:|");
    for r in ROUTES {
        let (raw, zipped) = sizes(&bins.join(r.function));
        println!("| {} | {} | {} |", r.function, mb(raw), mb(zipped));
    }

    let cold = cold_starts(&bins.join("health"), &server).await;
    println!("\n## Cold-start proxy (exec to first answered GET /health, Redis connect included)\n");
    println!(
        "median {:.1} ms, min {:.1} ms, max {:.1} ms over {COLD_STARTS} starts",
        ms(median(&cold)),
        ms(cold[0]),
        ms(*cold.last().unwrap())
    );

    let (rss, hwm) = rss_after(&bins.join("get_task"), &server).await;
    println!("\n## Memory of get_task after {RSS_INVOCATIONS} invocations\n");
    println!("RSS {:.1} MB (peak {:.1} MB)", rss as f64 / 1024.0, hwm as f64 / 1024.0);

    println!("\n## In-process handler latency (Redis on loopback, {LATENCY_SAMPLES} requests)\n");
    println!("| handler | p50 | p99 |\n|---|---:|---:|");
    for (name, p50, p99) in handler_latency(&server).await {
        println!("| {name} | {:.3} ms | {:.3} ms |", ms(p50), ms(p99));
    }
}

/// The `rustflags` of `[workspace.metadata.release-lambda]` in the workspace's Cargo.toml, a
/// one-line array of strings (TOML's and JSON's syntax agree there), and the path remapping
/// local/sam-build adds.
fn lambda_rustflags(root: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let section = manifest.split("[workspace.metadata.release-lambda]").nth(1).expect("the release-lambda metadata");
    let line = section.lines().find_map(|l| l.strip_prefix("rustflags = ")).expect("its rustflags line");
    let mut flags: Vec<String> = serde_json::from_str(line).expect("rustflags: a one-line array of strings");
    // As local/sam-build: crates.io sources' paths shortened to c/<crate>-<version>/...
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(cargo_home.join("registry/src"))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    sources.sort();
    flags.extend(sources.iter().map(|src| format!("--remap-path-prefix={}=c", src.display())));
    flags
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Megabytes (10^6 bytes) with three decimals: the size targets are in MB
/// and some functions sit within a few KB of them.
fn mb(bytes: u64) -> String {
    format!("{:.3} MB", bytes as f64 / 1_000_000.0)
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// The file's size, and the size of a zip holding it as `bootstrap` (as `cargo lambda build
/// --output-format zip` makes).
fn sizes(binary: &Path) -> (u64, u64) {
    let raw = std::fs::metadata(binary).unwrap_or_else(|e| panic!("{}: {e}", binary.display())).len();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(binary, dir.path().join("bootstrap")).expect("copy");
    let zipped = Command::new("zip")
        .args(["-q", "-X", "bootstrap.zip", "bootstrap"])
        .current_dir(dir.path())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(zipped, "the zip command is needed");
    (raw, std::fs::metadata(dir.path().join("bootstrap.zip")).expect("zip").len())
}

/// A minimal Lambda Runtime API: hands out `events` one by one, reports each answer's arrival.
struct RuntimeApi {
    port: u16,
    answers: mpsc::UnboundedReceiver<Instant>,
}

impl RuntimeApi {
    async fn start(events: Vec<Value>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let (tx, answers) = mpsc::unbounded_channel();
        let events = Arc::new(Mutex::new(events.into_iter().collect::<VecDeque<_>>()));
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, events.clone(), tx.clone()));
            }
        });
        RuntimeApi { port, answers }
    }
}

/// One connection of the runtime client: HTTP/1.1 with keep-alive.
async fn serve(conn: TcpStream, events: Arc<Mutex<VecDeque<Value>>>, answers: mpsc::UnboundedSender<Instant>) {
    let mut conn = BufReader::new(conn);
    let mut n = 0u64;
    loop {
        let mut request_line = String::new();
        if conn.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if conn.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if conn.read_exact(&mut body).await.is_err() {
            return;
        }
        let reply = if request_line.contains("/invocation/next") {
            let Some(event) = events.lock().unwrap().pop_front() else {
                // No more work: keep the function waiting, as Lambda does between invocations.
                std::future::pending::<()>().await;
                return;
            };
            n += 1;
            let body = event.to_string();
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: req-{n}\r\n\
                 lambda-runtime-deadline-ms: 9999999999999\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:eu-west-1:123456789012:function:f\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            )
        } else {
            if request_line.contains("/response") {
                let _ = answers.send(Instant::now());
            }
            "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_owned()
        };
        if conn.get_mut().write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// A function process against `api`.
fn spawn_function(binary: &Path, api: &RuntimeApi, server: &testkit::RedisServer) -> std::process::Child {
    Command::new(binary)
        .envs(server.env())
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
        .env("AWS_LAMBDA_FUNCTION_NAME", "figures")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()))
}

fn gateway_event(method: &str, path: &str, body: Option<&str>) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.test"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.test", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                     "userAgent": "figures"},
            "requestId": "figures", "routeKey": "$default", "stage": "$default",
            "time": "29/Nov/2026:10:49:28 +0000", "timeEpoch": 1795949368000u64
        },
        "body": body, "isBase64Encoded": false
    })
}

async fn cold_starts(binary: &Path, server: &testkit::RedisServer) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..COLD_STARTS {
        let mut api = RuntimeApi::start(vec![gateway_event("GET", "/health", None)]).await;
        let started = Instant::now();
        let mut child = spawn_function(binary, &api, server);
        let answered = tokio::time::timeout(Duration::from_secs(10), api.answers.recv()).await;
        let _ = child.kill();
        let _ = child.wait();
        times.push(answered.expect("an answer within 10 s").expect("answer") - started);
    }
    times.sort();
    times
}

/// VmRSS and VmHWM (kB) of `get_task` after serving [`RSS_INVOCATIONS`] requests.
async fn rss_after(binary: &Path, server: &testkit::RedisServer) -> (u64, u64) {
    let queue = taskq::Queue::connect(server.config()).await.expect("connect");
    let job = taskq::NewJob::from_catalogue("long_task", json!({"duration": 1}), "default").unwrap();
    let id = queue.enqueue(&job).await.expect("enqueue").job_id().to_owned();
    let events = (0..RSS_INVOCATIONS).map(|_| gateway_event("GET", &format!("/tasks/{id}"), None)).collect();
    let mut api = RuntimeApi::start(events).await;
    let mut child = spawn_function(binary, &api, server);
    for _ in 0..RSS_INVOCATIONS {
        tokio::time::timeout(Duration::from_secs(10), api.answers.recv()).await.expect("answer").expect("answer");
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let out = (field("VmRSS:"), field("VmHWM:"));
    let _ = child.kill();
    let _ = child.wait();
    out
}

async fn handler_latency(server: &testkit::RedisServer) -> Vec<(&'static str, Duration, Duration)> {
    // Each request writes its log line, as in production, to nowhere.
    let subscriber = tracing_subscriber::fmt().json().with_writer(std::io::sink).finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let state = State::new(server.config());
    let enqueue = |i: usize| {
        let body = format!(r#"{{"task_name": "long_task", "duration": 1, "payload": {{"n": {i}}}}}"#);
        lambda_http::request::from_str(&gateway_event("POST", "/tasks", Some(&body)).to_string()).unwrap()
    };
    let created = functions::invoke(state.clone(), &routes::ENQUEUE_TASK, enqueue(usize::MAX)).await.unwrap();
    let created: Value = serde_json::from_slice(created.body().as_ref()).unwrap();
    let get_path = format!("/tasks/{}", created["job_id"].as_str().unwrap());
    let get = |_| lambda_http::request::from_str(&gateway_event("GET", &get_path, None).to_string()).unwrap();
    vec![
        timed(&state, "GET /tasks/{job_id}", &routes::GET_TASK, get).await,
        timed(&state, "POST /tasks", &routes::ENQUEUE_TASK, enqueue).await,
    ]
}

/// p50 and p99 of `route` answering the requests `request(i)` makes, after 200
/// unmeasured ones.
async fn timed(
    state: &State,
    name: &'static str,
    route: &'static functions::Route,
    request: impl Fn(usize) -> lambda_http::Request,
) -> (&'static str, Duration, Duration) {
    const WARM_UP: usize = 200;
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES + WARM_UP {
        let req = request(i);
        let t = Instant::now();
        let resp = functions::invoke(state.clone(), route, req).await.unwrap();
        let took = t.elapsed();
        assert_eq!(resp.status(), 200, "{name}");
        if i >= WARM_UP {
            samples.push(took);
        }
    }
    samples.sort();
    (name, percentile(&samples, 0.5), percentile(&samples, 0.99))
}
