//! FollowUpRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

use super::leads::{change_lead_in, insert_activity_in};
use super::shared::*;
use super::Db;
use crate::db::columns::*;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::follow_ups::{FollowUpDone, FollowUpFilter, FollowUpRepo, QuotationWrite};
use crate::db::jobs::NewJob;
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::domain::audit::AuditEntry;
use crate::domain::cadence::{FollowUp, ServiceCase};
use crate::domain::ids::{BranchId, FollowUpId, LeadId, QuotationId, ServiceCaseId, UserId};
use crate::domain::lead::{Activity, Quotation, QuotationDocument};
use crate::domain::page::{Page, Paged};
use crate::domain::role::Scope;

#[async_trait]
impl FollowUpRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn due_follow_ups(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        from: NaiveDate,
        to: NaiveDate,
        limit: u32,
    ) -> Result<Vec<FollowUp>, RepoError> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups WHERE status <> 'cancelled' AND due_date >= "));
        qb.push_bind(from).push(" AND due_date <= ").push_bind(to);
        push_scope(&mut qb, scope, "assignee_id", "branch_id");
        if let Some(b) = branch {
            qb.push(" AND branch_id = ").push_bind(b.0);
        }
        qb.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<FollowUpRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn sent_quotations(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        from: NaiveDate,
        to: NaiveDate,
        limit: u32,
    ) -> Result<Vec<(Quotation, Option<UserId>)>, RepoError> {
        let columns = QUOTATION_COLUMNS.split(", ").map(|c| format!("q.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {columns}, l.assignee_id AS rep_id FROM quotations q JOIN leads l ON l.id = q.lead_id WHERE q.sent_on >= "
        ));
        qb.push_bind(from).push(" AND q.sent_on <= ").push_bind(to);
        push_scope(&mut qb, scope, "l.assignee_id", "q.branch_id");
        if let Some(b) = branch {
            qb.push(" AND q.branch_id = ").push_bind(b.0);
        }
        qb.push(" ORDER BY q.seq LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<SentQuotationRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(|r| Ok((r.quotation.try_into()?, r.rep_id.map(Into::into)))).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(quotation_id = %id))]
    async fn set_quotation_document(&self, id: QuotationId, doc: &QuotationDocument, audit: &AuditEntry) -> Result<bool, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let set = sqlx::query(
            "UPDATE quotations SET document_key = $2, document_bytes = $3, document_sha256 = $4 WHERE id = $1 AND document_key IS NULL",
        )
        .bind(id.0)
        .bind(&doc.key)
        .bind(doc.bytes)
        .bind(&doc.sha256)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if set {
            append_audit_in(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(set)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(quotation_id = %q.id))]
    async fn reject_quotation(&self, q: &Quotation, entry: &Activity, audit: &AuditEntry) -> Result<bool, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let rejected =
            sqlx::query("UPDATE quotations SET status = 'rejected', updated_at = $2 WHERE id = $1 AND status = 'awaiting_approval'")
                .bind(q.id.0)
                .bind(q.updated_at)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if rejected {
            insert_activity_in(&mut tx, entry).await?;
            append_audit_in(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(rejected)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(quotation_id = %w.quotation.id))]
    async fn insert_quotation(&self, w: QuotationWrite<'_>) -> Result<bool, RepoError> {
        let q = w.quotation;
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO quotations ({QUOTATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, NULL, NULL, NULL) ON CONFLICT DO NOTHING"
        ))
        .bind(q.id.0)
        .bind(q.lead_id.0)
        .bind(q.branch_id.0)
        .bind(&q.number)
        .bind(i64::from(q.revision))
        .bind(q.amount)
        .bind(q.discount_pct)
        .bind(&q.note)
        .bind(q.status.as_str())
        .bind(q.sent_on)
        .bind(uuid_opt(q.approved_by))
        .bind(q.created_by.0)
        .bind(q.created_at)
        .bind(q.updated_at)
        .bind(q.revision_requested_at)
        .bind(&q.finding)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(false);
        }
        if q.status == crate::domain::lead::QuotationStatus::Sent {
            supersede_earlier(&mut tx, q).await?;
        }
        finish_write(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(quotation_id = %w.quotation.id))]
    async fn send_approved_quotation(&self, w: QuotationWrite<'_>) -> Result<bool, RepoError> {
        let q = w.quotation;
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let sent = sqlx::query(
            "UPDATE quotations SET status = $2, sent_on = $3, approved_by = $4, updated_at = $5, finding = $6 \
             WHERE id = $1 AND status = 'awaiting_approval'",
        )
        .bind(q.id.0)
        .bind(q.status.as_str())
        .bind(q.sent_on)
        .bind(uuid_opt(q.approved_by))
        .bind(q.updated_at)
        .bind(&q.finding)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !sent {
            return Ok(false);
        }
        supersede_earlier(&mut tx, q).await?;
        finish_write(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(quotation_id = %id))]
    async fn get_quotation(&self, id: QuotationId) -> Result<Option<Quotation>, RepoError> {
        let row: Option<QuotationRow> = sqlx::query_as(&format!("SELECT {QUOTATION_COLUMNS} FROM quotations WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(lead_id = %lead))]
    async fn list_quotations(&self, lead: LeadId) -> Result<Vec<Quotation>, RepoError> {
        let rows: Vec<QuotationRow> =
            sqlx::query_as(&format!("SELECT {QUOTATION_COLUMNS} FROM quotations WHERE lead_id = $1 ORDER BY revision"))
                .bind(lead.0)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(follow_up_id = %id))]
    async fn get_follow_up(&self, id: FollowUpId) -> Result<Option<FollowUp>, RepoError> {
        let row: Option<FollowUpRow> = sqlx::query_as(&format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_follow_ups(&self, f: &FollowUpFilter, page: Page) -> Result<Paged<FollowUp>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups WHERE 1 = 1"));
        push_scope(&mut qb, f.scope, "assignee_id", "branch_id");
        if let Some(a) = f.assignee_id {
            qb.push(" AND assignee_id = ").push_bind(a.0);
        }
        if let Some(l) = f.lead_id {
            qb.push(" AND lead_id = ").push_bind(l.0);
        }
        if let Some(c) = f.customer_id {
            qb.push(" AND customer_id = ").push_bind(c.0);
        }
        if let Some(c) = &f.cadence {
            qb.push(" AND cadence = ").push_bind(c.clone());
        }
        if let Some(s) = f.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(d) = f.due_to {
            qb.push(" AND due_date <= ").push_bind(d);
        }
        push_page(&mut qb, page, "seq");
        let rows: Vec<FollowUpRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn unanswered_attempts(&self, quotation: Option<QuotationId>, case: Option<ServiceCaseId>) -> Result<u32, RepoError> {
        let (column, id) = match (quotation, case) {
            (Some(q), _) => ("quotation_id", q.0),
            (None, Some(c)) => ("service_case_id", c.0),
            (None, None) => return Ok(0),
        };
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM follow_ups WHERE {column} = $1 AND status = 'done' AND answered = FALSE"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(service_case_id = %case.id))]
    async fn insert_service_case(&self, case: &ServiceCase, first: &FollowUp, audit: &AuditEntry) -> Result<bool, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO service_cases ({SERVICE_CASE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
        ))
        .bind(case.id.0)
        .bind(case.branch_id.0)
        .bind(case.customer_id.0)
        .bind(case.kind.as_str())
        .bind(&case.summary)
        .bind(case.completed_on)
        .bind(case.created_by.0)
        .bind(case.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(false);
        }
        insert_follow_up_in(&mut tx, first).await?;
        append_audit_in(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(service_case_id = %id))]
    async fn get_service_case(&self, id: ServiceCaseId) -> Result<Option<ServiceCase>, RepoError> {
        let row: Option<ServiceCaseRow> = sqlx::query_as(&format!("SELECT {SERVICE_CASE_COLUMNS} FROM service_cases WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(follow_up_id = %d.follow_up.id))]
    async fn complete_follow_up(&self, d: FollowUpDone<'_>) -> Result<bool, RepoError> {
        let f = d.follow_up;
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let done = sqlx::query(
            "UPDATE follow_ups SET status = $2, answered = $3, note = $4, done_at = $5, done_by = $6, outcome = $7, finding = $8 \
             WHERE id = $1 AND status IN ('open', 'missed')",
        )
        .bind(f.id.0)
        .bind(f.status.as_str())
        .bind(f.answered)
        .bind(&f.note)
        .bind(f.done_at)
        .bind(uuid_opt(f.done_by))
        .bind(f.outcome.as_ref().map(sqlx::types::Json))
        .bind(&f.finding)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !done {
            return Ok(false);
        }
        if let Some(next) = d.next {
            insert_follow_up_in(&mut tx, next).await?;
        }
        if let Some(change) = &d.lead {
            change_lead_in(&mut tx, change).await?;
        }
        if let Some(audit) = d.audit {
            append_audit_in(&mut *tx, audit).await?;
        }
        for job in d.jobs {
            enqueue_job_in(&mut *tx, job, f.done_at.unwrap_or(f.created_at)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %branch, %date))]
    async fn miss_follow_ups(
        &self,
        branch: BranchId,
        date: NaiveDate,
        now: DateTime<Utc>,
        event: &(dyn for<'a> Fn(&'a FollowUp) -> NewJob + Send + Sync),
    ) -> Result<Vec<FollowUp>, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let rows: Vec<FollowUpRow> = sqlx::query_as(&format!(
            "SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups WHERE branch_id = $1 AND status = 'open' AND due_date <= $2 ORDER BY due_date, seq"
        ))
        .bind(branch.0)
        .bind(date)
        .fetch_all(&mut *tx)
        .await?;
        let mut missed = Vec::with_capacity(rows.len());
        for row in rows {
            let mut f: FollowUp = row.try_into()?;
            // Only if still open: a step done or cancelled since the read keeps its state.
            let marked = sqlx::query("UPDATE follow_ups SET status = 'missed' WHERE id = $1 AND status = 'open'")
                .bind(f.id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if marked == 0 {
                continue;
            }
            f.status = crate::domain::cadence::FollowUpStatus::Missed;
            let job = event(&f);
            enqueue_job_in(&mut *tx, &job, now).await?;
            missed.push(f);
        }
        tx.commit().await?;
        Ok(missed)
    }
}

/// What a quotation's write starts: the first follow-up and the lead's move.
/// A quotation sent replaces the lead's earlier ones (sent, or still awaiting approval) and
/// stops their cadence.
async fn supersede_earlier(tx: &mut sqlx::Transaction<'_, Db>, q: &Quotation) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE quotations SET status = 'superseded', updated_at = $3 WHERE lead_id = $1 AND id <> $2 AND status IN ('sent', 'awaiting_approval')",
    )
    .bind(q.lead_id.0)
    .bind(q.id.0)
    .bind(q.updated_at)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE follow_ups SET status = 'cancelled' WHERE lead_id = $1 AND status = 'open'")
        .bind(q.lead_id.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn finish_write(tx: &mut sqlx::Transaction<'_, Db>, w: &QuotationWrite<'_>) -> Result<(), RepoError> {
    if let Some(f) = w.first_follow_up {
        insert_follow_up_in(tx, f).await?;
    }
    if let Some(change) = &w.lead {
        change_lead_in(tx, change).await?;
    }
    for job in w.jobs {
        enqueue_job_in(&mut **tx, job, w.quotation.updated_at).await?;
    }
    Ok(())
}
