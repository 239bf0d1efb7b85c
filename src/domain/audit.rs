//! The audit log's entries: who did what to which subject, when.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ids::UserId;

/// An audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub detail: serde_json::Value,
}
