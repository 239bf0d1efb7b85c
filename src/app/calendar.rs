//! Working days and the day close.
//!
//! A branch's calendar is its working weekdays minus the holidays operators load per year
//! (`PUT /v1/holidays/{year}`, `fieldproof holidays load`); every due date in working days is
//! counted on it. At local midnight of each branch's zone the day is closed, once, by a job: the
//! branch's visits of that date still not submitted get `upload_late` (and a
//! `visit.upload_late` event for the rep and the branch), the open tasks due on or before it become
//! `missed` and are escalated to branch marketing (`task.missed`), Lost customers' first, then
//! Lost Warning. A server that was down over midnight closes the days it missed when it comes
//! back (up to 31 days back).

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{events, App, AppError};
use crate::db::{DayCloseDone, DayCloseFound, DayClosePlan, NewJob};
use crate::domain::customer::CustomerClass;
use crate::domain::directory::Branch;
use crate::domain::finding::FindingCode;
use crate::domain::holiday::{Holiday, HolidaySource};
use crate::domain::ids::BranchId;
use crate::domain::role::{Actor, Role};
use crate::domain::rules;
use crate::domain::time::{end_of_local_day, local_date, Calendar};

/// The job kind that closes one branch day.
pub const DAY_CLOSE_JOB: &str = "day_close";
/// How far back a returning server closes missed days.
const CATCH_UP_DAYS: u64 = 31;

/// The branch's calendar, with the holidays around `around` (a year and a month either side).
pub async fn calendar(app: &App, branch: &Branch, around: NaiveDate) -> Result<Calendar, AppError> {
    let from = around - Days::new(400);
    let to = around + Days::new(400);
    let holidays = app.repo.list_holidays(from, to).await?;
    Ok(Calendar::new(branch.working_days, holidays.into_iter().map(|h| h.date)))
}

/// `GET /v1/holidays/{year}`.
pub async fn holidays(app: &App, year: i32) -> Result<Vec<Holiday>, AppError> {
    let (from, to) = year_span(year)?;
    Ok(app.repo.list_holidays(from, to).await?)
}

fn year_span(year: i32) -> Result<(NaiveDate, NaiveDate), AppError> {
    match (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) {
        (Some(a), Some(b)) if (2000..=2100).contains(&year) => Ok((a, b)),
        _ => Err(AppError::invalid("invalid_year", format!("{year} is not a year between 2000 and 2100"))),
    }
}

/// `PUT /v1/holidays/{year}` (admin; the CLI runs the same): replaces the year's holidays and
/// records who set them. The same list again changes nothing.
pub async fn set_holidays(
    app: &App,
    actor: Option<&Actor>,
    year: i32,
    mut list: Vec<Holiday>,
    source: HolidaySource,
) -> Result<Vec<Holiday>, AppError> {
    super::access::require(actor.is_none_or(|a| a.role == Role::Admin), "holidays are managed by admins")?;
    let (from, to) = year_span(year)?;
    list.sort_by_key(|h| h.date);
    for h in &list {
        if h.date < from || h.date > to {
            return Err(AppError::invalid("holiday_wrong_year", format!("{} is not in {year}", h.date)));
        }
        if !["holiday", "collective_leave"].contains(&h.kind.as_str()) {
            return Err(AppError::invalid("invalid_field", format!("kind {:?}: holiday or collective_leave", h.kind)));
        }
        if h.name.trim().is_empty() || h.name.chars().count() > 200 {
            return Err(AppError::invalid("invalid_field", format!("{}: a name of 1 to 200 characters", h.date)));
        }
    }
    if let Some(w) = list.windows(2).find(|w| w[0].date == w[1].date) {
        return Err(AppError::invalid("invalid_field", format!("{} is listed twice", w[0].date)));
    }
    app.repo.replace_holidays(year, &list, source).await?;
    if let Some(a) = actor {
        app.repo.append_audit(&app.audit(a, "holidays.replaced", "holidays", year.to_string(), json!({ "days": list.len() }))).await?;
    }
    Ok(list)
}

