//! Redis Cluster: taskq talks to the primary that owns its slot, found
//! through any node, and follows the slot when it moves to another node
//! (resharding) or its node dies and a replica takes over (failover).

use std::time::Duration;

use serde_json::json;
use taskq::{CancelOutcome, Enqueued, NewJob, Queue, Status};
use testkit::{Mode, RedisServer, wait_for, wait_until};

async fn enqueue(q: &Queue, n: u64) -> String {
    let job = NewJob::from_catalogue("task_a", json!({ "user_id": n, "duration": 1 }), "default").expect("valid job");
    match q.enqueue(&job).await.expect("enqueue") {
        Enqueued::Created { job_id, .. } => job_id,
        dup => panic!("unexpected duplicate: {dup:?}"),
    }
}

fn keys(server: &RedisServer) -> u64 {
    server.cli(&["dbsize"]).trim().parse().expect("dbsize")
}

/// Connections the server has accepted so far, this question's included.
fn connections(server: &RedisServer) -> u64 {
    let stats = server.cli(&["info", "stats"]);
    let line = stats.lines().find_map(|l| l.strip_prefix("total_connections_received:")).expect("the count");
    line.trim().parse().expect("a number")
}

#[tokio::test]
async fn commands_follow_the_slot_to_its_new_node() {
    let owner = RedisServer::start_mode(Mode::Cluster);
    let other = RedisServer::start_mode(Mode::ClusterNode);
    other.join(&owner);
    // Configured with the node that owns nothing: it names the owner.
    let mut cfg = other.config();
    cfg.redis_url = other.url();
    let q = Queue::connect(cfg).await.expect("connect through a node without the slot");
    let first = enqueue(&q, 1).await;
    assert!(keys(&owner) > 0 && keys(&other) == 0, "jobs live on the slot's owner");

    // Move taskq's slot, with its keys, to the other node.
    let slot = owner.cli(&["cluster", "keyslot", "{taskq}"]).trim().to_owned();
    let (owner_id, other_id) = (owner.node_id(), other.node_id());
    assert!(other.cli(&["cluster", "setslot", &slot, "importing", &owner_id]).contains("OK"));
    assert!(owner.cli(&["cluster", "setslot", &slot, "migrating", &other_id]).contains("OK"));
    let moving = owner.cli(&["cluster", "getkeysinslot", &slot, "1000"]);
    let port = other.port().to_string();
    let mut migrate = vec!["migrate", "127.0.0.1", &port, "", "0", "5000", "keys"];
    migrate.extend(moving.lines());
    assert!(owner.cli(&migrate).contains("OK"));
    for node in [&owner, &other] {
        assert!(node.cli(&["cluster", "setslot", &slot, "node", &other_id]).contains("OK"));
    }
    assert_eq!(keys(&owner), 0);

    // The connection made before the move answers from the new owner at
    // once, going straight to the node MOVED named: one new connection to
    // it, no lookup (+1 is redis-cli's own).
    let before = connections(&other);
    let job = q.get(&first).await.expect("get after the move").expect("the job moved with its slot");
    assert_eq!(connections(&other) - before, 1 + 1);
    assert_eq!(job.status, Status::Queued);
    let second = enqueue(&q, 2).await;
    assert!(q.get(&second).await.expect("get").is_some());
    assert!(keys(&other) > 0 && keys(&owner) == 0, "new jobs are written to the new owner");
}

/// How often `server` answered a command with ASK or TRYAGAIN.
fn migration_answers(server: &RedisServer) -> u64 {
    let stats = server.cli(&["info", "errorstats"]);
    let count = |code: &str| -> u64 {
        let prefix = format!("errorstat_{code}:count=");
        stats.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map_or(0, |n| n.trim().parse().expect("a count"))
    };
    count("ASK") + count("TRYAGAIN")
}

