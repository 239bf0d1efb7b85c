//! Statements more than one area runs inside its own transaction (a task, a job, an audit
//! entry, findings), and the query-building pieces the areas share.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::Db;
use crate::db::columns::TASK_WRITE_COLUMNS;
use crate::db::error::RepoError;
use crate::db::jobs::NewJob;
use crate::db::rows::*;
use crate::db::visits::VisitFilter;
use crate::domain::audit::AuditEntry;
use crate::domain::customer::{Customer, CustomerSlice};
use crate::domain::finding::Finding;
use crate::domain::ids::{TaskId, VisitId};
use crate::domain::page::Page;
use crate::domain::role::Scope;
use crate::domain::task::Task;

pub(super) fn uuid_opt<T: Into<Uuid>>(v: Option<T>) -> Option<Uuid> {
    v.map(Into::into)
}

/// Binds a task's values in [`TASK_WRITE_COLUMNS`] order (one task, and the visit plans'
/// multi-row insert).
pub(super) fn push_task<'args>(b: &mut sqlx::query_builder::Separated<'_, 'args, Db, &'static str>, t: &'args Task) {
    b.push_bind(t.id.0)
        .push_bind(t.customer_id.0)
        .push_bind(t.branch_id.0)
        .push_bind(t.assignee_id.0)
        .push_bind(t.task_type.as_str())
        .push_bind(t.required_method.as_str())
        .push_bind(t.due_date)
        .push_bind(t.status.as_str())
        .push_bind(uuid_opt(t.origin_visit_id))
        .push_bind(&t.origin)
        .push_bind(&t.note)
        .push_bind(uuid_opt(t.created_by))
        .push_bind(t.created_at)
        .push_bind(t.created_at);
}

pub(super) async fn insert_task_in<'c, E>(exec: E, t: &Task) -> Result<bool, RepoError>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    let mut qb = QueryBuilder::<Db>::new(format!("INSERT INTO tasks ({TASK_WRITE_COLUMNS}) "));
    qb.push_values(std::iter::once(t), |mut b, t| push_task(&mut b, t));
    qb.push(" ON CONFLICT DO NOTHING");
    Ok(qb.build().execute(exec).await?.rows_affected() == 1)
}

/// Binds a customer's values in [`CUSTOMER_WRITE_COLUMNS`] order (the single write and
/// the import's multi-row upsert).
pub(super) fn push_customer<'args>(b: &mut sqlx::query_builder::Separated<'_, 'args, Db, &'static str>, c: &'args Customer) {
    b.push_bind(c.id.0)
        .push_bind(&c.code)
        .push_bind(&c.name)
        .push_bind(&c.customer_type)
        .push_bind(c.branch_id.0)
        .push_bind(uuid_opt(c.assigned_rep_id))
        .push_bind(c.location.map(|p| p.latitude))
        .push_bind(c.location.map(|p| p.longitude))
        .push_bind(c.geofence_radius_m)
        .push_bind(&c.contact_name)
        .push_bind(&c.contact_position)
        .push_bind(&c.contact_phone)
        .push_bind(c.created_on)
        .push_bind(c.class.as_str())
        .push_bind(c.ownership.as_str())
        .push_bind(&c.dp)
        .push_bind(c.created_at)
        .push_bind(c.updated_at);
}

/// Appends `$1, $2, …` binding each id (for `IN (…)`).
pub(super) fn push_uuids(qb: &mut QueryBuilder<'_, Db>, ids: impl IntoIterator<Item = Uuid>) {
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
}

/// Writes findings in the caller's transaction (the verdict's, the day close's): one
/// multi-row statement per 1000, not one round trip each.
pub(super) async fn insert_findings_in(tx: &mut sqlx::Transaction<'_, Db>, findings: &[(VisitId, &Finding)]) -> Result<(), RepoError> {
    for chunk in findings.chunks(1000) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO findings (visit_id, photo_id, code, severity, penalty, evidence, message_id, message_en) ",
        );
        qb.push_values(chunk, |mut b, (visit, f)| {
            b.push_bind(visit.0)
                .push_bind(uuid_opt(f.photo_id))
                .push_bind(f.code.as_str())
                .push_bind(severity_str(f.severity))
                .push_bind(i64::from(f.penalty))
                .push_bind(Json(&f.evidence))
                .push_bind(&f.message_id)
                .push_bind(&f.message_en);
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Enqueues a job in the caller's transaction, so the job exists exactly when the write
/// that caused it does (webhook events are written this way).
pub(super) async fn enqueue_job_in<'c, E>(exec: E, job: &NewJob, now: DateTime<Utc>) -> Result<bool, RepoError>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, kind, unique_key, payload, status, attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6) ON CONFLICT DO NOTHING",
    )
    .bind(job.id)
    .bind(&job.kind)
    .bind(&job.unique_key)
    .bind(Json(&job.payload))
    .bind(job.run_at)
    .bind(now)
    .execute(exec)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub(super) async fn append_audit_in<'c, E>(exec: E, e: &AuditEntry) -> Result<(), RepoError>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    sqlx::query("INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(e.at)
        .bind(uuid_opt(e.actor_id))
        .bind(&e.action)
        .bind(&e.subject_type)
        .bind(&e.subject_id)
        .bind(Json(&e.detail))
        .execute(exec)
        .await?;
    Ok(())
}

