//! Listing: pages of a queue's jobs in one state, newest first (waiting
//! jobs: soonest due first), each page at a cost that does not depend on the
//! backlog. Queued, running, waiting and ended jobs are stored differently,
//! so each has its own kind of [`Cursor`].

use serde::Serialize;

use super::{Error, Queue, is_job_id};
use crate::job::{Job, Status, now_ms};
use crate::scripts;

/// One page of a job listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobPage {
    /// Jobs, newest first (scheduled and retrying jobs: soonest due first).
    pub jobs: Vec<Job>,
    /// Cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// Where a page of [`Queue::list`] starts: right after the last job the page
/// before looked at, found again by what it is rather than by a count, so
/// that jobs added or removed meanwhile neither repeat nor get skipped.
/// Travels as text in `next_cursor` ([`Cursor::parse`], `to_string`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Queued jobs: after this place in the queue (`q:<seq>`), the `seq` of
    /// the last id the page looked at (see `scripts/list_queued.lua`). Once
    /// that place has left the queue, every older one has too: the list is done.
    Queued(i64),
    /// Running jobs, newest start first: after this start and id
    /// (`r:<id>:<started_at>`).
    Running { id: String, started_at: String },
    /// Ended jobs, newest end first: at this end time (ms since the epoch),
    /// past the first `skip` jobs that ended in that millisecond
    /// (`e:<ms>:<skip>`).
    Ended { at: i64, skip: usize },
    /// Scheduled or retrying jobs, soonest due first: at this due time (ms
    /// since the epoch), past the first `skip` jobs due in that millisecond
    /// (`w:<ms>:<skip>`).
    Waiting { at: i64, skip: usize },
}

impl Cursor {
    /// Longest cursor [`Cursor::to_string`] writes, in bytes.
    pub const MAX_LEN: usize = 80;
    /// Largest end time an `e:` cursor (or due time a `w:` cursor) may name:
    /// the last millisecond of year 9999.
    pub const MAX_ENDED_AT: i64 = 253_402_300_799_999;
    /// Largest skip an `e:` or `w:` cursor may carry: far more jobs than can end in
    /// one millisecond, and well inside what Redis accepts as a `LIMIT` offset.
    pub const MAX_SKIP: usize = u32::MAX as usize;

    /// Reads a cursor written by [`Cursor::to_string`]; `None` for anything
    /// else, including numbers out of the ranges a real cursor can hold.
    pub fn parse(s: &str) -> Option<Cursor> {
        if s.len() > Self::MAX_LEN {
            return None;
        }
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "q" => rest.parse().ok().map(Cursor::Queued),
            "r" => {
                let (id, started_at) = rest.split_once(':')?;
                let fits =
                    is_job_id(id) && started_at.len() <= 40 && chrono::DateTime::parse_from_rfc3339(started_at).is_ok();
                fits.then(|| Cursor::Running { id: id.to_owned(), started_at: started_at.to_owned() })
            }
            "e" => Self::time_and_skip(rest).map(|(at, skip)| Cursor::Ended { at, skip }),
            "w" => Self::time_and_skip(rest).map(|(at, skip)| Cursor::Waiting { at, skip }),
            _ => None,
        }
    }

    /// `<ms>:<skip>`, both plain digits within their bounds.
    fn time_and_skip(rest: &str) -> Option<(i64, usize)> {
        let (at, skip) = rest.split_once(':')?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(at) || !digits(skip) {
            return None;
        }
        let at = at.parse().ok().filter(|t: &i64| (0..=Self::MAX_ENDED_AT).contains(t))?;
        let skip = skip.parse().ok().filter(|&n: &usize| n <= Self::MAX_SKIP)?;
        Some((at, skip))
    }

    fn fits(&self, status: Status) -> bool {
        match self {
            Cursor::Queued(_) => status == Status::Queued,
            Cursor::Running { .. } => matches!(status, Status::Started | Status::CancelRequested),
            Cursor::Ended { .. } => status.is_ended(),
            Cursor::Waiting { .. } => status.is_waiting(),
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cursor::Queued(seq) => write!(f, "q:{seq}"),
            Cursor::Running { id, started_at } => write!(f, "r:{id}:{started_at}"),
            Cursor::Ended { at, skip } => write!(f, "e:{at}:{skip}"),
            Cursor::Waiting { at, skip } => write!(f, "w:{at}:{skip}"),
        }
    }
}

