//! VisitRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use sqlx::types::Json;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::shared::*;
use super::Db;
use crate::db::columns::*;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::db::visits::{SummaryCandidate, VerdictOutcome, VerdictRecord, VisitFilter, VisitRepo};
use crate::domain::finding::Finding;
use crate::domain::ids::{UserId, VisitId};
use crate::domain::page::{Page, Paged};
use crate::domain::visit::{Visit, VisitContent};

/// What a draft's record decides, written at its insert and at every change of the draft
/// ([`push_visit_content`] binds them).
const VISIT_CONTENT_COLUMNS: &str = "customer_id, task_id, method, content, content_hash, visited_at, visit_date, branch_id";

fn push_visit_content<'args>(b: &mut sqlx::query_builder::Separated<'_, 'args, Db, &'static str>, v: &'args Visit) {
    b.push_bind(v.content.customer_id.0)
        .push_bind(uuid_opt(v.content.task_id))
        .push_bind(v.content.method.as_str())
        .push_bind(Json(&v.content))
        .push_bind(&v.content_hash)
        .push_bind(v.content.visited_at)
        .push_bind(v.visit_date)
        .push_bind(v.branch_id.0);
}

#[async_trait]
impl VisitRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %v.id))]
    async fn insert_visit(&self, v: &Visit) -> Result<bool, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "INSERT INTO visits (id, rep_id, {VISIT_CONTENT_COLUMNS}, status, review_status, score, deducted_points, submitted_at, \
             revisit_task_id, created_at, updated_at) "
        ));
        qb.push_values(std::iter::once(v), |mut b, v| {
            b.push_bind(v.id.0).push_bind(v.rep_id.0);
            push_visit_content(&mut b, v);
            b.push_bind(v.status.as_str())
                .push_bind(v.review_status.as_str())
                .push_bind(v.score.map(i64::from))
                .push_bind(i64::from(v.deducted_points))
                .push_bind(v.submitted_at)
                .push_bind(uuid_opt(v.revisit_task_id))
                .push_bind(v.created_at)
                .push_bind(v.updated_at);
        });
        qb.push(" ON CONFLICT DO NOTHING");
        Ok(qb.build().execute(&self.pool).await?.rows_affected() == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %v.id))]
    async fn update_draft_visit(&self, v: &Visit) -> Result<bool, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("UPDATE visits SET ({VISIT_CONTENT_COLUMNS}, updated_at) = ("));
        let mut values = qb.separated(", ");
        push_visit_content(&mut values, v);
        values.push_bind(v.updated_at);
        qb.push(") WHERE id = ").push_bind(v.id.0).push(" AND status = 'draft'");
        Ok(qb.build().execute(&self.pool).await?.rows_affected() == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %id))]
    async fn get_visit(&self, id: VisitId) -> Result<Option<Visit>, RepoError> {
        let row: Option<VisitRow> =
            sqlx::query_as(&format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_visits(&self, f: &VisitFilter, page: Page) -> Result<Paged<Visit>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {VISIT_COLUMNS} FROM visits v WHERE 1 = 1"));
        push_visit_filter(&mut qb, f);
        push_page(&mut qb, page, "v.seq");
        let rows: Vec<VisitRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn count_visits(&self, f: &VisitFilter) -> Result<i64, RepoError> {
        let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM visits v WHERE 1 = 1");
        push_visit_filter(&mut qb, f);
        Ok(qb.build_query_scalar().fetch_one(&self.pool).await?)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %r.visit_id))]
    async fn record_verdict(&self, r: &VerdictRecord) -> Result<VerdictOutcome, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let updated = sqlx::query(
            "UPDATE visits SET status = $2, score = $3, submitted_at = $4, updated_at = $4, needs_hq_help = $5, review_due_date = $6, \
             policy_version = $7 WHERE id = $1 AND status = 'draft'",
        )
        .bind(r.visit_id.0)
        .bind(r.status.as_str())
        .bind(i64::from(r.score))
        .bind(r.submitted_at)
        .bind(r.needs_hq_help)
        .bind(r.review_due_date)
        .bind(r.policy_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(VerdictOutcome::AlreadySubmitted);
        }
        let photos: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE visit_id = $1").bind(r.visit_id.0).fetch_one(&mut *tx).await?;
        if photos != r.photo_count as i64 {
            return Ok(VerdictOutcome::PhotosChanged);
        }
        // Findings the day close wrote on the draft are superseded by the verdict's own.
        sqlx::query("DELETE FROM findings WHERE visit_id = $1").bind(r.visit_id.0).execute(&mut *tx).await?;
        let findings: Vec<(VisitId, &Finding)> = r.findings.iter().map(|f| (r.visit_id, f)).collect();
        insert_findings_in(&mut tx, &findings).await?;
        if let Some(task) = &r.revisit_task {
            let (id, created) = place_revisit(&mut tx, task).await?;
            if let (true, Some(job)) = (created, &r.revisit_created_job) {
                enqueue_job_in(&mut *tx, job, r.submitted_at).await?;
            }
            sqlx::query("UPDATE visits SET revisit_task_id = $2 WHERE id = $1").bind(r.visit_id.0).bind(id.0).execute(&mut *tx).await?;
        }
        for task in &r.new_tasks {
            insert_task_in(&mut *tx, task).await?;
        }
        if !r.summary_bands.is_empty() {
            let mut qb = QueryBuilder::<Db>::new("INSERT INTO summary_bands (band_key, visit_id) ");
            qb.push_values(&r.summary_bands, |mut b, key| {
                b.push_bind(*key).push_bind(r.visit_id.0);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for job in &r.jobs {
            enqueue_job_in(&mut *tx, job, r.submitted_at).await?;
        }
        if let Some(task) = r.completes_task {
            sqlx::query("UPDATE tasks SET status = 'done', updated_at = $2 WHERE id = $1 AND status = 'open'")
                .bind(task.0)
                .bind(r.submitted_at)
                .execute(&mut *tx)
                .await?;
        }
        append_audit_in(&mut *tx, &r.audit).await?;
        tx.commit().await?;
        Ok(VerdictOutcome::Recorded)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %visit))]
    async fn list_findings(&self, visit: VisitId) -> Result<Vec<Finding>, RepoError> {
        let rows: Vec<FindingRow> = sqlx::query_as(
            "SELECT photo_id, code, severity, penalty, evidence, message_id, message_en FROM findings \
             WHERE visit_id = $1 ORDER BY seq",
        )
        .bind(visit.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %other_than))]
    async fn similar_summaries(&self, band_keys: &[i64], other_than: VisitId, limit: u32) -> Result<Vec<SummaryCandidate>, RepoError> {
        if band_keys.is_empty() {
            return Ok(Vec::new());
        }
        // The visits sharing the most bands first: the likeliest near-copies.
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT v.id, v.rep_id, v.content FROM visits v JOIN (SELECT visit_id, COUNT(*) AS hits FROM summary_bands WHERE band_key IN (",
        );
        let mut keys = qb.separated(", ");
        for k in band_keys {
            keys.push_bind(*k);
        }
        qb.push(") AND visit_id <> ").push_bind(other_than.0);
        qb.push(" GROUP BY visit_id ORDER BY hits DESC LIMIT ").push_bind(i64::from(limit));
        qb.push(") c ON c.visit_id = v.id ORDER BY c.hits DESC");
        let rows: Vec<(Uuid, Uuid, Json<VisitContent>)> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(v, r, c)| SummaryCandidate { visit_id: VisitId(v), rep_id: UserId(r), summary: c.0.summary.unwrap_or_default() })
            .collect())
    }
}
