//! Cron schedules through the `Queue` client, against a real redis-server
//! and no worker (the tests call `tick_schedules` themselves): create,
//! replace, read, list, pause, resume, delete; bad definitions refused
//! writing nothing; many concurrent tickers on one due tick make one job.

use redis::AsyncCommands;
use serde_json::json;
use taskq::schedule::{Missed, ScheduleSpec};
use taskq::{Error, Queue, Status};
use testkit::client::*;

fn spec(cron: &str) -> ScheduleSpec {
    ScheduleSpec {
        cron: cron.into(),
        timezone: "Europe/Berlin".into(),
        task: "long_task".into(),
        args: json!({"duration": 0, "payload": "nightly"}),
        queue: "default".into(),
        missed: Missed::Skip,
    }
}

/// Every key under the schedule prefixes.
async fn schedule_keys(q: &Queue, conn: &mut redis::aio::MultiplexedConnection) -> Vec<String> {
    let mut keys: Vec<String> = conn.keys(format!("{}*", q.keys().schedule_prefix())).await.unwrap();
    keys.extend(conn.keys::<_, Vec<String>>(q.keys().schedules()).await.unwrap());
    keys
}

#[tokio::test]
async fn schedules_are_created_replaced_read_listed_paused_resumed_and_deleted() {
    let (server, q) = start().await;
    let (s, created) = q.put_schedule("nightly", spec("30 2 * * *")).await.unwrap();
    assert!(created);
    assert_eq!((s.name.as_str(), s.paused, s.next_runs.len()), ("nightly", false, 5));
    let first = chrono::DateTime::parse_from_rfc3339(&s.next_runs[0]).unwrap();
    assert!(first > chrono::Utc::now() && first < chrono::Utc::now() + chrono::Duration::days(2), "{s:?}");
    assert!(s.last_run_at.is_none() && s.last_job_id.is_none());

    let (hourly, created) = q.put_schedule("nightly", spec("@hourly")).await.unwrap();
    assert!(!created);
    assert_eq!(hourly.spec.cron, "@hourly");
    assert_eq!(hourly.created_at, s.created_at, "a replace keeps the creation time");
    q.put_schedule("another", ScheduleSpec { missed: Missed::RunOnce, ..spec("0 9 * * MON-FRI") }).await.unwrap();
    let names: Vec<String> = q.schedules().await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["another", "nightly"]);

    let paused = q.set_schedule_paused("nightly", true).await.unwrap().unwrap();
    assert!(paused.paused && paused.next_runs.is_empty());
    let mut c = redis_conn(&server).await;
    let score: f64 = c.zscore(q.keys().schedules(), "nightly").await.unwrap();
    assert!(score.is_infinite(), "a paused schedule is never due");
    // A replace keeps it paused.
    assert!(q.put_schedule("nightly", spec("@hourly")).await.unwrap().0.paused);
    let resumed = q.set_schedule_paused("nightly", false).await.unwrap().unwrap();
    assert!(!resumed.paused && resumed.next_runs.len() == 5);

    assert!(q.delete_schedule("nightly").await.unwrap());
    assert!(!q.delete_schedule("nightly").await.unwrap());
    assert!(q.schedule("nightly").await.unwrap().is_none());
    assert!(q.set_schedule_paused("nightly", true).await.unwrap().is_none());
    assert!(q.delete_schedule("another").await.unwrap());
    assert!(schedule_keys(&q, &mut c).await.is_empty());
}

#[tokio::test]
async fn bad_definitions_are_refused_naming_the_field_and_write_nothing() {
    let (server, q) = start().await;
    let mut c = redis_conn(&server).await;
    let field = |r: Result<_, Error>| match r {
        Err(Error::Invalid { field, .. }) => field.to_owned(),
        Err(Error::UnknownTask(_)) => "task".into(),
        Err(Error::UnknownQueue(_)) => "queue".into(),
        Err(Error::InvalidArgs(a)) => format!("args.{}", a.field),
        other => panic!("accepted: {other:?}"),
    };
    let cases = [
        ("ok", spec("not a cron"), "cron"),
        ("ok", spec("* * * *"), "cron"),
        ("ok", ScheduleSpec { timezone: "Mars/Olympus".into(), ..spec("@daily") }, "timezone"),
        ("ok", ScheduleSpec { task: "nope".into(), ..spec("@daily") }, "task"),
        ("ok", ScheduleSpec { queue: "low".into(), ..spec("@daily") }, "queue"),
        ("ok", ScheduleSpec { args: json!({"duration": -1}), ..spec("@daily") }, "args.duration"),
        ("bad name", spec("@daily"), "name"),
        ("", spec("@daily"), "name"),
    ];
    for (name, s, want) in cases {
        assert_eq!(field(q.put_schedule(name, s).await), want);
    }
    assert!(schedule_keys(&q, &mut c).await.is_empty(), "a refused schedule wrote nothing");
    let dbsize: u64 = redis::cmd("DBSIZE").query_async(&mut c).await.unwrap();
    assert_eq!(dbsize, 0);
}