impl Cursor {
    /// The time and skip of an `e:` or `w:` cursor.
    fn time_and_skip_of(&self) -> Option<(i64, usize)> {
        match *self {
            Cursor::Ended { at, skip } | Cursor::Waiting { at, skip } => Some((at, skip)),
            _ => None,
        }
    }
}

/// A page from ids of a sorted set read by score with `limit + 1` asked for
/// (`found`), the page before's cursor having been at `from` (time, skip):
/// the page's ids and, when there is more, the time and skip of the next
/// page: past every job of this page with the last one's score, and those
/// the cursor itself skipped when it was at the same score.
fn page_of(found: Vec<(String, f64)>, limit: usize, from: Option<(i64, usize)>) -> (Vec<String>, Option<(i64, usize)>) {
    let more = found.len() > limit;
    let page: Vec<(String, i64)> = found.into_iter().take(limit).map(|(id, at)| (id, at as i64)).collect();
    let next = page.last().filter(|_| more).map(|&(_, at)| {
        let same = page.iter().filter(|(_, t)| *t == at).count();
        let before = match from {
            Some((was, skip)) if was == at => skip,
            _ => 0,
        };
        (at, same + before)
    });
    (page.into_iter().map(|(id, _)| id).collect(), next)
}

/// Most ids one page of queued jobs looks at: tombstones take places in the
/// list, so a page may hold fewer jobs than asked, never cost more than this.
const QUEUED_PAGE_BUDGET: usize = 1000;

