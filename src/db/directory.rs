//! The directory: branches, users and their API tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::RepoError;
use crate::domain::directory::{Branch, TokenInfo, User};
use crate::domain::ids::{BranchId, UserId};

#[async_trait]
pub trait DirectoryRepo: Send + Sync {
    async fn upsert_branch(&self, branch: &Branch) -> Result<(), RepoError>;
    async fn get_branch(&self, id: BranchId) -> Result<Option<Branch>, RepoError>;
    async fn list_branches(&self) -> Result<Vec<Branch>, RepoError>;
    async fn branch_by_code(&self, code: &str) -> Result<Option<Branch>, RepoError>;
    async fn upsert_user(&self, user: &User, at: DateTime<Utc>) -> Result<(), RepoError>;
    async fn get_user(&self, id: UserId) -> Result<Option<User>, RepoError>;
    async fn users_by_id(&self, ids: &[UserId]) -> Result<Vec<User>, RepoError>;
    /// The users of one branch (every user when `None`), by name: the console's pickers.
    async fn list_users(&self, branch: Option<BranchId>) -> Result<Vec<User>, RepoError>;
    /// Users with this exact name (an import names reps by id or by name).
    async fn users_by_name(&self, name: &str) -> Result<Vec<User>, RepoError>;
    /// Adds a token hash that never expires; adding the same hash again is a no-op.
    async fn add_token(&self, user: UserId, token_hash: &str, label: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        self.issue_token(user, token_hash, label, at, None).await
    }
    /// Adds a token hash valid until `expires_at` (`None`: never expires); the same hash
    /// again is a no-op.
    async fn issue_token(
        &self,
        user: UserId,
        token_hash: &str,
        label: &str,
        at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), RepoError>;
    /// The user of an unrevoked token (expired or not: the caller compares with its clock).
    async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, RepoError> {
        Ok(self.token_by_hash(token_hash).await?.filter(|(_, t)| t.revoked_at.is_none()).map(|(u, _)| u))
    }
    /// A token and its user, whatever its state.
    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<(User, TokenInfo)>, RepoError>;
    /// Records that a token was used at `at`.
    async fn touch_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), RepoError>;
    /// A user's tokens, newest first.
    async fn list_tokens(&self, user: UserId) -> Result<Vec<TokenInfo>, RepoError>;
    /// The token with this public id, whatever its state.
    async fn token_by_id(&self, id: &str) -> Result<Option<TokenInfo>, RepoError>;
    /// Revokes a token by its public id (a revoked one keeps its first revocation time).
    async fn revoke_token(&self, id: &str, at: DateTime<Utc>) -> Result<(), RepoError>;
}
