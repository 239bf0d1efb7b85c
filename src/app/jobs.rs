//! The background work, as use cases: what each job kind does, and the periodic work every
//! instance enqueues under one unique key per period (so it runs once however many instances
//! there are). The worker that claims, heartbeats and retries jobs is `crate::jobs`.
//!
//! - `orphan_sweep` (every 10 minutes): deletes objects whose photo row never landed — an upload
//!   that died between the object write and the row — once they are older than the grace
//!   period, and never an object a photo row references.
//! - `prune_jobs` (daily): deletes `done` jobs older than 7 days.
//! - `export`, `expire_exports` (every 10 minutes): see `downloads`.
//! - `lead_sla` (every 5 minutes): late first contacts of leads, see `leads`.
//! - `day_close`, `classify` (per branch and day), `webhook_event` and `webhook_delivery`: see
//!   `calendar`, `classes` and `webhooks`.

use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};
use serde_json::json;
use uuid::Uuid;

use super::App;
use crate::db::{ClaimedJob, NewJob, RepoError};

/// Objects looked at per orphan-sweep batch.
const SWEEP_BATCH: u32 = 500;
const ORPHAN_SWEEP_JOB: &str = "orphan_sweep";
const PRUNE_JOBS_JOB: &str = "prune_jobs";

/// What the job kinds need to know of the worker's settings.
#[derive(Debug, Clone, Copy)]
pub struct JobOptions {
    /// An uploaded object whose photo row never landed is deleted after this long.
    pub orphan_grace: Duration,
    /// Attempts before a failing job is dead (a webhook delivery says so on its last one).
    pub max_attempts: u32,
}

/// Enqueues this period's periodic jobs (a no-op for the instances that come second).
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
pub async fn enqueue_periodic(app: &App, now: DateTime<Utc>) -> Result<(), RepoError> {
    for (kind, period) in [
        (ORPHAN_SWEEP_JOB, chrono::Duration::minutes(10)),
        (PRUNE_JOBS_JOB, chrono::Duration::days(1)),
        (super::downloads::EXPIRE_EXPORTS_JOB, chrono::Duration::minutes(10)),
        (super::leads::SLA_JOB, chrono::Duration::minutes(5)),
        (super::lead_merges::DUPLICATES_JOB, chrono::Duration::weeks(1)),
    ] {
        let slot = now.duration_trunc(period).unwrap_or(now);
        let job = NewJob {
            id: Uuid::new_v4(),
            kind: kind.into(),
            unique_key: Some(format!("{kind}:{}", slot.format("%Y-%m-%dT%H:%MZ"))),
            payload: json!({}),
            run_at: slot,
        };
        app.repo.enqueue_job(&job, now).await?;
    }
    let branches = app.repo.list_branches().await?;
    super::calendar::enqueue_day_closes(app, &branches, now).await?;
    super::classes::enqueue_daily(app, &branches, now).await?;
    Ok(())
}

/// Runs one claimed job; the error is what the job's record keeps as its last error.
#[tracing::instrument(skip_all, fields(job_id = %job.id, kind = %job.kind, attempt = job.attempts), err(level = "debug"))]
pub async fn run(app: &App, options: &JobOptions, job: &ClaimedJob) -> Result<(), String> {
    match job.kind.as_str() {
        ORPHAN_SWEEP_JOB => sweep_orphans(app, options.orphan_grace).await.map(drop),
        PRUNE_JOBS_JOB => {
            let pruned = app.repo.prune_jobs(app.now() - chrono::Duration::days(7)).await.map_err(|e| e.to_string())?;
            tracing::info!(pruned, "old done jobs deleted");
            Ok(())
        }
        super::classes::CLASSIFY_JOB => super::classes::run_job(app, &job.payload).await,
        super::calendar::DAY_CLOSE_JOB => {
            super::calendar::run_day_close(app, &job.payload).await?;
            super::leads::run_end_contracts(app, &job.payload).await
        }
        super::digests::DIGEST_JOB => super::digests::run_job(app, &job.payload).await,
        super::events::EVENT_JOB => super::webhooks::fan_out(app, &job.payload).await.map(drop),
        super::downloads::EXPORT_JOB => super::downloads::run_job(app, &job.payload, job.attempts, options.max_attempts).await,
        super::downloads::EXPIRE_EXPORTS_JOB => super::downloads::expire(app).await.map(drop),
        super::leads::SLA_JOB => super::leads::check_first_contacts(app).await.map(drop),
        super::lead_merges::DUPLICATES_JOB => super::lead_merges::weekly(app).await.map(drop),
        super::webhooks::DELIVERY_JOB => super::webhooks::deliver(app, &job.payload, job.attempts, options.max_attempts).await,
        other => Err(format!("unknown job kind {other:?}")),
    }
}

/// Deletes the objects of uploads that never got their photo row, once older than `grace`.
/// Returns how many objects were deleted.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn sweep_orphans(app: &App, grace: Duration) -> Result<u64, String> {
    let before = app.now() - chrono::Duration::from_std(grace).map_err(|e| e.to_string())?;
    let mut deleted = 0;
    loop {
        let intents = app.repo.stale_object_intents(before, SWEEP_BATCH).await.map_err(|e| e.to_string())?;
        for (key, referenced) in &intents {
            if !referenced {
                app.store.delete(key).await.map_err(|e| format!("deleting orphan {key}: {e}"))?;
                deleted += 1;
            }
            app.repo.drop_object_intent(key).await.map_err(|e| e.to_string())?;
        }
        if intents.len() < SWEEP_BATCH as usize {
            break;
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "orphaned objects deleted");
    }
    Ok(deleted)
}
