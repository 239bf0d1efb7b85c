//! PolicyRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::Db;
use crate::db::error::RepoError;
use crate::db::policies::{PolicyRepo, PolicyVersion};
use crate::db::pool::SqlRepo;
use crate::domain::ids::UserId;

#[async_trait]
impl PolicyRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(effective_from = %v.effective_from))]
    async fn insert_policy_version(&self, v: &PolicyVersion) -> Result<bool, RepoError> {
        let n = sqlx::query(
            "INSERT INTO policy_versions (id, effective_from, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (effective_from) DO NOTHING",
        )
        .bind(v.id)
        .bind(v.effective_from)
        .bind(&v.body)
        .bind(v.created_at)
        .bind(v.created_by.map(|u| u.0))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_policy_versions(&self) -> Result<Vec<PolicyVersion>, RepoError> {
        let rows: Vec<(Uuid, NaiveDate, String, DateTime<Utc>, Option<Uuid>)> =
            sqlx::query_as("SELECT id, effective_from, body, created_at, created_by FROM policy_versions ORDER BY effective_from")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, effective_from, body, created_at, created_by)| PolicyVersion {
                id,
                effective_from,
                body,
                created_at,
                created_by: created_by.map(UserId),
            })
            .collect())
    }
}
