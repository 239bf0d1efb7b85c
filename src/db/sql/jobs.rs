//! JobRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::shared::*;
use super::Db;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::jobs::{ClaimedJob, JobRecord, JobRepo, JobStat, NewJob};
use crate::db::pool::SqlRepo;

#[async_trait]
impl JobRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn job_stats(&self, now: DateTime<Utc>) -> Result<Vec<JobStat>, RepoError> {
        let rows: Vec<(String, i64, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT status, COUNT(*), MIN(CASE WHEN status <> 'queued' OR run_at <= $1 THEN run_at END) \
             FROM jobs WHERE status IN ('queued', 'running', 'dead') GROUP BY status",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(status, count, oldest_run_at)| JobStat { status, count, oldest_run_at }).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(job_id = %job.id, kind = %job.kind))]
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> Result<bool, RepoError> {
        enqueue_job_in(&self.pool, job, now).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(worker = %worker))]
    async fn claim_job(&self, worker: &str, now: DateTime<Utc>) -> Result<Option<ClaimedJob>, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let claimed: Option<(Uuid, String, Json<serde_json::Value>, i64)> = sqlx::query_as(&format!(
            "UPDATE jobs SET status = 'running', locked_by = $1, heartbeat_at = $2, attempts = attempts + 1, updated_at = $2 \
             WHERE seq = (SELECT seq FROM jobs WHERE status = 'queued' AND run_at <= $2 ORDER BY run_at, seq LIMIT 1{}) \
             RETURNING id, kind, payload, attempts",
            Db::SKIP_LOCKED
        ))
        .bind(worker)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(claimed.map(|(id, kind, payload, attempts)| ClaimedJob { id, kind, payload: payload.0, attempts }))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(job_id = %id))]
    async fn heartbeat_job(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let n = sqlx::query("UPDATE jobs SET heartbeat_at = $3, updated_at = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'")
            .bind(id)
            .bind(worker)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(job_id = %id))]
    async fn complete_job(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("UPDATE jobs SET status = 'done', heartbeat_at = NULL, last_error = NULL, updated_at = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'")
            .bind(id)
            .bind(worker)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(job_id = %id))]
    async fn fail_job(
        &self,
        id: Uuid,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let query = match retry_at {
            Some(at) => sqlx::query("UPDATE jobs SET status = 'queued', run_at = $5, locked_by = NULL, heartbeat_at = NULL, last_error = $3, updated_at = $4 WHERE id = $1 AND locked_by = $2 AND status = 'running'").bind(id).bind(worker).bind(error).bind(now).bind(at),
            None => sqlx::query("UPDATE jobs SET status = 'dead', locked_by = NULL, heartbeat_at = NULL, last_error = $3, updated_at = $4 WHERE id = $1 AND locked_by = $2 AND status = 'running'").bind(id).bind(worker).bind(error).bind(now),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(worker = ?worker))]
    async fn release_jobs(&self, worker: Option<&str>, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let query = match worker {
            Some(w) => sqlx::query("UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL, heartbeat_at = NULL, updated_at = $2 WHERE status = 'running' AND locked_by = $1").bind(w).bind(now),
            None => sqlx::query("UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL, heartbeat_at = NULL, updated_at = $2 WHERE status = 'running' AND heartbeat_at < $1").bind(stale_before).bind(now),
        };
        Ok(query.execute(&self.pool).await?.rows_affected())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(job_id = %id))]
    async fn get_job(&self, id: Uuid) -> Result<Option<JobRecord>, RepoError> {
        let row: Option<(Uuid, String, Option<String>, String, i64, DateTime<Utc>, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT id, kind, unique_key, status, attempts, run_at, locked_by, last_error FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, kind, unique_key, status, attempts, run_at, locked_by, last_error)| JobRecord {
            id,
            kind,
            unique_key,
            status,
            attempts,
            run_at,
            locked_by,
            last_error,
        }))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        Ok(sqlx::query("DELETE FROM jobs WHERE status = 'done' AND updated_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
