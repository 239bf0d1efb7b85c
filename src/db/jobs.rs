//! The job queue: jobs claimed by one worker at a time, kept alive by heartbeats, retried or
//! buried as `dead`; periodic work enqueued under unique keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::RepoError;

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: Uuid,
    pub kind: String,
    /// Periodic work is enqueued by every instance under one key per period: it runs once.
    pub unique_key: Option<String>,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
}

/// A job a worker has claimed.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i64,
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: Uuid,
    pub kind: String,
    pub unique_key: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub run_at: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
}

/// One status of the job queue, for the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStat {
    pub status: String,
    pub count: i64,
    pub oldest_run_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait JobRepo: Send + Sync {
    /// Jobs not done, by status: how many, and the oldest one's `run_at` (for `queued`, the
    /// oldest that is already due). Reads the `(status, run_at)` index only.
    async fn job_stats(&self, now: DateTime<Utc>) -> Result<Vec<JobStat>, RepoError>;
    /// Queues a job; with a unique key that is already taken, nothing happens (`false`).
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> Result<bool, RepoError>;
    /// Takes the oldest due queued job for `worker` (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
    /// write lock on SQLite), counting the attempt.
    async fn claim_job(&self, worker: &str, now: DateTime<Utc>) -> Result<Option<ClaimedJob>, RepoError>;
    /// `false` when the job is no longer this worker's (it was given back as stale).
    async fn heartbeat_job(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<bool, RepoError>;
    /// Done; `locked_by` keeps the worker that did it.
    async fn complete_job(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<(), RepoError>;
    /// A failed attempt: queued again at `retry_at`, or `dead` when `None`.
    async fn fail_job(
        &self,
        id: Uuid,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
    /// Running jobs of `worker` (at shutdown), or of any worker whose heartbeat is older than
    /// `stale_before`, go back to the queue; the attempt they were on does not count.
    async fn release_jobs(&self, worker: Option<&str>, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, RepoError>;
    async fn get_job(&self, id: Uuid) -> Result<Option<JobRecord>, RepoError>;
    /// Deletes `done` jobs last touched before `before`.
    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}
