//! Time in branch time zones: the local date of an instant, the midnight deadline of a date,
//! and working days.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The years a stored date may fall in (visits, follow-ups, tasks, holidays, import rows,
/// policy versions): a year 0 or 9999 parses, but it is no real visit's, and the bound keeps
/// every working-day count and SQL date comparison well inside chrono's and the databases' range.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

/// Whether `date` falls in [`YEARS`].
pub fn plausible(date: NaiveDate) -> bool {
    YEARS.contains(&date.year())
}

/// The calendar date of `at` in `tz`.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// 24:00 local of `date` in `tz` (= 00:00 of the next day), as a UTC instant: the same-day
/// upload deadline of RULES.md §4.
pub fn end_of_local_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date);
    let midnight = next.and_hms_opt(0, 0, 0).expect("00:00:00 is a valid time");
    // Indonesian zones have no DST, but be correct elsewhere too: take the earliest
    // valid instant at or after local midnight.
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => tz.from_utc_datetime(&midnight).with_timezone(&Utc),
    }
}

/// The working days of a branch: its working weekdays (Monday–Friday by default) minus the
/// holidays operators load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Monday = 0 … Sunday = 6.
    weekdays: [bool; 7],
    holidays: std::collections::BTreeSet<NaiveDate>,
}

impl Default for Calendar {
    /// Monday–Friday, no holidays.
    fn default() -> Self {
        Calendar { weekdays: [true, true, true, true, true, false, false], holidays: Default::default() }
    }
}

/// The weekday names a branch's working days are written with.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Calendar {
    pub fn new(weekdays: [bool; 7], holidays: impl IntoIterator<Item = NaiveDate>) -> Calendar {
        Calendar { weekdays, holidays: holidays.into_iter().collect() }
    }

    /// Reads `mon,tue,wed,thu,fri` (any order, at least one day).
    pub fn parse_weekdays(text: &str) -> Result<[bool; 7], String> {
        let mut days = [false; 7];
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let i = WEEKDAYS
                .iter()
                .position(|d| d.eq_ignore_ascii_case(part))
                .ok_or_else(|| format!("{part:?} is not a weekday (mon … sun)"))?;
            days[i] = true;
        }
        if !days.contains(&true) {
            return Err("at least one working weekday is needed".into());
        }
        Ok(days)
    }

    /// The weekdays written back as `mon,tue,…`.
    pub fn weekdays_text(weekdays: [bool; 7]) -> String {
        WEEKDAYS.iter().zip(weekdays).filter(|(_, on)| *on).map(|(d, _)| *d).collect::<Vec<_>>().join(",")
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.weekdays[date.weekday().num_days_from_monday() as usize] && !self.holidays.contains(&date)
    }

    /// The date `n` working days after `date` (`n = 0` is the next working day on or after it).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        // At least one weekday works, so a working day comes within a week of any run of holidays
        // shorter than the calendar; give up after ten years rather than loop for ever.
        let limit = date + Days::new(3660);
        let mut current = date;
        while !self.is_working_day(current) && current < limit {
            current = current + Days::new(1);
        }
        let mut left = n;
        while left > 0 && current < limit {
            current = current + Days::new(1);
            if self.is_working_day(current) {
                left -= 1;
            }
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn local_dates_follow_the_branch_zone() {
        // 17:30 UTC is 00:30 next day in WIB (UTC+7) and 02:30 in WIT (UTC+9).
        let at: DateTime<Utc> = "2026-11-23T17:30:00Z".parse().unwrap();
        assert_eq!(local_date(at, chrono_tz::Asia::Jakarta), d("2026-11-24"));
        let at: DateTime<Utc> = "2026-11-23T16:30:00Z".parse().unwrap();
        assert_eq!(local_date(at, chrono_tz::Asia::Jakarta), d("2026-11-23"));
        assert_eq!(local_date(at, chrono_tz::Asia::Jayapura), d("2026-11-24"));
    }

    #[test]
    fn the_deadline_is_local_midnight() {
        let cases = [
            (chrono_tz::Asia::Jakarta, "2026-11-23T17:00:00Z"),
            (chrono_tz::Asia::Makassar, "2026-11-23T16:00:00Z"),
            (chrono_tz::Asia::Jayapura, "2026-11-23T15:00:00Z"),
        ];
        for (tz, expected) in cases {
            assert_eq!(end_of_local_day(d("2026-11-23"), tz).to_rfc3339(), expected.replace('Z', "+00:00"));
        }
    }

    #[test]
    fn working_days_skip_weekends() {
        let cases = [
            ("2026-11-20", 0, "2026-11-20"), // Friday
            ("2026-11-20", 1, "2026-11-23"), // Friday + 1 = Monday
            ("2026-11-21", 0, "2026-11-23"), // Saturday → Monday
            ("2026-11-23", 3, "2026-11-26"),
            ("2026-11-26", 3, "2026-12-01"),
        ];
        for (from, n, expected) in cases {
            assert_eq!(Calendar::default().add_working_days(d(from), n), d(expected), "{from} + {n}");
        }
    }

    #[test]
    fn holidays_and_branch_weekdays_are_not_working_days() {
        // Idul Fitri 2026: 20–24 March are holidays or collective leave (SKB 1497/2025).
        let holidays = ["2026-03-19", "2026-03-20", "2026-03-23", "2026-03-24"].map(d);
        let cal = Calendar::new(Calendar::parse_weekdays("mon,tue,wed,thu,fri").unwrap(), holidays);
        assert_eq!(cal.add_working_days(d("2026-03-18"), 1), d("2026-03-25"), "Wednesday + 1 skips the holidays and the weekend");
        assert_eq!(cal.add_working_days(d("2026-03-19"), 0), d("2026-03-25"));
        let six_days = Calendar::new(Calendar::parse_weekdays("mon,tue,wed,thu,fri,sat").unwrap(), []);
        assert_eq!(six_days.add_working_days(d("2026-11-20"), 1), d("2026-11-21"), "a branch that works Saturdays");
        assert_eq!(Calendar::weekdays_text(Calendar::parse_weekdays("sat, MON").unwrap()), "mon,sat");
        assert!(Calendar::parse_weekdays("mon,funday").is_err());
        assert!(Calendar::parse_weekdays("").is_err());
        // A calendar with every day a holiday does not hang.
        let all: Vec<NaiveDate> = (0..40).map(|i| d("2026-01-01") + Days::new(i)).collect();
        let blocked = Calendar::new([true; 7], all);
        assert_eq!(blocked.add_working_days(d("2026-01-01"), 2), d("2026-02-12"));
    }
}
