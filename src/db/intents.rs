//! Objects whose photo row has not landed yet: recorded before the object is written, dropped
//! when the row lands, swept when neither happened.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::RepoError;

#[async_trait]
pub trait ObjectIntentRepo: Send + Sync {
    async fn record_object_intent(&self, key: &str, now: DateTime<Utc>) -> Result<(), RepoError>;
    /// Keys recorded before `before`, oldest first, with whether a photo row references them.
    async fn stale_object_intents(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<(String, bool)>, RepoError>;
    async fn drop_object_intent(&self, key: &str) -> Result<(), RepoError>;
}
