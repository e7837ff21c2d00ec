//! Operator commands, the counterpart of the `rq` CLI: look at queues,
//! workers and jobs, and act on them, straight on Redis. Human output by
//! default, one JSON document with `--json`.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use taskq::{CancelOutcome, Config, Enqueued, Job, NewJob, Queue, RequeueOutcome, Status};

/// One operator command.
#[derive(Subcommand, Debug)]
pub enum Op {
    /// Queues with per-state counts, and the workers.
    Info {
        /// Refresh every second until Ctrl-C.
        #[arg(long)]
        watch: bool,
    },
    /// Enqueue a job of a catalogue task.
    Enqueue {
        /// Task name (long_task, task_a, task_b).
        task: String,
        /// Arguments as a JSON object, e.g. '{"duration": 5, "payload": {}}'.
        #[arg(long, default_value = "{}")]
        args: String,
        /// Put it on the first queue of QUEUES (`high` by default), not the last.
        #[arg(long)]
        high: bool,
        /// Idempotency key (default: derived from the task and its arguments).
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// A job's state, progress and result.
    Status {
        /// Job id.
        job_id: String,
    },
    /// A live progress bar until the job ends.
    Watch {
        /// Job id.
        job_id: String,
    },
    /// Cancel a job (at once if queued, cooperatively if running).
    Cancel {
        /// Job id.
        job_id: String,
    },
    /// Cancel every job waiting in a queue.
    Purge {
        /// Queue name.
        queue: String,
    },
    /// Put failed jobs (or one failed or canceled job) back on their queue.
    Requeue {
        /// Every failed job (of --queue, or of all queues).
        #[arg(long, conflicts_with = "job_id")]
        failed: bool,
        /// With --failed: only this queue.
        #[arg(long, requires = "failed")]
        queue: Option<String>,
        /// One job.
        #[arg(required_unless_present = "failed")]
        job_id: Option<String>,
    },
}

/// Runs an operator command.
pub async fn run(cfg: Config, op: Op, json_out: bool) -> anyhow::Result<()> {
    let q = Queue::connect(cfg.clone()).await.with_context(|| format!("connecting to {}", cfg.redis_url_redacted()))?;
    let print = |human: String, doc: Value| {
        if json_out {
            println!("{doc}");
        } else {
            println!("{human}");
        }
    };
    match op {
        Op::Info { watch } => loop {
            let (counts, workers) = (q.counts().await?, q.workers().await?);
            if watch && !json_out {
                print!("\x1b[2J\x1b[H");
            }
            print(info_text(&counts, &workers), json!({"queues": counts, "workers": workers}));
            if !watch {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        },
        Op::Enqueue { task, args, high, idempotency_key } => {
            let args: Value = serde_json::from_str(&args).context("--args is not JSON")?;
            let mut job = NewJob::from_catalogue_within(&task, args, q.config().queue_for(high), cfg.task_timeout)?;
            job.idempotency_key = idempotency_key;
            match q.enqueue(&job).await? {
                e @ Enqueued::Created { .. } => print(format!("enqueued {} on {}", e.job_id(), job.queue), json!(e)),
                e @ Enqueued::Duplicate { .. } => print(format!("duplicate of {}", e.job_id()), json!(e)),
            }
        }
        Op::Status { job_id } => {
            let job = find(&q, &job_id).await?;
            print(job_text(&job), json!(job));
        }
        Op::Watch { job_id } => {
            let job = watch(&q, &job_id, json_out).await?;
            print(job_text(&job), json!(job));
        }
        Op::Cancel { job_id } => match q.cancel(&job_id).await? {
            CancelOutcome::Canceled => {
                print(format!("{job_id} canceled"), json!({"job_id": job_id, "status": "canceled"}))
            }
            CancelOutcome::CancelRequested => print(
                format!("{job_id} is running: cancellation requested"),
                json!({"job_id": job_id, "status": "cancel_requested"}),
            ),
            CancelOutcome::AlreadyEnded(s) => bail!("job {job_id} already ended: {s}"),
            CancelOutcome::NotFound => bail!("no job {job_id}"),
        },
        Op::Purge { queue } => {
            let n = q.purge(&queue).await?;
            print(format!("purged {n} jobs from {queue}"), json!({"queue": queue, "purged": n}));
        }
        Op::Requeue { failed: true, queue, .. } => {
            let n = q.requeue_failed(queue.as_deref()).await?;
            print(format!("requeued {n} failed jobs"), json!({"requeued": n}));
        }
        Op::Requeue { job_id, .. } => {
            let id = job_id.unwrap_or_default();
            match q.requeue(&id).await? {
                RequeueOutcome::Requeued => print(format!("{id} requeued"), json!({"job_id": id, "status": "queued"})),
                RequeueOutcome::NotRequeueable(s) => {
                    bail!("job {id} is {s}: only failed or canceled jobs are requeued")
                }
                RequeueOutcome::NotFound => bail!("no job {id}"),
            }
        }
    }
    Ok(())
}

async fn find(q: &Queue, id: &str) -> anyhow::Result<Job> {
    q.get(id).await?.with_context(|| format!("no job {id} (unknown, or expired after its retention)"))
}

/// Follows a job with a progress bar until it ends.
async fn watch(q: &Queue, id: &str, quiet: bool) -> anyhow::Result<Job> {
    let bar = if quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(100) };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {prefix:>9} [{bar:40}] {pos:>3}% {msg}")
            .expect("template")
            .progress_chars("=> "),
    );
    loop {
        let job = find(q, id).await?;
        bar.set_prefix(job.status.as_str());
        if let Some(p) = &job.progress {
            bar.set_position(p.percent.round() as u64);
            bar.set_message(p.message.clone().unwrap_or_default());
        }
        if job.status.is_ended() {
            bar.finish();
            return Ok(job);
        }
        bar.tick();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn info_text(counts: &[taskq::QueueCounts], workers: &[taskq::WorkerInfo]) -> String {
    let mut s = format!("{:<12}", "queue");
    for st in Status::ALL {
        s.push_str(&format!(" {:>16}", st.as_str()));
    }
    for c in counts {
        s.push_str(&format!("\n{:<12}", c.name));
        for st in Status::ALL {
            s.push_str(&format!(" {:>16}", c.states.get(st.as_str()).copied().unwrap_or(0)));
        }
    }
    s.push_str(&format!("\n\n{} worker(s)", workers.len()));
    for w in workers {
        s.push_str(&format!(
            "\n  {}  {}  queues {}  {} running  {} processed  {} failed  heartbeat {:.1}s ago",
            w.name,
            w.state,
            w.queues.join(","),
            w.current_jobs.len(),
            w.processed,
            w.failed,
            w.heartbeat_age_ms as f64 / 1000.0
        ));
    }
    s
}

fn job_text(j: &Job) -> String {
    let mut s = format!("{}  {}  {} on {}  attempts {}", j.id, j.status, j.task, j.queue, j.attempts);
    s.push_str(&format!("\n  args      {}", j.args));
    if let Some(p) = &j.progress {
        s.push_str(&format!(
            "\n  progress  {}/{} ({}%) {}",
            p.done,
            p.total,
            p.percent,
            p.message.as_deref().unwrap_or("")
        ));
    }
    for (name, t) in
        [("enqueued", Some(&j.enqueued_at)), ("started", j.started_at.as_ref()), ("ended", j.ended_at.as_ref())]
    {
        if let Some(t) = t {
            s.push_str(&format!("\n  {name:<9} {t}"));
        }
    }
    if j.meta.as_object().is_some_and(|m| !m.is_empty()) {
        s.push_str(&format!("\n  meta      {}", j.meta));
    }
    if let Some(r) = &j.result {
        s.push_str(&format!("\n  result    {r}"));
    }
    if let Some(e) = &j.error {
        s.push_str(&format!("\n  error     {}: {}", e.kind, e.message));
    }
    s
}
