//! Cron schedules: create or replace, read, list, delete, pause, resume, and
//! the tick that makes due schedules' jobs (called by every worker's timer).

use super::{Error, Queue};
use crate::schedule::{Schedule, ScheduleSpec};

impl Queue {
    /// Creates or replaces schedule `name`; returns it and whether it is new.
    pub async fn put_schedule(&self, name: &str, spec: ScheduleSpec) -> Result<(Schedule, bool), Error> {
        let _ = (name, spec);
        todo!("put_schedule")
    }

    /// Schedule `name`, if it exists.
    pub async fn schedule(&self, name: &str) -> Result<Option<Schedule>, Error> {
        let _ = name;
        todo!("schedule")
    }

    /// Every schedule, by name.
    pub async fn schedules(&self) -> Result<Vec<Schedule>, Error> {
        todo!("schedules")
    }

    /// Deletes schedule `name`; false if there was none. Its jobs stay.
    pub async fn delete_schedule(&self, name: &str) -> Result<bool, Error> {
        let _ = name;
        todo!("delete_schedule")
    }

    /// Pauses or resumes schedule `name`; `None` if there is none.
    pub async fn set_schedule_paused(&self, name: &str, paused: bool) -> Result<Option<Schedule>, Error> {
        let _ = (name, paused);
        todo!("set_schedule_paused")
    }

    /// Makes the jobs of up to `batch` due schedule ticks; returns how many
    /// jobs it made. Any number of workers may call it at once: each tick
    /// makes one job at most.
    pub async fn tick_schedules(&self, batch: usize) -> Result<u64, Error> {
        let _ = batch;
        Ok(0)
    }
}
