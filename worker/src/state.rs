//! What the parts of one worker share: its settings and name, the Redis
//! connection, the tasks it can run, the jobs running now, the finisher and
//! the counters its heartbeat publishes. Built once by the launcher; every
//! other part gets it behind an `Arc`.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use taskq::{Config, Connection, Keys};
use tokio_util::sync::CancellationToken;

use crate::finisher::Finisher;
use crate::running::Running;
use crate::task::Registry;

/// State shared by the parts of one worker.
pub struct Shared {
    /// Settings.
    pub cfg: Arc<Config>,
    /// Key names.
    pub keys: Keys,
    /// Command connection (multiplexed, shared by every slot).
    pub conn: Connection,
    /// This worker's unique name.
    pub name: Arc<str>,
    /// Tasks it can run.
    pub registry: Registry,
    /// Jobs running now.
    pub running: Running,
    /// Fires when the worker stops taking jobs.
    pub stopping: CancellationToken,
    /// Ends jobs in batches, claiming the next ones.
    pub finisher: Finisher,
    /// Queue list keys, in priority order.
    pub queue_keys: Vec<String>,
    /// This worker's in-flight list.
    pub inflight_key: String,
    /// Jobs ended here other than failed.
    pub processed: AtomicU64,
    /// Jobs failed here.
    pub failed: AtomicU64,
}

impl Shared {
    /// The state of a new worker with a fresh name, sending commands on `conn`.
    pub fn new(cfg: Config, registry: Registry, conn: Connection) -> Shared {
        let keys = Keys::new(&cfg.key_prefix);
        let name: Arc<str> = worker_name().into();
        let cfg = Arc::new(cfg);
        let finisher = Finisher::start(conn.clone(), keys.clone(), cfg.clone(), name.clone());
        Shared {
            queue_keys: cfg.queues.iter().map(|q| keys.queue(q)).collect(),
            inflight_key: keys.inflight(&name),
            cfg,
            keys,
            conn,
            name,
            registry,
            running: Running::default(),
            stopping: CancellationToken::new(),
            finisher,
            processed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    /// Silence after which a worker counts as dead: three beats, on the
    /// liveness clock (which stands still while Redis does not serve beats).
    pub fn lapse_ms(&self) -> u64 {
        (self.cfg.worker_heartbeat * 3).as_millis() as u64
    }
}

/// `host-pid-xxxx`: unique across restarts and machines.
fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    format!("{host}-{}-{suffix}", std::process::id())
}
