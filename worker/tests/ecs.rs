//! On ECS the worker asks its agent for scale-in protection while it runs
//! jobs and withdraws it once idle. A small HTTP server stands in for the
//! ECS agent (ECS_AGENT_URI), answering as the agent does and keeping every
//! request it gets.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{Value, json};
use taskq::Status;
use testkit::{RedisServer, wait_for};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The requests the stand-in agent got: method, path and JSON body.
type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

async fn agent() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/task-1", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let mut line = String::new();
                stream.read_line(&mut line).await.unwrap();
                let mut parts = line.split_whitespace();
                let (method, path) = (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned());
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    stream.read_line(&mut header).await.unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                stream.read_exact(&mut body).await.unwrap();
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let on = body["ProtectionEnabled"].as_bool().unwrap_or(false);
                log.lock().unwrap().push((method, path, body));
                let answer = json!({"protection": {"ProtectionEnabled": on, "TaskArn": "arn:aws:ecs:task/1"}});
                let answer = answer.to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    answer.len()
                );
                stream.get_mut().write_all(format!("{head}{answer}").as_bytes()).await.unwrap();
            });
        }
    });
    (url, seen)
}

fn protections(seen: &Seen) -> Vec<bool> {
    seen.lock().unwrap().iter().map(|(_, _, b)| b["ProtectionEnabled"].as_bool().unwrap()).collect()
}

#[tokio::test]
async fn a_worker_is_protected_from_scale_in_while_it_runs_jobs() {
    let server = RedisServer::start();
    let (agent_uri, seen) = agent().await;
    let mut cfg = server.config();
    cfg.ecs_agent_uri = Some(agent_uri);
    let q = queue(&cfg).await;
    let w = InProcess::start(cfg).await;

    let id = enqueue(&q, "long_task", json!({"duration": 60}), "default").await;
    wait_status(&q, &id, Status::Started).await;
    wait_for("protection asked for", LONG, || async { protections(&seen) == [true] }).await;
    {
        let seen = seen.lock().unwrap();
        let (method, path, body) = &seen[0];
        assert_eq!((method.as_str(), path.as_str()), ("PUT", "/api/task-1/task-protection/v1/state"));
        assert_eq!(body["ExpiresInMinutes"], 10);
    }

    q.cancel(&id).await.unwrap();
    wait_status(&q, &id, Status::Canceled).await;
    wait_for("protection withdrawn once idle", LONG, || async { protections(&seen) == [true, false] }).await;
    w.stop().await;
    assert_eq!(protections(&seen), [true, false]);
}
