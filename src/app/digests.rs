//! The SOP's H+1 report to the supervisor (ch. 3.1, "H+1 … lapor ke Supervisor"): a branch day's visits
//! done, flagged, non-compliant and late, its missed tasks and the re-visits still open, per rep
//! and in all. Read on demand (`GET /v1/digests/daily`) and sent after each day close as
//! `supervisor.daily_digest`, once per supervisor of the branch.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::{App, AppError};
use crate::db::{DigestRow, NewJob};
use crate::domain::ids::{BranchId, UserId};
use crate::domain::role::{Actor, Role};
use crate::domain::time::local_date;

/// The job that sends a closed day's digests.
pub const DIGEST_JOB: &str = "daily_digest";

/// One branch day.
#[derive(Debug, Clone, Serialize)]
pub struct DailyDigest {
    pub branch_id: BranchId,
    pub branch_code: String,
    pub date: NaiveDate,
    pub totals: DigestRow,
    /// Per rep with anything to report, by name.
    pub reps: Vec<RepDigest>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepDigest {
    pub rep_id: UserId,
    pub rep_name: Option<String>,
    #[serde(flatten)]
    pub figures: DigestRow,
}

/// The digest of `branch` on `date` (yesterday in the branch's time zone when `None`), for a
/// marketing role or supervisor of the branch, HQ or an admin.
pub async fn daily(app: &App, actor: &Actor, branch: BranchId, date: Option<NaiveDate>) -> Result<DailyDigest, AppError> {
    super::access::require(actor.role.is_marketing(), "the daily digest is for supervisors and marketing roles")?;
    // Outside the caller's scope or nowhere: the same answer.
    let found = if actor.can_see_branch(branch) { app.repo.get_branch(branch).await? } else { None };
    let Some(b) = found else {
        return Err(AppError::invalid("branch_not_found", format!("branch {branch} not found")));
    };
    let date = date.unwrap_or_else(|| local_date(app.now(), b.time_zone).pred_opt().unwrap_or(NaiveDate::MIN));
    compute(app, branch, date).await
}

async fn compute(app: &App, branch: BranchId, date: NaiveDate) -> Result<DailyDigest, AppError> {
    let b = app.branch(branch).await?;
    let rows = app.repo.day_digest(branch, date).await?;
    let mut totals = DigestRow::default();
    let mut reps = Vec::with_capacity(rows.len());
    for (rep_id, figures) in rows {
        totals.add(&figures);
        let rep_name = app.repo.get_user(rep_id).await?.map(|u| u.name);
        reps.push(RepDigest { rep_id, rep_name, figures });
    }
    reps.sort_by(|a, b| a.rep_name.cmp(&b.rep_name).then(a.rep_id.0.cmp(&b.rep_id.0)));
    Ok(DailyDigest { branch_id: branch, branch_code: b.code, date, totals, reps })
}

/// The job the day close enqueues (in its own transaction) for the day it closed.
pub fn job(branch: BranchId, date: NaiveDate, at: chrono::DateTime<chrono::Utc>) -> NewJob {
    NewJob {
        id: uuid::Uuid::new_v4(),
        kind: DIGEST_JOB.into(),
        unique_key: Some(format!("{DIGEST_JOB}:{branch}:{date}")),
        payload: json!({ "branch_id": branch, "date": date }),
        run_at: at,
    }
}

/// The `daily_digest` job: one `supervisor.daily_digest` event per supervisor of the branch
/// (none without one). A rerun enqueues nothing twice: each event is unique per supervisor and day.
pub async fn run_job(app: &App, payload: &serde_json::Value) -> Result<(), String> {
    let branch: BranchId =
        payload["branch_id"].as_str().and_then(|s| s.parse().ok()).map(BranchId).ok_or("daily_digest without a branch_id")?;
    let date: NaiveDate = payload["date"].as_str().and_then(|s| s.parse().ok()).ok_or("daily_digest without a date")?;
    let digest = compute(app, branch, date).await.map_err(|e| e.to_string())?;
    let supervisors = app.repo.list_users(Some(branch)).await.map_err(|e| e.to_string())?;
    let now = app.now();
    for s in supervisors.iter().filter(|u| u.role == Role::Supervisor) {
        let mut data = serde_json::to_value(&digest).map_err(|e| e.to_string())?;
        data["supervisor_id"] = json!(s.id);
        let event = super::events::event("supervisor.daily_digest", &format!("{}:{branch}:{date}", s.id), now, data);
        app.repo.enqueue_job(&event, now).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
