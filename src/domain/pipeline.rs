//! The pipeline report (leads SOP, stage 6: "laporan pipeline penjualan secara berkala
//! (mingguan/bulanan)", "tingkat konversi, durasi siklus penjualan, dan performa masing-masing
//! sales"): what a week or a month of leads, deals, quotation cadences and after-service
//! follow-ups came to, per branch and per rep.
//!
//! Pure counting over what the store gives; every date is the branch's own day.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::cadence::{FollowUp, FollowUpStatus};
use super::ids::{BranchId, UserId};
use super::lead::{Lead, Quotation, Stage, REVISION_NOT_SAME_DAY};
use super::time::local_date;

/// A lead with what the report needs of its quotations.
#[derive(Debug, Clone)]
pub struct LeadFacts {
    pub lead: Lead,
    /// A quotation was sent to it.
    pub quoted: bool,
    /// The won deal's value: its contract's, else its last quotation's.
    pub value: Option<i64>,
}

/// The counts and rates of one branch or one rep over the period. A rate is `None` when
/// there was nothing to divide by.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Leads received in the period.
    pub leads_in: i64,
    /// Of those, the ones whose first-contact deadline has passed or who were contacted (the
    /// others cannot be judged yet), and how many were contacted in time.
    pub first_contact_due: i64,
    pub first_contact_on_time: i64,
    pub first_contact_sla_rate: Option<f64>,
    /// Of the leads received in the period: sent a quotation, won (now won or a past client).
    pub quoted: i64,
    pub won_from_leads_in: i64,
    /// quoted / leads_in, won among the quoted / quoted, won / leads_in.
    pub lead_to_quotation_rate: Option<f64>,
    pub quotation_to_won_rate: Option<f64>,
    pub lead_to_won_rate: Option<f64>,
    /// Deals decided in the period, whenever they came in.
    pub deals_won: i64,
    /// In rupiah: the contracts' value, else the last quotation's.
    pub won_value: i64,
    /// Days from receipt to the deal, of the deals won in the period.
    pub cycle_days_median: Option<f64>,
    pub cycle_days_p90: Option<f64>,
    pub deals_lost: i64,
    pub lost_reasons: BTreeMap<String, i64>,
    /// Quotations sent in the period, and revisions among them not sent on the day asked.
    pub quotations_sent: i64,
    pub revisions_not_same_day: i64,
    /// Quotation cadence steps due in the period (done, or missed), and those done on their day.
    pub quotation_steps_due: i64,
    pub quotation_steps_on_time: i64,
    pub quotation_cadence_adherence: Option<f64>,
    /// After-service contacts due in the period (done, or missed), and those done on their day.
    pub after_service_due: i64,
    pub after_service_on_time: i64,
    pub after_service_on_time_rate: Option<f64>,
    pub testimonials_requested: i64,
    pub testimonials_obtained: i64,
    #[serde(skip)]
    cycles: Vec<f64>,
    #[serde(skip)]
    won_quoted: i64,
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

/// The median and the 90th percentile (nearest rank) of `values`, to one decimal.
pub fn median_p90(values: &mut [f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
    let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
    let one = |x: f64| (x * 10.0).round() / 10.0;
    (Some(one(median)), Some(one(values[rank - 1])))
}

impl Metrics {
    fn finish(&mut self) {
        self.first_contact_sla_rate = rate(self.first_contact_on_time, self.first_contact_due);
        self.lead_to_quotation_rate = rate(self.quoted, self.leads_in);
        self.quotation_to_won_rate = rate(self.won_quoted, self.quoted);
        self.lead_to_won_rate = rate(self.won_from_leads_in, self.leads_in);
        self.quotation_cadence_adherence = rate(self.quotation_steps_on_time, self.quotation_steps_due);
        self.after_service_on_time_rate = rate(self.after_service_on_time, self.after_service_due);
        (self.cycle_days_median, self.cycle_days_p90) = median_p90(&mut self.cycles);
    }
}

/// One row of the report: a branch (`rep_id` none) or a rep of it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub branch_id: BranchId,
    pub rep_id: Option<UserId>,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// The period the report covers, in each branch's own days, and the instant it was made (what
/// is not yet due then is not judged).
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub now: DateTime<Utc>,
}

