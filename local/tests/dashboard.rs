//! The dashboard and the docs page in headless Chromium, against the real
//! local stack, under the pages' Content-Security-Policy.
//!
//! Each test starts a private redis-server and the `local` binary (the API
//! and a worker in one process) on a free port, then runs
//! `tests/dashboard/dashboard.mjs`: playwright-core driving Debian's
//! `chromium` through the page (progress, cancel, requeue, purge, the token
//! prompt; scheduled jobs' countdown and Run now, Requeue all failed, the
//! Schedules page; /docs against a recording server on another origin), checking the
//! API agrees after every action and failing on anything the pages'
//! Content-Security-Policy blocks. Screenshots of each
//! view go to `target/test-artifacts/dashboard/`, with the stack's log.
//!
//! What the browser needs is set up by `local/test` (Debian's `chromium` and
//! Node.js, playwright-core with `npm ci` from the committed lock file); the
//! tests install nothing and fail naming what is missing and `local/test`.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use taskq::schedule::{Missed, ScheduleSpec};
use taskq::{NewJob, Queue, Status};
use testkit::{RedisServer, free_port, wait_for};

/// How long a browser scenario may take before it is killed.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(240);
/// The worker's heartbeat in the stack: short, so the page sees it live.
const WORKER_HEARTBEAT: &str = "0.3";

/// Where screenshots and logs go.
fn artifacts() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").to_path_buf();
    let dir = target.join("test-artifacts").join("dashboard");
    std::fs::create_dir_all(&dir).expect("create the artifacts folder");
    dir
}

/// The Node project that drives the browser.
fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("dashboard")
}

// ------------------------------------------------------------------ tools

/// The programs the browser scenarios run.
struct Tools {
    node: PathBuf,
    chromium: PathBuf,
}

/// Finds Chromium, Node.js and playwright-core, which `local/test` installs
/// (Debian's `chromium` and `nodejs`, then `npm ci` in tests/dashboard/):
/// a test installs nothing, and fails naming what is missing.
fn tools() -> Tools {
    let missing = |what: &str| -> ! {
        panic!(
            "the dashboard tests need {what}: run local/test once (its \"tools\" step installs it), or install it by hand"
        )
    };
    let chromium = match std::env::var_os("CHROMIUM") {
        Some(path) => PathBuf::from(path),
        None => program(&["chromium", "chromium-browser"]).unwrap_or_else(|| missing("chromium (or CHROMIUM=path)")),
    };
    let node = program(&["node", "nodejs"]).unwrap_or_else(|| missing("Node.js (node)"));
    if !playwright_installed() {
        missing(&format!(
            "the playwright-core of package-lock.json in {} (npm ci there)",
            script_dir().join("node_modules").display()
        ));
    }
    Tools { node, chromium }
}

/// Whether node_modules holds the playwright-core version the lock file names.
fn playwright_installed() -> bool {
    let read = |p: PathBuf| -> Option<Value> { serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok() };
    let Some(lock) = read(script_dir().join("package-lock.json")) else {
        panic!("{} is missing", script_dir().join("package-lock.json").display())
    };
    let want = lock["packages"]["node_modules/playwright-core"]["version"].clone();
    let have = read(script_dir().join("node_modules/playwright-core/package.json")).map(|p| p["version"].clone());
    have == Some(want)
}

/// The first of `names` found on PATH.
fn program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()))
}

// ------------------------------------------------------------------ the stack

/// Redis and the `local` binary, killed on drop.
struct Stack {
    redis: RedisServer,
    child: Child,
    url: String,
}

impl Stack {
    /// Starts `local` against a private Redis, one job at a time, with `env` on top.
    fn start(name: &str, env: &[(&str, &str)]) -> Stack {
        let redis = RedisServer::start();
        let port = free_port();
        let log_path = artifacts().join(format!("{name}-local.log"));
        let log = File::create(&log_path).expect("stack log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_local"));
        for var in ["API_TOKEN", "QUEUES", "KEY_PREFIX", "TASK_TIMEOUT", "REDIS_CLUSTER", "REDIS_TLS_CA_FILE"] {
            cmd.env_remove(var);
        }
        cmd.envs(redis.env())
            .env("API_HOST", "127.0.0.1")
            .env("API_PORT", port.to_string())
            .env("WORKER_HEARTBEAT", WORKER_HEARTBEAT)
            // One job at a time: a running job keeps the next ones queued.
            .env("WORKER_CONCURRENCY", "1")
            .env("LOG_FORMAT", "text")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        let child = cmd.spawn().expect("start the local binary");
        let mut stack = Stack { redis, child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !health_ok(port) {
            if let Ok(Some(status)) = stack.child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("local exited ({status}) before answering /health:\n{log}");
            }
            assert!(Instant::now() < deadline, "local did not answer /health on port {port} within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        stack
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether GET /health answers 200 (a bare HTTP/1.1 request: no client needed).
fn health_ok(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if conn.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

// ------------------------------------------------------------------ the browser

/// A child in its own process group, killed with the whole group on drop
/// (Node and the Chromium it started).
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).status();
        }
        let _ = self.0.wait();
    }
}