/// Enqueues the day closes due at `now`: for each branch, every local date after its last closed
/// day (or yesterday, the first time) up to yesterday, under one unique key per branch and date.
pub async fn enqueue_day_closes(app: &App, branches: &[Branch], now: DateTime<Utc>) -> Result<usize, crate::db::RepoError> {
    let mut enqueued = 0;
    for branch in branches {
        let today = local_date(now, branch.time_zone);
        let yesterday = today - Days::new(1);
        let first = match app.repo.last_closed_day(branch.id).await? {
            Some(last) => (last + Days::new(1)).max(today - Days::new(CATCH_UP_DAYS)),
            None => yesterday,
        };
        let mut date = first;
        while date <= yesterday {
            let job = NewJob {
                id: Uuid::new_v4(),
                kind: DAY_CLOSE_JOB.into(),
                unique_key: Some(format!("{DAY_CLOSE_JOB}:{}:{date}", branch.id)),
                payload: json!({ "branch_id": branch.id, "date": date }),
                run_at: now,
            };
            enqueued += usize::from(app.repo.enqueue_job(&job, now).await?);
            date = date + Days::new(1);
        }
    }
    Ok(enqueued)
}

/// The branch and the date of a `day_close` job.
pub fn day_close_of(payload: &serde_json::Value) -> Result<(BranchId, NaiveDate), String> {
    let branch: BranchId =
        payload["branch_id"].as_str().and_then(|s| s.parse().ok()).map(BranchId).ok_or("day_close without a branch_id")?;
    let date: NaiveDate = payload["date"].as_str().and_then(|s| s.parse().ok()).ok_or("day_close without a date")?;
    Ok((branch, date))
}

/// The `day_close` job's visits, tasks, reviews and follow-ups (the pipeline's contracts are
/// `leads::end_contracts`, run by the same job after this).
pub async fn run_day_close(app: &App, payload: &serde_json::Value) -> Result<(), String> {
    let (branch, date) = day_close_of(payload)?;
    close_day(app, branch, date).await.map(drop).map_err(|e| e.to_string())
}

/// Closes one branch day (idempotent: `None` when it was closed already).
#[tracing::instrument(skip_all, fields(%branch_id, %date), err(level = "debug"))]
pub async fn close_day(app: &App, branch_id: BranchId, date: NaiveDate) -> Result<Option<DayCloseDone>, AppError> {
    let branch = app.branch(branch_id).await?;
    let now = app.now();
    let deadline = end_of_local_day(date, branch.time_zone);
    // The policy in force on the day being closed.
    let (_, policy) = super::policies::policy_at(app, date).await?;
    let tz = branch.time_zone;
    // The next branch day, from which an overdue review's re-visit is due.
    let cal = calendar(app, &branch, date).await?;
    let app_for_plan = app.clone();
    let plan = move |found: DayCloseFound<'_>| {
        let mut plan = DayClosePlan::default();
        let late_minutes = (now - deadline).num_minutes().max(0);
        for v in found.late_visits {
            let f = rules::finding_for(
                &policy,
                FindingCode::UploadLate,
                json!({ "visit_date": date, "deadline": deadline, "submitted_at": null, "late_minutes": late_minutes,
                        "time_zone": tz.name(), "closed_by": "day_close" }),
                format!("Record visit tanggal {date} belum dikirim saat hari ditutup pukul 24:00 ({}).", tz.name()),
                format!("The visit of {date} was not submitted when the day closed at 24:00 ({}).", tz.name()),
            );
            plan.findings.push((v.id, f));
            let mut data = events::visit_data(v);
            data["escalate_to"] = json!(["rep", "branch_marketing", "supervisor"]);
            plan.jobs.push(events::event("visit.upload_late", &v.id.to_string(), now, data));
        }
        // Escalation order is the delivery order: jobs due at the same instant run in the order
        // they were written.
        for (task, class) in found.missed_tasks {
            let mut data = events::task_data(task);
            data["customer_class"] = json!(class.as_str());
            data["priority"] = json!(match class {
                CustomerClass::Lost => "lost",
                CustomerClass::LostWarning => "lost_warning",
                _ => "normal",
            });
            data["escalate_to"] = json!(["branch_marketing", "supervisor"]);
            plan.jobs.push(events::event("task.missed", &task.id.to_string(), now, data));
        }
        // A flagged visit nobody decided by its deadline: escalated, and re-visited as if rejected.
        for v in found.overdue_reviews {
            let task = super::tasks::revisit_task(&app_for_plan, &policy, v, date, &cal, "review_overdue", None);
            let created = events::task_created(&task);
            let mut data = events::visit_data(v);
            data["review_due_date"] = json!(v.review_due_date);
            data["revisit_task_id"] = json!(task.id);
            data["escalate_to"] = json!(["hq", "branch_marketing", "supervisor"]);
            plan.jobs.push(events::event("visit.review_overdue", &v.id.to_string(), now, data));
            plan.revisits.push((v.id, task, created));
        }
        // The supervisor's H+1 report of the day, sent by a job of its own.
        plan.jobs.push(super::digests::job(branch_id, date, now));
        plan
    };
    let done = app.repo.close_day(branch_id, date, now, &plan).await?;
    // The follow-ups of cadences due that day or before and still open: missed, escalated.
    // After the close and whether or not it ran now, so a retry finishes what a failed try began.
    let event = |f: &crate::domain::cadence::FollowUp| events::event("follow_up.missed", &f.id.to_string(), now, events::follow_up_data(f));
    let missed_follow_ups = app.repo.miss_follow_ups(branch_id, date, now, &event).await?;
    if !missed_follow_ups.is_empty() {
        tracing::info!(branch = %branch.code, %date, count = missed_follow_ups.len(), "follow-ups missed");
    }
    if let Some(d) = &done {
        tracing::info!(branch = %branch.code, %date, late_visits = d.late_visits.len(), missed_tasks = d.missed_tasks.len(),
                       overdue_reviews = d.overdue_reviews.len(), "day closed");
    }
    Ok(done)
}

