//! `GET /v1/reports/pipeline` and its CSV: the leads SOP's weekly or monthly pipeline report,
//! per branch and per rep, in the caller's scope (a rep sees only their own row, branch roles
//! their branch, HQ and admin every branch). What slipped is also raised as it happens:
//! `lead.sla_breached` (a late first contact) and `follow_up.missed` (a cadence step or an
//! after-service contact not done on its day).

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde::Serialize;

use super::{App, AppError};
use crate::domain::ids::{BranchId, UserId};
use crate::domain::pipeline::{self, Metrics, Period};
use crate::domain::role::{Actor, Role};

/// Rows read per part at most (a month of a large company's leads fits well within).
const READ_LIMIT: u32 = 200_000;

/// The report's period: an ISO week (`2026-W49`, Monday to Sunday) or a month (`2026-12`).
pub fn period_span(week: Option<&str>, month: Option<&str>) -> Result<(String, NaiveDate, NaiveDate), AppError> {
    match (week, month) {
        (Some(w), None) => {
            let bad = || AppError::invalid("invalid_period", format!("{w:?} is not an ISO week written YYYY-Www"));
            let (y, n) = w.split_once("-W").ok_or_else(bad)?;
            if y.len() != 4 || n.len() != 2 {
                return Err(bad());
            }
            let (y, n): (i32, u32) = (y.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
            let from = NaiveDate::from_isoywd_opt(y, n, Weekday::Mon).filter(|_| (2000..=2100).contains(&y)).ok_or_else(bad)?;
            Ok((w.to_string(), from, from + Duration::days(6)))
        }
        (None, Some(m)) => {
            let (from, to) = super::scorecards::month_span(m)
                .filter(|(f, _)| (2000..=2100).contains(&f.year()))
                .ok_or_else(|| AppError::invalid("invalid_period", format!("{m:?} is not a month written YYYY-MM")))?;
            Ok((m.to_string(), from, to))
        }
        _ => Err(AppError::invalid("invalid_period", "give one of week (YYYY-Www) or month (YYYY-MM)")),
    }
}

/// One row as the API shows it: a branch's (no rep) or a rep's.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub branch_id: BranchId,
    pub branch_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rep_id: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rep_name: Option<String>,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Serialize)]
pub struct PipelineReport {
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub branches: Vec<ReportRow>,
    pub reps: Vec<ReportRow>,
}

pub async fn report(
    app: &App,
    actor: &Actor,
    week: Option<&str>,
    month: Option<&str>,
    branch: Option<BranchId>,
) -> Result<PipelineReport, AppError> {
    let (period, from, to) = period_span(week, month)?;
    let scope = actor.scope();
    let zones = super::export_files::branch_zones(app).await?;
    // Every zone's day within the period: from 14 hours before UTC's first day to 14 after its last.
    let start = from.and_time(NaiveTime::MIN).and_utc() - Duration::hours(14);
    let end = (to + Duration::days(1)).and_time(NaiveTime::MIN).and_utc() + Duration::hours(14);
    let leads = app.repo.pipeline_leads(scope, branch, start, end, READ_LIMIT).await?;
    let quotations = app.repo.sent_quotations(scope, branch, from, to, READ_LIMIT).await?;
    let follow_ups = app.repo.due_follow_ups(scope, branch, from, to, READ_LIMIT).await?;
    let zone = |b: BranchId| zones.get(&b).map_or(chrono_tz::Asia::Jakarta, |z| z.1);
    let rows = pipeline::report(Period { from, to, now: app.now() }, &zone, &leads, &quotations, &follow_ups);
    let mut report = PipelineReport { period, from, to, branches: Vec::new(), reps: Vec::new() };
    for r in rows.into_iter().filter(|r| branch.is_none_or(|b| b == r.branch_id)) {
        let branch_code = zones.get(&r.branch_id).map(|z| z.0.clone());
        match r.rep_id {
            // A rep sees only their own row.
            None if actor.role == Role::Sales => {}
            None => {
                report.branches.push(ReportRow { branch_id: r.branch_id, branch_code, rep_id: None, rep_name: None, metrics: r.metrics })
            }
            Some(rep) if actor.role == Role::Sales && rep != actor.id => {}
            Some(rep) => {
                let rep_name = app.repo.get_user(rep).await?.map(|u| u.name);
                report.reps.push(ReportRow { branch_id: r.branch_id, branch_code, rep_id: Some(rep), rep_name, metrics: r.metrics });
            }
        }
    }
    Ok(report)
}