#[tokio::test]
async fn concurrent_tickers_make_one_job_per_tick() {
    let (server, q) = start().await;
    let mut c = redis_conn(&server).await;
    q.put_schedule("every-second", ScheduleSpec { timezone: "UTC".into(), ..spec("* * * * * *") }).await.unwrap();
    // Make the current second's tick due now (the next one is still ahead),
    // then let 16 tickers at it at once.
    let due = chrono::Utc::now().timestamp() * 1000;
    let _: () = c.zadd(q.keys().schedules(), "every-second", due).await.unwrap();
    let tickers: Vec<_> = (0..16)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move { q.tick_schedules(10).await.unwrap() })
        })
        .collect();
    let mut handled = 0;
    for t in tickers {
        handled += t.await.unwrap();
    }
    assert_eq!(handled, 1, "one ticker handled the tick");
    let ids: Vec<String> = c.lrange(q.keys().queue("default"), 0, -1).await.unwrap();
    assert_eq!(ids.len(), 1, "one job");
    let job = get(&q, &ids[0]).await;
    assert_eq!(
        (job.status, job.schedule.as_deref(), job.task.as_str()),
        (Status::Queued, Some("every-second"), "long_task")
    );
    let tick = chrono::DateTime::from_timestamp_millis(due).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(job.tick.as_deref(), Some(tick.as_str()));
    let s = q.schedule("every-second").await.unwrap().unwrap();
    assert_eq!((s.last_job_id.as_deref(), s.last_run_at.as_deref()), (Some(ids[0].as_str()), Some(tick.as_str())));
    let next: f64 = c.zscore(q.keys().schedules(), "every-second").await.unwrap();
    assert_eq!(next as i64, due + 1000, "moved on to the next tick");
    // Replaying the same tick (as after a failover that lost the move) answers the same job.
    let _: () = c.zadd(q.keys().schedules(), "every-second", due).await.unwrap();
    q.tick_schedules(10).await.unwrap();
    let ids_after: Vec<String> = c.lrange(q.keys().queue("default"), 0, -1).await.unwrap();
    assert_eq!(ids_after, ids, "the tick's key answered its live job");
}

#[tokio::test]
async fn ticks_missed_beyond_the_grace_follow_the_policy() {
    let (server, q) = start().await;
    let mut c = redis_conn(&server).await;
    for (name, missed) in [("skip", Missed::Skip), ("once", Missed::RunOnce)] {
        q.put_schedule(name, ScheduleSpec { timezone: "UTC".into(), missed, ..spec("* * * * * *") }).await.unwrap();
        // Due 30 s ago: 29 ticks missed, the latest one on time.
        let due = (chrono::Utc::now() - chrono::Duration::seconds(30)).timestamp() * 1000;
        let _: () = c.zadd(q.keys().schedules(), name, due).await.unwrap();
    }
    q.tick_schedules(10).await.unwrap();
    let ids: Vec<String> = c.lrange(q.keys().queue("default"), 0, -1).await.unwrap();
    let jobs = q.get_many(&ids).await.unwrap();
    let of = |n: &str| jobs.iter().filter(|j| j.schedule.as_deref() == Some(n)).count();
    assert_eq!((of("skip"), of("once")), (0, 1), "skip makes none for the missed ticks, run_once one");
    // Both now wait for a tick within the last second or two: on time, made by the next call.
    q.tick_schedules(10).await.unwrap();
    let ids: Vec<String> = c.lrange(q.keys().queue("default"), 0, -1).await.unwrap();
    let jobs = q.get_many(&ids).await.unwrap();
    let of = |n: &str| jobs.iter().filter(|j| j.schedule.as_deref() == Some(n)).count();
    assert_eq!((of("skip"), of("once")), (1, 2));
}
