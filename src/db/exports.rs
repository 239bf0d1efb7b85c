//! Exports prepared in the background: the request with its job, the job's progress, the
//! download centre's list, and expiry.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::RepoError;
use super::jobs::NewJob;
use crate::domain::export::Export;
use crate::domain::ids::{ExportId, UserId};
use crate::domain::page::{Page, Paged};

/// What a finished export job records.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportFile {
    pub storage_key: String,
    pub rows: i64,
    pub bytes: i64,
    pub finished_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait ExportRepo: Send + Sync {
    /// Stores a queued export and the job that makes it, in one transaction; false (and nothing
    /// written) when an export with this id exists already (a retried request).
    async fn create_export(&self, export: &Export, job: &NewJob, now: DateTime<Utc>) -> Result<bool, RepoError>;
    async fn get_export(&self, id: ExportId) -> Result<Option<Export>, RepoError>;
    /// A user's exports, newest first.
    async fn list_exports(&self, requested_by: UserId, page: Page) -> Result<Paged<Export>, RepoError>;
    /// `queued` → `running` (a retry after a failed attempt starts again from `running`); false
    /// when the export is ready, failed or expired already.
    async fn start_export(&self, id: ExportId) -> Result<bool, RepoError>;
    /// `running` → `ready` with its file; false when it was not running.
    async fn finish_export(&self, id: ExportId, file: &ExportFile) -> Result<bool, RepoError>;
    /// Records a failed attempt: back to `queued` when another attempt follows (`gave_up`
    /// `None`), else `failed` at the first instant, listed until the second.
    async fn fail_export(&self, id: ExportId, error: &str, gave_up: Option<(DateTime<Utc>, DateTime<Utc>)>) -> Result<(), RepoError>;
    /// Ready or failed exports whose time is up (`expires_at` before `now`), with their keys.
    async fn expired_exports(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<(ExportId, Option<String>)>, RepoError>;
    /// Marks an export expired and forgets its file (deleted by the caller first).
    async fn expire_export(&self, id: ExportId) -> Result<(), RepoError>;
}
