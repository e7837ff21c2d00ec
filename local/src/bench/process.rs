//! The worker under test, run as a child process exactly as it is deployed:
//! the release `worker` binary configured by environment variables.
//!
//! [`WorkerProcess`] is a guard: whatever happens to the benchmark (an error,
//! a panic, Ctrl-C), dropping it stops the worker, so no stray worker keeps
//! taking jobs from the next phase. It also reads the process's memory and
//! CPU time from /proc, which is why the worker is a process of its own and
//! not run in-process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::process::{Pid, Signal, kill_process};

/// How long a stopped worker may take to exit: an idle worker exits at
/// once; a busy one gets SHUTDOWN_GRACE (30 s by default) for its jobs.
const STOP_WAIT: Duration = Duration::from_secs(40);

/// A running worker process; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct WorkerProcess {
    /// `None` once it has been stopped and reaped.
    child: Option<Child>,
    /// Its process id, for /proc and signals.
    pid: u32,
}

impl WorkerProcess {
    /// Starts `bin` against `redis_url` with `concurrency` slots. Every taskq
    /// variable of our own environment is removed first, so the worker and
    /// the benchmark agree on the key prefix and the queues.
    pub fn spawn(bin: &Path, redis_url: &str, concurrency: usize) -> anyhow::Result<Self> {
        let mut cmd = Command::new(bin);
        for v in taskq::config::VARIABLES {
            cmd.env_remove(v.name);
        }
        cmd.env("REDIS_URL", redis_url)
            .env("WORKER_CONCURRENCY", concurrency.to_string())
            .env("LOG_FORMAT", "text")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Its warnings and errors stay visible; stdout carries our report.
            .stderr(Stdio::inherit());
        let child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
        Ok(WorkerProcess { pid: child.id(), child: Some(child) })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Fails if it has exited (it never does by itself while Redis is up).
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            self.child = None;
            bail!("the worker process exited early ({status}); see its log above");
        }
        Ok(())
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    /// CPU time it has used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(self.pid)
    }

    /// Stops it gracefully (SIGTERM, as ECS does) and waits until it exits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let _ = kill_process(Pid::from_child(&child), Signal::TERM);
        let deadline = Instant::now() + STOP_WAIT;
        loop {
            if let Some(status) = child.try_wait()? {
                if !status.success() {
                    bail!("the worker exited with {status} after SIGTERM");
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the worker did not stop within {STOP_WAIT:?} of SIGTERM; killed it");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = kill_process(Pid::from_child(&child), Signal::TERM);
        // A short wait only: this runs on errors and panics, where a hung
        // benchmark would be worse than jobs requeued by recovery.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// CPU time process `pid` has used (user + system, every thread), in seconds;
/// the resolution is one clock tick (10 ms).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fixed fields follow its ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of proc(5); fields[0] is field 3.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / rustix::param::clock_ticks_per_second() as f64)
}

/// VmRSS of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples a process's resident memory on a thread of its own (reading /proc
/// is a blocking call) and keeps the peak.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<u64>,
}

impl RssSampler {
    /// Samples `pid` every `every` until [`RssSampler::peak_kib`].
    pub fn start(pid: u32, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid).unwrap_or(0));
                std::thread::sleep(every);
            }
            peak.max(rss_kib(pid).unwrap_or(0))
        });
        RssSampler { stop, handle }
    }

    /// Stops sampling; the largest VmRSS seen, in KiB.
    pub fn peak_kib(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or(0)
    }
}

/// The worker binary: `given`, else `worker` beside this executable (cargo
/// puts every binary of the workspace in one folder). When it is missing it
/// is built with `cargo build --release -p worker`.
pub fn worker_binary(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(bin) = given {
        if !bin.is_file() {
            bail!("--worker-bin {}: no such file", bin.display());
        }
        return Ok(bin);
    }
    let exe = std::env::current_exe().context("locating this executable")?;
    let dir = exe.parent().context("this executable has no folder")?;
    let bin = dir.join("worker");
    if bin.is_file() {
        return Ok(bin);
    }
    eprintln!("bench: {} is missing; running `cargo build --release -p worker`", bin.display());
    // `cargo run` tells us which cargo it is; run it from the workspace so
    // the binary lands in the same target folder as this one.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().filter(|p| p.is_dir()).unwrap_or(Path::new("."));
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "worker"])
        .current_dir(workspace)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("`cargo build --release -p worker` failed ({status})");
    }
    // A debug `local` sits in target/debug; the release build went to target/release.
    let release = dir.parent().map(|t| t.join("release").join("worker"));
    match [Some(bin.clone()), release].into_iter().flatten().find(|b| b.is_file()) {
        Some(b) => Ok(b),
        None => {
            bail!("built the worker, but found it neither at {} nor in ../release; pass --worker-bin", bin.display())
        }
    }
}
