//! Operator commands, the counterpart of the `rq` CLI: look at queues,
//! workers and jobs, and act on them, straight on Redis. Human output by
//! default, one JSON document with `--json`.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde_json::{Value, json};
use taskq::schedule::{Missed, Schedule, ScheduleSpec};
use taskq::{CancelOutcome, Config, Enqueued, Job, NewJob, Queue, RequeueOutcome, RescheduleOutcome, Status};

/// Longest `--delay`, seconds: the API's bound (366 days).
const MAX_DELAY_SECS: f64 = 31_622_400.0;
/// How far in the past a `--run-at` may be and still mean "now", as in the API.
const PAST_TOLERANCE_SECS: i64 = 60;

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
        /// Run it this many seconds from now (it waits as `scheduled`).
        #[arg(long, conflicts_with = "run_at")]
        delay: Option<f64>,
        /// Run it at this time (RFC 3339 with an offset, e.g. 2026-12-24T18:00:00+01:00).
        #[arg(long)]
        run_at: Option<String>,
    },
    /// A page of a queue's jobs in one state: newest first, soonest due
    /// first for scheduled and retrying jobs.
    Jobs {
        /// Queue name (default: the last of QUEUES).
        #[arg(long)]
        queue: Option<String>,
        /// State: queued, scheduled, retrying, started, cancel_requested, finished, failed, canceled.
        #[arg(long, default_value = "queued")]
        state: String,
        /// Jobs per page, 1 to 500.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// `next_cursor` of the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// A job's state, progress and result.
    Status {
        /// Job id.
        job_id: String,
    },
    /// A live progress bar until the job ends; while it waits (scheduled or
    /// retrying), the countdown to its run and the attempts it has left.
    Watch {
        /// Job id.
        job_id: String,
    },
    /// Cancel a job (at once if queued, cooperatively if running).
    Cancel {
        /// Job id.
        job_id: String,
    },
    /// Move a scheduled or retrying job to another time (now by default).
    Reschedule {
        /// Job id.
        job_id: String,
        /// Run it this many seconds from now.
        #[arg(long, conflicts_with = "run_at")]
        delay: Option<f64>,
        /// Run it at this time (RFC 3339 with an offset).
        #[arg(long)]
        run_at: Option<String>,
    },
    /// Cancel every job waiting in a queue.
    Purge {
        /// Queue name.
        queue: String,
    },
    /// Cron schedules: list, show, create or replace, delete, pause, resume.
    #[command(subcommand)]
    Schedules(ScheduleOp),
    /// Put failed jobs (or one failed or canceled job) back on their queue.
    /// `--failed` requeues what had failed when it began, once: jobs that
    /// fail again meanwhile stay failed.
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

/// A `schedules` command.
#[derive(Subcommand, Debug)]
pub enum ScheduleOp {
    /// Every schedule, by name.
    List,
    /// One schedule.
    Get {
        /// Schedule name.
        name: String,
    },
    /// Create or replace a schedule (its next tick is computed from now).
    Put {
        /// Schedule name: 1 to 100 of A-Z a-z 0-9 _ . -
        name: String,
        /// Cron expression: 5 fields, 6 with seconds first, or @hourly, @daily, ...
        #[arg(long)]
        cron: String,
        /// IANA time zone the expression is read in.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Task name (long_task, task_a, task_b).
        #[arg(long)]
        task: String,
        /// Arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
        /// Queue its jobs go on (default: the last of QUEUES).
        #[arg(long)]
        queue: Option<String>,
        /// Ticks missed while no worker ran: skip them, or run one job for them all.
        #[arg(long, default_value = "skip", value_parser = ["skip", "run_once"])]
        missed: String,
    },
    /// Delete a schedule (the jobs it made stay).
    Delete {
        /// Schedule name.
        name: String,
    },
    /// Pause a schedule: it makes no jobs until resumed.
    Pause {
        /// Schedule name.
        name: String,
    },
    /// Resume a paused schedule from its next tick after now.
    Resume {
        /// Schedule name.
        name: String,
    },
}

/// The run time of `--delay` or `--run-at`: `None` means at once.
fn run_at_of(delay: Option<f64>, run_at: Option<&str>) -> anyhow::Result<Option<DateTime<Utc>>> {
    let now = Utc::now();
    if let Some(d) = delay {
        if !(0.0..=MAX_DELAY_SECS).contains(&d) {
            bail!("--delay must be from 0 to {MAX_DELAY_SECS} seconds");
        }
        return Ok((d > 0.0).then(|| now + chrono::Duration::milliseconds((d * 1000.0).round() as i64)));
    }
    let Some(t) = run_at else { return Ok(None) };
    let t = DateTime::parse_from_rfc3339(t)
        .with_context(|| format!("--run-at {t:?} is not an RFC 3339 time with an offset"))?
        .with_timezone(&Utc);
    if t < now - chrono::Duration::seconds(PAST_TOLERANCE_SECS) {
        bail!("--run-at {t} is more than {PAST_TOLERANCE_SECS} s in the past");
    }
    Ok((t > now).then_some(t))
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
        Op::Enqueue { task, args, high, idempotency_key, delay, run_at } => {
            let args: Value = serde_json::from_str(&args).context("--args is not JSON")?;
            let mut job = NewJob::from_catalogue_within(&task, args, q.config().queue_for(high), cfg.task_timeout)?;
            job.idempotency_key = idempotency_key;
            job.run_at = run_at_of(delay, run_at.as_deref())?;
            match q.enqueue(&job).await? {
                e @ Enqueued::Created { .. } => match job.run_at {
                    Some(t) => {
                        let at = t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                        let mut doc = json!(e);
                        doc["status"] = json!("scheduled");
                        doc["run_at"] = json!(at);
                        print(format!("scheduled {} on {} for {at} ({})", e.job_id(), job.queue, countdown(&at)), doc)
                    }
                    None => print(format!("enqueued {} on {}", e.job_id(), job.queue), json!(e)),
                },
                e @ Enqueued::Duplicate { .. } => print(format!("duplicate of {}", e.job_id()), json!(e)),
            }
        }
        Op::Jobs { queue, state, limit, cursor } => {
            let status = Status::parse(&state).with_context(|| {
                let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                format!("--state {state:?} is not one of {}", names.join(", "))
            })?;
            let cursor = match cursor {
                None => None,
                Some(c) => Some(taskq::Cursor::parse(&c).with_context(|| format!("--cursor {c:?} is not a cursor"))?),
            };
            let queue = queue.unwrap_or_else(|| q.config().queue_for(false).to_owned());
            let page = q.list(&queue, status, cursor.as_ref(), limit.clamp(1, 500)).await?;
            print(jobs_text(&queue, status, &page), json!(page));
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
        Op::Reschedule { job_id, delay, run_at } => {
            match q.reschedule(&job_id, run_at_of(delay, run_at.as_deref())?).await? {
                RescheduleOutcome::Queued => {
                    print(format!("{job_id} is on its queue now"), json!({"job_id": job_id, "status": "queued"}))
                }
                RescheduleOutcome::Waiting(status, at) => print(
                    format!("{job_id} is {status}, {} ({at})", countdown(&at)),
                    json!({"job_id": job_id, "status": status, "run_at": at}),
                ),
                RescheduleOutcome::NotWaiting(s) => {
                    bail!("job {job_id} is {s}: only scheduled or retrying jobs are rescheduled")
                }
                RescheduleOutcome::NotFound => bail!("no job {job_id}"),
            }
        }
        Op::Schedules(op) => schedules(&q, op, &print).await?,
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

/// Runs a `schedules` command.
async fn schedules(q: &Queue, op: ScheduleOp, print: &impl Fn(String, Value)) -> anyhow::Result<()> {
    match op {
        ScheduleOp::List => {
            let all = q.schedules().await?;
            print(schedules_text(&all), json!({"schedules": all}));
        }
        ScheduleOp::Get { name } => {
            let s = q.schedule(&name).await?.with_context(|| format!("no schedule {name}"))?;
            print(schedule_text(&s), json!(s));
        }
        ScheduleOp::Put { name, cron, timezone, task, args, queue, missed } => {
            let args: Value = serde_json::from_str(&args).context("--args is not JSON")?;
            let missed: Missed = serde_json::from_value(json!(missed)).context("--missed")?;
            let queue = queue.unwrap_or_else(|| q.config().queue_for(false).to_owned());
            let spec = ScheduleSpec { cron, timezone, task, args, queue, missed };
            let (s, created) = q.put_schedule(&name, spec).await?;
            let what = if created { "created" } else { "replaced" };
            let mut doc = json!(s);
            doc["created"] = json!(created);
            print(format!("schedule {name} {what}\n{}", schedule_text(&s)), doc);
        }
        ScheduleOp::Delete { name } => {
            if !q.delete_schedule(&name).await? {
                bail!("no schedule {name}");
            }
            print(format!("schedule {name} deleted"), json!({"name": name, "deleted": true}));
        }
        ScheduleOp::Pause { name } => {
            let s = q.set_schedule_paused(&name, true).await?.with_context(|| format!("no schedule {name}"))?;
            print(format!("schedule {name} paused"), json!(s));
        }
        ScheduleOp::Resume { name } => {
            let s = q.set_schedule_paused(&name, false).await?.with_context(|| format!("no schedule {name}"))?;
            print(format!("schedule {name} resumed\n{}", schedule_text(&s)), json!(s));
        }
    }
    Ok(())
}

fn schedules_text(all: &[Schedule]) -> String {
    if all.is_empty() {
        return "no schedules".to_owned();
    }
    let mut s = format!(
        "{:<24} {:<16} {:<18} {:<10} {:<8} {:<7} {:<27} last job",
        "name", "cron", "timezone", "task", "queue", "paused", "next run"
    );
    for x in all {
        s.push_str(&format!(
            "\n{:<24} {:<16} {:<18} {:<10} {:<8} {:<7} {:<27} {}",
            x.name,
            x.spec.cron,
            x.spec.timezone,
            x.spec.task,
            x.spec.queue,
            if x.paused { "yes" } else { "no" },
            x.next_runs.first().map(String::as_str).unwrap_or("-"),
            x.last_job_id.as_deref().unwrap_or("-"),
        ));
    }
    s
}

fn schedule_text(x: &Schedule) -> String {
    let mut s = format!(
        "{}  {} in {}  {} on {}{}",
        x.name,
        x.spec.cron,
        x.spec.timezone,
        x.spec.task,
        x.spec.queue,
        if x.paused { "  paused" } else { "" }
    );
    s.push_str(&format!("\n  args      {}", x.spec.args));
    s.push_str(&format!("\n  missed    {}", json!(x.spec.missed).as_str().unwrap_or_default()));
    for (i, t) in x.next_runs.iter().enumerate() {
        s.push_str(&format!("\n  {:<9} {t} ({})", if i == 0 { "next runs" } else { "" }, countdown(t)));
    }
    if let Some(t) = &x.last_run_at {
        s.push_str(&format!("\n  last run  {t}  job {}", x.last_job_id.as_deref().unwrap_or("-")));
    }
    s.push_str(&format!("\n  created   {}\n  updated   {}", x.created_at, x.updated_at));
    s
}

/// "runs in 12 s" for a time ahead, "due now" for one passed.
pub fn countdown(at: &str) -> String {
    let Ok(t) = DateTime::parse_from_rfc3339(at) else { return format!("runs at {at}") };
    let ms = (t.with_timezone(&Utc) - Utc::now()).num_milliseconds();
    if ms <= 0 {
        return "due now".to_owned();
    }
    let secs = (ms + 999) / 1000;
    let text = match secs {
        0..=99 => format!("{secs} s"),
        100..=5999 => format!("{} min {:02} s", secs / 60, secs % 60),
        6000..=172_799 => format!("{} h {:02} min", secs / 3600, secs / 60 % 60),
        _ => format!("{} d {} h", secs / 86_400, secs / 3600 % 24),
    };
    format!("runs in {text}")
}

/// "attempt 2 of 4, 2 left" for a job with a retry policy.
fn attempts_text(j: &Job) -> String {
    match (j.retry, j.attempts_left()) {
        (Some(r), Some(left)) => format!("attempt {} of {}, {left} left", j.attempts, r.max_attempts()),
        _ => format!("attempts {}", j.attempts),
    }
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
        if job.status.is_waiting() {
            let when = job.run_at.as_deref().map(countdown).unwrap_or_else(|| "due now".to_owned());
            bar.set_message(format!("{when} · {}", attempts_text(&job)));
        } else if let Some(p) = &job.progress {
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

fn jobs_text(queue: &str, status: Status, page: &taskq::JobPage) -> String {
    if page.jobs.is_empty() {
        return format!("no {status} jobs in {queue}");
    }
    let mut s =
        format!("{:<36}  {:<10}  {:<16}  {:<27}  {:<20}  attempts", "job", "task", "status", "enqueued", "runs");
    for j in &page.jobs {
        let runs = match (&j.run_at, j.status.is_waiting()) {
            (Some(t), true) => countdown(t),
            _ => "-".to_owned(),
        };
        s.push_str(&format!(
            "\n{:<36}  {:<10}  {:<16}  {:<27}  {:<20}  {}",
            j.id,
            j.task,
            j.status.as_str(),
            j.enqueued_at,
            runs,
            attempts_text(j)
        ));
    }
    if let Some(c) = &page.next_cursor {
        s.push_str(&format!("\nmore: --cursor {c}"));
    }
    s
}

fn job_text(j: &Job) -> String {
    let mut s = format!("{}  {}  {} on {}  {}", j.id, j.status, j.task, j.queue, attempts_text(j));
    s.push_str(&format!("\n  args      {}", j.args));
    if let Some(t) = &j.run_at {
        s.push_str(&format!("\n  run at    {t} ({})", countdown(t)));
    }
    if let Some(r) = &j.retry {
        s.push_str(&format!(
            "\n  retry     up to {} more attempts, backoff {} s (at most {} s)",
            r.max, r.backoff, r.backoff_max
        ));
    }
    if let Some(name) = &j.schedule {
        s.push_str(&format!("\n  schedule  {name}  tick {}", j.tick.as_deref().unwrap_or("-")));
    }
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
    for e in &j.errors {
        s.push_str(&format!("\n  attempt {:<2} {}  {}: {}", e.attempt, e.at, e.error.kind, e.error.message));
    }
    s
}