/// Indonesia's national holidays shipped with the service (`data/holidays-id.json`).
pub const SHIPPED_HOLIDAYS: &str = include_str!("../../data/holidays-id.json");

/// Reads a holiday file: `{"years": {"2026": [{"date", "name", "kind"}, …], …}}`.
pub fn parse_holiday_file(text: &str) -> Result<Vec<(i32, Vec<Holiday>)>, String> {
    #[derive(serde::Deserialize)]
    struct File {
        years: std::collections::BTreeMap<String, Vec<Holiday>>,
    }
    let file: File = serde_json::from_str(text).map_err(|e| format!("holiday file: {e}"))?;
    file.years
        .into_iter()
        .map(|(year, list)| year.parse::<i32>().map(|y| (y, list)).map_err(|_| format!("holiday file: {year:?} is not a year")))
        .collect()
}

/// Loads every year of a holiday file (the CLI's `holidays load`); returns the days loaded.
pub async fn load_holiday_file(app: &App, text: &str, source: HolidaySource) -> Result<usize, AppError> {
    let mut days = 0;
    for (year, list) in parse_holiday_file(text).map_err(|e| AppError::invalid("invalid_field", e))? {
        days += set_holidays(app, None, year, list, source).await?.len();
    }
    Ok(days)
}

/// What the start-up does with one year of the shipped list.
#[derive(Debug, PartialEq, Eq)]
enum ShippedYear {
    /// Load the shipped list: the year was never set, or was set by an earlier release.
    Load,
    /// Leave the year as it is: an operator's list, or this release's list already.
    Keep,
    /// A list from before sources were kept that is not a release's: an operator's; record it.
    AdoptAsOperator,
}

fn shipped_year(source: Option<HolidaySource>, stored: &[Holiday], shipped: &[Holiday]) -> ShippedYear {
    let shipped_day = |h: &Holiday| shipped.iter().any(|s| s.date == h.date && s.kind == h.kind);
    match source {
        Some(HolidaySource::Operator) => ShippedYear::Keep,
        Some(HolidaySource::Shipped) if stored == shipped => ShippedYear::Keep,
        Some(HolidaySource::Shipped) => ShippedYear::Load,
        // Set before sources were kept: an earlier release's list holds only days this one ships
        // (the 2027 list was once the fixed-date days alone); anything else is an operator's.
        None if stored.iter().all(shipped_day) => ShippedYear::Load,
        None => ShippedYear::AdoptAsOperator,
    }
}

