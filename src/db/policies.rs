//! Policy versions: the SOP as HQ changed it over time.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::error::RepoError;
use crate::domain::ids::UserId;

/// One stored version: its policy file and the date it takes effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    pub id: Uuid,
    pub effective_from: NaiveDate,
    /// The TOML as loaded (merged over the built-in defaults when read).
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
}

#[async_trait]
pub trait PolicyRepo: Send + Sync {
    /// Stores a version; `false` when another already takes effect on that date.
    async fn insert_policy_version(&self, v: &PolicyVersion) -> Result<bool, RepoError>;
    /// Every version, oldest effective date first.
    async fn list_policy_versions(&self) -> Result<Vec<PolicyVersion>, RepoError>;
}