/// The CSV's columns, one row per branch and per rep.
pub const COLUMNS: [&str; 31] = [
    "period",
    "row",
    "branch",
    "rep",
    "rep_id",
    "leads_in",
    "first_contact_due",
    "first_contact_on_time",
    "first_contact_sla_rate",
    "quoted",
    "won_from_leads_in",
    "lead_to_quotation_rate",
    "quotation_to_won_rate",
    "lead_to_won_rate",
    "deals_won",
    "won_value",
    "cycle_days_median",
    "cycle_days_p90",
    "deals_lost",
    "lost_reasons",
    "quotations_sent",
    "revisions_not_same_day",
    "quotation_steps_due",
    "quotation_steps_on_time",
    "quotation_cadence_adherence",
    "after_service_due",
    "after_service_on_time",
    "after_service_on_time_rate",
    "testimonials_requested",
    "testimonials_obtained",
    "from_to",
];

/// The report as CSV rows (the header first).
pub fn csv_rows(r: &PipelineReport) -> Vec<Vec<String>> {
    let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    let row = |kind: &str, x: &ReportRow| {
        let m = &x.metrics;
        vec![
            r.period.clone(),
            kind.to_string(),
            x.branch_code.clone().unwrap_or_else(|| x.branch_id.to_string()),
            x.rep_name.clone().unwrap_or_default(),
            x.rep_id.map(|u| u.to_string()).unwrap_or_default(),
            m.leads_in.to_string(),
            m.first_contact_due.to_string(),
            m.first_contact_on_time.to_string(),
            opt(m.first_contact_sla_rate),
            m.quoted.to_string(),
            m.won_from_leads_in.to_string(),
            opt(m.lead_to_quotation_rate),
            opt(m.quotation_to_won_rate),
            opt(m.lead_to_won_rate),
            m.deals_won.to_string(),
            m.won_value.to_string(),
            opt(m.cycle_days_median),
            opt(m.cycle_days_p90),
            m.deals_lost.to_string(),
            m.lost_reasons.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join("; "),
            m.quotations_sent.to_string(),
            m.revisions_not_same_day.to_string(),
            m.quotation_steps_due.to_string(),
            m.quotation_steps_on_time.to_string(),
            opt(m.quotation_cadence_adherence),
            m.after_service_due.to_string(),
            m.after_service_on_time.to_string(),
            opt(m.after_service_on_time_rate),
            m.testimonials_requested.to_string(),
            m.testimonials_obtained.to_string(),
            format!("{}..{}", r.from, r.to),
        ]
    };
    let mut rows = vec![COLUMNS.iter().map(|c| c.to_string()).collect()];
    rows.extend(r.branches.iter().map(|b| row("branch", b)));
    rows.extend(r.reps.iter().map(|x| row("rep", x)));
    rows
}

/// The report as a CSV file.
pub fn csv(r: &PipelineReport) -> super::export_files::Chunk {
    super::export_files::csv_bytes(csv_rows(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_iso_weeks_or_months() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(period_span(Some("2026-W49"), None).unwrap(), ("2026-W49".into(), d(2026, 11, 30), d(2026, 12, 6)));
        assert_eq!(period_span(None, Some("2026-12")).unwrap(), ("2026-12".into(), d(2026, 12, 1), d(2026, 12, 31)));
        for (w, m) in
            [(Some("2026-W54"), None), (Some("2026-49"), None), (None, Some("2026-13")), (None, None), (Some("2026-W49"), Some("2026-12"))]
        {
            assert!(period_span(w, m).is_err(), "{w:?} {m:?}");
        }
    }
}
