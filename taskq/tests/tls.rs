//! `rediss://` without REDIS_TLS_CA_FILE trusts the system's certificates:
//! rustls-native-certs reads SSL_CERT_FILE, else the distribution's bundle
//! (as on Lambda and in the worker image). No certificate list is compiled in.

use taskq::Queue;
use testkit::{Mode, RedisServer};

#[tokio::test]
async fn without_a_ca_file_tls_trusts_the_system_certificates() {
    let server = RedisServer::start_mode(Mode::Tls);
    let mut cfg = server.config();
    cfg.redis_tls_ca_file = None;

    // The test's CA is in no system bundle: refused.
    // SAFETY: nextest runs each test in a process of its own, and no other
    // thread reads the environment here.
    unsafe { std::env::remove_var("SSL_CERT_FILE") };
    let refused = Queue::connect(cfg.clone()).await.err().expect("a server signed by an unknown CA is refused");
    let refused = refused.to_string();
    assert!(refused.contains("UnknownIssuer") || refused.contains("certificate"), "{refused}");

    // Named as the system's certificates (as an operator would add a CA): trusted.
    unsafe { std::env::set_var("SSL_CERT_FILE", server.ca_file()) };
    let q = Queue::connect(cfg).await.expect("TLS with the CA from SSL_CERT_FILE");
    q.ping().await.expect("ping over TLS");
}
