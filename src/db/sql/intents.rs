//! ObjectIntentRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Db;
use crate::db::error::RepoError;
use crate::db::intents::ObjectIntentRepo;
use crate::db::pool::SqlRepo;

#[async_trait]
impl ObjectIntentRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(key = %key))]
    async fn record_object_intent(&self, key: &str, now: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("INSERT INTO object_intents (storage_key, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(key)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn stale_object_intents(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<(String, bool)>, RepoError> {
        let rows: Vec<(String, bool)> = sqlx::query_as(
            "SELECT i.storage_key, EXISTS (SELECT 1 FROM photos p WHERE p.storage_key = i.storage_key) \
             FROM object_intents i WHERE i.created_at < $1 ORDER BY i.created_at LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(key = %key))]
    async fn drop_object_intent(&self, key: &str) -> Result<(), RepoError> {
        sqlx::query("DELETE FROM object_intents WHERE storage_key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }
}