impl Queue {
    /// A page of `queue`'s jobs in `status`, newest first; scheduled and
    /// retrying jobs soonest due first (O(log N + page)). `cursor` is the
    /// `next_cursor` of the previous page (or `None` for the first). Every
    /// page costs the same whatever the backlog; a page of queued jobs looks
    /// at most at `QUEUED_PAGE_BUDGET` ids, so where tombstones crowd the
    /// list it may hold fewer than `limit` jobs and still have a `next_cursor`.
    pub async fn list(
        &self,
        queue: &str,
        status: Status,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<JobPage, Error> {
        if !self.has_queue(queue) {
            return Err(Error::UnknownQueue(queue.to_owned()));
        }
        if cursor.is_some_and(|c| !c.fits(status)) {
            return Err(Error::CursorMismatch);
        }
        let limit = limit.clamp(1, 500);
        let mut c = self.conn.clone();
        match status {
            Status::Queued => {
                let after = match cursor {
                    Some(Cursor::Queued(seq)) => seq.to_string(),
                    _ => String::new(),
                };
                let (ids, last, more): (Vec<String>, Option<i64>, i64) = scripts::LIST_QUEUED
                    .key(self.keys.queue(queue))
                    .key(self.keys.pushed(queue))
                    .key(self.keys.job_prefix())
                    .arg(after)
                    .arg(limit)
                    .arg(QUEUED_PAGE_BUDGET)
                    .invoke_async(&mut c)
                    .await?;
                // A job taken between the script and this read is no longer queued.
                let jobs = self.get_many(&ids).await?.into_iter().filter(|j| j.status == Status::Queued).collect();
                let next_cursor = last.filter(|_| more == 1).map(|seq| Cursor::Queued(seq).to_string());
                Ok(JobPage { jobs, next_cursor })
            }
            Status::Started | Status::CancelRequested => {
                let key = |j: &Job| (j.started_at.clone().unwrap_or_default(), j.id.clone());
                let mut jobs: Vec<Job> = self
                    .get_many(&self.running_ids().await?)
                    .await?
                    .into_iter()
                    .filter(|j| j.queue == queue && j.status == status)
                    .collect();
                if let Some(Cursor::Running { id, started_at }) = cursor {
                    let after = (started_at.clone(), id.clone());
                    jobs.retain(|j| key(j) < after);
                }
                jobs.sort_by_key(|j| std::cmp::Reverse(key(j)));
                let more = jobs.len() > limit;
                jobs.truncate(limit);
                let next_cursor = jobs.last().filter(|_| more).map(|j| {
                    let (started_at, id) = key(j);
                    Cursor::Running { id, started_at }.to_string()
                });
                Ok(JobPage { jobs, next_cursor })
            }
            Status::Scheduled | Status::Retrying => {
                let (min, skip) = match cursor {
                    Some(&Cursor::Waiting { at, skip }) => (at.to_string(), skip),
                    _ => ("-inf".to_owned(), 0),
                };
                let found: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(self.keys.waiting(queue, status))
                    .arg(min)
                    .arg("+inf")
                    .arg("BYSCORE")
                    .arg("LIMIT")
                    .arg(skip)
                    .arg(limit + 1)
                    .arg("WITHSCORES")
                    .query_async(&mut c)
                    .await?;
                let (ids, next) = page_of(found, limit, cursor.and_then(Cursor::time_and_skip_of));
                let next_cursor = next.map(|(at, skip)| Cursor::Waiting { at, skip }.to_string());
                // A job moved onto its queue (or canceled) meanwhile no longer waits.
                let jobs = self.get_many(&ids).await?.into_iter().filter(|j| j.status == status).collect();
                Ok(JobPage { jobs, next_cursor })
            }
            ended => {
                let (max, skip) = match cursor {
                    Some(&Cursor::Ended { at, skip }) => (at.to_string(), skip),
                    _ => ("+inf".to_owned(), 0),
                };
                let min = now_ms() - self.ttl_ms(ended);
                let found: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(self.keys.ended(queue, ended))
                    .arg(max)
                    .arg(min)
                    .arg("BYSCORE")
                    .arg("REV")
                    .arg("LIMIT")
                    .arg(skip)
                    .arg(limit + 1)
                    .arg("WITHSCORES")
                    .query_async(&mut c)
                    .await?;
                let (ids, next) = page_of(found, limit, cursor.and_then(Cursor::time_and_skip_of));
                let next_cursor = next.map(|(at, skip)| Cursor::Ended { at, skip }.to_string());
                Ok(JobPage { jobs: self.get_many(&ids).await?, next_cursor })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_what_they_write_and_nothing_else() {
        let id = "8f14e45f-ceea-467f-a8f9-5e3b5f3e0c1a".to_owned();
        for c in [
            Cursor::Queued(41),
            Cursor::Queued(-3),
            Cursor::Running { id: id.clone(), started_at: "2026-11-29T17:00:00.123456Z".into() },
            Cursor::Ended { at: 1_764_435_600_123, skip: 3 },
            Cursor::Waiting { at: 1_764_435_600_123, skip: 0 },
        ] {
            assert_eq!(Cursor::parse(&c.to_string()), Some(c));
        }
        for bad in [
            "",
            "12",
            "q:",
            "q:not-a-number",
            "q:1.5",
            "r:x:y",
            "e:1",
            "e:-5:0",
            "e:1:x",
            "x:1:2",
            "w:1",
            "w:-1:0",
            "w:1:+2",
            &format!("r:{id}:yesterday"),
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
        assert!(Cursor::Queued(7).fits(Status::Queued) && !Cursor::Queued(7).fits(Status::Finished));
        assert!(Cursor::Ended { at: 0, skip: 0 }.fits(Status::Canceled));
        let waiting = Cursor::Waiting { at: 0, skip: 0 };
        assert!(waiting.fits(Status::Scheduled) && waiting.fits(Status::Retrying) && !waiting.fits(Status::Finished));
        assert!(!Cursor::Ended { at: 0, skip: 0 }.fits(Status::Scheduled));
    }
}