#[tokio::test]
async fn commands_wait_out_a_migration_of_the_slot() {
    let owner = RedisServer::start_mode(Mode::Cluster);
    let other = RedisServer::start_mode(Mode::ClusterNode);
    other.join(&owner);
    let q = Queue::connect(owner.config()).await.expect("connect");
    let id = enqueue(&q, 1).await;

    // Migration under way: the job's hash has moved, its queue list has not.
    let slot = owner.cli(&["cluster", "keyslot", "{taskq}"]).trim().to_owned();
    let (owner_id, other_id) = (owner.node_id(), other.node_id());
    let port = other.port().to_string();
    assert!(other.cli(&["cluster", "setslot", &slot, "importing", &owner_id]).contains("OK"));
    assert!(owner.cli(&["cluster", "setslot", &slot, "migrating", &other_id]).contains("OK"));
    let job_key = q.keys().job(&id);
    assert!(owner.cli(&["migrate", "127.0.0.1", &port, "", "0", "5000", "keys", &job_key]).contains("OK"));

    // Canceling touches both: the server answers TRYAGAIN (nothing run), and
    // the client pauses and sends again.
    let before = migration_answers(&owner);
    let cancel = tokio::spawn({
        let q = q.clone();
        let id = id.clone();
        async move { q.cancel(&id).await }
    });
    wait_for("the cancel met the migration", Duration::from_secs(20), || async { migration_answers(&owner) > before })
        .await;
    // The migration ends; the cancel goes through, on the new owner.
    let rest = owner.cli(&["cluster", "getkeysinslot", &slot, "1000"]);
    let mut migrate = vec!["migrate", "127.0.0.1", &port, "", "0", "5000", "keys"];
    migrate.extend(rest.lines());
    assert!(owner.cli(&migrate).contains("OK"));
    for node in [&owner, &other] {
        assert!(node.cli(&["cluster", "setslot", &slot, "node", &other_id]).contains("OK"));
    }
    assert_eq!(cancel.await.unwrap().expect("cancel during the migration"), CancelOutcome::Canceled);
    assert_eq!(q.get(&id).await.unwrap().expect("the job").status, Status::Canceled);
    assert_eq!(keys(&owner), 0);
}

#[tokio::test]
async fn commands_resume_on_the_replica_that_takes_over_a_dead_primary() {
    let mut primary = RedisServer::start_mode(Mode::Cluster);
    let replica = RedisServer::start_mode(Mode::ClusterNode);
    replica.join(&primary);
    assert!(replica.cli(&["cluster", "replicate", &primary.node_id()]).contains("OK"));
    let replica_port = replica.port().to_string();
    wait_until("the primary lists its replica", Duration::from_secs(20), || {
        primary.cli(&["cluster", "slots"]).contains(&replica_port)
    });
    // Configured with the primary, which is about to die: the lookup falls
    // back on the nodes the cluster named.
    let q = Queue::connect(primary.config()).await.expect("connect");
    let id = enqueue(&q, 1).await;
    wait_until("the replica has the job", Duration::from_secs(20), || keys(&replica) > 0);

    primary.kill();
    assert!(q.get(&id).await.is_err(), "the dead primary's connection fails");
    assert!(replica.cli(&["cluster", "failover", "takeover"]).contains("OK"));
    wait_for("commands reach the new primary", Duration::from_secs(30), || async {
        matches!(q.get(&id).await, Ok(Some(job)) if job.status == Status::Queued)
    })
    .await;
    enqueue(&q, 2).await;
}

#[tokio::test]
async fn a_cold_start_on_a_cluster_opens_two_connections() {
    let server = RedisServer::start_mode(Mode::Cluster);
    let before = connections(&server);
    let q = Queue::connect(server.config()).await.expect("connect");
    q.ping().await.expect("ping");
    // The probe asks both whether this is a cluster and who owns the slot;
    // then the command connection. (redis-cli's own connection is the +1.)
    assert_eq!(connections(&server) - before, 2 + 1);
}
