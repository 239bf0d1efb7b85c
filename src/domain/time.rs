//! Time in branch time zones: the local date of an instant, the midnight deadline of a date,
//! and working days.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

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

/// Whether a date is a working day (Monday–Friday; holidays come with the scheduler issue).
pub fn is_working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The date `n` working days after `date` (`n = 0` is the next working day on or after it).
pub fn add_working_days(date: NaiveDate, n: u32) -> NaiveDate {
    let mut current = date;
    while !is_working_day(current) {
        current = current + Days::new(1);
    }
    let mut left = n;
    while left > 0 {
        current = current + Days::new(1);
        if is_working_day(current) {
            left -= 1;
        }
    }
    current
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
            assert_eq!(add_working_days(d(from), n), d(expected), "{from} + {n}");
        }
    }
}
