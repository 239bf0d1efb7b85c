//! Customer classes from shipment volumes (RULES.md §1).
//!
//! Like is compared with like. The level (A–F) is last month's average daily AWB, a whole month,
//! stable all month. Lost and Lost Warning compare this month so far (the 1st to yesterday)
//! with the same span of last month, and are not decided before the month has run the policy's
//! minimum number of days — so the 1st of a month does not make every customer Lost. When several
//! apply: Lost > Lost Warning > New > level. The level is kept as the customer's previous level,
//! which decides whether a Lost Warning contact must be a door visit.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use super::customer::CustomerClass;
use super::policy::ClassPolicy;

/// The date spans a classification on `today` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spans {
    pub today: NaiveDate,
    pub last_month: (NaiveDate, NaiveDate),
    /// Last month's 1st to its day matching yesterday (clamped to its end).
    pub same_span_end: NaiveDate,
    /// This month's 1st to yesterday (empty on the 1st: `from > to`).
    pub month_to_date: (NaiveDate, NaiveDate),
    /// Days of this month before today.
    pub elapsed: u32,
}

pub fn spans(today: NaiveDate) -> Spans {
    let first = today.with_day(1).unwrap_or(today);
    let lm_first = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    let lm_last = first.pred_opt().unwrap_or(first);
    let elapsed = today.day() - 1;
    let same_span_end =
        if elapsed == 0 { lm_first.pred_opt().unwrap_or(lm_first) } else { (lm_first + Days::new(u64::from(elapsed) - 1)).min(lm_last) };
    Spans { today, last_month: (lm_first, lm_last), same_span_end, month_to_date: (first, today.pred_opt().unwrap_or(today)), elapsed }
}

/// A customer's class and level, with the figures that decided them.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub class: CustomerClass,
    /// The level (A–F) from last month's daily average.
    pub level: CustomerClass,
    pub reason: serde_json::Value,
}

fn days(span: (NaiveDate, NaiveDate)) -> i64 {
    (span.1 - span.0).num_days() + 1
}

/// The level from an average daily volume.
pub fn level(p: &ClassPolicy, daily: f64) -> CustomerClass {
    use CustomerClass::*;
    [
        (p.level_a_min_daily_awb, A),
        (p.level_b_min_daily_awb, B),
        (p.level_c_min_daily_awb, C),
        (p.level_d_min_daily_awb, D),
        (p.level_e_min_daily_awb, E),
    ]
    .into_iter()
    .find(|(min, _)| daily > *min)
    .map_or(F, |(_, l)| l)
}

/// Classifies one customer created on `created_on` from its volume sums over `s`.
pub fn classify(p: &ClassPolicy, s: &Spans, created_on: NaiveDate, last_month: i64, same_span: i64, month_to_date: i64) -> Classified {
    let lm_daily = last_month as f64 / days(s.last_month) as f64;
    let level = level(p, lm_daily);
    let decided = s.elapsed >= p.min_days_into_month;
    let same_days = if s.elapsed == 0 { 0 } else { (s.same_span_end - s.last_month.0).num_days() + 1 };
    let mtd_daily = if s.elapsed == 0 { 0.0 } else { month_to_date as f64 / f64::from(s.elapsed) };
    let same_daily = if same_days == 0 { 0.0 } else { same_span as f64 / same_days as f64 };
    let new_until = created_on.checked_add_months(Months::new(p.new_customer_months)).unwrap_or(created_on);
    let (class, rule) = if decided && last_month > 0 && month_to_date == 0 {
        (CustomerClass::Lost, "shipped last month, nothing this month")
    } else if decided && same_span > 0 && mtd_daily <= (1.0 - p.lost_warning_drop) * same_daily {
        (CustomerClass::LostWarning, "this month so far down by the policy's share against the same span of last month")
    } else if s.today < new_until {
        (CustomerClass::New, "a customer for less than the policy's months")
    } else {
        (level, "last month's average daily AWB")
    };
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let reason = json!({
        "rule": rule,
        "today": s.today,
        "last_month": { "from": s.last_month.0, "to": s.last_month.1, "awb": last_month, "daily": round(lm_daily) },
        "same_span_last_month": { "from": s.last_month.0, "to": s.same_span_end, "awb": same_span, "daily": round(same_daily) },
        "month_to_date": { "from": s.month_to_date.0, "to": s.month_to_date.1, "awb": month_to_date, "daily": round(mtd_daily) },
        "lost_decided": decided,
        "policy": { "classes.min_days_into_month": p.min_days_into_month, "classes.lost_warning_drop": p.lost_warning_drop,
                    "classes.new_customer_months": p.new_customer_months },
    });
    Classified { class, level, reason }
}

