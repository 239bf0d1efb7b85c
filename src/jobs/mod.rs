//! Background jobs, on the `jobs` table: any number of server instances each run a worker, and a
//! job is claimed by one of them at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write
//! lock on SQLite). A running job's worker writes a heartbeat; a job whose heartbeat stops (its
//! instance died) goes back to the queue. A failed attempt is retried with exponential backoff
//! until `max_attempts`, then the job is `dead`, kept with its last error for a human.
//!
//! What each job kind does, and which periodic work is enqueued, are use cases:
//! [`crate::app::jobs`]. This module is the worker around them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use crate::app::jobs::JobOptions;
use crate::app::App;
use crate::config::JobsSettings;
use crate::db::{ClaimedJob, RepoError};
/// Longest wait before a retry.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// Why an attempt at a job failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The job's use case failed; the message is kept as the job's last error.
    #[error("{0}")]
    Failed(String),
    /// The job's heartbeat found it given back (this worker was silent too long).
    #[error("the job was taken back from this worker")]
    TakenBack,
}

/// What one step of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Idle,
    Done { kind: String },
    Retry { kind: String, error: String },
    Dead { kind: String, error: String },
}

/// The worker of one instance.
#[derive(Clone)]
pub struct Worker {
    app: App,
    settings: JobsSettings,
    /// `hostname:pid:random`, written to `locked_by`.
    pub id: String,
    /// When this worker last gave back silent workers' jobs (ms since the epoch, clock time).
    last_release_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Worker {
    pub fn new(app: App, settings: JobsSettings) -> Worker {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into());
        let id = format!("{host}:{}:{}", std::process::id(), &Uuid::new_v4().simple().to_string()[..8]);
        Worker { app, settings, id, last_release_ms: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)) }
    }

    /// Enqueues this period's periodic jobs (a no-op for the instances that come second).
    pub async fn enqueue_periodic(&self, now: DateTime<Utc>) -> Result<(), RepoError> {
        crate::app::jobs::enqueue_periodic(&self.app, now).await
    }

    /// Gives back the jobs whose workers stopped beating (at most once a heartbeat period: a
    /// busy worker steps hundreds of times a second), then claims and runs one due job.
    pub async fn step(&self) -> Result<Step, RepoError> {
        let now = self.app.now();
        let last = self.last_release_ms.load(std::sync::atomic::Ordering::Relaxed);
        let period_ms = i64::try_from(self.heartbeat().as_millis()).unwrap_or(i64::MAX);
        if now.timestamp_millis() < last || now.timestamp_millis().saturating_sub(last) >= period_ms {
            self.last_release_ms.store(now.timestamp_millis(), std::sync::atomic::Ordering::Relaxed);
            let stale = now - chrono::Duration::from_std(self.heartbeat() * 3).unwrap_or(chrono::Duration::seconds(30));
            let released = self.app.repo.release_jobs(None, stale, now).await?;
            if released > 0 {
                tracing::warn!(released, "jobs of a silent worker were given back to the queue");
            }
        }
        let Some(job) = self.app.repo.claim_job(&self.id, now).await? else { return Ok(Step::Idle) };
        let outcome = self.run_with_heartbeat(&job).await.map_err(|e| e.to_string());
        let now = self.app.now();
        match outcome {
            Ok(()) => {
                self.app.repo.complete_job(job.id, &self.id, now).await?;
                Ok(Step::Done { kind: job.kind })
            }
            Err(error) if job.attempts < i64::from(self.settings.max_attempts) => {
                let delay = backoff(self.settings.retry_backoff_ms, job.attempts);
                let retry_at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed; will retry");
                self.app.repo.fail_job(job.id, &self.id, &error, Some(retry_at), now).await?;
                Ok(Step::Retry { kind: job.kind, error })
            }
            Err(error) => {
                tracing::error!(job = %job.id, kind = %job.kind, attempts = job.attempts, %error, "job is dead");
                self.app.repo.fail_job(job.id, &self.id, &error, None, now).await?;
                Ok(Step::Dead { kind: job.kind, error })
            }
        }
    }

    fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.settings.heartbeat_secs.max(1))
    }

    fn options(&self) -> JobOptions {
        JobOptions { orphan_grace: Duration::from_secs(self.settings.orphan_grace_secs), max_attempts: self.settings.max_attempts }
    }

    async fn run_with_heartbeat(&self, job: &ClaimedJob) -> Result<(), JobError> {
        let options = self.options();
        let work = crate::app::jobs::run(&self.app, &options, job);
        tokio::pin!(work);
        let mut beat = tokio::time::interval(self.heartbeat());
        beat.tick().await;
        loop {
            tokio::select! {
                result = &mut work => return result.map_err(JobError::Failed),
                _ = beat.tick() => {
                    match self.app.repo.heartbeat_job(job.id, &self.id, self.app.now()).await {
                        Ok(true) => {}
                        Ok(false) => return Err(JobError::TakenBack),
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
                    }
                }
            }
        }
    }

    /// Runs until `shutdown` turns true: enqueues periodic work each minute, works due jobs,
    /// sleeps `poll_interval_ms` when there are none. At shutdown the job in hand may finish;
    /// anything still running is given back to the queue.
    pub async fn run_until(self, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(1));
        let mut last_periodic: Option<DateTime<Utc>> = None;
        while !*shutdown.borrow() {
            let now = self.app.now();
            if last_periodic.is_none_or(|t| now - t >= chrono::Duration::minutes(1)) {
                match self.enqueue_periodic(now).await {
                    Ok(()) => last_periodic = Some(now),
                    Err(e) => tracing::warn!(error = %e, "enqueueing periodic jobs failed"),
                }
            }
            let idle = match self.step().await {
                Ok(Step::Idle) => true,
                Ok(_) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "job worker: database error");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        match self.app.repo.release_jobs(Some(&self.id), self.app.now(), self.app.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "jobs given back at shutdown"),
            Err(e) => tracing::warn!(error = %e, "could not give jobs back at shutdown; their heartbeats will lapse"),
        }
    }
}

/// The delay before attempt `attempts + 1`: `base`, doubled per attempt, at most an hour.
pub fn backoff(base_ms: u64, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    Duration::from_millis(base_ms.saturating_mul(1u64 << doublings)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_an_hour() {
        assert_eq!(backoff(5000, 1), Duration::from_secs(5));
        assert_eq!(backoff(5000, 2), Duration::from_secs(10));
        assert_eq!(backoff(5000, 4), Duration::from_secs(40));
        assert_eq!(backoff(5000, 40), MAX_BACKOFF);
        assert_eq!(backoff(0, 3), Duration::ZERO);
    }
}
