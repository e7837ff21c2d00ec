//! Connecting to Redis: one node or a cluster, plain or TLS, with auth.
//!
//! [`Connection`] hides which: both kinds reconnect by themselves and every
//! command carries a response timeout, so a dead server gives an error in
//! bounded time instead of a hang.

use std::sync::Once;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Client, Cmd, IntoConnectionInfo, Pipeline, RedisFuture, RedisResult, TlsCertificates, Value};

use crate::cluster::{Owner, SlotConnection};
use crate::config::{ClusterMode, Config};
use crate::dial::{manager_config, probe_config};
use crate::iam::IamAuth;

/// A shared, cloneable, self-healing connection to a node or a cluster.
#[derive(Clone)]
pub enum Connection {
    /// One node (or a cluster's single endpoint that is not in cluster mode).
    Single(ConnectionManager),
    /// A Redis Cluster, through the primary that owns taskq's slot.
    Cluster(SlotConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// How to reach Redis: made once from the configuration, then used to open
/// connections (commands, blocking fetches, pub/sub).
#[derive(Clone)]
pub struct Redis {
    client: Client,
    cluster: bool,
    /// A key in taskq's slot (KEY_PREFIX): which cluster node to talk to.
    slot_key: String,
    /// The primary that owned the slot when the connect-time probe asked:
    /// new connections try it first (a cold start then makes no second
    /// lookup connection; a stale one is corrected by MOVED or a lookup).
    owner: Option<Owner>,
    timeout: Duration,
    /// IAM authentication to ElastiCache, when configured: every connection
    /// authenticates with a fresh token and renews it while open.
    iam: Option<IamAuth>,
}

static CRYPTO: Once = Once::new();

impl Redis {
    /// Checks the URL and, in `Auto` mode, asks the server whether it is a cluster.
    pub async fn open(cfg: &Config) -> RedisResult<Redis> {
        // rustls needs a process-wide crypto provider before the first TLS handshake.
        CRYPTO.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let certs = match &cfg.redis_tls_ca_file {
            Some(path) => Some(TlsCertificates {
                client_tls: None,
                root_cert: Some(std::fs::read(path).map_err(|e| {
                    redis::RedisError::from((redis::ErrorKind::InvalidClientConfig, "REDIS_TLS_CA_FILE", e.to_string()))
                })?),
            }),
            None => None,
        };
        let info = cfg.redis_url.as_str().into_connection_info()?;
        let client = match &certs {
            Some(c) => Client::build_with_tls(info, c.clone())?,
            None => Client::open(info)?,
        };
        let iam = IamAuth::from_config(cfg);
        let (cluster, owner) = match cfg.redis_cluster {
            ClusterMode::Yes => (true, None),
            ClusterMode::No => (false, None),
            ClusterMode::Auto => {
                let conf = probe_config(cfg.redis_timeout, iam.as_ref());
                let mut probe = client.get_multiplexed_async_connection_with_config(&conf).await?;
                let info: String = redis::cmd("INFO").arg("cluster").query_async(&mut probe).await?;
                if info.lines().any(|l| l.trim() == "cluster_enabled:1") {
                    let seed = client.get_connection_info();
                    (true, Some(Owner::ask(&mut probe, seed, seed, &cfg.key_prefix).await?))
                } else {
                    (false, None)
                }
            }
        };
        Ok(Redis { client, cluster, slot_key: cfg.key_prefix.clone(), owner, timeout: cfg.redis_timeout, iam })
    }

    /// Whether Redis is a cluster (commands go to the primary of taskq's slot).
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// A command connection whose calls fail after the configured REDIS_TIMEOUT.
    pub async fn connect(&self) -> RedisResult<Connection> {
        self.connect_with_timeout(self.timeout).await
    }

    /// A command connection whose calls fail after `response_timeout` (longer
    /// for blocking commands).
    pub async fn connect_with_timeout(&self, response_timeout: Duration) -> RedisResult<Connection> {
        if self.cluster {
            let seed = self.client.get_connection_info().clone();
            let (key, owner) = (&self.slot_key, self.owner.clone());
            let conn = SlotConnection::connect(seed, self.iam.clone(), key, self.timeout, response_timeout, owner);
            Ok(Connection::Cluster(conn.await?))
        } else {
            let conf = manager_config(self.timeout, response_timeout, self.iam.as_ref());
            Ok(Connection::Single(ConnectionManager::new_with_config(self.client.clone(), conf).await?))
        }
    }

    /// A connection for pub/sub. On a cluster, PUBLISH reaches every node,
    /// so subscribing on the seed node is enough. With IAM authentication it
    /// signs in with a fresh token and is not renewed: ElastiCache closes it
    /// after 12 hours, and the subscriber reconnects.
    pub async fn pubsub(&self) -> RedisResult<redis::aio::PubSub> {
        let open = async {
            let client = match &self.iam {
                Some(iam) => {
                    let auth = iam.basic_auth().await?;
                    let info = self.client.get_connection_info().clone();
                    let settings =
                        info.redis_settings().clone().set_username(auth.username()).set_password(auth.password());
                    Client::open(info.set_redis_settings(settings))?
                }
                None => self.client.clone(),
            };
            client.get_async_pubsub().await
        };
        tokio::time::timeout(self.timeout, open)
            .await
            .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out opening a pub/sub connection")))?
    }
}

/// Whether `e` means Redis cannot be reached or cannot serve now (I/O,
/// timeout, dropped or refused connection, a node loading, failing over or
/// down), rather than that it refused this one call.
pub fn is_outage(e: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_unrecoverable_error()
        || e.is_cluster_error()
        || matches!(
            e.kind(),
            ErrorKind::Server(ServerErrorKind::BusyLoading | ServerErrorKind::MasterDown | ServerErrorKind::ReadOnly)
                | ErrorKind::MasterNameNotFoundBySentinel
                | ErrorKind::NoValidReplicasFoundBySentinel
        )
}

#[cfg(test)]
mod tests {
    use redis::{ErrorKind, RedisError, ServerErrorKind};

    use super::is_outage;

    #[test]
    fn only_unreachable_redis_is_an_outage() {
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let timeout = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        let loading = RedisError::from((ErrorKind::Server(ServerErrorKind::BusyLoading), "LOADING", "x".into()));
        for e in [io, timeout, loading] {
            assert!(is_outage(&e), "{e}");
        }
        let refused = RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "ERR", "syntax".into()));
        let script = RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "ERR", "script".into()));
        let typ = RedisError::from((ErrorKind::UnexpectedReturnType, "bad type"));
        for e in [refused, script, typ] {
            assert!(!is_outage(&e), "{e}");
        }
    }
}
