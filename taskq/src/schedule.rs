//! Cron schedules: a named definition that makes one job per tick of a cron
//! expression in an IANA time zone. The next tick is computed here; the
//! worker's timer hands due ticks to `tick.lua`, which makes each tick's job
//! at most once whatever the number of workers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What to do with ticks that passed while no worker ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Make no job for them; go on from the next tick.
    #[default]
    Skip,
    /// Make one job for all of them, then go on from the next tick.
    RunOnce,
}

/// A schedule as a client defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    /// Cron expression: 5 fields (minute hour day month weekday), 6 with
    /// seconds first, or `@yearly`, `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub timezone: String,
    /// Task name from the catalogue.
    pub task: String,
    /// Its arguments.
    pub args: Value,
    /// Queue its jobs go on.
    pub queue: String,
    /// Policy for ticks missed while no worker ran.
    pub missed: Missed,
}

/// A stored schedule with its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Its name.
    pub name: String,
    /// Its definition.
    #[serde(flatten)]
    pub spec: ScheduleSpec,
    /// Whether it is paused (makes no jobs).
    pub paused: bool,
    /// Its next ticks (RFC 3339, UTC), soonest first; empty while paused.
    pub next_runs: Vec<String>,
    /// The tick of its last job (RFC 3339, UTC).
    pub last_run_at: Option<String>,
    /// Its last job.
    pub last_job_id: Option<String>,
    /// When it was first created.
    pub created_at: String,
    /// When it was last created or replaced.
    pub updated_at: String,
}

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use crate::queue::Error;

pub mod zone;

pub use zone::Zone;

/// A tick is missed when no worker handled it within this of its time.
pub const MISSED_GRACE: Duration = Duration::from_secs(5);

/// Most schedules one prefix holds.
pub const MAX_SCHEDULES: usize = 1000;

/// Next ticks shown with a schedule.
pub const NEXT_RUNS: usize = 5;

/// Longest schedule name.
pub const MAX_NAME: usize = 100;

/// Checks a schedule name: 1 to [`MAX_NAME`] characters of `A-Z a-z 0-9 _ . -`.
pub fn check_name(name: &str) -> Result<(), Error> {
    let ok = (1..=MAX_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: "name",
            message: format!("must be 1 to {MAX_NAME} characters of A-Z, a-z, 0-9, '_', '.' and '-'"),
        })
    }
}

/// A parsed cron expression in its time zone.
#[derive(Debug, Clone)]
pub struct Cron {
    cron: croner::Cron,
    tz: Zone,
}

impl Cron {
    /// Parses `expr` (5 fields, 6 with seconds first, or an `@name`) read in
    /// IANA zone `timezone`.
    pub fn parse(expr: &str, timezone: &str) -> Result<Cron, Error> {
        let tz = Zone::named(timezone).ok_or_else(|| Error::Invalid {
            field: "timezone",
            message: format!("unknown time zone {timezone:?}; expected an IANA name such as Europe/Berlin or UTC"),
        })?;
        let parser = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .year(croner::parser::Year::Disallowed)
            .build();
        let invalid = |why: String| Error::Invalid {
            field: "cron",
            message: format!(
                "{why}; expected 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or @yearly, @monthly, @weekly, @daily, @hourly"
            ),
        };
        let fields = expr.split_whitespace().count();
        if !expr.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
            return Err(invalid(format!("{expr:?} has {fields} fields")));
        }
        // croner knows @daily but not its other usual name.
        let pattern = if expr.trim().eq_ignore_ascii_case("@midnight") { "@daily" } else { expr };
        let cron = parser.parse(pattern).map_err(|e| invalid(format!("{expr:?} does not parse: {e}")))?;
        Ok(Cron { cron, tz })
    }

    /// The first tick strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        use chrono::Offset;
        let local = t.trunc_subsecs(0).with_timezone(&self.tz);
        let next = self.cron.find_next_occurrence(&local, false).ok()?;
        if next.offset().fix() == local.offset().fix() {
            return Some(next.with_timezone(&Utc));
        }
        // A change of offset lies between: croner steps through local time,
        // so a search that starts inside a repeated hour skips its second
        // pass. Its iterator yields both passes: walk it from before the
        // change (at most every tick of two hours, once per change).
        let from = local - chrono::Duration::hours(2);
        self.cron.iter_from(from, croner::Direction::Forward).map(|d| d.with_timezone(&Utc)).find(|d| *d > t)
    }

    /// The last tick at or before `t`.
    pub fn last_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.trunc_subsecs(0).with_timezone(&self.tz);
        let found = self.cron.find_previous_occurrence(&local, true).ok()?.with_timezone(&Utc);
        Some(self.catch_up(found, |n| n <= t))
    }

    /// The last tick strictly before `t`.
    pub fn last_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        let found = self.cron.find_previous_occurrence(&local, false).ok()?.with_timezone(&Utc);
        Some(self.catch_up(found, |n| n < t))
    }

    /// The last of the ticks from `found` on that `keep` accepts. croner's
    /// backward search steps through local time, so in an hour that happens
    /// twice it finds the first pass's tick even when the second pass's
    /// (a later instant) is the one asked for: the ticks after it are
    /// walked forward, at most one repeated hour's.
    fn catch_up(&self, mut found: DateTime<Utc>, keep: impl Fn(DateTime<Utc>) -> bool) -> DateTime<Utc> {
        while let Some(n) = self.next_after(found).filter(|n| keep(*n)) {
            found = n;
        }
        found
    }

    /// The `n` ticks from `first` (included, when given) on.
    pub fn runs_from(&self, first: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = vec![first];
        while out.len() < n {
            match self.next_after(*out.last().expect("one tick")) {
                Some(t) => out.push(t),
                None => break,
            }
        }
        out
    }
}