/// At start-up: each year of the shipped list that was never set, or was set by an earlier
/// release, gets this release's list; a year an operator set is never touched. Another instance
/// doing the same at the same moment writes the same rows.
pub async fn load_shipped(app: &App) -> Result<usize, AppError> {
    let mut days = 0;
    for (year, mut shipped) in parse_holiday_file(SHIPPED_HOLIDAYS).map_err(|e| AppError::invalid("invalid_field", e))? {
        shipped.sort_by_key(|h| h.date);
        let stored = holidays(app, year).await?;
        match shipped_year(app.repo.holiday_source(year).await?, &stored, &shipped) {
            ShippedYear::Keep => {}
            ShippedYear::Load => {
                days += set_holidays(app, None, year, shipped, HolidaySource::Shipped).await?.len();
                tracing::info!(year, "loaded the shipped national holidays");
            }
            ShippedYear::AdoptAsOperator => app.repo.replace_holidays(year, &stored, HolidaySource::Operator).await?,
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(year: i32) -> Vec<Holiday> {
        parse_holiday_file(SHIPPED_HOLIDAYS).unwrap().into_iter().find(|(y, _)| *y == year).unwrap().1
    }

    #[test]
    fn the_shipped_holidays_hold_the_2026_and_2027_skbs() {
        let years = parse_holiday_file(SHIPPED_HOLIDAYS).unwrap();
        assert!(years.iter().all(|(y, list)| list.iter().all(|h| h.date.format("%Y").to_string() == y.to_string())));
        let count = |list: &[Holiday], kind: &str| list.iter().filter(|h| h.kind == kind).count();
        let y2026 = shipped(2026);
        assert_eq!(count(&y2026, "holiday"), 17, "17 national holidays (SKB 1497/2025)");
        assert_eq!(count(&y2026, "collective_leave"), 8, "8 days of cuti bersama");
        // 2027: Isra Mikraj falls twice (5 January and 26 December), so 18 holidays.
        let y2027 = shipped(2027);
        assert_eq!(count(&y2027, "holiday"), 18);
        assert_eq!(count(&y2027, "collective_leave"), 8);
        let day = |d: &str| y2027.iter().find(|h| h.date.to_string() == d).map(|h| (h.name.as_str(), h.kind.as_str()));
        assert_eq!(day("2027-03-10"), Some(("Idul Fitri 1448 H", "holiday")));
        assert_eq!(day("2027-03-15"), Some(("Cuti bersama Idul Fitri 1448 H", "collective_leave")));
        assert_eq!(day("2027-03-08"), Some(("Hari Suci Nyepi (Tahun Baru Saka 1949)", "holiday")));
        assert_eq!(day("2027-12-24"), Some(("Cuti bersama Kelahiran Yesus Kristus", "collective_leave")));
        let mut dates: Vec<_> = y2027.iter().map(|h| h.date).collect();
        dates.dedup();
        assert_eq!(dates.len(), 26, "no day twice");
    }

    #[test]
    fn an_upgrade_replaces_a_shipped_year_and_never_an_operators() {
        let now = shipped(2027);
        let earlier: Vec<Holiday> =
            now.iter().filter(|h| ["2027-01-01", "2027-03-26", "2027-08-17"].contains(&h.date.to_string().as_str())).cloned().collect();
        let mut operators = earlier.clone();
        operators.push(Holiday { date: "2027-07-01".parse().unwrap(), name: "Ulang tahun perusahaan".into(), kind: "holiday".into() });
        use HolidaySource::{Operator, Shipped};
        assert_eq!(shipped_year(None, &[], &now), ShippedYear::Load, "never set");
        assert_eq!(shipped_year(Some(Shipped), &earlier, &now), ShippedYear::Load, "an earlier release's list");
        assert_eq!(shipped_year(Some(Shipped), &now, &now), ShippedYear::Keep);
        assert_eq!(shipped_year(Some(Operator), &earlier, &now), ShippedYear::Keep, "an operator's list, even a shipped one");
        assert_eq!(shipped_year(Some(Operator), &[], &now), ShippedYear::Keep, "an operator's empty year");
        assert_eq!(shipped_year(None, &earlier, &now), ShippedYear::Load, "from before sources were kept, only shipped days");
        assert_eq!(shipped_year(None, &operators, &now), ShippedYear::AdoptAsOperator);
    }
}
