//! Redis Cluster through the one node that owns taskq's slot.
//!
//! Every key taskq uses carries one hash tag (KEY_PREFIX), so one primary
//! serves all of them. Instead of a general cluster client (a map of 16,384
//! slots, a connection per node, fan-out and its own retry machinery), a
//! [`SlotConnection`] asks a node which primary owns the slot (`CLUSTER
//! KEYSLOT`, `CLUSTER SLOTS`) and talks to that primary alone.
//!
//! When the slot has moved (resharding: `MOVED`) or its node is no longer a
//! primary (failover: `READONLY`), the server did not run the command: the
//! connection goes to the node MOVED names, or looks the owner up again, and
//! sends the command once more. While the slot migrates (`ASK`, `TRYAGAIN`:
//! not run either) it pauses and sends again, for up to about 1.6 s. When the
//! connection itself fails (a dead node, a timeout), the error goes back to
//! the caller as any Redis error does, and the next command looks the owner
//! up first. Lookups ask the configured node first, then every node the last
//! `CLUSTER SLOTS` named.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{
    Client, Cmd, ConnectionAddr, ConnectionInfo, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult,
    ServerErrorKind, Value,
};

use crate::dial::{manager_config, probe_config};
use crate::iam::IamAuth;

/// A cloneable connection to the primary that owns taskq's slot; clones
/// share the connection and the lookups.
#[derive(Clone)]
pub struct SlotConnection {
    shared: Arc<Shared>,
}

struct Shared {
    /// The configured node (REDIS_URL): TLS, credentials, database.
    seed: ConnectionInfo,
    iam: Option<IamAuth>,
    connect_timeout: Duration,
    response_timeout: Duration,
    /// A key in taskq's slot.
    key: String,
    /// The connection to the owner, with the number of the lookup that made
    /// it; `None` after a failure, until the next command looks again.
    owner: Mutex<Option<(u64, ConnectionManager)>>,
    /// Every node the last `CLUSTER SLOTS` named: where to look when the
    /// configured node does not answer.
    nodes: Mutex<Vec<(String, u16)>>,
    /// Held while looking the owner up, so concurrent commands wait for one
    /// lookup instead of each making their own.
    lookup: tokio::sync::Mutex<u64>,
}

impl SlotConnection {
    /// Connects to the owner of `key`'s slot: `known`, when an earlier
    /// lookup found it and it still answers, else the one `seed` names.
    pub async fn connect(
        seed: ConnectionInfo,
        iam: Option<IamAuth>,
        key: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
        known: Option<Owner>,
    ) -> RedisResult<SlotConnection> {
        let conn = SlotConnection {
            shared: Arc::new(Shared {
                seed,
                iam,
                connect_timeout,
                response_timeout,
                key: key.to_owned(),
                owner: Mutex::new(None),
                nodes: Mutex::new(Vec::new()),
                lookup: tokio::sync::Mutex::new(0),
            }),
        };
        let hint = known.map(|known| {
            *conn.shared.nodes.lock().expect("nodes lock") = known.nodes;
            known.info
        });
        conn.owner(hint).await?;
        Ok(conn)
    }

    /// The connection to the owner. If there is none: to `hint` (the owner
    /// a server just named) if it answers, else to the one a lookup finds.
    async fn owner(&self, hint: Option<ConnectionInfo>) -> RedisResult<(u64, ConnectionManager)> {
        if let Some(owner) = self.current() {
            return Ok(owner);
        }
        let mut lookups = self.shared.lookup.lock().await;
        // Another command may have looked while this one waited.
        if let Some(owner) = self.current() {
            return Ok(owner);
        }
        let hinted = match hint {
            Some(info) => self.manager(info).await.ok(),
            None => None,
        };
        let manager = match hinted {
            Some(m) => m,
            None => self.look_up().await?,
        };
        *lookups += 1;
        *self.shared.owner.lock().expect("owner lock") = Some((*lookups, manager.clone()));
        Ok((*lookups, manager))
    }

    fn current(&self) -> Option<(u64, ConnectionManager)> {
        self.shared.owner.lock().expect("owner lock").clone()
    }

    /// Drops the connection made by lookup `generation` (not a newer one).
    fn forget(&self, generation: u64) {
        let mut owner = self.shared.owner.lock().expect("owner lock");
        if owner.as_ref().is_some_and(|(g, _)| *g == generation) {
            *owner = None;
        }
    }

    /// A self-healing command connection to `node`.
    async fn manager(&self, node: ConnectionInfo) -> RedisResult<ConnectionManager> {
        let s = &self.shared;
        let conf = manager_config(s.connect_timeout, s.response_timeout, s.iam.as_ref());
        ConnectionManager::new_with_config(Client::open(node)?, conf).await
    }

