//! `rediss://` verifies the server: without REDIS_TLS_CA_FILE only the public
//! roots compiled in (webpki-roots) are trusted, so a server whose
//! certificate a private CA signed is refused, never accepted unchecked.

use taskq::Queue;
use testkit::{Mode, RedisServer};

#[tokio::test]
async fn without_a_ca_file_a_privately_signed_server_is_refused() {
    let server = RedisServer::start_mode(Mode::Tls);
    let mut cfg = server.config();
    cfg.redis_tls_ca_file = None;
    let refused = Queue::connect(cfg.clone()).await.err().expect("a server signed by an unknown CA is refused");
    let refused = refused.to_string();
    assert!(refused.contains("UnknownIssuer") || refused.contains("certificate"), "{refused}");
    // With its CA named, the same server is trusted.
    cfg.redis_tls_ca_file = server.config().redis_tls_ca_file;
    Queue::connect(cfg).await.expect("TLS with REDIS_TLS_CA_FILE").ping().await.expect("ping over TLS");
}
