//! The audit log: append-only.

use async_trait::async_trait;

use super::error::RepoError;
use crate::domain::audit::AuditEntry;

#[async_trait]
pub trait AuditRepo: Send + Sync {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), RepoError>;
    async fn list_audit(&self, subject_type: &str, subject_id: &str) -> Result<Vec<AuditEntry>, RepoError>;
}
