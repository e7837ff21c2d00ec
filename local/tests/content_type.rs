//! The local server refuses a body that does not say it is JSON, as a web
//! page's cross-site form or `text/plain` post would send it, and writes
//! nothing for it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use testkit::{RedisServer, free_port, wait_for};

/// The `local` binary, killed on drop.
struct Stack(Child);

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_local_server_refuses_bodies_that_are_not_json() {
    let server = RedisServer::start();
    let port = free_port();
    let _stack = Stack(
        Command::new(env!("CARGO_BIN_EXE_local"))
            .envs(server.env())
            .env("API_HOST", "127.0.0.1")
            .env("API_PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("local binary"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_for("the local server to answer", Duration::from_secs(60), || async {
        client.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    let body = r#"{"user_id": 9, "duration": 0}"#;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let r = client
            .post(format!("{base}/tasks/a"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 415, "{content_type}");
        let reply: serde_json::Value = r.json().await.expect("a JSON body");
        assert!(reply["detail"].is_string(), "{reply}");
    }
    let created = server.cli(&["--scan", "--pattern", "{taskq}:job:*"]);
    assert_eq!(created.trim(), "", "a refused request wrote a job");
    let r = client
        .post(format!("{base}/tasks/a"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 200);
    // A route without a body needs no Content-Type.
    let r = client.post(format!("{base}/tasks/8f14e45f-ceea-467f-a8f9-5e3b5f3e0c1a/requeue")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