pub(super) fn push_visit_filter(qb: &mut QueryBuilder<'_, Db>, f: &VisitFilter) {
    push_scope(qb, f.scope, "v.rep_id", "v.branch_id");
    if let Some(s) = f.status {
        qb.push(" AND v.status = ").push_bind(s.as_str());
    }
    if let Some(s) = f.review_status {
        qb.push(" AND v.review_status = ").push_bind(s.as_str());
    }
    if let Some(r) = f.rep_id {
        qb.push(" AND v.rep_id = ").push_bind(r.0);
    }
    if let Some(b) = f.branch_id {
        qb.push(" AND v.branch_id = ").push_bind(b.0);
    }
    if let Some(c) = f.customer_id {
        qb.push(" AND v.customer_id = ").push_bind(c.0);
    }
    if let Some(d) = f.date_from {
        qb.push(" AND v.visit_date >= ").push_bind(d);
    }
    if let Some(d) = f.date_to {
        qb.push(" AND v.visit_date <= ").push_bind(d);
    }
    push_customer_slice(qb, &f.customers(), "v.customer_id");
    if let Some(help) = f.needs_hq_help {
        qb.push(" AND v.needs_hq_help = ").push_bind(help);
    }
    if let Some(code) = f.finding_code {
        qb.push(" AND EXISTS (SELECT 1 FROM findings f WHERE f.visit_id = v.id AND f.code = ").push_bind(code.as_str()).push(")");
    }
}

/// Narrows rows to the customers of a slice (ownership, distribution point) by their customer
/// column; nothing when the slice is every customer.
pub(super) fn push_customer_slice(qb: &mut QueryBuilder<'_, Db>, slice: &CustomerSlice, customer_col: &str) {
    if slice.is_all() {
        return;
    }
    qb.push(format!(" AND {customer_col} IN (SELECT cs.id FROM customers cs WHERE 1 = 1"));
    if let Some(o) = slice.ownership {
        qb.push(" AND cs.ownership = ").push_bind(o.as_str());
    }
    if let Some(dp) = &slice.dp {
        qb.push(" AND cs.dp = ").push_bind(dp.clone());
    }
    qb.push(")");
}

/// A re-visit task is unique per open origin visit: when one exists, use it.
/// Places a re-visit task, or finds the one already open for the visit; says which.
pub(super) async fn place_revisit(tx: &mut sqlx::Transaction<'_, Db>, task: &Task) -> Result<(TaskId, bool), RepoError> {
    let inserted = insert_task_in(&mut **tx, task).await?;
    let id: Uuid = sqlx::query_scalar("SELECT id FROM tasks WHERE origin_visit_id = $1 AND task_type = 'revisit' AND status = 'open'")
        .bind(uuid_opt(task.origin_visit_id))
        .fetch_one(&mut **tx)
        .await?;
    Ok((TaskId(id), inserted && id == task.id.0))
}

pub(super) fn push_scope(qb: &mut QueryBuilder<'_, Db>, scope: Scope, owner_col: &str, branch_col: &str) {
    match scope {
        Scope::Own(user) => {
            qb.push(format!(" AND {owner_col} = ")).push_bind(user.0);
        }
        Scope::Branch(branch) => {
            qb.push(format!(" AND {branch_col} = ")).push_bind(branch.0);
        }
        Scope::All => {}
    }
}

pub(super) fn push_page(qb: &mut QueryBuilder<'_, Db>, page: Page, seq_col: &str) {
    if let Some(before) = page.before {
        qb.push(format!(" AND {seq_col} < ")).push_bind(before);
    }
    qb.push(format!(" ORDER BY {seq_col} DESC LIMIT ")).push_bind(i64::from(page.limit) + 1);
}

/// A follow-up, once per quotation and step (a racing retry adds nothing).
pub(super) async fn insert_follow_up_in(
    tx: &mut sqlx::Transaction<'_, Db>,
    f: &crate::domain::cadence::FollowUp,
) -> Result<bool, RepoError> {
    let inserted = sqlx::query(
        "INSERT INTO follow_ups (id, branch_id, assignee_id, lead_id, quotation_id, customer_id, service_case_id, cadence, step, \
         step_name, purpose, due_date, status, answered, note, done_at, done_by, outcome, finding, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) ON CONFLICT DO NOTHING",
    )
    .bind(f.id.0)
    .bind(f.branch_id.0)
    .bind(f.assignee_id.0)
    .bind(uuid_opt(f.lead_id))
    .bind(uuid_opt(f.quotation_id))
    .bind(uuid_opt(f.customer_id))
    .bind(uuid_opt(f.service_case_id))
    .bind(&f.cadence)
    .bind(i64::from(f.step))
    .bind(&f.step_name)
    .bind(&f.purpose)
    .bind(f.due_date)
    .bind(f.status.as_str())
    .bind(f.answered)
    .bind(&f.note)
    .bind(f.done_at)
    .bind(uuid_opt(f.done_by))
    .bind(f.outcome.as_ref().map(sqlx::types::Json))
    .bind(&f.finding)
    .bind(f.created_at)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    Ok(inserted)
}

/// The insert of one customer (its write columns and `previous_level`), then `on_conflict`.
pub(super) fn customer_insert<'a>(c: &'a Customer, on_conflict: &str) -> QueryBuilder<'a, Db> {
    let mut qb =
        QueryBuilder::<Db>::new(format!("INSERT INTO customers ({}, previous_level) ", crate::db::columns::CUSTOMER_WRITE_COLUMNS));
    qb.push_values(std::iter::once(c), |mut b, c| {
        push_customer(&mut b, c);
        b.push_bind(c.previous_level.map(crate::domain::customer::CustomerClass::as_str));
    });
    qb.push(on_conflict);
    qb
}

/// A new customer in the caller's transaction (`false`: one of that id exists, left as it is).
pub(super) async fn insert_customer_in(tx: &mut sqlx::Transaction<'_, Db>, c: &Customer) -> Result<bool, RepoError> {
    Ok(customer_insert(c, " ON CONFLICT (id) DO NOTHING").build().execute(&mut **tx).await?.rows_affected() == 1)
}
