//! What one page of queued jobs costs with a backlog of 1,000,000 jobs: the
//! first page, and a page 999,000 jobs deep, each read with a cursor as the
//! API does; beside them the time of the `LPOS` a cursor naming a job id
//! would need to find that deep place (it scans the list from its head).
//!
//! `cargo run --release -p taskq --example listing [-- JOBS]` starts its own
//! redis-server (see testkit) and fills it through `Queue::enqueue`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use taskq::{Cursor, NewJob, Queue, Status};

const PAGE: usize = 20;
const RUNS: usize = 21;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let jobs: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(1_000_000);
    let server = testkit::RedisServer::start();
    let q = Queue::connect(server.config()).await?;
    let t = Instant::now();
    let enqueued = futures_util::stream::iter(0..jobs)
        .map(|i| {
            let q = q.clone();
            async move { q.enqueue(&NewJob::new("long_task", json!({ "n": i }), "default")).await }
        })
        .buffer_unordered(256)
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await;
    anyhow::ensure!(enqueued == jobs, "only {enqueued} of {jobs} enqueued");
    eprintln!("enqueued {jobs} jobs in {:.1} s", t.elapsed().as_secs_f64());

    let first = median(RUNS, || async {
        let page = q.list("default", Status::Queued, None, PAGE).await.unwrap();
        assert_eq!(page.jobs.len(), PAGE);
    })
    .await;
    // The cursor of the page that ends just before index `depth`.
    let depth = jobs - jobs / 1000;
    let last_of_page_before = q.list("default", Status::Queued, None, 1).await?.next_cursor.expect("more");
    let Some(Cursor::Queued(newest)) = Cursor::parse(&last_of_page_before) else { unreachable!() };
    let deep_cursor = Cursor::Queued(newest - depth as i64 + 1);
    let deep = median(RUNS, || async {
        let page = q.list("default", Status::Queued, Some(&deep_cursor), PAGE).await.unwrap();
        assert_eq!(page.jobs.len(), PAGE);
    })
    .await;
    let mut c = q.connection();
    let key = q.keys().queue("default");
    let id: String = redis::cmd("LINDEX").arg(&key).arg(depth).query_async(&mut c).await?;
    let lpos = median(RUNS, || {
        let (mut c, key, id) = (c.clone(), key.clone(), id.clone());
        async move {
            let at: Option<usize> = redis::cmd("LPOS").arg(&key).arg(&id).query_async(&mut c).await.unwrap();
            assert_eq!(at, Some(depth));
        }
    })
    .await;
    println!("backlog {jobs} queued jobs, pages of {PAGE}, median of {RUNS} runs:");
    println!("  first page                        {:>9.3} ms", ms(first));
    println!("  page {depth} jobs deep            {:>9.3} ms", ms(deep));
    println!("  LPOS of the id {depth} jobs deep  {:>9.3} ms", ms(lpos));
    Ok(())
}

async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed());
    }
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
