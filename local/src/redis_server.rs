//! Redis for the local stack: REDIS_URL if it answers; otherwise, when it
//! names this machine, a private `redis-server` (taskq's launcher,
//! `taskq::redis_server`) with AOF in a data folder, stopped (and flushed
//! to disk) with the stack.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use taskq::Config;
use taskq::redis_server::{Launch, RedisProcess, ping};

/// Where the private server keeps its data, relative to the working folder.
pub const DATA_DIR: &str = ".taskq/redis";

/// How long the private server may take to answer after its start.
const START_WAIT: Duration = Duration::from_secs(15);

/// How long it may take to write its AOF and exit when the stack stops.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// A redis-server this process started; stopped with SIGTERM on drop so it
/// writes its AOF.
pub struct PrivateRedis {
    /// The server process.
    process: RedisProcess,
    /// Its data folder.
    pub dir: PathBuf,
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.process.stop(STOP_WAIT);
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
    let port: u16 = port.parse().context("REDIS_URL's port")?;
    let dir = PathBuf::from(DATA_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {DATA_DIR}"))?;
    let mut launch = Launch::new(port, &dir).args(["--appendonly", "yes"]);
    launch.show_log = true;
    let mut process = launch.spawn().map_err(|e| {
        anyhow::anyhow!(
            "Redis at {} does not answer and redis-server cannot be started ({e}).\n\
             Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) \
             or set REDIS_URL to a server that runs.",
            cfg.redis_url_redacted()
        )
    })?;
    tokio::task::spawn_blocking(move || process.wait_ready(START_WAIT, || ping(port)).map(|()| process))
        .await?
        .map(|process| PrivateRedis { process, dir })
        .map_err(Into::into)
}
