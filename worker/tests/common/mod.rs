//! Helpers for the worker's tests: an in-process worker, test-only tasks,
//! and the short-hands for the queue client that taskq's tests use.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use taskq::catalogue::TaskArgs;
use taskq::{Config, Job, Queue, Status};
use testkit::{RedisServer, wait_until};
use tokio_util::sync::CancellationToken;
use worker::{JobContext, Registry, Task, TaskError, TaskResult, Worker};

pub use testkit::client::*;

pub const LONG: Duration = Duration::from_secs(30);

/// A worker running in this process until stopped.
pub struct InProcess {
    pub name: String,
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl InProcess {
    pub async fn start(cfg: Config) -> Self {
        Self::start_with(cfg, registry()).await
    }

    pub async fn start_with(cfg: Config, registry: Registry) -> Self {
        taskq::logging::init(taskq::config::LogFormat::Text);
        let w = Worker::connect(cfg, registry).await.expect("worker connects");
        let name = w.name().to_owned();
        let stop = CancellationToken::new();
        let handle = tokio::spawn(w.run(stop.clone()));
        Self { name, stop, handle }
    }

    /// Stops it gracefully and waits until it has.
    pub async fn stop(self) {
        self.stop.cancel();
        self.handle.await.expect("worker task").expect("worker ran");
    }
}

/// The demo tasks plus the test tasks below.
pub fn registry() -> Registry {
    worker::tasks::registry().register(Fail).register(Sleep)
}

#[derive(Serialize, Deserialize)]
pub struct FailArgs {
    pub n: u64,
}
impl TaskArgs for FailArgs {
    const NAME: &'static str = "fail";
}
/// Always fails.
pub struct Fail;
impl Task for Fail {
    type Args = FailArgs;
    async fn run(&self, _ctx: JobContext, args: FailArgs) -> TaskResult {
        Err(TaskError::Failed(format!("failure {}", args.n)))
    }
}

#[derive(Serialize, Deserialize)]
pub struct SleepArgs {
    pub secs: f64,
    pub n: u64,
}
impl TaskArgs for SleepArgs {
    const NAME: &'static str = "sleep";
}
/// Sleeps, ignoring cancellation (to test timeouts and forced stops).
pub struct Sleep;
impl Task for Sleep {
    type Args = SleepArgs;
    async fn run(&self, _ctx: JobContext, args: SleepArgs) -> TaskResult {
        tokio::time::sleep(Duration::from_secs_f64(args.secs)).await;
        Ok(json!(args.n))
    }
}

/// A fresh redis-server, a client and an in-process worker, with the test
/// configuration changed by `tune`.
pub async fn start_worker(tune: impl FnOnce(&mut Config)) -> (RedisServer, Queue, InProcess) {
    let server = RedisServer::start();
    let mut cfg = server.config();
    tune(&mut cfg);
    let q = queue(&cfg).await;
    let w = InProcess::start(cfg).await;
    (server, q, w)
}

/// Waits until job `id` is in `want`.
pub async fn wait_status(q: &Queue, id: &str, want: Status) -> Job {
    let what = format!("job {id} to be {want}");
    // Errors count as "not yet": some tests restart Redis under the client.
    testkit::wait_for(&what, LONG, || async { q.get(id).await.ok().flatten().is_some_and(|j| j.status == want) }).await;
    get(q, id).await
}

/// A worker process (the `worker` binary), killed when dropped.
pub struct WorkerProcess {
    /// The process.
    pub child: Child,
}

impl WorkerProcess {
    /// Starts one on `server` with `extra` variables.
    pub fn start(server: &RedisServer, extra: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_worker"));
        cmd.envs(server.env()).env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::inherit());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Self { child: cmd.spawn().expect("worker binary") }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends it `sig` (as `kill` spells it: `-TERM`).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.pid().to_string()]).status().unwrap();
        assert!(ok.success());
    }

    /// Kills it with SIGKILL and reaps it.
    pub fn kill9(mut self) {
        self.signal("-KILL");
        let _ = self.child.wait();
    }

    /// The worker's name in Redis (it contains its pid), once registered.
    pub fn name(&self, server: &RedisServer) -> Option<String> {
        let marker = format!("-{}-", self.pid());
        server.cli(&["zrange", "{taskq}:workers", "0", "-1"]).lines().find(|n| n.contains(&marker)).map(str::to_owned)
    }

    /// Waits until it is registered; its name.
    pub fn registered(&self, server: &RedisServer) -> String {
        wait_until("the worker to register", LONG, || self.name(server).is_some());
        self.name(server).unwrap()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