/// One change of a customer's class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassChange {
    pub at: DateTime<Utc>,
    pub from_class: CustomerClass,
    pub to_class: CustomerClass,
    pub previous_level: Option<CustomerClass>,
    pub reason: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn spans_compare_like_with_like() {
        let s = spans(d("2026-03-11"));
        assert_eq!(s.last_month, (d("2026-02-01"), d("2026-02-28")));
        assert_eq!(s.month_to_date, (d("2026-03-01"), d("2026-03-10")));
        assert_eq!((s.same_span_end, s.elapsed), (d("2026-02-10"), 10));
        // The 31st against a 30-day month: the span is clamped to its end.
        assert_eq!(spans(d("2026-12-31")).same_span_end, d("2026-11-30"));
        // January looks back at December of the year before.
        assert_eq!(spans(d("2027-01-06")).last_month, (d("2026-12-01"), d("2026-12-31")));
        assert_eq!(spans(d("2026-12-01")).elapsed, 0);
    }

    #[test]
    fn the_classes_of_the_sop() {
        let p = ClassPolicy::default();
        let old = d("2025-01-01");
        let on = |today: &str, lm: i64, same: i64, mtd: i64| classify(&p, &spans(d(today)), old, lm, same, mtd).class;
        use CustomerClass::*;
        // Levels from last month (November: 30 days).
        assert_eq!(on("2026-12-15", 600 * 30, 600 * 14, 600 * 14), A);
        assert_eq!(on("2026-12-15", 301 * 30, 301 * 14, 301 * 14), B);
        assert_eq!(on("2026-12-15", 300 * 30, 300 * 14, 300 * 14), C, "B needs more than 300 a day");
        assert_eq!(on("2026-12-15", 60 * 30, 60 * 14, 60 * 14), D);
        assert_eq!(on("2026-12-15", 2 * 30, 2 * 14, 2 * 14), E);
        assert_eq!(on("2026-12-15", 30, 14, 14), F);
        // Lost and Lost Warning.
        assert_eq!(on("2026-12-15", 3000, 1400, 0), Lost);
        assert_eq!(on("2026-12-15", 3000, 1400, 700), LostWarning, "down 50%");
        assert_eq!(on("2026-12-15", 3000, 1400, 701), D, "down a little less than 50%");
        // The 1st-of-month trap: nothing shipped yet this month is no loss before day 5.
        assert_eq!(on("2026-12-01", 3000, 0, 0), D);
        assert_eq!(on("2026-12-05", 3000, 400, 0), D, "4 days elapsed < 5");
        assert_eq!(on("2026-12-06", 3000, 500, 0), Lost, "5 days elapsed");
        // New: for three months after creation, unless lost.
        let new = |created: &str, mtd: i64| classify(&p, &spans(d("2026-12-15")), d(created), 3000, 1400, mtd).class;
        assert_eq!(new("2026-10-01", 1400), New);
        assert_eq!(new("2026-09-15", 1400), D, "three months old on the 15th");
        assert_eq!(new("2026-10-01", 0), Lost, "Lost wins over New");
    }

    #[test]
    fn the_reason_names_the_figures() {
        let c = classify(&ClassPolicy::default(), &spans(d("2026-12-15")), d("2025-01-01"), 3000, 1400, 0);
        assert_eq!(c.level, CustomerClass::D);
        assert_eq!(c.reason["last_month"]["daily"], 100.0);
        assert_eq!(c.reason["month_to_date"]["awb"], 0);
        assert_eq!(c.reason["rule"], "shipped last month, nothing this month");
    }
}
