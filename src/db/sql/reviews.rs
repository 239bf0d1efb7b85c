//! ReviewRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::shared::*;
use super::Db;
use crate::db::columns::*;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::reviews::{ReviewRecord, ReviewRepo, VisitsEvidence};
use crate::db::rows::*;
use crate::db::visits::VisitFilter;
use crate::domain::ids::{ReviewId, VisitId};
use crate::domain::page::{Page, Paged};
use crate::domain::visit::{Review, ReviewStatus, Visit};

/// Writes one review and what it causes in the caller's transaction; false (having
/// written nothing of it) when its id exists.
async fn record_review_in(tx: &mut sqlx::Transaction<'_, Db>, r: &ReviewRecord) -> Result<bool, RepoError> {
    let review = &r.review;
    let (revisit_id, revisit_created) = match &r.revisit_task {
        Some(task) => {
            let (id, created) = place_revisit(tx, task).await?;
            (Some(id), created)
        }
        None => (None, false),
    };
    let inserted = sqlx::query(
        "INSERT INTO reviews (id, visit_id, reviewer_id, decision, comment, deduct_points, revisit_task_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(review.id.0)
    .bind(review.visit_id.0)
    .bind(review.reviewer_id.0)
    .bind(review.decision.as_str())
    .bind(&review.comment)
    .bind(i64::from(review.deduct_points))
    .bind(uuid_opt(revisit_id))
    .bind(review.created_at)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        // The id is taken: write nothing (the re-visit task placed above rolls back).
        return Ok(false);
    }
    sqlx::query(
        "UPDATE visits SET review_status = $2, deducted_points = deducted_points + $3, \
         revisit_task_id = COALESCE($4, revisit_task_id), updated_at = $5 WHERE id = $1",
    )
    .bind(review.visit_id.0)
    .bind(review.decision.review_status().as_str())
    .bind(i64::from(review.deduct_points))
    .bind(uuid_opt(revisit_id))
    .bind(review.created_at)
    .execute(&mut **tx)
    .await?;
    for job in r.jobs.iter().chain(r.revisit_created_job.iter().filter(|_| revisit_created)) {
        enqueue_job_in(&mut **tx, job, review.created_at).await?;
    }
    append_audit_in(&mut **tx, &r.audit).await?;
    Ok(true)
}

#[async_trait]
impl ReviewRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(review_id = %r.review.id, visit_id = %r.review.visit_id))]
    async fn record_review(&self, r: &ReviewRecord) -> Result<bool, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        if !record_review_in(&mut tx, r).await? {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = records.len()))]
    async fn record_reviews(&self, records: &[ReviewRecord]) -> Result<Option<usize>, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        for (i, r) in records.iter().enumerate() {
            if !record_review_in(&mut tx, r).await? {
                return Ok(Some(i));
            }
        }
        tx.commit().await?;
        Ok(None)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(review_id = %id))]
    async fn get_review(&self, id: ReviewId) -> Result<Option<Review>, RepoError> {
        let row: Option<ReviewRow> = sqlx::query_as(
            "SELECT id, visit_id, reviewer_id, decision, comment, deduct_points, revisit_task_id, created_at \
             FROM reviews WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(visit_id = %visit))]
    async fn list_reviews(&self, visit: VisitId) -> Result<Vec<Review>, RepoError> {
        let rows: Vec<ReviewRow> = sqlx::query_as(
            "SELECT id, visit_id, reviewer_id, decision, comment, deduct_points, revisit_task_id, created_at \
             FROM reviews WHERE visit_id = $1 ORDER BY seq",
        )
        .bind(visit.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn review_queue(&self, f: &VisitFilter, review_statuses: &[ReviewStatus], page: Page) -> Result<Paged<Visit>, RepoError> {
        // One top-n per rank and review status, each read newest first down the (status,
        // review_status, seq) index, merged: the page costs what its rows cost, not a sort of
        // every visit awaiting review.
        let limit = i64::from(page.limit) + 1;
        let cursor = page.before.map(|key| (key >> QUEUE_RANK_SHIFT, key & ((1 << QUEUE_RANK_SHIFT) - 1)));
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {VISIT_COLUMNS} FROM ("));
        let mut part = 0;
        for (rank, status) in [(0i64, "non_compliant"), (1, "flagged"), (2, "compliant")] {
            if cursor.is_some_and(|(r, _)| rank < r) {
                continue;
            }
            for review_status in review_statuses {
                if part > 0 {
                    qb.push(" UNION ALL ");
                }
                qb.push(format!("SELECT * FROM (SELECT {VISIT_COLUMNS}, {rank} AS queue_rank FROM visits v WHERE v.status = "));
                qb.push_bind(status);
                qb.push(" AND v.review_status = ").push_bind(review_status.as_str());
                push_visit_filter(&mut qb, f);
                if let Some((r, seq)) = cursor {
                    if r == rank {
                        qb.push(" AND v.seq < ").push_bind(seq);
                    }
                }
                qb.push(" ORDER BY v.seq DESC LIMIT ").push_bind(limit).push(format!(") AS part{part}"));
                part += 1;
            }
        }
        if part == 0 {
            return Ok(Paged { items: Vec::new(), next: None });
        }
        qb.push(") AS queue ORDER BY queue_rank, seq DESC LIMIT ").push_bind(limit);
        let rows: Vec<VisitRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        paginate(rows, page.limit, |r| (queue_rank(&r.status) << QUEUE_RANK_SHIFT) | r.seq, TryInto::try_into)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = visits.len()))]
    async fn visits_evidence(&self, visits: &[VisitId]) -> Result<VisitsEvidence, RepoError> {
        if visits.is_empty() {
            return Ok(VisitsEvidence::default());
        }
        let ids = |qb: &mut QueryBuilder<'_, Db>| push_uuids(qb, visits.iter().map(|v| v.0));
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE visit_id IN ("));
        ids(&mut qb);
        qb.push(") ORDER BY seq");
        let photos: Vec<PhotoRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT visit_id, photo_id, code, severity, penalty, evidence, message_id, message_en FROM findings WHERE visit_id IN (",
        );
        ids(&mut qb);
        qb.push(") ORDER BY seq");
        let findings: Vec<VisitFindingRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT id, visit_id, reviewer_id, decision, comment, deduct_points, revisit_task_id, created_at FROM reviews WHERE visit_id IN (",
        );
        ids(&mut qb);
        qb.push(") ORDER BY seq");
        let reviews: Vec<ReviewRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(VisitsEvidence {
            photos: photos.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
            findings: findings.into_iter().map(|r| r.finding.try_into().map(|f| (VisitId(r.visit_id), f))).collect::<Result<_, _>>()?,
            reviews: reviews.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
        })
    }
}
