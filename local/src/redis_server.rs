//! Redis for the local stack: REDIS_URL if it answers; otherwise, when it
//! names this machine, a private `redis-server` with AOF in a data folder,
//! stopped (and flushed to disk) with the stack.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use taskq::Config;

/// Where the private server keeps its data, relative to the working folder.
pub const DATA_DIR: &str = ".taskq/redis";

/// A redis-server this process started; stopped with SIGTERM on drop so it
/// writes its AOF.
pub struct PrivateRedis {
    child: Child,
    /// Its data folder.
    pub dir: PathBuf,
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ =
            rustix::process::kill_process(rustix::process::Pid::from_child(&self.child), rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether Redis at `cfg.redis_url` answers PING within REDIS_TIMEOUT.
pub async fn answers(cfg: &Config) -> bool {
    let probe = async {
        let q = taskq::Queue::connect(cfg.clone()).await?;
        q.ping().await
    };
    matches!(tokio::time::timeout(cfg.redis_timeout + Duration::from_secs(1), probe).await, Ok(Ok(())))
}

/// Starts a private redis-server on the host and port of REDIS_URL, which
/// must name this machine.
pub async fn start(cfg: &Config) -> anyhow::Result<PrivateRedis> {
    let info = redis::IntoConnectionInfo::into_connection_info(cfg.redis_url.as_str())?;
    let addr = info.addr().to_string();
    let (host, port) = addr.rsplit_once(':').context("REDIS_URL has no host:port")?;
    let local = matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]");
    if !local || cfg.redis_url.starts_with("rediss://") {
        bail!(
            "Redis at {} does not answer; start it, or unset REDIS_URL to use a private one",
            cfg.redis_url_redacted()
        );
    }
    let dir = PathBuf::from(DATA_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {DATA_DIR}"))?;
    let child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", port, "--appendonly", "yes", "--save", ""])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "Redis at {} does not answer and redis-server cannot be started ({e}).\n\
                 Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) \
                 or set REDIS_URL to a server that runs.",
                cfg.redis_url_redacted()
            )
        })?;
    let mut server = PrivateRedis { child, dir };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !answers(cfg).await {
        if let Ok(Some(status)) = server.child.try_wait() {
            bail!("redis-server exited at start ({status}); is port {port} taken by something else?");
        }
        if Instant::now() > deadline {
            bail!("redis-server did not answer on port {port} within 15 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(server)
}