impl Period {
    fn holds(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
}

/// Counts everything into a row per branch and per (branch, rep), branches first.
pub fn report(
    period: Period,
    zone: &dyn Fn(BranchId) -> Tz,
    leads: &[LeadFacts],
    quotations: &[(Quotation, Option<UserId>)],
    follow_ups: &[FollowUp],
) -> Vec<Row> {
    let mut rows: BTreeMap<(BranchId, Option<UserId>), Metrics> = BTreeMap::new();
    let mut count = |branch: BranchId, rep: Option<UserId>, f: &dyn Fn(&mut Metrics)| {
        f(rows.entry((branch, None)).or_default());
        if let Some(r) = rep {
            f(rows.entry((branch, Some(r))).or_default());
        }
    };
    for facts in leads {
        let l = &facts.lead;
        let tz = zone(l.branch_id);
        if period.holds(local_date(l.received_at, tz)) {
            let due = l.first_contact_due_at <= period.now || l.first_contacted_at.is_some();
            let on_time = l.first_contacted_at.is_some_and(|c| c <= l.first_contact_due_at);
            let won = matches!(l.stage, Stage::Won | Stage::PastClient);
            count(l.branch_id, l.assignee_id, &|m| {
                m.leads_in += 1;
                m.first_contact_due += i64::from(due);
                m.first_contact_on_time += i64::from(on_time);
                m.quoted += i64::from(facts.quoted);
                m.won_from_leads_in += i64::from(won);
                m.won_quoted += i64::from(won && facts.quoted);
            });
        }
        let Some(closed) = l.closed_at.filter(|c| period.holds(local_date(*c, tz))) else { continue };
        match l.stage {
            Stage::Won | Stage::PastClient => {
                let days = (closed - l.received_at).num_minutes().max(0) as f64 / (24.0 * 60.0);
                let value = facts.value.unwrap_or(0);
                count(l.branch_id, l.assignee_id, &|m| {
                    m.deals_won += 1;
                    m.won_value = m.won_value.saturating_add(value);
                    m.cycles.push(days);
                });
            }
            Stage::Lost => {
                let reason = l.lost_reason.clone().unwrap_or_else(|| "other".into());
                count(l.branch_id, l.assignee_id, &|m| {
                    m.deals_lost += 1;
                    *m.lost_reasons.entry(reason.clone()).or_default() += 1;
                });
            }
            _ => {}
        }
    }
    for (q, rep) in quotations {
        if q.sent_on.is_some_and(|d| period.holds(d)) {
            let late = q.finding.as_deref() == Some(REVISION_NOT_SAME_DAY);
            count(q.branch_id, *rep, &|m| {
                m.quotations_sent += 1;
                m.revisions_not_same_day += i64::from(late);
            });
        }
    }
    for f in follow_ups {
        if !period.holds(f.due_date) {
            continue;
        }
        let tz = zone(f.branch_id);
        let judged = matches!(f.status, FollowUpStatus::Done | FollowUpStatus::Missed);
        if !judged {
            continue;
        }
        let on_time = f.status == FollowUpStatus::Done && f.done_at.is_some_and(|d| local_date(d, tz) <= f.due_date);
        let outcome = |key: &str| f.outcome.as_ref().and_then(|o| o.get(key)).and_then(|v| v.as_bool()) == Some(true);
        let (asked, given) = (outcome("testimonial_requested"), outcome("testimonial_given"));
        match f.cadence.as_str() {
            "quotation" => count(f.branch_id, Some(f.assignee_id), &|m| {
                m.quotation_steps_due += 1;
                m.quotation_steps_on_time += i64::from(on_time);
            }),
            "after_service" => count(f.branch_id, Some(f.assignee_id), &|m| {
                m.after_service_due += 1;
                m.after_service_on_time += i64::from(on_time);
                m.testimonials_requested += i64::from(asked);
                m.testimonials_obtained += i64::from(given);
            }),
            _ => {}
        }
    }
    rows.into_iter()
        .map(|((branch_id, rep_id), mut metrics)| {
            metrics.finish();
            Row { branch_id, rep_id, metrics }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90_by_nearest_rank() {
        assert_eq!(median_p90(&mut []), (None, None));
        assert_eq!(median_p90(&mut [5.0]), (Some(5.0), Some(5.0)));
        assert_eq!(median_p90(&mut [4.0, 1.0, 3.0, 2.0]), (Some(2.5), Some(4.0)));
        let mut ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_p90(&mut ten), (Some(5.5), Some(9.0)));
    }

    #[test]
    fn rates_are_none_without_a_whole() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(2, 3), Some(0.667));
    }
}
