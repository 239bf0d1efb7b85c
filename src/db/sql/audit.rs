//! AuditRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;

use super::shared::*;
use super::Db;
use crate::db::audit::AuditRepo;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::domain::audit::AuditEntry;

#[async_trait]
impl AuditRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(action = %entry.action))]
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), RepoError> {
        append_audit_in(&self.pool, entry).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(subject_type = %subject_type, subject_id = %subject_id))]
    async fn list_audit(&self, subject_type: &str, subject_id: &str) -> Result<Vec<AuditEntry>, RepoError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT at, actor_id, action, subject_type, subject_id, detail FROM audit_log \
             WHERE subject_type = $1 AND subject_id = $2 ORDER BY seq",
        )
        .bind(subject_type)
        .bind(subject_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
