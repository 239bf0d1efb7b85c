//! Classification runs: daily per branch (a job under a unique key per branch and local date)
//! and on demand. Every change of class is kept with its reason.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{App, AppError};
use crate::db::NewJob;
use crate::domain::classify::ClassChange;
use crate::domain::classify::{classify, spans};
use crate::domain::directory::Branch;
use crate::domain::ids::BranchId;
use crate::domain::ids::TaskId;
use crate::domain::plan::plan;
use crate::domain::role::{Actor, Role};
use crate::domain::task::NewTask;
use crate::domain::time::local_date;

/// The job kind that classifies one branch on one local date.
pub const CLASSIFY_JOB: &str = "classify";

/// What one branch's run did.
#[derive(Debug, Clone, Serialize)]
pub struct ClassifyRun {
    pub branch_id: BranchId,
    pub date: NaiveDate,
    pub customers: usize,
    pub changed: usize,
    /// Tasks the visit plan created (customers without a rep get none).
    pub tasks_created: u64,
}

/// Classifies every customer of a branch as of `today` (its local date).
#[tracing::instrument(skip_all, fields(branch_id = %branch.id, %today), err(level = "debug"))]
pub async fn classify_branch(app: &App, branch: &Branch, today: NaiveDate) -> Result<ClassifyRun, AppError> {
    // The policy in force on the branch's day.
    let (_, policy) = super::policies::policy_at(app, today).await?;
    let s = spans(today);
    let sums = app.repo.volume_sums(branch.id, s.last_month, s.same_span_end, s.month_to_date).await?;
    let now = app.now();
    let mut changed = 0;
    let month_end = s.month_to_date.0.checked_add_months(chrono::Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(today);
    let done = app.repo.door_visits_by_customer(branch.id, s.month_to_date.0, month_end).await?;
    let cal = super::calendar::calendar(app, branch, today).await?;
    let mut planned = Vec::new();
    let mut changes = Vec::new();
    for v in &sums {
        // No shipment in the two months compared: nothing to judge by, so the class an operator
        // set (or an earlier run derived) stands; its plan still applies.
        let no_data = v.last_month == 0 && v.last_month_same_span == 0 && v.month_to_date == 0;
        let c = if no_data {
            crate::domain::classify::Classified {
                class: v.customer.class,
                level: v.customer.previous_level.unwrap_or(crate::domain::customer::CustomerClass::F),
                reason: json!({ "rule": "no shipments in the months compared: class kept" }),
            }
        } else {
            classify(&policy.classes, &s, v.customer.created_on, v.last_month, v.last_month_same_span, v.month_to_date)
        };
        if let Some(rep) = v.customer.assigned_rep_id {
            let done = done.get(&v.customer.id).copied().unwrap_or(0);
            for p in plan(&policy.classes, &cal, today, c.class, Some(c.level), v.customer.created_on, done) {
                let key = format!("plan:{}:{}", v.customer.id, p.key);
                let task = NewTask {
                    customer_id: v.customer.id,
                    branch_id: branch.id,
                    assignee_id: rep,
                    task_type: p.task_type,
                    required_method: p.required_method,
                    due_date: p.due_date,
                    origin: "visit_plan",
                }
                .open(TaskId(Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes())), now)
                .with_note(Some(format!("{} ({})", c.class.as_str(), p.key)));

                planned.push((task, key));
            }
        }
        if no_data || (c.class == v.customer.class && Some(c.level) == v.customer.previous_level) {
            continue;
        }
        if c.class != v.customer.class {
            changed += 1;
        }
        let change =
            ClassChange { at: now, from_class: v.customer.class, to_class: c.class, previous_level: Some(c.level), reason: c.reason };
        changes.push((v.customer.id, change));
        if changes.len() == 1000 {
            app.repo.change_classes(&changes).await?;
            changes.clear();
        }
    }
    app.repo.change_classes(&changes).await?;
    let tasks_created = app.repo.insert_planned_tasks(&planned).await?;
    Ok(ClassifyRun { branch_id: branch.id, date: today, customers: sums.len(), changed, tasks_created })
}

/// `POST /v1/classification/run`: now, for one branch or every branch the caller may see.
pub async fn run_now(app: &App, actor: Option<&Actor>, branch: Option<BranchId>) -> Result<Vec<ClassifyRun>, AppError> {
    super::access::require(actor.is_none_or(|a| a.role.is_marketing()), "classification runs are for marketing roles")?;
    let now = app.now();
    let mut runs = Vec::new();
    for b in app.repo.list_branches().await? {
        if branch.is_some_and(|want| want != b.id) || actor.is_some_and(|a| !a.can_see_branch(b.id)) {
            continue;
        }
        runs.push(classify_branch(app, &b, local_date(now, b.time_zone)).await?);
    }
    if branch.is_some() && runs.is_empty() {
        return Err(AppError::invalid("branch_not_found", "no such branch in your scope"));
    }
    if let Some(a) = actor.filter(|a| a.role != Role::Sales) {
        let detail = json!({ "runs": runs.len(), "changed": runs.iter().map(|r| r.changed).sum::<usize>() });
        app.repo.append_audit(&app.audit(a, "classification.run", "classification", now.to_rfc3339(), detail)).await?;
    }
    Ok(runs)
}

/// The daily runs due at `now`: one per branch and local date.
pub async fn enqueue_daily(app: &App, branches: &[Branch], now: DateTime<Utc>) -> Result<(), crate::db::RepoError> {
    for b in branches {
        let today = local_date(now, b.time_zone);
        let job = NewJob {
            id: Uuid::new_v4(),
            kind: CLASSIFY_JOB.into(),
            unique_key: Some(format!("{CLASSIFY_JOB}:{}:{today}", b.id)),
            payload: json!({ "branch_id": b.id, "date": today }),
            run_at: now,
        };
        app.repo.enqueue_job(&job, now).await?;
    }
    Ok(())
}

/// The `classify` job.
pub async fn run_job(app: &App, payload: &serde_json::Value) -> Result<(), String> {
    let branch: BranchId =
        payload["branch_id"].as_str().and_then(|s| s.parse().ok()).map(BranchId).ok_or("classify without a branch_id")?;
    let date: NaiveDate = payload["date"].as_str().and_then(|s| s.parse().ok()).ok_or("classify without a date")?;
    let b = app.branch(branch).await.map_err(|e| e.to_string())?;
    let run = classify_branch(app, &b, date).await.map_err(|e| e.to_string())?;
    tracing::info!(branch = %b.code, %date, customers = run.customers, changed = run.changed, "customers classified");
    Ok(())
}
