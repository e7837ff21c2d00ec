//! Where the benchmark runs: its private redis-server (taskq's launcher on
//! a free port, in a temporary folder) and the machine facts of the report.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use taskq::redis_server::{Launch, RedisProcess, ping};

/// A private in-memory redis-server, killed and its folder removed on drop.
pub struct PrivateServer {
    /// The server process.
    process: RedisProcess,
    /// Its working folder, removed with it.
    dir: PathBuf,
}

impl PrivateServer {
    /// Starts one on a free port of 127.0.0.1 and waits until it answers.
    pub fn start() -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("taskq-bench-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut process =
            Launch::new(port, &dir).args(["--appendonly", "no"]).spawn().context("starting redis-server")?;
        let ready = process.wait_ready(Duration::from_secs(10), || ping(port));
        let server = PrivateServer { process, dir };
        ready?;
        Ok(server)
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.process.port())
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.process.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The 1-minute load average (0 when unknown).
pub(super) fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// `model name` of the first CPU in /proc/cpuinfo.
pub(super) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A path relative to the current folder when it is inside it: no machine paths in reports.
pub(super) fn display_path(p: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(|r| r.display().to_string()))
        .unwrap_or_else(|| p.display().to_string())
}
