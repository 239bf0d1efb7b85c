//! ExportRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::shared::{enqueue_job_in, push_page};
use super::Db;
use crate::db::columns::paginate;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::exports::{ExportFile, ExportRepo};
use crate::db::jobs::NewJob;
use crate::db::pool::SqlRepo;
use crate::domain::export::{Export, ExportKind, ExportStatus};
use crate::domain::ids::{ExportId, UserId};
use crate::domain::page::{Page, Paged};

const EXPORT_COLUMNS: &str =
    "seq, id, kind, requested_by, filter, status, rows, bytes, storage_key, error, created_at, finished_at, expires_at";

#[derive(sqlx::FromRow)]
struct ExportRow {
    seq: i64,
    id: Uuid,
    kind: String,
    requested_by: Uuid,
    filter: String,
    status: String,
    rows: Option<i64>,
    bytes: Option<i64>,
    storage_key: Option<String>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

impl TryFrom<ExportRow> for Export {
    type Error = RepoError;
    fn try_from(r: ExportRow) -> Result<Export, RepoError> {
        let corrupt = |what: &str, value: &str| RepoError::Corrupt(format!("export {}: {what} {value:?}", r.id));
        Ok(Export {
            id: ExportId(r.id),
            kind: ExportKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
            requested_by: UserId(r.requested_by),
            filter: serde_json::from_str(&r.filter).map_err(|_| corrupt("filter", &r.filter))?,
            status: ExportStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            rows: r.rows,
            bytes: r.bytes,
            storage_key: r.storage_key,
            error: r.error,
            created_at: r.created_at,
            finished_at: r.finished_at,
            expires_at: r.expires_at,
        })
    }
}

#[async_trait]
impl ExportRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(export_id = %export.id))]
    async fn create_export(&self, export: &Export, job: &NewJob, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let inserted = sqlx::query(
            "INSERT INTO exports (id, kind, requested_by, filter, status, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(export.id.0)
        .bind(export.kind.as_str())
        .bind(export.requested_by.0)
        .bind(export.filter.to_string())
        .bind(export.status.as_str())
        .bind(export.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        enqueue_job_in(&mut *tx, job, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(export_id = %id))]
    async fn get_export(&self, id: ExportId) -> Result<Option<Export>, RepoError> {
        let row: Option<ExportRow> =
            sqlx::query_as(&format!("SELECT {EXPORT_COLUMNS} FROM exports WHERE id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %requested_by))]
    async fn list_exports(&self, requested_by: UserId, page: Page) -> Result<Paged<Export>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {EXPORT_COLUMNS} FROM exports WHERE requested_by = "));
        qb.push_bind(requested_by.0);
        push_page(&mut qb, page, "seq");
        let rows: Vec<ExportRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(export_id = %id))]
    async fn start_export(&self, id: ExportId) -> Result<bool, RepoError> {
        let n = sqlx::query("UPDATE exports SET status = 'running' WHERE id = $1 AND status IN ('queued', 'running')")
            .bind(id.0)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(export_id = %id))]
    async fn finish_export(&self, id: ExportId, file: &ExportFile) -> Result<bool, RepoError> {
        let n = sqlx::query(
            "UPDATE exports SET status = 'ready', storage_key = $2, rows = $3, bytes = $4, finished_at = $5, expires_at = $6, \
             error = NULL WHERE id = $1 AND status = 'running'",
        )
        .bind(id.0)
        .bind(&file.storage_key)
        .bind(file.rows)
        .bind(file.bytes)
        .bind(file.finished_at)
        .bind(file.expires_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(export_id = %id))]
    async fn fail_export(&self, id: ExportId, error: &str, gave_up: Option<(DateTime<Utc>, DateTime<Utc>)>) -> Result<(), RepoError> {
        let status = if gave_up.is_some() { "failed" } else { "queued" };
        sqlx::query(
            "UPDATE exports SET status = $2, error = $3, finished_at = $4, expires_at = $5 WHERE id = $1 AND status IN ('queued', 'running')",
        )
        .bind(id.0)
        .bind(status)
        .bind(error)
        .bind(gave_up.map(|g| g.0))
        .bind(gave_up.map(|g| g.1))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn expired_exports(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<(ExportId, Option<String>)>, RepoError> {
        let rows: Vec<(Uuid, Option<String>)> = sqlx::query_as(
            "SELECT id, storage_key FROM exports WHERE status IN ('ready', 'failed') AND expires_at < $1 ORDER BY expires_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, key)| (ExportId(id), key)).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(export_id = %id))]
    async fn expire_export(&self, id: ExportId) -> Result<(), RepoError> {
        sqlx::query("UPDATE exports SET status = 'expired', storage_key = NULL WHERE id = $1").bind(id.0).execute(&self.pool).await?;
        Ok(())
    }
}
