//! IAM authentication reaches every kind of connection: commands on one node
//! or a cluster, and pub/sub.
//!
//! A real ElastiCache checks the token with IAM; here a redis-server stands in
//! for it with the default user switched off (as in template.yaml) and the app
//! user accepting any password, so a command only works on a connection that
//! authenticated as the configured user through the IAM credentials provider.

use std::sync::Arc;

use futures_util::StreamExt;
use taskq::iam::{Credentials, CredentialsFuture, CredentialsSource};
use taskq::{Config, Redis};
use testkit::{Mode, RedisServer};

struct Fixed;

impl CredentialsSource for Fixed {
    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(std::future::ready(Ok(Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("session".into()),
        })))
    }
}

/// A server that, like the cache of template.yaml, lets in only `taskq-app`.
fn locked_server(mode: Mode) -> RedisServer {
    taskq::iam::set_credentials_source(Arc::new(Fixed));
    let server = RedisServer::start_mode(mode);
    assert!(server.cli(&["acl", "setuser", "taskq-app", "on", "nopass", "~*", "&*", "+@all"]).contains("OK"));
    assert!(server.cli(&["acl", "setuser", "default", "off"]).contains("OK"));
    server
}

fn iam(cfg: Config) -> Config {
    Config {
        redis_iam_user: Some("taskq-app".into()),
        redis_iam_cache: Some("taskq".into()),
        aws_region: Some("us-east-1".into()),
        ..cfg
    }
}

async fn ping(redis: &Redis) -> redis::RedisResult<String> {
    let mut conn = redis.connect().await?;
    redis::cmd("PING").query_async(&mut conn).await
}

#[tokio::test]
async fn commands_and_pubsub_authenticate_with_the_token() {
    let server = locked_server(Mode::Tls);
    let plain = Redis::open(&server.config()).await;
    assert!(plain.is_err(), "without IAM the server refuses the connection");

    let redis = Redis::open(&iam(server.config())).await.expect("open with IAM");
    assert!(!redis.is_cluster());
    assert_eq!(ping(&redis).await.expect("ping"), "PONG");

    let mut conn = redis.connect().await.expect("connect");
    let who: String = redis::cmd("ACL").arg("WHOAMI").query_async(&mut conn).await.expect("whoami");
    assert_eq!(who, "taskq-app");

    let mut sub = redis.pubsub().await.expect("pub/sub with IAM");
    sub.subscribe("iam-test").await.expect("subscribe");
    let _: i64 = redis::cmd("PUBLISH").arg("iam-test").arg("hello").query_async(&mut conn).await.expect("publish");
    let msg = tokio::time::timeout(std::time::Duration::from_secs(5), sub.on_message().next())
        .await
        .expect("message in time")
        .expect("a message");
    assert_eq!(msg.get_payload::<String>().expect("payload"), "hello");
}

#[tokio::test]
async fn cluster_connections_authenticate_with_the_token() {
    let server = locked_server(Mode::Cluster);
    let redis = Redis::open(&iam(server.config())).await.expect("open with IAM");
    assert!(redis.is_cluster(), "INFO cluster, asked as the IAM user, says cluster");
    assert_eq!(ping(&redis).await.expect("ping"), "PONG");
}
