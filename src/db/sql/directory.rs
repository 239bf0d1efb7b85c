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
use crate::domain::directory::TokenInfo;
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
    async fn issue_token(
        &self,
        user: UserId,
        token_hash: &str,
        label: &str,
        at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), RepoError> {
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(label)
        .bind(at)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<(User, TokenInfo)>, RepoError> {
        let row: Option<TokenUserRow> = sqlx::query_as(&format!(
            "SELECT u.id, u.name, u.role, u.branch_id, {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.user.try_into()?, r.token.into()))).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn touch_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2").bind(at).bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(user_id = %user))]
    async fn list_tokens(&self, user: UserId) -> Result<Vec<TokenInfo>, RepoError> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.token_hash"
        ))
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn token_by_id(&self, id: &str) -> Result<Option<TokenInfo>, RepoError> {
        let row: Option<TokenRow> =
            sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE substr(t.token_hash, 1, 16) = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn revoke_token(&self, id: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE substr(token_hash, 1, 16) = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

const TOKEN_COLUMNS: &str = "t.token_hash, t.user_id, t.label, t.created_at, t.expires_at, t.last_used_at, t.revoked_at";

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    user_id: uuid::Uuid,
    label: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> TokenInfo {
        TokenInfo {
            id: r.token_hash.chars().take(TokenInfo::ID_LEN).collect(),
            user_id: r.user_id.into(),
            label: r.label,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TokenUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    #[sqlx(flatten)]
    token: TokenRow,
}
