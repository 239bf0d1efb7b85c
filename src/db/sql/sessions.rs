//! SessionRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::Db;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::rows::{CredentialsRow, SessionRow};
use crate::db::sessions::{SessionRecord, SessionRepo};
use crate::domain::directory::{Credentials, Locale};
use crate::domain::ids::UserId;

const CREDENTIALS: &str = "u.id, u.name, u.role, u.branch_id, u.login, u.password_hash, u.password_must_change, u.locale";

#[async_trait]
impl SessionRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn set_login(&self, user: UserId, login: &str) -> Result<(), RepoError> {
        sqlx::query("UPDATE users SET login = $1 WHERE id = $2").bind(login).bind(user.0).execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn set_password(&self, user: UserId, password_hash: &str, must_change: bool) -> Result<bool, RepoError> {
        let done = sqlx::query("UPDATE users SET password_hash = $1, password_must_change = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(must_change)
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn set_locale(&self, user: UserId, locale: Locale) -> Result<(), RepoError> {
        sqlx::query("UPDATE users SET locale = $1 WHERE id = $2").bind(locale.as_str()).bind(user.0).execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>, RepoError> {
        let row: Option<CredentialsRow> =
            sqlx::query_as(&format!("SELECT {CREDENTIALS} FROM users u WHERE u.login = $1")).bind(login).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn credentials_of(&self, user: UserId) -> Result<Option<Credentials>, RepoError> {
        let row: Option<CredentialsRow> =
            sqlx::query_as(&format!("SELECT {CREDENTIALS} FROM users u WHERE u.id = $1")).bind(user.0).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn create_session(&self, id_hash: &str, user: UserId, csrf_token: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("INSERT INTO console_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(id_hash)
            .bind(user.0)
            .bind(csrf_token)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, RepoError> {
        let row: Option<SessionRow> = sqlx::query_as(&format!(
            "SELECT s.id_hash, s.csrf_token, s.created_at, s.last_seen_at, s.ended_at, {CREDENTIALS} \
             FROM console_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1"
        ))
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2 AND ended_at IS NULL AND last_seen_at < $1")
            .bind(at)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn end_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("UPDATE console_sessions SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL")
            .bind(at)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn end_sessions_of(&self, user: UserId, at: DateTime<Utc>, except: Option<&str>) -> Result<u64, RepoError> {
        let done = sqlx::query(
            "UPDATE console_sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL AND id_hash <> COALESCE($3, '')",
        )
        .bind(at)
        .bind(user.0)
        .bind(except)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn record_sign_in_failure(&self, key: &str, at: DateTime<Utc>, since: DateTime<Utc>) -> Result<i64, RepoError> {
        let (failures,): (i64,) = sqlx::query_as(
            "INSERT INTO sign_in_failures (throttle_key, failures, last_at) VALUES ($1, 1, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
               failures = CASE WHEN sign_in_failures.last_at < $3 THEN 1 ELSE sign_in_failures.failures + 1 END, \
               last_at = excluded.last_at \
             RETURNING CAST(failures AS BIGINT)",
        )
        .bind(key)
        .bind(at)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(failures)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn lock_sign_in(&self, key: &str, until: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("UPDATE sign_in_failures SET locked_until = $1 WHERE throttle_key = $2")
            .bind(until)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(keys = keys.len()))]
    async fn sign_in_locked_until(&self, keys: &[String]) -> Result<Option<DateTime<Utc>>, RepoError> {
        if keys.is_empty() {
            return Ok(None);
        }
        let mut qb =
            QueryBuilder::<Db>::new("SELECT locked_until FROM sign_in_failures WHERE locked_until IS NOT NULL AND throttle_key IN (");
        let mut list = qb.separated(", ");
        for k in keys {
            list.push_bind(k.clone());
        }
        qb.push(")");
        let rows: Vec<(DateTime<Utc>,)> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(t,)| t).max())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), RepoError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn set_calendar_feed(&self, user: UserId, token_hash: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query(
            "INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = EXCLUDED.created_at",
        )
        .bind(user.0)
        .bind(token_hash)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn calendar_feed_user(&self, token_hash: &str) -> Result<Option<UserId>, RepoError> {
        let id: Option<uuid::Uuid> = sqlx::query_scalar("SELECT user_id FROM calendar_feeds WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(id.map(UserId))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn drop_calendar_feed(&self, user: UserId) -> Result<bool, RepoError> {
        let n = sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1").bind(user.0).execute(&self.pool).await?.rows_affected();
        Ok(n == 1)
    }
}