    /// Asks the configured node, then each known node, which primary owns
    /// the slot, and connects to it.
    async fn look_up(&self) -> RedisResult<ConnectionManager> {
        let s = &self.shared;
        let known = s.nodes.lock().expect("nodes lock").clone();
        let mut candidates = vec![s.seed.clone()];
        candidates.extend(known.into_iter().map(|(host, port)| at(&s.seed, host, port)));
        let mut last_error = None;
        for node in candidates {
            match self.ask(node).await {
                Ok(owner) => {
                    *s.nodes.lock().expect("nodes lock") = owner.nodes;
                    return self.manager(owner.info).await;
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("the configured node is always asked"))
    }

    /// One node's answer, on a connection of its own.
    async fn ask(&self, node: ConnectionInfo) -> RedisResult<Owner> {
        let s = &self.shared;
        let conf = probe_config(s.connect_timeout, s.iam.as_ref());
        let mut c = Client::open(node.clone())?.get_multiplexed_async_connection_with_config(&conf).await?;
        Owner::ask(&mut c, &node, &s.seed, &s.key).await
    }

    /// Sends with `call` (a command or a pipeline) until `failure` of its
    /// outcome says it is done. The server did not run a command it answered
    /// with MOVED or READONLY (sent once more, to the owner MOVED named or a
    /// lookup finds), or with ASK or TRYAGAIN while the slot migrates (sent
    /// again after a pause, up to [`MIGRATION_PAUSES_MS`]). A failed connection is
    /// dropped, and the error returned: the next command looks again.
    async fn send<'a, T>(
        &self,
        call: impl Fn(ConnectionManager) -> RedisFuture<'a, T>,
        failure: impl Fn(&RedisResult<T>) -> Failure,
    ) -> RedisResult<T> {
        let (mut hint, mut redirected, mut pauses) = (None, false, MIGRATION_PAUSES_MS.iter());
        loop {
            let (generation, conn) = self.owner(hint.take()).await?;
            let result = call(conn).await;
            match failure(&result) {
                Failure::None => return result,
                Failure::Redirected(to) if !redirected => {
                    self.forget(generation);
                    redirected = true;
                    hint = to.map(|(host, port)| at(&self.shared.seed, host, port));
                }
                Failure::Migrating => match pauses.next() {
                    Some(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
                    None => return result,
                },
                _ => {
                    self.forget(generation);
                    return result;
                }
            }
        }
    }
}

/// Pauses before sending again a command that met the slot in migration
/// (ASK, TRYAGAIN): about 1.6 s in all, then the error goes to the caller.
const MIGRATION_PAUSES_MS: [u64; 8] = [10, 20, 40, 80, 160, 320, 500, 500];

impl ConnectionLike for SlotConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(self.send(
            move |mut c| Box::pin(async move { c.req_packed_command(cmd).await }),
            |result| match result {
                Ok(value) => value_failure(value),
                Err(e) => classify(e),
            },
        ))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(self.send(
            move |mut c| Box::pin(async move { c.req_packed_commands(pipeline, offset, count).await }),
            |result| match result {
                Ok(values) => values.iter().map(value_failure).max().unwrap_or(Failure::None),
                Err(e) => classify(e),
            },
        ))
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// The primary that owns taskq's slot, and every node the cluster named.
#[derive(Clone)]
pub struct Owner {
    info: ConnectionInfo,
    nodes: Vec<(String, u16)>,
}

impl Owner {
    /// Asks the node `c` is connected to (`node`) which primary owns `key`'s
    /// slot; `seed` gives the settings (TLS, credentials) to reach it with.
    pub async fn ask(
        c: &mut impl ConnectionLike,
        node: &ConnectionInfo,
        seed: &ConnectionInfo,
        key: &str,
    ) -> RedisResult<Owner> {
        let (slot, slots): (i64, Value) =
            redis::pipe().cmd("CLUSTER").arg("KEYSLOT").arg(key).cmd("CLUSTER").arg("SLOTS").query_async(c).await?;
        let ranges = parse_slots(&slots, host(node))?;
        let owner =
            ranges.iter().find(|r| (r.start..=r.end).contains(&slot)).map(|r| r.nodes[0].clone()).ok_or_else(|| {
                RedisError::from((ErrorKind::Server(ServerErrorKind::ClusterDown), "no node owns the slot"))
            })?;
        let mut nodes: Vec<(String, u16)> = ranges.into_iter().flat_map(|r| r.nodes).collect();
        nodes.sort();
        nodes.dedup();
        Ok(Owner { info: at(seed, owner.0, owner.1), nodes })
    }
}

/// What a command's outcome says about the connection (in rising order:
/// the worst answer of a pipeline counts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Failure {
    None,
    /// The slot is migrating (ASK, TRYAGAIN): pause and resend.
    Migrating,
    /// The connection failed: look the owner up before the next command.
    Connection,
    /// The node does not serve the slot (any more): resend, to the new
    /// owner if the server named it (`host`, `port`), else to a lookup's.
    Redirected(Option<(String, u16)>),
}

fn classify(e: &RedisError) -> Failure {
    match e.kind() {
        ErrorKind::Server(kind) => classify_kind(Some(kind), e.detail()),
        _ if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() => {
            Failure::Connection
        }
        _ => Failure::None,
    }
}

/// The server's error answers (MOVED among them) arrive as values, not as
/// errors of the call.
fn value_failure(value: &Value) -> Failure {
    match value {
        Value::ServerError(e) => classify_kind(e.kind(), e.details()),
        _ => Failure::None,
    }
}

/// `detail` is the error's text after its code: for MOVED, `<slot> <host>:<port>`.
fn classify_kind(kind: Option<ServerErrorKind>, detail: Option<&str>) -> Failure {
    match kind {
        Some(ServerErrorKind::Moved) => {
            let to = detail.and_then(|d| d.split_ascii_whitespace().nth(1)).and_then(|addr| {
                let (host, port) = addr.rsplit_once(':')?;
                Some((host.to_owned(), port.parse().ok()?))
            });
            Failure::Redirected(to)
        }
        Some(ServerErrorKind::ReadOnly) => Failure::Redirected(None),
        Some(ServerErrorKind::Ask | ServerErrorKind::TryAgain) => Failure::Migrating,
        Some(ServerErrorKind::ClusterDown | ServerErrorKind::MasterDown) => Failure::Connection,
        _ => Failure::None,
    }
}

/// A slot range of `CLUSTER SLOTS`: its primary first, then its replicas.
struct Range {
    start: i64,
    end: i64,
    nodes: Vec<(String, u16)>,
}

/// Parses `CLUSTER SLOTS`. A node whose address is empty or `?` is the one
/// that answered (`asked_host`).
fn parse_slots(value: &Value, asked_host: &str) -> RedisResult<Vec<Range>> {
    let bad = || RedisError::from((ErrorKind::Parse, "unexpected CLUSTER SLOTS answer"));
    let Value::Array(ranges) = value else { return Err(bad()) };
    ranges
        .iter()
        .map(|range| {
            let Value::Array(items) = range else { return Err(bad()) };
            let (Some(Value::Int(start)), Some(Value::Int(end))) = (items.first(), items.get(1)) else {
                return Err(bad());
            };
            let nodes = items[2..]
                .iter()
                .map(|node| {
                    let Value::Array(fields) = node else { return Err(bad()) };
                    let host = match fields.first() {
                        Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
                        Some(Value::SimpleString(s)) => s.clone(),
                        _ => return Err(bad()),
                    };
                    let Some(Value::Int(port)) = fields.get(1) else { return Err(bad()) };
                    let host = if host.is_empty() || host == "?" { asked_host.to_owned() } else { host };
                    Ok((host, u16::try_from(*port).map_err(|_| bad())?))
                })
                .collect::<RedisResult<Vec<_>>>()?;
            if nodes.is_empty() {
                return Err(bad());
            }
            Ok(Range { start: *start, end: *end, nodes })
        })
        .collect()
}

fn host(info: &ConnectionInfo) -> &str {
    match info.addr() {
        ConnectionAddr::Tcp(host, _) | ConnectionAddr::TcpTls { host, .. } => host,
        _ => "",
    }
}

/// `seed`'s settings (TLS, credentials, database) for the node at `host:port`.
fn at(seed: &ConnectionInfo, host: String, port: u16) -> ConnectionInfo {
    let addr = match seed.addr() {
        ConnectionAddr::TcpTls { insecure, tls_params, .. } => {
            ConnectionAddr::TcpTls { host, port, insecure: *insecure, tls_params: tls_params.clone() }
        }
        _ => ConnectionAddr::Tcp(host, port),
    };
    seed.clone().set_addr(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(host: &str, port: i64) -> Value {
        Value::Array(vec![Value::BulkString(host.into()), Value::Int(port), Value::BulkString(b"id".to_vec())])
    }

    #[test]
    fn slots_name_primaries_first_and_fill_in_unknown_hosts() {
        let answer = Value::Array(vec![
            Value::Array(vec![Value::Int(0), Value::Int(8191), node("10.0.0.1", 7000), node("10.0.0.2", 7001)]),
            Value::Array(vec![Value::Int(8192), Value::Int(16383), node("", 7002)]),
        ]);
        let ranges = parse_slots(&answer, "seed.example").unwrap();
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[0].nodes, vec![("10.0.0.1".into(), 7000), ("10.0.0.2".into(), 7001)]);
        assert_eq!((ranges[1].start, ranges[1].end), (8192, 16383));
        assert_eq!(ranges[1].nodes, vec![("seed.example".into(), 7002)]);
        assert!(parse_slots(&Value::Int(1), "x").is_err());
        assert!(parse_slots(&Value::Array(vec![Value::Array(vec![Value::Int(0), Value::Int(1)])]), "x").is_err());
    }

    #[test]
    fn moved_and_readonly_resend_and_dropped_connections_look_again() {
        let moved = RedisError::from((ErrorKind::Server(ServerErrorKind::Moved), "MOVED", "1 10.0.0.1:7000".into()));
        assert_eq!(classify(&moved), Failure::Redirected(Some(("10.0.0.1".into(), 7000))));
        let readonly = RedisError::from((ErrorKind::Server(ServerErrorKind::ReadOnly), "READONLY", "x".into()));
        assert_eq!(classify(&readonly), Failure::Redirected(None));
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(classify(&io) == Failure::Connection);
        let script = RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "ERR", "x".into()));
        assert!(classify(&script) == Failure::None);
        assert!(value_failure(&Value::Okay) == Failure::None);
    }
}
