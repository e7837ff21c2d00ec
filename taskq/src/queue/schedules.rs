//! Cron schedules: create or replace, read, list, delete, pause, resume, and
//! the tick that makes due schedules' jobs (called by every worker's timer).
//!
//! A schedule is a hash (`P:schedule:<name>`: its definition as JSON, paused,
//! times, last tick and job) and its entry in `P:schedules`, scored by its
//! next tick in ms (`+inf` while paused). Every change is one script call.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redis::AsyncCommands;

use super::{Error, NewJob, Queue};
use crate::job::{Status, now_rfc3339};
use crate::schedule::{self, Cron, MAX_SCHEDULES, NEXT_RUNS, Schedule, ScheduleSpec};
use crate::{idempotency, scripts};

/// A score as stored: ms, or `+inf` for never.
fn score(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "+inf".to_owned(), |t| t.timestamp_millis().to_string())
}

fn rfc3339(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

impl Queue {
    /// Checks a schedule's definition as an enqueue of its job would be
    /// checked: cron, zone, task, arguments, queue.
    fn check_schedule(&self, spec: &ScheduleSpec) -> Result<(Cron, NewJob), Error> {
        let cron = spec.cron()?;
        let job = NewJob::from_catalogue_within(&spec.task, spec.args.clone(), &spec.queue, self.cfg.task_timeout)?;
        if !self.has_queue(&spec.queue) {
            return Err(Error::UnknownQueue(spec.queue.clone()));
        }
        self.resolve_retry(&job)?;
        Ok((cron, job))
    }

    /// Creates or replaces schedule `name`; returns it and whether it is new.
    /// A replaced schedule keeps its paused state and goes on from its new
    /// definition's next tick after now.
    pub async fn put_schedule(&self, name: &str, spec: ScheduleSpec) -> Result<(Schedule, bool), Error> {
        schedule::check_name(name)?;
        let (cron, _) = self.check_schedule(&spec)?;
        let definition = serde_json::to_string(&spec).expect("a schedule serializes");
        let mut c = self.conn.clone();
        let r: i64 = scripts::SCHEDULE_PUT
            .key(self.keys.schedule(name))
            .key(self.keys.schedules())
            .arg(name)
            .arg(definition)
            .arg(now_rfc3339())
            .arg(score(cron.next_after(Utc::now())))
            .arg(MAX_SCHEDULES)
            .invoke_async(&mut c)
            .await?;
        if r < 0 {
            return Err(Error::Invalid {
                field: "name",
                message: format!("there are {MAX_SCHEDULES} schedules already, the most allowed; delete one first"),
            });
        }
        let stored = self.schedule(name).await?.ok_or_else(|| Error::Invalid {
            field: "name",
            message: "the schedule was deleted while it was written".into(),
        })?;
        Ok((stored, r == 1))
    }

    /// Schedule `name`, if it exists.
    pub async fn schedule(&self, name: &str) -> Result<Option<Schedule>, Error> {
        if schedule::check_name(name).is_err() {
            return Ok(None);
        }
        let mut c = self.conn.clone();
        let (h, next): (HashMap<String, String>, Option<f64>) = redis::pipe()
            .hgetall(self.keys.schedule(name))
            .zscore(self.keys.schedules(), name)
            .query_async(&mut c)
            .await?;
        Ok(from_hash(name, h, next))
    }

    /// Every schedule, by name (at most [`MAX_SCHEDULES`]).
    pub async fn schedules(&self) -> Result<Vec<Schedule>, Error> {
        let mut c = self.conn.clone();
        let entries: Vec<(String, f64)> = c.zrange_withscores(self.keys.schedules(), 0, -1).await?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for (name, _) in &entries {
            p.hgetall(self.keys.schedule(name));
        }
        let hashes: Vec<HashMap<String, String>> = p.query_async(&mut c).await?;
        let mut out: Vec<Schedule> =
            entries.into_iter().zip(hashes).filter_map(|((name, next), h)| from_hash(&name, h, Some(next))).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes schedule `name`; false if there was none. Its jobs stay.
    pub async fn delete_schedule(&self, name: &str) -> Result<bool, Error> {
        if schedule::check_name(name).is_err() {
            return Ok(false);
        }
        let mut c = self.conn.clone();
        let (deleted, _): (u64, u64) =
            redis::pipe().del(self.keys.schedule(name)).zrem(self.keys.schedules(), name).query_async(&mut c).await?;
        Ok(deleted > 0)
    }

    /// Pauses or resumes schedule `name`; `None` if there is none. A resumed
    /// schedule goes on from its next tick after now.
    pub async fn set_schedule_paused(&self, name: &str, paused: bool) -> Result<Option<Schedule>, Error> {
        let Some(current) = self.schedule(name).await? else { return Ok(None) };
        let next = if paused { None } else { current.spec.cron()?.next_after(Utc::now()) };
        let mut c = self.conn.clone();
        let done: i64 = scripts::SCHEDULE_PAUSE
            .key(self.keys.schedule(name))
            .key(self.keys.schedules())
            .arg(name)
            .arg(if paused { "1" } else { "0" })
            .arg(score(next))
            .invoke_async(&mut c)
            .await?;
        if done == 0 {
            return Ok(None);
        }
        self.schedule(name).await
    }

    /// Makes the jobs of up to `batch` due schedule ticks; returns how many
    /// ticks it handled. Any number of workers may call it at once: each tick
    /// makes one job at most (tick.lua moves a schedule on only from the
    /// tick its caller read).
    pub async fn tick_schedules(&self, batch: usize) -> Result<u64, Error> {
        let now = Utc::now();
        let mut c = self.conn.clone();
        let due: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(self.keys.schedules())
            .arg("-inf")
            .arg(now.timestamp_millis())
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(batch)
            .arg("WITHSCORES")
            .query_async(&mut c)
            .await?;
        let mut handled = 0;
        for (name, at) in due {
            match self.tick_one(&name, at as i64, now).await {
                Ok(true) => handled += 1,
                Ok(false) => {}
                // A definition that no longer checks (a task removed from the
                // catalogue): left as it is, logged; the others go on.
                Err(
                    e
                    @ (Error::Invalid { .. } | Error::UnknownTask(_) | Error::InvalidArgs(_) | Error::UnknownQueue(_)),
                ) => {
                    tracing::warn!(schedule = %name, error = %e, "schedule cannot make its job; pausing it");
                    self.set_schedule_paused(&name, true).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(handled)
    }

    /// Handles the due tick `due_ms` of schedule `name`; false when another
    /// caller had handled it.
    async fn tick_one(&self, name: &str, due_ms: i64, now: DateTime<Utc>) -> Result<bool, Error> {
        let mut c = self.conn.clone();
        let Some(definition): Option<String> = c.hget(self.keys.schedule(name), "spec").await? else {
            // Deleted between the read and now: drop its entry.
            let _: () = c.zrem(self.keys.schedules(), name).await?;
            return Ok(false);
        };
        let spec: ScheduleSpec = serde_json::from_str(&definition).map_err(|e| Error::Invalid {
            field: "spec",
            message: format!("stored schedule {name:?} is not a definition taskq writes: {e}"),
        })?;
        let (cron, job) = self.check_schedule(&spec)?;
        let due = DateTime::from_timestamp_millis(due_ms).unwrap_or(now);
        let decision = schedule::decide(&cron, spec.missed, due, now);
        let tick = decision.enqueue.unwrap_or(due);
        let id = uuid::Uuid::new_v4().to_string();
        let key = format!("\0schedule\0{name}\0{}", tick.timestamp_millis());
        let digest = idempotency::digest(&job.task, &job.args, Some(&key));
        let (timeout, ttl, retry) = self.stored_limits(&job)?;
        let out: Vec<redis::Value> = scripts::TICK
            .key(self.keys.schedules())
            .key(self.keys.schedule(name))
            .key(self.keys.job(&id))
            .key(self.keys.queue(&job.queue))
            .key(self.keys.idempotency(&digest))
            .key(self.keys.wake())
            .key(self.keys.tombstones(&job.queue))
            .key(self.keys.pushed(&job.queue))
            .key(self.keys.waiting(&job.queue, Status::Scheduled))
            .arg(name)
            .arg(due_ms)
            .arg(score(decision.next))
            .arg(if decision.enqueue.is_some() { "1" } else { "0" })
            .arg(tick.timestamp_millis())
            .arg(tick.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .arg(&id)
            .arg(ttl.max(1))
            .arg(&job.task)
            .arg(job.args.to_string())
            .arg(&job.queue)
            .arg(now_rfc3339())
            .arg(timeout)
            .arg(self.cfg.max_queued)
            .arg(0) // run_at_ms and run_at: a tick's job runs at once
            .arg("")
            .arg(retry)
            .invoke_async(&mut c)
            .await?;
        let code = out
            .first()
            .map(|v| redis::from_redis_value::<i64>(v.clone()))
            .transpose()
            .map_err(redis::RedisError::from)?;
        match code {
            Some(0) | None => Ok(false),
            Some(3) => {
                tracing::warn!(schedule = %name, queue = %job.queue, "queue full (MAX_QUEUED): the tick makes no job");
                Ok(true)
            }
            Some(_) => Ok(true),
        }
    }
}

/// A schedule from its hash and score; `None` when the hash is gone or
/// holds no definition taskq writes.
fn from_hash(name: &str, mut h: HashMap<String, String>, next: Option<f64>) -> Option<Schedule> {
    let spec: ScheduleSpec = serde_json::from_str(h.get("spec")?).ok()?;
    let paused = h.get("paused").is_some_and(|p| p == "1");
    let next_runs = match (paused, next, spec.cron()) {
        (false, Some(ms), Ok(cron)) if ms.is_finite() => match DateTime::from_timestamp_millis(ms as i64) {
            Some(first) => cron.runs_from(first, NEXT_RUNS),
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    Some(Schedule {
        name: name.to_owned(),
        paused,
        next_runs: next_runs.iter().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).collect(),
        last_run_at: h.get("last_tick").and_then(|t| t.parse().ok()).and_then(rfc3339),
        last_job_id: h.remove("last_job_id"),
        created_at: h.remove("created_at").unwrap_or_default(),
        updated_at: h.remove("updated_at").unwrap_or_default(),
        spec,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn scores_are_ms_or_never() {
        assert_eq!(super::score(None), "+inf");
        let t = chrono::DateTime::from_timestamp_millis(1_800_000_000_123).unwrap();
        assert_eq!(super::score(Some(t)), "1800000000123");
    }
}