/// Runs one scenario of dashboard.mjs against `stack`; panics unless it passes.
fn browse(scenario: &str, stack: &Stack, env: &[(&str, &str)]) {
    let tools = tools();
    let started = Instant::now();
    let mut cmd = Command::new(&tools.node);
    cmd.arg("dashboard.mjs")
        .arg(scenario)
        .current_dir(script_dir())
        .env("TASKQ_URL", &stack.url)
        .env("CHROMIUM", &tools.chromium)
        .env("ARTIFACTS", artifacts())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .process_group(0);
    let mut node = Group(cmd.spawn().expect("start node"));
    let status = loop {
        if let Some(status) = node.0.try_wait().expect("wait for node") {
            break status;
        }
        assert!(
            started.elapsed() < SCENARIO_DEADLINE,
            "dashboard scenario {scenario} still running after {SCENARIO_DEADLINE:?}: killed"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "dashboard scenario {scenario} failed ({status}); see its output above");
    eprintln!("dashboard scenario {scenario} passed in {:.1} s", started.elapsed().as_secs_f64());
}

/// A job that has failed: long_task with a timeout shorter than its work.
fn failed_job(redis: &RedisServer) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let queue = Queue::connect(redis.config()).await.expect("connect");
        let args = json!({"duration": 5, "payload": {"fails": "on purpose"}});
        let mut job = NewJob::from_catalogue("long_task", args, "default").expect("valid job");
        job.timeout = Some(0.5);
        let id = queue.enqueue(&job).await.expect("enqueue").job_id().to_owned();
        wait_for("the short-timeout job to fail", Duration::from_secs(60), || {
            let (queue, id) = (queue.clone(), id.clone());
            async move { matches!(queue.get(&id).await, Ok(Some(j)) if j.status == Status::Failed) }
        })
        .await;
        id
    })
}

#[test]
fn dashboard_shows_progress_and_cancels_requeues_and_purges() {
    let stack = Stack::start("jobs", &[]);
    let failed = failed_job(&stack.redis);
    browse("jobs", &stack, &[("FAILED_JOB_ID", &failed)]);
}

/// A job due in ten minutes and a schedule, both on queue default.
fn scheduled_job_and_schedule(redis: &RedisServer, schedule: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let queue = Queue::connect(redis.config()).await.expect("connect");
        let mut job = NewJob::from_catalogue("long_task", json!({"duration": 1}), "default").expect("valid job");
        job.run_at = Some(chrono::Utc::now() + chrono::Duration::seconds(600));
        let id = queue.enqueue(&job).await.expect("enqueue").job_id().to_owned();
        let spec = ScheduleSpec {
            cron: "*/5 * * * *".into(),
            timezone: "Europe/Berlin".into(),
            task: "long_task".into(),
            args: json!({"duration": 1, "payload": {"from": "schedule"}}),
            queue: "default".into(),
            missed: Missed::Skip,
        };
        queue.put_schedule(schedule, spec).await.expect("put the schedule");
        id
    })
}

#[test]
fn dashboard_runs_scheduled_jobs_now_requeues_dead_letters_and_pauses_schedules() {
    let stack = Stack::start("lifecycle", &[]);
    let failed = failed_job(&stack.redis);
    let scheduled = scheduled_job_and_schedule(&stack.redis, "every-five");
    let env = [("FAILED_JOB_ID", failed.as_str()), ("SCHEDULED_JOB_ID", &scheduled), ("SCHEDULE_NAME", "every-five")];
    browse("lifecycle", &stack, &env);
}

#[test]
fn dashboard_asks_for_the_api_token() {
    let token = "dashboard-test-token";
    let stack = Stack::start("token", &[("API_TOKEN", token)]);
    browse("token", &stack, &[("API_TOKEN", token)]);
}

#[test]
fn docs_send_the_token_to_their_own_origin_only() {
    let token = "docs-test-token";
    let stack = Stack::start("docs", &[("API_TOKEN", token)]);
    browse("docs", &stack, &[("API_TOKEN", token)]);
}

#[test]
fn missing_browser_tools_fail_naming_local_test_and_install_nothing() {
    let empty = tempfile_dir();
    // SAFETY: nextest runs each test in its own process; nothing else reads the environment here.
    unsafe {
        std::env::set_var("PATH", &empty);
        std::env::remove_var("CHROMIUM");
    }
    let message = std::panic::catch_unwind(tools).err().map(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    });
    let message = message.expect("no chromium on PATH: tools() must fail");
    assert!(message.contains("local/test") && message.contains("chromium"), "{message}");
}

/// An empty folder of its own under the target directory.
fn tempfile_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("empty-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create an empty folder");
    dir
}