impl ScheduleSpec {
    /// Parses its cron expression in its zone: [`Error::Invalid`] naming
    /// `cron` or `timezone`.
    pub fn cron(&self) -> Result<Cron, Error> {
        Cron::parse(&self.cron, &self.timezone)
    }
}

/// What one due tick does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The tick to make a job for, if any.
    pub enqueue: Option<DateTime<Utc>>,
    /// The schedule's next due tick (`None`: it never fires again).
    pub next: Option<DateTime<Utc>>,
}

/// What the due tick `due` of `cron` does at `now`.
///
/// - handled within [`MISSED_GRACE`] of its time: a job for it; next is the
///   tick after it;
/// - later (no worker ran meanwhile): the ticks from `due` up to the latest
///   one at or before now are missed, except that latest one when it is itself
///   within the grace (it is on time, and made by the next call). `Skip` makes
///   no job for the missed ticks; `RunOnce` makes one, for the latest missed.
pub fn decide(cron: &Cron, missed: Missed, due: DateTime<Utc>, now: DateTime<Utc>) -> Decision {
    let grace = chrono::Duration::from_std(MISSED_GRACE).expect("a few seconds");
    if now - due <= grace {
        return Decision { enqueue: Some(due), next: cron.next_after(due) };
    }
    let latest = cron.last_at_or_before(now).filter(|l| *l >= due).unwrap_or(due);
    let on_time = now - latest <= grace;
    let last_missed = if on_time { cron.last_before(latest).filter(|m| *m >= due) } else { Some(latest) };
    let next = if on_time { Some(latest) } else { cron.next_after(now) };
    let enqueue = match missed {
        Missed::Skip => None,
        Missed::RunOnce => last_missed,
    };
    Decision { enqueue, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next_runs(expr: &str, tz: &str, from: &str, n: usize) -> Vec<String> {
        let c = Cron::parse(expr, tz).unwrap();
        let first = c.next_after(utc(from)).unwrap();
        c.runs_from(first, n).iter().map(|t| t.to_rfc3339()).collect()
    }

    #[test]
    fn a_daily_time_in_the_spring_gap_runs_once_at_the_end_of_the_gap_and_once_in_the_autumn_overlap() {
        // Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
        assert_eq!(
            next_runs("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 4),
            [
                "2026-03-28T01:30:00+00:00", // 02:30 CET
                "2026-03-29T01:00:00+00:00", // 02:30 does not exist: 03:00 CEST, once
                "2026-03-30T00:30:00+00:00", // 02:30 CEST
                "2026-03-31T00:30:00+00:00",
            ]
        );
        assert_eq!(
            next_runs("30 2 * * *", "Europe/Berlin", "2026-10-23T12:00:00Z", 4),
            [
                "2026-10-24T00:30:00+00:00", // 02:30 CEST
                "2026-10-25T00:30:00+00:00", // 02:30 happens twice: the first only
                "2026-10-26T01:30:00+00:00", // 02:30 CET
                "2026-10-27T01:30:00+00:00",
            ]
        );
    }

    #[test]
    fn an_hourly_schedule_stays_hourly_across_both_transitions() {
        // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
        let spring = next_runs("0 * * * *", "America/New_York", "2026-03-08T05:30:00Z", 4);
        assert_eq!(
            spring,
            [
                "2026-03-08T06:00:00+00:00",
                "2026-03-08T07:00:00+00:00",
                "2026-03-08T08:00:00+00:00",
                "2026-03-08T09:00:00+00:00"
            ]
        );
        let autumn = next_runs("@hourly", "America/New_York", "2026-11-01T04:30:00Z", 4);
        assert_eq!(
            autumn,
            [
                "2026-11-01T05:00:00+00:00",
                "2026-11-01T06:00:00+00:00",
                "2026-11-01T07:00:00+00:00",
                "2026-11-01T08:00:00+00:00"
            ]
        );
    }

    #[test]
    fn the_last_tick_before_a_time_in_the_repeated_hour_is_its_second_pass() {
        // America/New_York: 01:00 EDT is 05:00Z, 01:00 EST is 06:00Z.
        let c = Cron::parse("0 * * * *", "America/New_York").unwrap();
        assert_eq!(c.last_at_or_before(utc("2026-11-01T06:10:00Z")), Some(utc("2026-11-01T06:00:00Z")));
        assert_eq!(c.last_at_or_before(utc("2026-11-01T06:00:00Z")), Some(utc("2026-11-01T06:00:00Z")));
        assert_eq!(c.last_at_or_before(utc("2026-11-01T05:59:59Z")), Some(utc("2026-11-01T05:00:00Z")));
        assert_eq!(c.last_before(utc("2026-11-01T07:00:00Z")), Some(utc("2026-11-01T06:00:00Z")));
        assert_eq!(c.last_before(utc("2026-11-01T06:00:00Z")), Some(utc("2026-11-01T05:00:00Z")));
        // A tick of the second pass that comes back on time is made, not missed.
        let d = decide(&c, Missed::Skip, utc("2026-11-01T04:00:00Z"), utc("2026-11-01T06:00:03Z"));
        assert_eq!(d, Decision { enqueue: None, next: Some(utc("2026-11-01T06:00:00Z")) });
    }

    #[test]
    fn names_zones_and_seconds() {
        assert_eq!(
            next_runs("@daily", "Asia/Kolkata", "2026-12-02T12:00:00Z", 2),
            ["2026-12-02T18:30:00+00:00", "2026-12-03T18:30:00+00:00"]
        );
        assert_eq!(
            next_runs("*/20 * * * * *", "UTC", "2026-12-02T12:00:00.500Z", 3),
            ["2026-12-02T12:00:20+00:00", "2026-12-02T12:00:40+00:00", "2026-12-02T12:01:00+00:00"]
        );
        assert_eq!(next_runs("0 9 * * MON-FRI", "UTC", "2026-12-04T10:00:00Z", 1), ["2026-12-07T09:00:00+00:00"]);
    }

    #[test]
    fn bad_expressions_zones_and_names_are_refused_naming_the_field() {
        for expr in ["", "* * * *", "61 * * * *", "* * * * * * 2026", "@often", "a b c d e"] {
            match Cron::parse(expr, "UTC") {
                Err(Error::Invalid { field: "cron", .. }) => {}
                other => panic!("{expr:?}: {other:?}"),
            }
        }
        assert!(matches!(Cron::parse("* * * * *", "Mars/Olympus"), Err(Error::Invalid { field: "timezone", .. })));
        assert!(matches!(Cron::parse("* * * * *", ""), Err(Error::Invalid { field: "timezone", .. })));
        for bad in ["", "a b", "x/y", &"n".repeat(101), "ü"] {
            assert!(matches!(check_name(bad), Err(Error::Invalid { field: "name", .. })), "{bad:?}");
        }
        check_name("nightly-report_v2.1").unwrap();
    }

    #[test]
    fn due_ticks_run_on_time_and_missed_ones_follow_the_policy() {
        let every_second = Cron::parse("* * * * * *", "UTC").unwrap();
        let t = |s: i64| Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap();
        // On time (within the grace): a job for the tick, then the next second.
        let d = decide(&every_second, Missed::Skip, t(0), t(0) + chrono::Duration::milliseconds(300));
        assert_eq!(d, Decision { enqueue: Some(t(0)), next: Some(t(1)) });
        // Ten seconds late: the latest tick (t(10)) is on time, t(0)..t(9) are missed.
        let now = t(10) + chrono::Duration::milliseconds(200);
        assert_eq!(decide(&every_second, Missed::Skip, t(0), now), Decision { enqueue: None, next: Some(t(10)) });
        assert_eq!(
            decide(&every_second, Missed::RunOnce, t(0), now),
            Decision { enqueue: Some(t(9)), next: Some(t(10)) }
        );
        // Hourly, three hours and twenty minutes late: every tick is missed.
        let hourly = Cron::parse("0 * * * *", "UTC").unwrap();
        let h =
            |hours: i64, minutes: i64| utc("2026-12-02T08:00:00Z") + chrono::Duration::minutes(hours * 60 + minutes);
        assert_eq!(decide(&hourly, Missed::Skip, h(0, 0), h(3, 20)), Decision { enqueue: None, next: Some(h(4, 0)) });
        assert_eq!(
            decide(&hourly, Missed::RunOnce, h(0, 0), h(3, 20)),
            Decision { enqueue: Some(h(3, 0)), next: Some(h(4, 0)) }
        );
    }
}
