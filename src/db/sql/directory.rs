//! DirectoryRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::shared::*;
use super::Db;
use crate::db::directory::DirectoryRepo;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::domain::directory::{Branch, User};
use crate::domain::ids::{BranchId, UserId};

#[async_trait]
impl DirectoryRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %b.id))]
    async fn upsert_branch(&self, b: &Branch) -> Result<(), RepoError> {
        sqlx::query(
            "INSERT INTO branches (id, code, name, time_zone, created_at, working_days) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, time_zone = excluded.time_zone, \
             working_days = excluded.working_days",
        )
        .bind(b.id.0)
        .bind(&b.code)
        .bind(&b.name)
        .bind(b.time_zone.name())
        .bind(Utc::now())
        .bind(crate::domain::time::Calendar::weekdays_text(b.working_days))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %id))]
    async fn get_branch(&self, id: BranchId) -> Result<Option<Branch>, RepoError> {
        let row: Option<BranchRow> = sqlx::query_as("SELECT id, code, name, time_zone, working_days FROM branches WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_branches(&self) -> Result<Vec<Branch>, RepoError> {
        let rows: Vec<BranchRow> =
            sqlx::query_as("SELECT id, code, name, time_zone, working_days FROM branches ORDER BY code").fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(code = %code))]
    async fn branch_by_code(&self, code: &str) -> Result<Option<Branch>, RepoError> {
        let row: Option<BranchRow> = sqlx::query_as("SELECT id, code, name, time_zone, working_days FROM branches WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %u.id))]
    async fn upsert_user(&self, u: &User, at: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query(
            "INSERT INTO users (id, name, role, branch_id, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, branch_id = excluded.branch_id",
        )
        .bind(u.id.0)
        .bind(&u.name)
        .bind(u.role.as_str())
        .bind(uuid_opt(u.branch_id))
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %id))]
    async fn get_user(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let row: Option<UserRow> =
            sqlx::query_as("SELECT id, name, role, branch_id FROM users WHERE id = $1").bind(id.0).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = ids.len()))]
    async fn users_by_id(&self, ids: &[UserId]) -> Result<Vec<User>, RepoError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new("SELECT id, name, role, branch_id FROM users WHERE id IN (");
        push_uuids(&mut qb, ids.iter().map(|u| u.0));
        qb.push(")");
        let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_users(&self, branch: Option<BranchId>) -> Result<Vec<User>, RepoError> {
        let rows: Vec<UserRow> = match branch {
            Some(b) => {
                sqlx::query_as("SELECT id, name, role, branch_id FROM users WHERE branch_id = $1 ORDER BY name, id")
                    .bind(b.0)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query_as("SELECT id, name, role, branch_id FROM users ORDER BY name, id").fetch_all(&self.pool).await?,
        };
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn users_by_name(&self, name: &str) -> Result<Vec<User>, RepoError> {
        let rows: Vec<UserRow> =
            sqlx::query_as("SELECT id, name, role, branch_id FROM users WHERE name = $1").bind(name).fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn add_token(&self, user: UserId, token_hash: &str, label: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(token_hash)
            .bind(user.0)
            .bind(label)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, RepoError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.name, u.role, u.branch_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }
}
